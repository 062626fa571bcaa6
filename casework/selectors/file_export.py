"""The case file as an export (DESIGN invariant 11): what a § 55 inspection — or a transfer to the archive — holds.

``case_file_export`` reads the chosen parts of the file through the gate with the export's purpose (the person who
asks for it is the case's lead, who reads the whole file) and returns a frozen :class:`CaseFileExport`. With
``inspection=True`` (the default) it leaves out what a parent or the child never sees (§ 55(2), § 57, our policy on
third persons), *before* anything is decrypted:

- the reports and the notifier compartment (never read here at all);
- the identity compartment: the birth number, addresses and contacts (a victim of domestic violence's address among
  them) and the other representatives;
- every item with a § 55(2) mark (``casework.selectors.kept_apart.kept_apart_ids``): notes, assessment inputs,
  conference minutes (with the conference's decisions), action reports (the export holds none);
- names of third persons: team members appear as organisation and role; notes and inputs as the organisation that
  wrote them; conference participants are not listed.

``withheld`` says whether anything was left out (the PDF's note says so without saying what). ``exported_fields``
names what the copy holds, for its export audit row. A fixed number of queries whatever the file's size.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field

from casework.compartments import Compartment
from casework.models import (
    HELD_STATUSES,
    NOTE_COMPARTMENTS,
    Case,
    CaseNote,
    Conference,
    ConferenceDecision,
    InspectionSection,
    KeptApartItem,
    Plan,
    PlanStatus,
    User,
)
from casework.selectors.assessments import AssessmentVersion, assessment_disclosed
from casework.selectors.case_file import CaseHeader, ChildOnDocument, case_header, child_on_document, member_rows
from casework.selectors.cases import case_memberships
from casework.selectors.kept_apart import kept_apart_ids
from casework.selectors.plans import PlanView, plan_disclosed
from permissions import gate
from permissions.access import AccessedCase, accessed_case
from permissions.policy import INSPECTION_EXCLUDED_COMPARTMENTS

INSPECTION_PURPOSE = "file inspection (§ 55)"


@dataclass(frozen=True)
class TeamRow:
    organisation: str
    sector: str
    role: str
    valid_from: datetime.date
    valid_until: datetime.date | None
    ongoing: bool


@dataclass(frozen=True)
class ExportInput:
    provided_at: datetime.datetime | None
    organisation: str
    role: str
    compartment: str
    text: str


@dataclass(frozen=True)
class ExportConference:
    starts_at: datetime.datetime
    held_at: datetime.datetime | None
    status: str
    #: None: the record is kept apart (§ 55(2)); the conference's date stays.
    minutes: str | None
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class ExportNote:
    created_at: datetime.datetime
    organisation: str
    compartment: str
    text: str


@dataclass(frozen=True)
class CaseFileExport:
    header: CaseHeader
    child: ChildOnDocument
    sections: tuple[str, ...]
    team: tuple[TeamRow, ...] = ()
    assessments: tuple[AssessmentVersion, ...] = ()
    inputs: tuple[ExportInput, ...] = ()
    conferences: tuple[ExportConference, ...] = ()
    plan: PlanView | None = None
    notes: tuple[ExportNote, ...] = ()
    #: Something of the file was left out under the law or our policy (always true for an inspection: the reports
    #: and the identity compartment are never in it). Never what or how much.
    withheld: bool = False
    exported_fields: tuple[str, ...] = field(default=())

    def has(self, section: str) -> bool:
        return section in self.sections


def case_file_export(
    *,
    user: User,
    case: AccessedCase | Case,
    sections: Collection[str],
    purpose: str = INSPECTION_PURPOSE,
    inspection: bool = True,
) -> CaseFileExport:
    """The chosen ``sections`` of the case file (``InspectionSection`` values), read through the gate for ``user``
    with ``purpose``. ``inspection``: leave out what § 55(2) and our policy keep from a parent or the child (see the
    module's docstring); ``False`` for a complete copy (a transfer to the archive) — still without the reports."""
    accessed = accessed_case(user, case)
    case, access = accessed
    chosen = tuple(s for s in InspectionSection.values if s in set(sections))
    kept = kept_apart_ids(case=case) if inspection else {}
    excluded_compartments = INSPECTION_EXCLUDED_COMPARTMENTS if inspection else frozenset({Compartment.NOTIFIER})
    fields: list[str] = []
    # An inspection always leaves something out: the identity compartment and the reports are never in it.
    withheld = inspection

    child = child_on_document(user, accessed, purpose=purpose)
    fields += [f"child_{name}" for name in child.fields]

    team: list[TeamRow] = []
    if InspectionSection.TEAM in chosen:
        current, past = member_rows(case_memberships(case=case))
        team = [
            TeamRow(
                organisation=row.organisation,
                sector=row.sector,
                role=row.role,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                ongoing=row.ongoing,
            )
            for row in [*current, *past]
        ]
        fields.append("team")

    assessments: list[AssessmentVersion] = []
    inputs: list[ExportInput] = []
    if InspectionSection.ASSESSMENT in chosen:
        found = assessment_disclosed(user=user, case=accessed, purpose=purpose)
        assessments = [v for v in found.versions if any(p.text for p in v.parts)]
        kept_inputs = kept.get(KeptApartItem.INPUT, frozenset())
        for row in found.inputs:
            if row.text is None or row.id in kept_inputs:
                continue
            inputs.append(
                ExportInput(
                    provided_at=row.provided_at,
                    organisation=row.organisation,
                    role=row.role,
                    compartment=row.compartment,
                    text=row.text,
                )
            )
        fields += ["assessment", "assessment_inputs"]

    conferences: list[ExportConference] = []
    if InspectionSection.CONFERENCES in chosen:
        held = list(Conference.objects.filter(case=case, status__in=HELD_STATUSES).order_by("starts_at", "id"))
        kept_minutes = kept.get(KeptApartItem.MINUTES, frozenset())
        readable = [c for c in held if c.pk not in kept_minutes]
        minutes = gate.read_case(user, accessed, readable, ["minutes"], purpose=purpose) if readable else []
        decision_rows = list(
            ConferenceDecision.objects.filter(conference__in=readable).order_by("conference_id", "created_at", "id")
        )
        decision_texts = (
            gate.read_case(user, accessed, decision_rows, ["text"], purpose=purpose) if decision_rows else []
        )
        by_conference: dict[uuid.UUID, list[str]] = {}
        for decision, d in zip(decision_rows, decision_texts, strict=True):
            if d.get("text"):
                by_conference.setdefault(decision.conference_id, []).append(d.get("text") or "")
        texts = {c.pk: d.get("minutes") for c, d in zip(readable, minutes, strict=True)}
        conferences = [
            ExportConference(
                starts_at=c.starts_at,
                held_at=c.held_at,
                status=c.get_status_display(),
                minutes=texts.get(c.pk) if c.pk in texts else None,
                decisions=tuple(by_conference.get(c.pk, ())),
            )
            for c in held
        ]
        fields += ["conference_minutes", "conference_decisions"]

    plan: PlanView | None = None
    if InspectionSection.PLAN in chosen:
        approved = (
            Plan.objects.select_related("drafted_by", "approved_by")
            .filter(case=case, status=PlanStatus.CURRENT)
            .first()
        )
        if approved is not None:
            approved.case = case
            plan = plan_disclosed(user=user, case=accessed, plan=approved, purpose=purpose, latest_reports=False)
            fields += list(plan.exported_fields)

    notes: list[ExportNote] = []
    if InspectionSection.NOTES in chosen:
        compartments = [c.value for c in NOTE_COMPARTMENTS if c not in excluded_compartments]
        kept_notes = kept.get(KeptApartItem.NOTE, frozenset())
        rows = list(
            CaseNote.objects.filter(case=case, compartment__in=compartments)
            .exclude(pk__in=list(kept_notes))
            .select_related("author_organisation")
            .order_by("created_at", "id")
        )
        texts_read = gate.read_case(user, accessed, rows, ["text"], purpose=purpose) if rows else []
        notes = [
            ExportNote(
                created_at=note.created_at,
                organisation=note.author_organisation.name if note.author_organisation else "",
                compartment=str(Compartment(note.compartment).label),
                text=d.get("text") or "",
            )
            for note, d in zip(rows, texts_read, strict=True)
            if d.shows("text")
        ]
        fields.append("case_notes")

    return CaseFileExport(
        header=case_header(case, access),
        child=child,
        sections=chosen,
        team=tuple(team),
        assessments=tuple(assessments),
        inputs=tuple(inputs),
        conferences=tuple(conferences),
        plan=plan,
        notes=tuple(notes),
        withheld=withheld,
        exported_fields=tuple(dict.fromkeys(fields)),
    )
