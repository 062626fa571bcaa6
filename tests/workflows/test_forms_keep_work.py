"""Forms that keep work: every field error at once, a confirmation before irreversible steps, drafts of the
assessment, the conference record and the plan (owner-only, sealed, deleted on submit), work kept across an ended
session, and the plan editor's take-over that keeps unsaved edits and goals chosen by name.

Every name and text is fictional.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from viewflow.workflow.status import STATUS

from casework.models import (
    Child,
    Conference,
    ConferenceStatus,
    DraftKind,
    FormDraft,
    KeptWork,
    Plan,
    PlanGoal,
    ReportStatus,
    TeamMembership,
    User,
)
from casework.services import conference_decision_add, drafts
from casework.services import plans as plan_services
from casework.services.drafts import KEEP_FIELD, KEPT_WORK_COOKIE
from permissions.models import AuditEvent
from workflows.flows import CaseFlow

from . import test_case_flow as flow_tests
from .conftest import client_for, file_report, form_data, html, triage_task
from .test_case_flow import one_task, provide, request
from .test_plan_editor import GOAL, SECOND_GOAL, held_conference, in_days, post_data, row
from .test_plan_stage import CHILD_VIEWS, submit, to_plan_stage
from .test_triage import _triage_post

pytestmark = pytest.mark.django_db

case = flow_tests.case
doctor = flow_tests.doctor

DRAFT_NEEDS = "Potřebuje klid na učení; zkušební koncept 7301."
MINUTES_DRAFT = "Rozepsaný zápis konference; zkušební koncept 7302."
NOTE_TEXT = "Rozepsaný záznam po skončení relace; zkušební text 7303."


def _assessment_task(case: Any, coordinator: User, teacher: User) -> Any:
    request(case, coordinator, [teacher])
    provide(case, teacher, "vstup školy")
    return one_task(case, CaseFlow.write_assessment)


def _draft_url(case: Any, kind: str, object_id: Any) -> str:
    if kind == DraftKind.ASSESSMENT:
        return reverse("draft_assessment", kwargs={"case_id": case.pk})
    if kind == DraftKind.MINUTES:
        return reverse("draft_minutes", kwargs={"case_id": case.pk, "conference_id": object_id})
    return reverse("draft_plan_version", kwargs={"case_id": case.pk, "plan_id": object_id})


# --- Every field error at once ------------------------------------------------------------------------------------


def test_the_report_form_shows_a_bad_date_with_the_missing_name_and_facts_at_once(teacher: User) -> None:
    response = client_for(teacher).post(
        reverse("report_create"),
        form_data(child_date_of_birth="2015-13-45", child_given_name="", facts="", child_birth_number="123"),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"child_date_of_birth", "child_given_name", "facts", "child_birth_number"} <= set(errors)


def test_the_report_form_shows_an_unknown_residence_together_with_a_bad_date(teacher: User) -> None:
    response = client_for(teacher).post(
        reverse("report_create"),
        form_data(child_date_of_birth="2015-13-45", residence_municipality="Obec, která neexistuje 7304"),
    )
    assert response.status_code == 200
    assert {"child_date_of_birth", "residence_municipality"} <= set(response.context["form"].errors)


def test_triage_reports_a_bad_birth_number_checksum_together_with_a_missing_name(
    teacher: User, supervisor: User, coordinator: User
) -> None:
    report = file_report(teacher)
    task = triage_task(report)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    response = client.post(
        reverse("task_detail", kwargs={"task_id": task.pk}),
        _triage_post(coordinator, birth_number="1505051234", given_name="", urgent=""),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"birth_number", "given_name", "urgent"} <= set(errors)
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_TRIAGE
    assert Child.objects.count() == 0


# --- Confirmation of irreversible steps -----------------------------------------------------------------------------


def test_plan_approval_without_the_confirmation_changes_nothing(
    case: Any, coordinator: User, teacher: User, supervisor: User
) -> None:
    plan = submit(case, coordinator, to_plan_stage(case, coordinator, teacher))
    task = one_task(case, CaseFlow.approve_plan)
    client = client_for(supervisor)
    client.post(reverse("task_claim", kwargs={"task_id": task.pk}))
    page = client.post(f"/inbox/tasks/{task.pk}/", {"decision": "approve"})
    assert page.status_code == 200
    assert "confirm" in page.context["form"].errors
    plan.refresh_from_db()
    task.refresh_from_db()
    assert plan.status != "current"
    assert task.status == STATUS.ASSIGNED
    # Returning for changes needs a reason, not the confirmation.
    returned = client.post(f"/inbox/tasks/{task.pk}/", {"decision": "return", "comment": "Doplňte názor otce."})
    assert returned.status_code == 302


def test_signing_off_minutes_needs_the_confirmation_and_says_so_without_javascript(
    case: Any, coordinator: User, teacher: User, doctor: User
) -> None:
    conference = held_conference(case, coordinator, [teacher, doctor])
    url = reverse("conference_sign_off", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    client = client_for(coordinator)
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="confirm"' in html(page)
    refused = client.post(url, {})
    assert refused.status_code == 200
    assert "confirm" in refused.context["form"].errors
    assert Conference.objects.get(pk=conference.pk).status == ConferenceStatus.HELD
    assert client.post(url, {"confirm": "on"}).status_code == 302
    assert Conference.objects.get(pk=conference.pk).status == ConferenceStatus.SIGNED_OFF


def test_ending_a_membership_without_the_confirmation_keeps_it(case: Any, coordinator: User, teacher: User) -> None:
    membership = TeamMembership.objects.current().get(case=case, user=teacher)
    url = reverse("team_member_end", kwargs={"case_id": case.pk, "membership_id": membership.pk})
    response = client_for(coordinator).post(url, {"reason": "task_done"})
    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    assert TeamMembership.objects.get(pk=membership.pk).ended_at is None


# --- Drafts ---------------------------------------------------------------------------------------------------------


def test_the_assessment_draft_is_sealed_restored_for_its_author_only_and_deleted_on_submit(
    case: Any, coordinator: User, teacher: User, supervisor: User
) -> None:
    task = _assessment_task(case, coordinator, teacher)
    lead = client_for(coordinator)
    saved = lead.post(
        _draft_url(case, DraftKind.ASSESSMENT, case.pk), {"child_needs": DRAFT_NEEDS, "csrfmiddlewaretoken": "x"}
    )
    assert saved.status_code == 200
    assert saved.json()["saved"] is True
    asked = lead.get(_draft_url(case, DraftKind.ASSESSMENT, case.pk))
    assert asked.json()["draft"] is True
    assert DRAFT_NEEDS.encode() not in asked.content
    assert DRAFT_NEEDS.encode() not in saved.content
    draft = FormDraft.objects.get(user=coordinator, kind=DraftKind.ASSESSMENT)
    assert DRAFT_NEEDS.encode() not in bytes(draft.data)
    assert "Potřebuje".encode() not in bytes(draft.data)

    page = lead.get(f"/inbox/tasks/{task.pk}/")
    assert DRAFT_NEEDS in html(page)
    assert AuditEvent.objects.filter(purpose="restore draft", actor=coordinator).exists()
    # Nobody else gets it, whatever their role: the supervisor reads the same page without it.
    assert DRAFT_NEEDS not in html(client_for(supervisor).get(f"/inbox/tasks/{task.pk}/"))

    done = lead.post(
        f"/inbox/tasks/{task.pk}/",
        {
            "child_needs": DRAFT_NEEDS,
            "parenting_capacity": "schopnosti",
            "family_environment": "prostředí",
            "child_views": "přání",
        },
    )
    assert done.status_code == 302
    assert not FormDraft.objects.filter(user=coordinator).exists()


def test_a_draft_of_a_case_the_user_cannot_see_is_a_404_and_nothing_is_stored(
    case: Any, coordinator: User, foreign_supervisor: User
) -> None:
    response = client_for(foreign_supervisor).post(
        _draft_url(case, DraftKind.ASSESSMENT, case.pk), {"child_needs": DRAFT_NEEDS}
    )
    assert response.status_code == 404
    assert not FormDraft.objects.exists()


def test_a_draft_of_another_cases_object_is_refused(case: Any, coordinator: User, teacher: User) -> None:
    response = client_for(coordinator).post(_draft_url(case, DraftKind.MINUTES, uuid.uuid4()), {"minutes": "x"})
    assert response.status_code == 404
    assert not FormDraft.objects.exists()


def test_the_minutes_draft_comes_back_on_the_conference_page_and_goes_when_the_record_is_saved(
    case: Any, coordinator: User, teacher: User, doctor: User
) -> None:
    conference = held_conference(case, coordinator, [teacher, doctor])
    lead = client_for(coordinator)
    assert lead.post(_draft_url(case, DraftKind.MINUTES, conference.pk), {"minutes": MINUTES_DRAFT}).status_code == 200
    detail = reverse("conference_detail", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    page = lead.get(detail)
    assert MINUTES_DRAFT in html(page)
    form = page.context["record_form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    record = reverse("conference_record", kwargs={"case_id": case.pk, "conference_id": conference.pk})
    assert lead.post(record, data).status_code == 302
    assert not FormDraft.objects.filter(kind=DraftKind.MINUTES).exists()


def test_the_plan_draft_is_kept_as_json_for_the_editor_and_deleted_on_save(
    case: Any, coordinator: User, teacher: User
) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    lead = client_for(coordinator)
    data = post_data([GOAL, SECOND_GOAL], [row("Zkušební úkol 7304", f"u:{teacher.pk}", in_days(10), goal="2")])
    assert lead.post(_draft_url(case, DraftKind.PLAN, plan.pk), data).status_code == 200
    page = html(lead.get(f"/inbox/tasks/{task.pk}/"))
    assert '<script id="plan-draft" type="application/json">' in page
    assert "7304" in page
    assert lead.post(f"/inbox/tasks/{task.pk}/", data).status_code == 302
    assert not FormDraft.objects.filter(kind=DraftKind.PLAN).exists()


# --- Work kept when the session ended --------------------------------------------------------------------------------


def test_a_note_posted_after_the_session_ended_comes_back_after_login(
    case: Any, coordinator: User, teacher: User
) -> None:
    url = reverse("case_note_add", args=[case.pk])
    browser = Client()  # the session has ended: no logged-in user
    response = browser.post(url, {"compartment": "social", "text": NOTE_TEXT, KEEP_FIELD: "1"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert NOTE_TEXT not in response["Location"]
    cookie = response.cookies[KEPT_WORK_COOKIE]
    assert cookie["httponly"]
    kept = KeptWork.objects.get()
    assert kept.path == url
    assert NOTE_TEXT.encode() not in bytes(kept.envelope)

    browser.force_login(coordinator)
    # Another page does not get it; the form's page does, once.
    assert browser.post(reverse("kept_work_restore"), {"path": "/"}).json() == {"fields": {}}
    restored = browser.post(reverse("kept_work_restore"), {"path": url}).json()
    assert restored["fields"]["text"] == [NOTE_TEXT]
    assert restored["fields"]["compartment"] == ["social"]
    assert KEEP_FIELD not in restored["fields"]
    assert not KeptWork.objects.exists()
    assert browser.post(reverse("kept_work_restore"), {"path": url}).json() == {"fields": {}}


def test_kept_work_is_useless_without_the_browsers_key(case: Any, coordinator: User) -> None:
    url = reverse("case_note_add", args=[case.pk])
    Client().post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"})
    other = client_for(coordinator)  # logged in elsewhere: no cookie, or a forged one
    assert other.post(reverse("kept_work_restore"), {"path": url}).json() == {"fields": {}}
    other.cookies[KEPT_WORK_COOKIE] = "AAAA.BBBB"
    assert other.post(reverse("kept_work_restore"), {"path": url}).json() == {"fields": {}}
    assert KeptWork.objects.count() == 1


def test_an_anonymous_post_without_the_marker_is_not_kept(case: Any) -> None:
    Client().post(reverse("case_note_add", args=[case.pk]), {"text": NOTE_TEXT})
    assert not KeptWork.objects.exists()


def test_one_address_cannot_fill_the_table_with_anonymous_kept_work(case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drafts, "KEPT_WORK_PER_ADDRESS", 2)
    url = reverse("case_note_add", args=[case.pk])
    flooder = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(2):
        assert KEPT_WORK_COOKIE in flooder.post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"}).cookies
    refused = flooder.post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"}, follow=True)
    assert KEPT_WORK_COOKIE not in refused.cookies
    assert refused.redirect_chain[0][0].startswith(reverse("login"))
    assert KeptWork.objects.count() == 2
    # Another address still has its work kept; no row holds an address in the clear.
    assert (
        KEPT_WORK_COOKIE in Client(REMOTE_ADDR="198.51.100.4").post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"}).cookies
    )
    assert KeptWork.objects.count() == 3
    assert not KeptWork.objects.filter(source__contains="203.0.113").exists()
    # The work of the first two expires, and the address may keep work again.
    KeptWork.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert KEPT_WORK_COOKIE in flooder.post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"}).cookies


def test_installation_wide_cap_on_anonymous_kept_work(case: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drafts, "KEPT_WORK_ANONYMOUS_TOTAL", 1)
    url = reverse("case_note_add", args=[case.pk])
    Client(REMOTE_ADDR="203.0.113.10").post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"})
    Client(REMOTE_ADDR="203.0.113.11").post(url, {"text": NOTE_TEXT, KEEP_FIELD: "1"})
    assert KeptWork.objects.count() == 1


def test_work_kept_before_a_language_switch_returns_to_the_same_user_only(
    case: Any, coordinator: User, teacher: User
) -> None:
    url = reverse("case_note_add", args=[case.pk])
    client = client_for(coordinator)
    response = client.post(reverse("keep_work"), {"text": NOTE_TEXT, "_keep_path": url})
    assert response.json() == {"kept": True}
    assert client.post(reverse("keep_work"), {"text": "x", "_keep_path": "https://example.org/"}).status_code == 400
    # The same browser, another person logged in: nothing.
    cookie = client.cookies[KEPT_WORK_COOKIE].value
    stranger = client_for(teacher)
    stranger.cookies[KEPT_WORK_COOKIE] = cookie
    assert stranger.post(reverse("kept_work_restore"), {"path": url}).json() == {"fields": {}}
    assert client.post(reverse("kept_work_restore"), {"path": url}).json()["fields"]["text"] == [NOTE_TEXT]


# --- The plan editor ------------------------------------------------------------------------------------------------


def test_goals_are_chosen_by_their_text_and_new_rows_come_from_a_template(
    case: Any, coordinator: User, teacher: User
) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    plan_services.plan_save(
        plan=plan,
        by=coordinator,
        goals=[GOAL, SECOND_GOAL],
        support_offered="",
        child_views=CHILD_VIEWS,
        parents_views="",
        next_review_on=None,
    )
    page = html(client_for(coordinator).get(f"/inbox/tasks/{task.pk}/"))
    assert f'<option value="2">{SECOND_GOAL}</option>' in page
    assert f">2. {SECOND_GOAL}<" not in page
    assert "data-formset-template" in page
    assert "actions-__prefix__-what" in page


def test_taking_over_decisions_saves_the_unsaved_edits_first(
    case: Any, coordinator: User, teacher: User, doctor: User
) -> None:
    task = to_plan_stage(case, coordinator, teacher)
    plan = plan_services.plan_in_work(case)
    assert plan is not None
    conference = held_conference(case, coordinator, [teacher, doctor])
    conference_decision_add(
        conference=conference, by=coordinator, text="Škola zajistí doučování.", owner_user=teacher, due_on=in_days(14)
    )
    data = post_data([GOAL, SECOND_GOAL], [])
    data.pop("save")
    data.update({"import_conference": "1", "conference": str(conference.pk)})
    response = client_for(coordinator).post(f"/inbox/tasks/{task.pk}/", data)
    assert response.status_code == 302
    assert PlanGoal.objects.filter(plan=plan).count() == 2
    assert Plan.objects.get(pk=plan.pk).actions.count() == 1
    task.refresh_from_db()
    assert task.status != STATUS.DONE
