"""Access anomaly rules (frozen time), the idempotent command, notifications without content, and the review list."""

from __future__ import annotations

import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from casework.models import Case, Municipality, Role, Sector, User
from notifications.models import Kind, Notification
from permissions import audit
from permissions.anomalies import flag_anomalies
from permissions.models import AccessAnomaly, AnomalyRule, AuditAction, AuditEvent, AuditOutcome
from permissions.oversight import BREAK_GLASS_PURPOSE_PREFIX
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.cases import add_member, open_case

pytestmark = pytest.mark.django_db

PRAGUE = ZoneInfo("Europe/Prague")
#: A Wednesday that is no Czech public holiday.
WORKDAY = datetime.date(2026, 12, 2)


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PRAGUE)


def read(user: User, case: Case, *, purpose: str = "case page") -> AuditEvent:
    return audit.record_committed(
        actor=user,
        action=AuditAction.READ,
        object_type="casework.case",
        object_id=case.pk,
        fields=["given_name"],
        purpose=purpose,
        outcome=AuditOutcome.ALLOWED,
        case_id=case.pk,
    )


def deny(user: User, case: Case) -> AuditEvent:
    return audit.record_committed(
        actor=user,
        action=AuditAction.DENY,
        object_type="casework.case",
        object_id=case.pk,
        fields=[],
        purpose="case page",
        outcome=AuditOutcome.DENIED,
        case_id=case.pk,
    )


def flags(rule: str) -> list[AccessAnomaly]:
    return list(AccessAnomaly.objects.filter(rule=rule).order_by("id"))


@pytest.fixture
def case(coordinator: User) -> Case:
    with time_machine.travel(at(WORKDAY, 9), tick=False):
        return open_case(coordinator=coordinator)


@pytest.fixture
def dpo_elsewhere(olomouc: Municipality) -> User:
    org = OrganisationFactory.create(name="Krajský úřad", sector=Sector.OTHER, municipality=olomouc)
    return UserFactory.create(username="poverenec", role=Role.DPO, organisation=org)


# --- Break-glass -------------------------------------------------------------------------------------------------


def test_break_glass_reads_are_flagged_once_per_person_case_and_day(
    case: Case, supervisor: User, coordinator: User, dpo_elsewhere: User
) -> None:
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        first = read(supervisor, case, purpose=f"{BREAK_GLASS_PURPOSE_PREFIX}: on duty")
        last = read(supervisor, case, purpose=f"{BREAK_GLASS_PURPOSE_PREFIX}: on duty")
        read(coordinator, case)  # an ordinary read is no anomaly
        flag_anomalies()
    [flag] = flags(AnomalyRule.BREAK_GLASS)
    assert (flag.actor, flag.case_id, flag.event_count) == (supervisor, case.pk, 2)
    assert (flag.first_seq, flag.last_seq) == (first.seq, last.seq)
    assert flag.municipality_id == case.municipality_id
    # The DPO is told, the supervisor it is about is not; the rows carry the kind and the flag's id, nothing else.
    notes = Notification.objects.filter(kind=Kind.ACCESS_ANOMALY)
    assert set(notes.values_list("recipient_id", flat=True)) == {dpo_elsewhere.pk}
    assert set(notes.values_list("case_id", "case_reference", "object_type", "object_id")) == {
        (None, "", "permissions.accessanomaly", str(flag.pk))
    }


# --- Bursts of denied attempts -----------------------------------------------------------------------------------


def test_five_denials_within_ten_minutes_are_one_flag(case: Case, teacher: User) -> None:
    for minute in (0, 2, 4, 6, 9):
        with time_machine.travel(at(WORKDAY, 11, minute), tick=False):
            deny(teacher, case)
    with time_machine.travel(at(WORKDAY, 11, 30), tick=False):
        flag_anomalies()
        flag_anomalies()
    [flag] = flags(AnomalyRule.DENIED_BURST)
    assert flag.actor == teacher
    assert flag.event_count == 5


def test_denials_spread_out_are_no_burst(case: Case, teacher: User) -> None:
    for minute in (0, 3, 6, 9, 11):  # the fifth falls outside the first's ten minutes; four in any window
        with time_machine.travel(at(WORKDAY, 11, minute), tick=False):
            deny(teacher, case)
    with time_machine.travel(at(WORKDAY, 12), tick=False):
        flag_anomalies()
    assert flags(AnomalyRule.DENIED_BURST) == []


def test_burst_threshold_is_configurable(case: Case, teacher: User, settings: object) -> None:
    settings.ACCESS_ANOMALY_RULES = {"denied_burst": {"denials": 2, "minutes": 1}}  # type: ignore[attr-defined]
    with time_machine.travel(at(WORKDAY, 11), tick=False):
        deny(teacher, case)
        deny(teacher, case)
        flag_anomalies()
    assert len(flags(AnomalyRule.DENIED_BURST)) == 1


def test_a_later_scan_does_not_flag_the_tail_of_a_flagged_burst(case: Case, teacher: User) -> None:
    for minute in range(0, 14, 2):  # seven denials over twelve minutes
        with time_machine.travel(at(WORKDAY, 11, minute), tick=False):
            deny(teacher, case)
            flag_anomalies()  # scheduled runs in between
    assert len(flags(AnomalyRule.DENIED_BURST)) == 1


# --- Outside working hours ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "flagged"),
    [
        (at(WORKDAY, 10), False),
        (at(WORKDAY, 6, 59), True),
        (at(WORKDAY, 18, 0), True),
        (at(WORKDAY, 22, 30), True),
        (at(datetime.date(2026, 12, 5), 10), True),  # a Saturday
        (at(datetime.date(2026, 12, 24), 10), True),  # Christmas Eve, a Thursday and a public holiday
    ],
)
def test_reads_outside_working_hours(case: Case, coordinator: User, moment: datetime.datetime, flagged: bool) -> None:
    with time_machine.travel(moment, tick=False):
        read(coordinator, case)
        read(coordinator, case)
        flag_anomalies()
    found = flags(AnomalyRule.OFF_HOURS)
    assert len(found) == (1 if flagged else 0)
    if flagged:
        assert found[0].actor == coordinator
        assert found[0].event_count == 2


# --- Many cases the person is not on ------------------------------------------------------------------------------


def test_many_cases_not_on(coordinator: User, teacher: User, supervisor: User, settings: object) -> None:
    settings.ACCESS_ANOMALY_RULES = {"many_cases": {"cases": 3}}  # type: ignore[attr-defined]
    with time_machine.travel(at(WORKDAY, 9), tick=False):
        cases = [
            open_case(coordinator=coordinator, given_name=f"Dítě{n}", born=datetime.date(2014, 1, n + 1))
            for n in range(4)
        ]
        add_member(cases[0], teacher, coordinator)
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        for c in cases:
            read(coordinator, c)  # their own cases: never an anomaly
            read(supervisor, c)  # four cases they are not on
        read(teacher, cases[0])  # a member of that team
        flag_anomalies()
    [flag] = flags(AnomalyRule.MANY_CASES)
    assert flag.actor == supervisor
    assert flag.event_count == 4


def test_few_cases_not_on_are_no_anomaly(coordinator: User, supervisor: User, settings: object) -> None:
    settings.ACCESS_ANOMALY_RULES = {"many_cases": {"cases": 3}}  # type: ignore[attr-defined]
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        cases = [
            open_case(coordinator=coordinator, given_name=f"Dítě{n}", born=datetime.date(2014, 1, n + 1))
            for n in range(2)
        ]
        for c in cases:
            read(supervisor, c)
        flag_anomalies()
    assert flags(AnomalyRule.MANY_CASES) == []


# --- Account changed ----------------------------------------------------------------------------------------------


def test_role_change_seen_in_the_persons_own_rows(case: Case, coordinator: User) -> None:
    with time_machine.travel(at(WORKDAY, 9, 30), tick=False):
        read(coordinator, case)
    coordinator.role = Role.SUPERVISOR
    coordinator.save(update_fields=["role"])
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        changed = read(coordinator, case)
        read(coordinator, case)
        flag_anomalies()
    [flag] = flags(AnomalyRule.ACCOUNT_CHANGED)
    assert flag.actor == coordinator
    assert flag.first_seq == changed.seq


def test_role_change_seen_across_the_lookback_window(case: Case, coordinator: User) -> None:
    """The row before the window still counts as "before"."""
    with time_machine.travel(at(WORKDAY, 9, 30), tick=False):
        read(coordinator, case)
    coordinator.role = Role.SUPERVISOR
    coordinator.save(update_fields=["role"])
    with time_machine.travel(at(WORKDAY + datetime.timedelta(days=5), 10), tick=False):
        read(coordinator, case)
        flag_anomalies()
    assert len(flags(AnomalyRule.ACCOUNT_CHANGED)) == 1


def test_account_row_naming_the_role_is_flagged(administrator: User, teacher: User) -> None:
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        audit.record_committed(
            actor=administrator,
            action=AuditAction.ACCOUNT,
            object_type="casework.user",
            object_id=teacher.pk,
            fields=["role"],
            purpose="account change",
            outcome=AuditOutcome.ALLOWED,
        )
        flag_anomalies()
    [flag] = flags(AnomalyRule.ACCOUNT_CHANGED)
    assert flag.actor == teacher


def test_unchanged_accounts_are_not_flagged(case: Case, coordinator: User) -> None:
    with time_machine.travel(at(WORKDAY, 10), tick=False):
        read(coordinator, case)
        read(coordinator, case)
        flag_anomalies()
    assert flags(AnomalyRule.ACCOUNT_CHANGED) == []


# --- The command ---------------------------------------------------------------------------------------------------


def test_command_is_idempotent(case: Case, coordinator: User, teacher: User) -> None:
    with time_machine.travel(at(WORKDAY, 22), tick=False):
        read(coordinator, case, purpose=f"{BREAK_GLASS_PURPOSE_PREFIX}: night")
        for _ in range(5):
            deny(teacher, case)
        out = io.StringIO()
        call_command("flag_access_anomalies", stdout=out)
        assert out.getvalue().startswith("3 new flags")  # break-glass, off hours, the burst
        before = (AccessAnomaly.objects.count(), Notification.objects.count())
        out = io.StringIO()
        call_command("flag_access_anomalies", stdout=out)
    assert out.getvalue().startswith("0 new flags")
    assert (AccessAnomaly.objects.count(), Notification.objects.count()) == before


def test_disabled_rule_flags_nothing(case: Case, coordinator: User, settings: object) -> None:
    settings.ACCESS_ANOMALY_RULES = {"off_hours": {"enabled": False}}  # type: ignore[attr-defined]
    with time_machine.travel(at(WORKDAY, 23), tick=False):
        read(coordinator, case)
        flag_anomalies()
    assert flags(AnomalyRule.OFF_HOURS) == []


# --- The review list -----------------------------------------------------------------------------------------------


@pytest.fixture
def night_flag(case: Case, coordinator: User) -> AccessAnomaly:
    with time_machine.travel(at(WORKDAY, 23), tick=False):
        read(coordinator, case)
        flag_anomalies()
    return flags(AnomalyRule.OFF_HOURS)[0]


def test_supervisor_reviews_a_flag_with_a_comment(night_flag: AccessAnomaly, supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("oversight_anomalies")).content.decode()
    assert f'data-anomaly="{night_flag.pk}"' in page
    response = client.post(reverse("oversight_anomaly_review", args=[night_flag.pk]), {"comment": "Pohotovost."})
    assert response.status_code == 302
    night_flag.refresh_from_db()
    assert night_flag.reviewed_by == supervisor
    assert night_flag.review_comment == "Pohotovost."
    assert AuditEvent.objects.filter(
        actor=supervisor, object_type="permissions.accessanomaly", object_id=str(night_flag.pk)
    ).exists()
    reviewed = client.get(reverse("oversight_anomalies"), {"state": "reviewed"}).content.decode()
    assert "Pohotovost." in reviewed


def test_review_without_comment_is_a_field_error(night_flag: AccessAnomaly, supervisor: User) -> None:
    client = Client()
    client.force_login(supervisor)
    response = client.post(reverse("oversight_anomaly_review", args=[night_flag.pk]), {"comment": "  "})
    assert response.status_code == 400
    assert re.search(r'<ul class="errorlist[^"]*"', response.content.decode())
    night_flag.refresh_from_db()
    assert not night_flag.is_reviewed


def test_nobody_reviews_a_flag_about_themselves(case: Case, supervisor: User) -> None:
    with time_machine.travel(at(WORKDAY, 23), tick=False):
        read(supervisor, case)
        flag_anomalies()
    [flag] = flags(AnomalyRule.OFF_HOURS)
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("oversight_anomalies")).content.decode()
    assert f'action="{reverse("oversight_anomaly_review", args=[flag.pk])}"' not in page
    assert client.post(reverse("oversight_anomaly_review", args=[flag.pk]), {"comment": "ok"}).status_code == 403
    flag.refresh_from_db()
    assert not flag.is_reviewed


def test_flags_of_another_authority_are_not_found(night_flag: AccessAnomaly, prostejov: Municipality) -> None:
    org = OrganisationFactory.create(name="OSPOD PV", sector=Sector.OSPOD, municipality=prostejov)
    other = UserFactory.create(role=Role.SUPERVISOR, organisation=org)
    client = Client()
    client.force_login(other)
    assert f'data-anomaly="{night_flag.pk}"' not in client.get(reverse("oversight_anomalies")).content.decode()
    response = client.post(reverse("oversight_anomaly_review", args=[night_flag.pk]), {"comment": "x"})
    assert response.status_code == 404


def test_dpo_sees_and_reviews_every_authoritys_flags(night_flag: AccessAnomaly, dpo_elsewhere: User) -> None:
    client = Client()
    client.force_login(dpo_elsewhere)
    assert f'data-anomaly="{night_flag.pk}"' in client.get(reverse("oversight_anomalies")).content.decode()
    client.post(reverse("oversight_anomaly_review", args=[night_flag.pk]), {"comment": "Prověřeno."})
    night_flag.refresh_from_db()
    assert night_flag.reviewed_by == dpo_elsewhere


def test_notified_overseers_are_the_authoritys_supervisors_and_the_dpo(
    supervisor: User, dpo_elsewhere: User, foreign_worker: User, night_flag: AccessAnomaly
) -> None:
    recipients = set(
        Notification.objects.filter(kind=Kind.ACCESS_ANOMALY, object_id=str(night_flag.pk)).values_list(
            "recipient_id", flat=True
        )
    )
    assert recipients == {supervisor.pk, dpo_elsewhere.pk}  # not the other authority's staff
