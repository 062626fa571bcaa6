"""The plan as a PDF: Czech, paginated "strana X z Y", holding only what the viewer may read, audited as an export;
and the Czech typography it is set with. Fictional data only."""

from __future__ import annotations

import io
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils.text import slugify
from pypdf import PdfReader

from casework.models import Case, Plan, User
from casework.typography import NO_BREAK_SPACE, bind_lone_letters
from permissions.models import AuditAction, AuditEvent, AuditOutcome

from .test_plan_views import (
    CHILD_VIEWS,
    DOCTOR_ACTION,
    GOAL_HEALTH,
    GOAL_SCHOOL,
    LOOSE_ACTION,
    NEW_REPORT,
    PARENTS_VIEWS,
    SCHOOL_ORG_ACTION,
    SUPPORT,
    TEACHER_ACTION,
    case,
    client_for,
    doctor,
    plan,
)

pytestmark = pytest.mark.django_db

__all__ = ["case", "doctor", "plan"]  # fixtures shared with the page tests


#: The export row names the child's basics it holds (read through the gate), beside the plan's own fields.
CHILD_ON_PDF = {"child_given_name", "child_family_name", "child_date_of_birth"}


def pdf_url(case: Case, plan: Plan) -> str:
    return reverse("case_plan_pdf", kwargs={"case_id": case.pk, "plan_id": plan.pk})


def pdf_text(content: bytes) -> str:
    """The text of every page, with hyphenation undone and spaces (no-break ones included) collapsed."""
    reader = PdfReader(io.BytesIO(content))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    raw = re.sub(r"[\u2010\u00ad-]\s*\n\s*", "", raw)
    return re.sub(r"\s+", " ", raw.replace(NO_BREAK_SPACE, " "))


def test_the_coordinator_prints_the_whole_plan(case: Case, plan: Plan, coordinator: User, supervisor: User) -> None:
    response = client_for(coordinator).get(pdf_url(case, plan))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in [d.strip() for d in response["Cache-Control"].split(",")]
    assert response["Content-Disposition"] == f'attachment; filename="ipod-{slugify(case.reference)}-v1.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert case.reference in text
    assert "Individuální plán ochrany dítěte, verze 1" in text
    pages = len(PdfReader(io.BytesIO(response.content)).pages)
    assert f"Strana 1 z {pages}" in text
    for expected in (GOAL_SCHOOL, GOAL_HEALTH, TEACHER_ACTION, SCHOOL_ORG_ACTION, DOCTOR_ACTION, LOOSE_ACTION):
        assert expected in text
    for expected in (SUPPORT, CHILD_VIEWS, PARENTS_VIEWS, NEW_REPORT):
        assert expected in text
    # Who approved it, who printed it.
    assert supervisor.display_name() in text
    assert coordinator.display_name() in text


def test_the_export_is_audited(case: Case, plan: Plan, coordinator: User) -> None:
    before = AuditEvent.objects.filter(action=AuditAction.EXPORT).count()
    client_for(coordinator).get(pdf_url(case, plan))
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert before == 0
    assert export.actor_id == coordinator.pk
    assert export.case_id == case.pk
    assert (export.object_type, export.object_id) == ("casework.plan", str(plan.pk))
    assert export.purpose == "export plan pdf"
    assert export.outcome == AuditOutcome.ALLOWED
    assert set(export.field_names) == {
        "support_offered",
        "child_views",
        "parents_views",
        "goals",
        "actions",
        *CHILD_ON_PDF,
    }
    # The gate's own read rows, as for any read; and they come before the export row.
    reads = AuditEvent.objects.filter(actor=coordinator, action=AuditAction.READ, purpose="export plan pdf")
    assert {"casework.plan", "casework.plangoal", "casework.planaction", "casework.actionreport"} <= set(
        reads.values_list("object_type", flat=True)
    )
    assert max(reads.values_list("seq", flat=True)) < export.seq


def test_a_school_member_prints_only_what_they_may_read(case: Case, plan: Plan, teacher: User) -> None:
    response = client_for(teacher).get(pdf_url(case, plan))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert case.reference in text
    assert GOAL_SCHOOL in text
    assert GOAL_HEALTH in text
    assert TEACHER_ACTION in text
    assert SCHOOL_ORG_ACTION in text
    for hidden in (DOCTOR_ACTION, LOOSE_ACTION, CHILD_VIEWS, SUPPORT, PARENTS_VIEWS, NEW_REPORT):
        assert hidden not in text
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.actor_id == teacher.pk
    # The case basics are every team member's: the child's name and date of birth are on her copy too.
    assert set(export.field_names) == {"goals", "actions", *CHILD_ON_PDF}


def test_the_pdf_names_the_child_with_the_date_of_birth(case: Case, plan: Plan, coordinator: User) -> None:
    response = client_for(coordinator).get(pdf_url(case, plan))
    text = pdf_text(response.content)
    # register_child's fictional defaults; the date as the Czech document prints dates.
    assert "Eliška Nováková" in text
    assert re.search(r"9\. ?(3\.|března) ?2014", text)
    reads = AuditEvent.objects.filter(actor=coordinator, action=AuditAction.READ, purpose="export plan pdf")
    assert "casework.child" in set(reads.values_list("object_type", flat=True))


def test_names_in_the_pdfs_columns_are_not_hyphenated(
    case: Case, plan: Plan, coordinator: User, teacher: User, doctor: User
) -> None:
    """``pdf_text`` undoes hyphenation: read the raw text, where a hyphenated owner's name would be split."""
    content = client_for(coordinator).get(pdf_url(case, plan)).content
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    raw = re.sub(r"\s+", " ", raw.replace(NO_BREAK_SPACE, " "))
    for name in (teacher.last_name, doctor.last_name, "Nováková"):
        assert name in raw
    assert "\u00ad" not in raw


def test_a_stranger_gets_no_file_and_no_export_row(case: Case, plan: Plan, foreign_worker: User) -> None:
    assert client_for(foreign_worker).get(pdf_url(case, plan)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert AuditEvent.objects.filter(actor=foreign_worker, action=AuditAction.DENY, case_id=case.pk).exists()


def test_the_file_name_carries_no_name(case: Case, plan: Plan, coordinator: User) -> None:
    disposition = client_for(coordinator).get(pdf_url(case, plan))["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="ipod-[a-z0-9-]+-v1\.pdf"', disposition)
    assert coordinator.last_name.lower() not in disposition


# --- Czech typography ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("jde k domu", "jde k~domu"),
        ("V lese a u řeky", "V~lese a~u~řeky"),
        ("s matkou i otcem, o víkendu z Brna", "s~matkou i~otcem, o~víkendu z~Brna"),
        ("(v pondělí) K tomu", "(v~pondělí) K~tomu"),
        ("Kos a sova", "Kos a~sova"),  # "Kos" ends in s but is not a one-letter word
        ("dnů s  rodinou", "dnů s~rodinou"),
        ("mu a", "mu a"),  # nothing follows: nothing to bind
        ("b c d x", "b c d x"),  # only k, s, v, z, o, u, a, i are bound
        ("píše a\ndruhý řádek", "píše a\ndruhý řádek"),  # an author's line break stays
    ],
)
def test_one_letter_words_are_bound_to_the_next(given: str, expected: str) -> None:
    assert bind_lone_letters(given) == expected.replace("~", NO_BREAK_SPACE)


def test_the_filter_keeps_escaping() -> None:
    template = Template("{% load czech_typography %}{{ value|nbsp_cs }}|{{ safe|nbsp_cs }}")
    rendered = template.render(Context({"value": "<b>k domu</b>", "safe": Template("<i>v lese</i>").render(Context())}))
    assert rendered == f"&lt;b&gt;k{NO_BREAK_SPACE}domu&lt;/b&gt;|<i>v{NO_BREAK_SPACE}lese</i>"
