"""Break-glass: an on-call OSPOD worker opens a case of the authority they have no relationship to, giving a reason.

Reason and duration are checked field by field; access is read-only and ends at expiry (frozen time); every read is
marked in the audit and shows as break-glass in the oversight timeline and its export; the coordinator and the
supervisors are notified at once with nothing but the kind, ids and the reference; another supervisor reviews it,
never the person who used it; partners, the DPO and the administrator never break glass.
"""

from __future__ import annotations

import csv
import datetime
import io

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pytest_django import DjangoAssertNumQueries

from casework.models import Case, Organisation, Role, User
from notifications.models import Kind, Notification
from permissions.access import load_case_access
from permissions.break_glass import (
    break_glass_open,
    break_glass_review,
    grant_in_scope,
    grant_page,
    grant_reads,
)
from permissions.models import AuditAction, AuditEvent, BreakGlassGrant, BreakGlassVerdict
from permissions.oversight import overseer_for
from tests.factories.cases import open_case, ospod_staff, write_note

pytestmark = pytest.mark.django_db

CANARY = "KANARKABREAKGLASS"
REASON = "Noční služba: policie volá, dítě je samo na nádraží."


def client_for(user: User) -> Client:
    client = Client()
    client.cookies.load({"django_language": "en"})  # the product answers in Czech unless the person chose English
    client.force_login(user)
    return client


@pytest.fixture
def on_call(ospod: Organisation) -> User:
    """An OSPOD worker of the authority with no relationship to the case: on duty tonight."""
    return ospod_staff(ospod, username="sluzba")


@pytest.fixture
def second_supervisor(ospod: Organisation) -> User:
    return ospod_staff(ospod, username="vedouci2", role=Role.SUPERVISOR)


@pytest.fixture
def case(coordinator: User, supervisor: User) -> Case:
    case = open_case(coordinator=coordinator, given_name=f"{CANARY}Jméno", family_name=f"{CANARY}Příjmení")
    write_note(case, coordinator, "social", f"{CANARY} rodinná situace")
    return case


# --- Asking for it -----------------------------------------------------------------------------------------------


def test_reason_is_required_and_must_say_something(case: Case, on_call: User) -> None:
    for reason in ("", "   ", "naléhavé"):
        with pytest.raises(ValidationError) as error:
            break_glass_open(user=on_call, case=case, reason=reason)
        assert "reason" in error.value.message_dict
    assert not BreakGlassGrant.objects.exists()
    assert not load_case_access(on_call, case).visible


@pytest.mark.parametrize("minutes", [0, -30, 241, 10_000])
def test_an_absurd_duration_is_a_field_error(case: Case, on_call: User, minutes: int) -> None:
    with pytest.raises(ValidationError) as error:
        break_glass_open(user=on_call, case=case, reason=REASON, minutes=minutes)
    assert list(error.value.message_dict) == ["duration_minutes"]
    assert not BreakGlassGrant.objects.exists()


def test_default_is_four_hours_a_shorter_time_may_be_chosen_and_the_maximum_is_a_setting(
    case: Case, on_call: User, coordinator: User
) -> None:
    grant = break_glass_open(user=on_call, case=case, reason=REASON)
    assert grant.expires_at - grant.started_at == datetime.timedelta(hours=4)
    other = open_case(coordinator=coordinator, given_name="Druhé")
    with override_settings(BREAK_GLASS_MAX_MINUTES=60):
        with pytest.raises(ValidationError):
            break_glass_open(user=on_call, case=other, reason=REASON, minutes=61)
        short = break_glass_open(user=on_call, case=other, reason=REASON, minutes=30)
    assert short.expires_at - short.started_at == datetime.timedelta(minutes=30)


def test_the_form_shows_field_errors_and_keeps_what_was_typed(case: Case, on_call: User) -> None:
    url = reverse("case_break_glass", args=[case.pk])
    client = client_for(on_call)
    page = client.get(url)
    assert page.status_code == 200
    assert CANARY not in page.content.decode()  # the form names the case by its reference only
    response = client.post(url, {"reason": "rychle", "duration_minutes": "0"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_reason_error"' in body or "errorlist" in body
    assert "at least 20 characters" in body
    assert "Choose between 1 and 240 minutes" in body
    assert "rychle" in body
    assert not BreakGlassGrant.objects.exists()


def test_who_may_never_break_glass(
    case: Case, coordinator: User, supervisor: User, teacher: User, dpo: User, administrator: User, foreign_worker: User
) -> None:
    # Partners, the DPO, the administrator, another authority: refused by the policy, in the service too.
    for user in (teacher, dpo, administrator, foreign_worker):
        with pytest.raises(PermissionDenied):
            break_glass_open(user=user, case=case, reason=REASON)
    for user in (teacher, dpo, administrator):
        assert client_for(user).get(reverse("break_glass_find")).status_code == 403
    # The coordinator and the supervisors already see the case: there is nothing to break.
    for user in (coordinator, supervisor):
        with pytest.raises(PermissionDenied):
            break_glass_open(user=user, case=case, reason=REASON)
    assert not BreakGlassGrant.objects.exists()


def test_the_case_is_found_by_its_reference_within_the_authority(
    case: Case, on_call: User, foreign_worker: User
) -> None:
    client = client_for(on_call)
    found = client.get(reverse("break_glass_find"), {"reference": f"  {case.reference.lower()} "})
    assert found.status_code == 302
    assert found["Location"] == reverse("case_break_glass", args=[case.pk])
    missing = client.get(reverse("break_glass_find"), {"reference": "OM 1999/9999"})
    assert missing.status_code == 200
    assert "Your authority has no case with this reference." in missing.content.decode()
    # Another authority's worker: the same answer as for a case that does not exist.
    page = client_for(foreign_worker).get(reverse("break_glass_find"), {"reference": case.reference})
    assert "Your authority has no case with this reference." in page.content.decode()


# --- Access through it -------------------------------------------------------------------------------------------


def test_access_is_read_only_at_once_and_ends_at_expiry(case: Case, on_call: User) -> None:
    client = client_for(on_call)
    detail = reverse("case_detail", args=[case.pk])
    assert client.get(detail).status_code == 404
    response = client.post(reverse("case_break_glass", args=[case.pk]), {"reason": REASON, "duration_minutes": "20"})
    assert response.status_code == 302
    assert response["Location"] == detail
    grant = BreakGlassGrant.objects.get()
    page = client.get(detail).content.decode()
    assert f"{CANARY} rodinná situace" in page  # the social part, as the coordinator reads it
    assert "data-break-glass-banner" in page
    access = load_case_access(on_call, case)
    assert access.is_break_glass
    assert access.read_only
    assert not access.may_manage
    assert not access.note_compartments()
    assert client.get(reverse("case_note_add", args=[case.pk])).status_code == 403

    with time_machine.travel(grant.expires_at - datetime.timedelta(seconds=1)):
        assert client.get(detail).status_code == 200
    with time_machine.travel(grant.expires_at):
        assert client.get(detail).status_code == 404
        assert not load_case_access(on_call, case).visible


def test_every_read_is_marked_and_the_grant_is_an_audited_event(case: Case, on_call: User, supervisor: User) -> None:
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    grant = break_glass_open(user=on_call, case=case, reason=f"{REASON} {CANARY}")
    client_for(on_call).get(reverse("case_detail", args=[case.pk]))
    rows = list(AuditEvent.objects.filter(seq__gt=before, actor=on_call).order_by("seq"))
    [opened] = [row for row in rows if row.action == AuditAction.BREAK_GLASS]
    assert (opened.object_type, opened.object_id, opened.case_id) == (
        "permissions.breakglassgrant",
        str(grant.pk),
        case.pk,
    )
    reads = [row for row in rows if row.action == AuditAction.READ]
    assert reads
    assert all(row.purpose.startswith("break-glass: ") for row in reads)
    for row in rows:
        assert CANARY not in f"{row.purpose} {row.field_names} {row.object_id}"

    # The case's access timeline marks them, and so does its export ("Break-glass" column).
    supervisor_client = client_for(supervisor)
    timeline = supervisor_client.get(reverse("oversight_case", args=[case.pk])).content.decode()
    assert "break-glass: case page" in timeline
    export = supervisor_client.get(reverse("oversight_case_export", args=[case.pk]), {"format": "csv"})
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    body = table[1:]
    purpose, marker = 9, 11  # the export's columns: ..., purpose, outcome, break-glass
    marked = [line for line in body if line[purpose].startswith("break-glass")]
    assert marked
    assert all(line[marker] == table[1 + body.index(marked[0])][marker] != table[-1][marker] for line in marked)
    assert CANARY not in export.content.decode("utf-8-sig")


def test_coordinator_and_supervisors_are_notified_at_once_without_content(
    case: Case, on_call: User, coordinator: User, supervisor: User, second_supervisor: User, dpo: User, teacher: User
) -> None:
    grant = break_glass_open(user=on_call, case=case, reason=f"{REASON} {CANARY}")
    rows = list(Notification.objects.filter(kind=Kind.BREAK_GLASS))
    assert {row.recipient_id for row in rows} == {coordinator.pk, supervisor.pk, second_supervisor.pk}
    for row in rows:
        assert row.urgent
        assert (row.case_id, row.case_reference) == (case.pk, case.reference)
        assert (row.object_type, row.object_id) == ("permissions.breakglassgrant", str(grant.pk))
        text = " ".join(str(value) for value in Notification.objects.filter(pk=row.pk).values().get().values())
        assert CANARY not in text
    with translation.override("en"):
        page = client_for(coordinator).get(reverse("notification_list")).content.decode()
    assert case.reference in page
    assert CANARY not in page.replace(f"{CANARY}Jméno", "").replace(f"{CANARY}Příjmení", "")  # the child label only


# --- The review queue --------------------------------------------------------------------------------------------


def test_another_supervisor_reviews_it_and_the_review_is_audited(case: Case, on_call: User, supervisor: User) -> None:
    grant = break_glass_open(user=on_call, case=case, reason=REASON)
    client_for(on_call).get(reverse("case_detail", args=[case.pk]))
    client = client_for(supervisor)
    url = reverse("oversight_break_glass_review", args=[grant.pk])
    page = client.get(url).content.decode()
    assert REASON in page
    assert "break-glass: case page" in page  # the grant's reads, from the audit chain
    assert CANARY not in page
    missing = client.post(url, {"verdict": BreakGlassVerdict.NOT_JUSTIFIED, "comment": " "})
    assert missing.status_code == 400
    assert not BreakGlassGrant.objects.get().is_reviewed
    assert client.post(url, {"verdict": BreakGlassVerdict.JUSTIFIED, "comment": ""}).status_code == 302
    grant.refresh_from_db()
    assert (grant.verdict, grant.reviewed_by) == (BreakGlassVerdict.JUSTIFIED, supervisor)
    assert AuditEvent.objects.filter(
        actor=supervisor,
        object_type="permissions.breakglassgrant",
        object_id=str(grant.pk),
        purpose="break-glass review",
    ).exists()
    with pytest.raises(ValidationError):
        break_glass_review(grant_id=grant.pk, reviewer=supervisor, verdict=BreakGlassVerdict.NOT_JUSTIFIED, comment="x")


def test_nobody_reviews_their_own_break_glass(case: Case, on_call: User) -> None:
    grant = break_glass_open(user=on_call, case=case, reason=REASON)
    on_call.role = Role.SUPERVISOR  # promoted since: still not the one to judge it
    on_call.save(update_fields=["role"])
    with translation.override("en"), pytest.raises(ValidationError) as error:
        break_glass_review(grant_id=grant.pk, reviewer=on_call, verdict=BreakGlassVerdict.JUSTIFIED, comment="")
    assert "your own break-glass" in str(error.value)
    response = client_for(on_call).post(
        reverse("oversight_break_glass_review", args=[grant.pk]), {"verdict": BreakGlassVerdict.JUSTIFIED}
    )
    assert response.status_code == 400
    assert "You cannot review your own break-glass access" in response.content.decode()
    assert not BreakGlassGrant.objects.get().is_reviewed
    # The database refuses it too.
    BreakGlassGrant.objects.filter(pk=grant.pk).update(reviewed_at=timezone.now(), verdict=BreakGlassVerdict.JUSTIFIED)
    with pytest.raises(IntegrityError), transaction.atomic():
        BreakGlassGrant.objects.filter(pk=grant.pk).update(reviewed_by=on_call)


def test_the_dpo_reads_the_queue_but_does_not_decide_and_other_authorities_do_not_see_it(
    case: Case, on_call: User, dpo: User, foreign_worker: User, prostejov: object
) -> None:
    grant = break_glass_open(user=on_call, case=case, reason=REASON)
    url = reverse("oversight_break_glass_review", args=[grant.pk])
    dpo_client = client_for(dpo)
    assert f'data-grant="{grant.pk}"' in dpo_client.get(reverse("oversight_break_glass")).content.decode()
    page = dpo_client.get(url).content.decode()
    assert REASON in page
    assert "data-review-form" not in page
    assert dpo_client.post(url, {"verdict": BreakGlassVerdict.JUSTIFIED}).status_code == 403
    with pytest.raises(PermissionDenied):
        break_glass_review(grant_id=grant.pk, reviewer=dpo, verdict=BreakGlassVerdict.JUSTIFIED, comment="")
    assert foreign_worker.organisation is not None
    foreign_supervisor = ospod_staff(foreign_worker.organisation, username="cizi-vedouci", role=Role.SUPERVISOR)
    foreign = client_for(foreign_supervisor)
    assert f'data-grant="{grant.pk}"' not in foreign.get(reverse("oversight_break_glass")).content.decode()
    assert foreign.get(url).status_code == 404
    for user in (on_call,):
        assert client_for(user).get(reverse("oversight_break_glass")).status_code == 403
    assert not BreakGlassGrant.objects.get().is_reviewed


def test_queue_and_review_page_cost_the_same_at_two_sizes(
    coordinator: User, supervisor: User, ospod: Organisation, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    overseer = overseer_for(supervisor)
    client = client_for(supervisor)

    def grants(count: int) -> list[BreakGlassGrant]:
        made = []
        for n in range(count):
            worker = ospod_staff(ospod, username=f"sluzba-{count}-{n}")
            case = open_case(coordinator=coordinator, given_name=f"Dítě{count}x{n}")
            made.append(break_glass_open(user=worker, case=case, reason=REASON, minutes=5))
            client_for(worker).get(reverse("case_detail", args=[case.pk]))
        return made

    small = grants(2)
    with django_assert_num_queries(1):
        assert len(grant_page(overseer).rows) == 2
    row = grant_in_scope(overseer, small[0].pk)
    with django_assert_num_queries(2):
        assert grant_reads(row).rows
    large = grants(6)
    with django_assert_num_queries(1):
        assert len(grant_page(overseer, size=5).rows) == 5
    row = grant_in_scope(overseer, large[0].pk)
    with django_assert_num_queries(2):
        assert grant_reads(row).rows

    def page_queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    queue = reverse("oversight_break_glass") + "?state=all"
    review = reverse("oversight_break_glass_review", args=[large[-1].pk])
    counts = (page_queries(queue), page_queries(review))
    grants(3)
    assert (page_queries(queue), page_queries(review)) == counts
