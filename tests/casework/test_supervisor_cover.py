"""Supervisor cover (zastupování): naming a deputy for a period, every bad input a field error that writes nothing,
ending a cover early, the audit rows and notifications of both, and the cover page (its roles, its errors, its
query count). Routing of triage, approvals and escalations to the deputy: ``tests/workflows/test_supervisor_cover``.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from casework.models import Municipality, Organisation, Role, Sector, SupervisorCover, User
from casework.services.cover import supervisor_cover_add, supervisor_cover_end
from notifications.models import Kind, Notification
from permissions.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=PRAGUE)
FROM = datetime.datetime(2026, 12, 14, 0, 0, tzinfo=PRAGUE)
UNTIL = datetime.datetime(2026, 12, 24, 0, 0, tzinfo=PRAGUE)
#: A value that must never leave the cover row: not in a notification, not in the audit.
CANARY = "Zkušební poznámka 7741, operace kolena"


@pytest.fixture(autouse=True)
def frozen(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def neighbour(prostejov: Municipality) -> User:
    """The head of a neighbouring ORP's OSPOD department."""
    org = OrganisationFactory.create(name="OSPOD Prostějov", sector=Sector.OSPOD, municipality=prostejov)
    return UserFactory.create(username="vedouci_pv", role=Role.SUPERVISOR, organisation=org)


def _add(by: User, supervisor: User | None, deputy: User | None, **kw: object) -> SupervisorCover:
    values: dict[str, object] = {"starts_at": FROM, "ends_at": UNTIL, "note": ""}
    values.update(kw)
    return supervisor_cover_add(supervisor=supervisor, deputy=deputy, by=by, **values)  # type: ignore[arg-type]


def _authority(user: User) -> int:
    assert user.organisation is not None
    return user.organisation.municipality_id


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def test_a_supervisor_names_a_neighbouring_head_audited_and_notified(supervisor: User, neighbour: User) -> None:
    cover = _add(supervisor, supervisor, neighbour, note=CANARY)
    assert (cover.supervisor, cover.deputy, cover.municipality_id) == (
        supervisor,
        neighbour,
        _authority(supervisor),
    )
    told = Notification.objects.filter(kind=Kind.COVER_NAMED)
    assert list(told.values_list("recipient_id", flat=True)) == [neighbour.pk]  # not the one who named it
    row = told.get()
    assert (row.case_id, row.case_reference, row.object_type, row.object_id) == (
        None,
        "",
        "casework.supervisorcover",
        str(cover.pk),
    )
    audit = AuditEvent.objects.get(object_type="casework.supervisorcover", object_id=str(cover.pk))
    assert (audit.actor_id, audit.action, audit.purpose) == (supervisor.pk, "write", "name supervisor cover")
    assert "note" in audit.field_names
    for notification in Notification.objects.all():
        assert CANARY not in repr(notification.__dict__)
    for event in AuditEvent.objects.all():
        assert CANARY not in repr(event.__dict__)


def test_a_colleague_names_the_deputy_of_an_unplanned_absence_and_both_are_told(
    supervisor: User, second_supervisor: User, neighbour: User
) -> None:
    cover = _add(second_supervisor, supervisor, neighbour)
    assert cover.created_by == second_supervisor
    assert set(Notification.objects.filter(kind=Kind.COVER_NAMED).values_list("recipient_id", flat=True)) == {
        supervisor.pk,
        neighbour.pk,
    }


@pytest.mark.parametrize(
    ("who", "field", "message"),
    [
        ("nobody", "deputy", "Choose the deputy."),
        ("self", "deputy", "cannot stand in for themselves"),
        ("worker", "deputy", "must be an active supervisor"),
        ("inactive", "deputy", "must be an active supervisor"),
        ("dpo", "deputy", "must be an active supervisor"),
    ],
)
def test_a_deputy_who_is_not_another_active_supervisor_is_refused(
    supervisor: User, coordinator: User, ospod: Organisation, who: str, field: str, message: str
) -> None:
    deputy = {
        "nobody": None,
        "self": supervisor,
        "worker": coordinator,
        "inactive": UserFactory.create(username="odesla", role=Role.SUPERVISOR, organisation=ospod, is_active=False),
        "dpo": UserFactory.create(username="poverenec", role=Role.DPO, organisation=ospod),
    }[who]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _add(supervisor, supervisor, deputy)
    assert message in " ".join(_errors(exc)[field])
    assert not SupervisorCover.objects.exists()
    assert not AuditEvent.objects.filter(object_type="casework.supervisorcover").exists()


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field", "message"),
    [
        (FROM, FROM, "ends_at", "must end after it starts"),
        (UNTIL, FROM, "ends_at", "must end after it starts"),
        (NOW - datetime.timedelta(days=9), NOW - datetime.timedelta(days=2), "ends_at", "already over"),
        (FROM, FROM + datetime.timedelta(days=400), "ends_at", "at most a year"),
        (None, UNTIL, "starts_at", "first day"),
        (FROM, None, "ends_at", "last day"),
    ],
)
def test_a_bad_period_is_a_field_error_and_writes_nothing(
    supervisor: User,
    neighbour: User,
    starts_at: datetime.datetime | None,
    ends_at: datetime.datetime | None,
    field: str,
    message: str,
) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _add(supervisor, supervisor, neighbour, starts_at=starts_at, ends_at=ends_at)
    assert message in " ".join(_errors(exc)[field])
    assert not SupervisorCover.objects.exists()
    assert not Notification.objects.exists()


def test_overlapping_covers_are_refused_adjacent_ones_are_not(
    supervisor: User, second_supervisor: User, neighbour: User
) -> None:
    _add(supervisor, supervisor, neighbour)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _add(supervisor, supervisor, second_supervisor, starts_at=UNTIL - datetime.timedelta(days=1), ends_at=UNTIL)
    assert "already has a deputy" in " ".join(_errors(exc)["starts_at"])
    # The day after the last one is free.
    _add(supervisor, supervisor, second_supervisor, starts_at=UNTIL, ends_at=UNTIL + datetime.timedelta(days=3))
    assert SupervisorCover.objects.count() == 2


def test_a_deputy_who_is_away_or_a_supervisor_who_stands_in_is_refused(
    supervisor: User, second_supervisor: User, neighbour: User
) -> None:
    _add(second_supervisor, second_supervisor, neighbour)  # the second supervisor is away
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _add(supervisor, supervisor, second_supervisor)
    assert "away themselves" in " ".join(_errors(exc)["deputy"])
    # The neighbour stands in for the second supervisor then: they cannot be away at the same time.
    neighbour_authority = _authority(neighbour)
    other = UserFactory.create(username="vedouci_pv2", role=Role.SUPERVISOR, organisation=neighbour.organisation)
    assert _authority(other) == neighbour_authority
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        _add(neighbour, neighbour, other)
    assert "stands in for another supervisor" in " ".join(_errors(exc)["supervisor"])


def test_only_a_supervisor_of_the_authority_names_a_cover(
    supervisor: User, coordinator: User, neighbour: User, second_supervisor: User
) -> None:
    for intruder in (coordinator, neighbour):  # a worker; another authority's head (even a would-be deputy)
        with pytest.raises(PermissionDenied):
            _add(intruder, supervisor, second_supervisor)
    assert not SupervisorCover.objects.exists()
    denied = AuditEvent.objects.filter(
        object_type="casework.supervisorcover", outcome="denied", purpose="name supervisor cover"
    )
    assert set(denied.values_list("actor_id", flat=True)) == {coordinator.pk, neighbour.pk}


def test_a_deputy_cannot_name_a_further_deputy_for_the_covered_authority(
    supervisor: User, second_supervisor: User, neighbour: User, prostejov: Municipality
) -> None:
    with time_machine.travel(FROM - datetime.timedelta(days=1), tick=False):
        _add(supervisor, supervisor, neighbour, starts_at=FROM, ends_at=UNTIL)
    with time_machine.travel(FROM + datetime.timedelta(days=1), tick=False), pytest.raises(PermissionDenied):
        _add(neighbour, second_supervisor, UserFactory.create(username="x", role=Role.SUPERVISOR))


def test_ending_a_cover_early_and_cancelling_a_planned_one(
    supervisor: User, second_supervisor: User, neighbour: User, coordinator: User
) -> None:
    running = _add(supervisor, supervisor, neighbour, starts_at=NOW, ends_at=FROM)
    planned = _add(supervisor, supervisor, second_supervisor)
    with pytest.raises(PermissionDenied):
        supervisor_cover_end(cover_id=running.pk, by=coordinator)
    later = NOW + datetime.timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        ended = supervisor_cover_end(cover_id=running.pk, by=neighbour)  # the deputy steps down
        cancelled = supervisor_cover_end(cover_id=planned.pk, by=supervisor)
        with translation.override("en"), pytest.raises(ValidationError, match="already ended"):
            supervisor_cover_end(cover_id=running.pk, by=supervisor)
    assert (ended.ends_at, ended.ended_by) == (later, neighbour)
    assert cancelled.ends_at == cancelled.starts_at == FROM
    assert SupervisorCover.objects.in_force(FROM + datetime.timedelta(days=1)).count() == 0
    # A cancelled period no longer blocks another deputy for the same days.
    _add(supervisor, supervisor, neighbour)
    told = Notification.objects.filter(kind=Kind.COVER_ENDED)
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([supervisor.pk, second_supervisor.pk])
    purposes = AuditEvent.objects.filter(purpose="end supervisor cover", outcome="allowed")
    assert set(purposes.values_list("actor_id", flat=True)) == {neighbour.pk, supervisor.pk}
    assert AuditEvent.objects.filter(purpose="end supervisor cover", outcome="denied", actor=coordinator).exists()


# --- The page ------------------------------------------------------------------------------------------------------


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies.load({"django_language": "en"})
    return client


def _post(**overrides: str) -> dict[str, str]:
    data = {"first_day": "2026-12-14", "last_day": "2026-12-23", "note": ""}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.SUPERVISOR, 200),
        (Role.OSPOD_WORKER, 403),
        (Role.PARTNER, 403),
        (Role.DPO, 403),
        (Role.ADMINISTRATOR, 403),
    ],
)
def test_the_cover_page_is_for_supervisors_only(ospod: Organisation, role: str, expected: int) -> None:
    """The access-matrix row of ``/cover/`` and ``/cover/<id>/end/`` for every role."""
    boss = UserFactory.create(username="vedouci_m", role=Role.SUPERVISOR, organisation=ospod)
    deputy = UserFactory.create(username="vedouci_n", role=Role.SUPERVISOR, organisation=ospod)
    cover = _add(boss, boss, deputy)
    user = UserFactory.create(username=f"u_{role}", role=role, organisation=ospod)
    client = _client(user)
    assert client.get(reverse("supervisor_cover")).status_code == expected
    posted = client.post(reverse("supervisor_cover"), _post(supervisor=str(boss.pk), deputy=str(deputy.pk)))
    assert posted.status_code == (400 if expected == 200 else expected)  # overlap for a supervisor; refused otherwise
    ended = client.post(reverse("supervisor_cover_end", args=[cover.pk]))
    assert ended.status_code == (302 if expected == 200 else 404)
    anonymous = Client()
    assert anonymous.get(reverse("supervisor_cover")).status_code == 302
    assert anonymous.post(reverse("supervisor_cover_end", args=[cover.pk])).status_code == 302


def test_another_authoritys_cover_is_not_found(supervisor: User, neighbour: User, second_supervisor: User) -> None:
    cover = _add(supervisor, supervisor, second_supervisor)
    assert _client(neighbour).post(reverse("supervisor_cover_end", args=[cover.pk])).status_code == 404
    page = _client(neighbour).get(reverse("supervisor_cover")).content.decode()
    assert reverse("supervisor_cover_end", args=[cover.pk]) not in page
    assert "No cover has been named." in page
    cover.refresh_from_db()
    assert cover.ended_early_at is None


def test_the_page_names_a_deputy_and_lists_the_cover(supervisor: User, neighbour: User) -> None:
    client = _client(supervisor)
    response = client.post(reverse("supervisor_cover"), _post(supervisor=str(supervisor.pk), deputy=str(neighbour.pk)))
    assert response.status_code == 302
    cover = SupervisorCover.objects.get()
    assert (cover.starts_at, cover.ends_at) == (FROM, UNTIL)  # the last day is included
    page = client.get(reverse("supervisor_cover")).content.decode()
    assert neighbour.display_name() in page
    assert "Prostějov" in page  # the deputy's own authority beside their name
    assert "planned" in page
    # The deputy sees it too, and may step down.
    theirs = _client(neighbour).get(reverse("supervisor_cover")).content.decode()
    assert reverse("supervisor_cover_end", args=[cover.pk]) in theirs
    assert "Name a deputy" in theirs  # for their own authority's supervisors (the deputy is one of them)


@pytest.mark.parametrize(
    ("overrides", "field_text"),
    [
        ({"deputy": ""}, "Choose the deputy."),
        ({"deputy": "self"}, "cannot stand in for themselves"),
        ({"deputy": "worker"}, "must be an active supervisor"),
        ({"first_day": "2026-11-30"}, "cannot start in the past"),
        ({"last_day": "2026-12-13"}, "must end after it starts"),
        ({"first_day": "", "last_day": ""}, "Enter the first day"),
        ({"last_day": "not a day"}, "Enter a valid date"),
        ({"note": "x" * 201}, "at most 200 characters"),
    ],
)
def test_the_page_shows_each_bad_input_beside_its_field(
    supervisor: User, coordinator: User, neighbour: User, overrides: dict[str, str], field_text: str
) -> None:
    people = {"self": str(supervisor.pk), "worker": str(coordinator.pk), "": ""}
    data = _post(supervisor=str(supervisor.pk), deputy=str(neighbour.pk))
    data.update({k: people.get(v, v) if k == "deputy" else v for k, v in overrides.items()})
    response = _client(supervisor).post(reverse("supervisor_cover"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="errorlist' in page
    assert field_text.lower() in page.lower()
    assert not SupervisorCover.objects.exists()


def test_the_page_shows_an_overlap_beside_the_first_day(
    supervisor: User, neighbour: User, second_supervisor: User
) -> None:
    _add(supervisor, supervisor, neighbour)
    response = _client(supervisor).post(
        reverse("supervisor_cover"), _post(supervisor=str(supervisor.pk), deputy=str(second_supervisor.pk))
    )
    assert response.status_code == 400
    assert "already has a deputy" in response.content.decode()
    assert SupervisorCover.objects.count() == 1


@pytest.mark.parametrize("covers", [3, 60])
def test_the_page_reads_its_list_in_a_fixed_number_of_queries(
    supervisor: User, second_supervisor: User, django_assert_num_queries: object, covers: int
) -> None:
    for week in range(covers):
        start = FROM + datetime.timedelta(days=7 * week)
        SupervisorCover.objects.create(
            supervisor=supervisor,
            deputy=second_supervisor,
            municipality_id=_authority(supervisor),
            starts_at=start,
            ends_at=start + datetime.timedelta(days=2),
            created_by=supervisor,
        )
    client = _client(supervisor)
    client.get(reverse("supervisor_cover"))  # warm the session
    # Session, user, their organisation, the list (one query), the notification badge, and the form's two selects
    # (the authority's supervisors, every head who could stand in) — whatever the number of covers.
    with django_assert_num_queries(7):  # type: ignore[operator]
        response = client.get(reverse("supervisor_cover"))
    page = response.content.decode()
    assert page.count("/end/") == min(covers, 50)  # every row not over can be ended
    assert ("Older covers" in page) is (covers > 50)
