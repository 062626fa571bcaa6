"""§ 55(2) marks: items kept apart from the file a parent or the child may inspect (the child's statements made
without a representative, a domestic-violence victim's address, data on pre-adoptive or foster carers, the notifier
— always). Set when the item is written and later by the case's lead (audited), kept when the item is written again,
listed content-free by the selector the § 55 inspection export uses.

Every name and text is fictional.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.compartments import Compartment
from casework.models import (
    Attendance,
    Case,
    CaseNote,
    ChildParticipation,
    Conference,
    KeptApartItem,
    KeptApartMark,
    KeptApartReason,
    MarkSource,
    Report,
    User,
)
from casework.selectors.kept_apart import REPORT_ITEM, kept_apart_ids, kept_apart_items
from casework.services import case_note_add, conference_record, conference_schedule, report_file
from casework.services.kept_apart import kept_apart_mark, kept_apart_unmark
from permissions.models import AuditEvent
from tests.factories import add_member, open_case
from tests.workflows.conftest import details

pytestmark = pytest.mark.django_db

CHILD_ALONE = "Řekla mi, že se doma bojí otce; zkušební výpověď bez zástupce 4411."
CHILD_FOR_PLAN = "Chce chodit na florbal a mít klid na úkoly; zkušební přání pro plán 4412."
MINUTES = "Zápis: pěstounka bydlí v ulici Zkušební 12; zkušební zápis 4413."


@pytest.fixture
def case(coordinator: User, teacher: User) -> Case:
    opened = open_case(coordinator=coordinator)
    add_member(opened, teacher, coordinator)
    return opened


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def held_conference(case: Case, by: User, teacher: User, *, kept_apart: str = "") -> Conference:
    conference = conference_schedule(
        case=case,
        by=by,
        starts_at=timezone.now() + datetime.timedelta(days=2),
        duration_minutes=60,
        place="OSPOD",
        online_link="",
        members=[teacher],
        participants=[],
    )
    Conference.objects.filter(pk=conference.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=2))
    conference.refresh_from_db()
    return record(conference, by, kept_apart=kept_apart)


def record(conference: Conference, by: User, *, kept_apart: str = "") -> Conference:
    return conference_record(
        conference=conference,
        by=by,
        attendance={str(i.pk): Attendance.ATTENDED for i in conference.invitees.all()},
        child_participation=ChildParticipation.NOT_SUITABLE,
        minutes=MINUTES,
        kept_apart=kept_apart,
    )


def test_the_childs_statement_without_a_representative_is_kept_apart_and_what_they_said_for_the_plan_is_not(
    case: Case, coordinator: User
) -> None:
    alone = case_note_add(
        case=case,
        author=coordinator,
        compartment=Compartment.CHILD_VOICE,
        text=CHILD_ALONE,
        kept_apart=KeptApartReason.CHILD_STATEMENT,
    )
    for_plan = case_note_add(case=case, author=coordinator, compartment=Compartment.CHILD_VOICE, text=CHILD_FOR_PLAN)
    mark = KeptApartMark.objects.get(item_id=alone.pk)
    assert (mark.item_type, mark.reason, mark.source, mark.marked_by_id) == (
        KeptApartItem.NOTE,
        KeptApartReason.CHILD_STATEMENT,
        MarkSource.WRITTEN,
        coordinator.pk,
    )
    assert kept_apart_ids(case=case) == {KeptApartItem.NOTE.value: frozenset({alone.pk})}
    assert for_plan.pk not in kept_apart_ids(case=case)[KeptApartItem.NOTE]
    event = AuditEvent.objects.get(object_type="casework.keptapartmark", object_id=str(mark.pk))
    assert (event.actor_id, event.purpose, event.field_names) == (
        coordinator.pk,
        "mark kept apart (§ 55(2))",
        ["item_type", "reason"],
    )
    # Metadata only: the mark's row holds no text of the note.
    assert CHILD_ALONE not in str(KeptApartMark.objects.values().get(pk=mark.pk))


def test_an_unknown_reason_is_a_field_error_and_nothing_is_written(case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError) as error:
        case_note_add(
            case=case, author=coordinator, compartment=Compartment.SOCIAL, text="poznámka", kept_apart="secret"
        )
    assert set(error.value.message_dict) == {"kept_apart"}
    assert not CaseNote.objects.filter(case=case).exists()
    assert not KeptApartMark.objects.exists()


def test_the_minutes_keep_their_mark_when_recorded_again(case: Case, coordinator: User, teacher: User) -> None:
    conference = held_conference(case, coordinator, teacher, kept_apart=KeptApartReason.CARERS)
    mark = KeptApartMark.objects.get(item_type=KeptApartItem.MINUTES, item_id=conference.pk)
    marked_at = mark.marked_at

    # The lead edits the record (allowed until sign-off) and leaves the field empty: the mark stays as it was.
    record(conference, coordinator)
    again = KeptApartMark.objects.get(pk=mark.pk)
    assert (again.reason, again.source, again.marked_at) == (KeptApartReason.CARERS, MarkSource.WRITTEN, marked_at)

    # Choosing another reason replaces it (one mark per item), audited again.
    record(conference, coordinator, kept_apart=KeptApartReason.VICTIM_ADDRESS)
    assert list(KeptApartMark.objects.filter(item_id=conference.pk).values_list("reason", flat=True)) == [
        KeptApartReason.VICTIM_ADDRESS
    ]
    assert AuditEvent.objects.filter(object_type="casework.keptapartmark", object_id=str(mark.pk)).count() == 2

    # The edit page starts from the mark.
    page = _client(coordinator).get(
        reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    )
    assert f'<option value="{KeptApartReason.VICTIM_ADDRESS.value}" selected>' in page.content.decode()


def test_the_lead_marks_an_item_later_audited_and_a_member_may_not(
    case: Case, coordinator: User, teacher: User
) -> None:
    note = case_note_add(
        case=case, author=teacher, compartment=Compartment.SCHOOL, text="Adresa matky v azylovém domě."
    )
    with pytest.raises(PermissionDenied):
        kept_apart_mark(
            case=case, by=teacher, item_type=KeptApartItem.NOTE, item_id=note.pk, reason=KeptApartReason.VICTIM_ADDRESS
        )
    assert not KeptApartMark.objects.exists()
    assert AuditEvent.objects.filter(actor=teacher, purpose="mark kept apart (§ 55(2))", outcome="denied").exists()

    mark = kept_apart_mark(
        case=case, by=coordinator, item_type=KeptApartItem.NOTE, item_id=note.pk, reason=KeptApartReason.VICTIM_ADDRESS
    )
    assert (mark.source, mark.marked_by_id) == (MarkSource.LATER, coordinator.pk)
    assert AuditEvent.objects.filter(
        actor=coordinator, object_type="casework.keptapartmark", object_id=str(mark.pk), outcome="allowed"
    ).exists()

    # An item of another case is refused on the field, nothing written.
    other = open_case(coordinator=coordinator, given_name="Jiné", family_name="Dítě")
    with pytest.raises(ValidationError) as error:
        kept_apart_mark(
            case=other, by=coordinator, item_type=KeptApartItem.NOTE, item_id=note.pk, reason=KeptApartReason.CARERS
        )
    assert set(error.value.message_dict) == {"item"}
    assert KeptApartMark.objects.get(pk=mark.pk).case_id == case.pk

    kept_apart_unmark(case=case, by=coordinator, mark_id=mark.pk)
    assert not KeptApartMark.objects.exists()
    assert AuditEvent.objects.filter(purpose="remove § 55(2) mark", object_id=str(mark.pk)).exists()


def test_the_notifier_is_always_kept_apart(case: Case, coordinator: User, teacher: User) -> None:
    report = report_file(filed_by=teacher, details=details())
    Report.objects.filter(pk=report.pk).update(case=case)
    rows = kept_apart_items(case=case)
    assert [(row.item_type, row.item_id, row.reason, row.always) for row in rows] == [
        (REPORT_ITEM, report.pk, KeptApartReason.NOTIFIER, True)
    ]


def test_the_page_is_the_leads_and_marks_an_item(case: Case, coordinator: User, teacher: User) -> None:
    note = case_note_add(case=case, author=coordinator, compartment=Compartment.CHILD_VOICE, text=CHILD_ALONE)
    url = reverse("case_kept_apart", kwargs={"case_id": case.pk})
    assert _client(teacher).get(url).status_code == 403
    lead = _client(coordinator)
    page = lead.get(url)
    assert page.status_code == 200
    assert CHILD_ALONE not in page.content.decode()  # the page names items, never their content
    response = lead.post(
        url, {"item": f"{KeptApartItem.NOTE.value}:{note.pk}", "reason": KeptApartReason.CHILD_STATEMENT}
    )
    assert response.status_code == 302
    mark = KeptApartMark.objects.get(item_id=note.pk)
    assert mark.source == MarkSource.LATER
    removed = lead.post(url, {"remove": str(mark.pk)})
    assert removed.status_code == 302
    assert not KeptApartMark.objects.exists()


def test_a_members_input_is_marked_when_written(case: Case, coordinator: User, teacher: User) -> None:
    from casework.services.assessments import InputRequest, assessment_input_provide, assessment_inputs_request

    (item,) = assessment_inputs_request(
        case=case, by=coordinator, requests=[InputRequest(member=teacher, due_on=timezone.localdate())]
    )
    assessment_input_provide(
        assessment_input=item, by=teacher, text=CHILD_ALONE, kept_apart=KeptApartReason.CHILD_STATEMENT
    )
    mark = KeptApartMark.objects.get(item_type=KeptApartItem.INPUT, item_id=item.pk)
    assert (mark.reason, mark.source, mark.marked_by_id) == (
        KeptApartReason.CHILD_STATEMENT,
        MarkSource.WRITTEN,
        teacher.pk,
    )
