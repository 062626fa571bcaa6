"""Read models of local competence: the municipality list the report form offers, the old authority's stubs of
transferred files, the transfers and known-child requests waiting for a supervisor. No protected content: ids,
references, municipalities and times only (the child is never named here)."""

from __future__ import annotations

from dataclasses import dataclass

from casework.models import (
    CaseTransfer,
    CompetenceBasis,
    KnownChildRequest,
    Report,
    ResidenceMunicipality,
    TransferStatus,
    User,
)
from permissions.policy import may_answer_known_child, may_ask_known_child, may_decide_transfer, may_see_transfer_stub


def residence_municipality_names() -> list[str]:
    """Distinct names for the form's pick list (one query)."""
    return list(ResidenceMunicipality.objects.order_by("name").values_list("name", flat=True).distinct())


@dataclass(frozen=True)
class TransferStub:
    """What the old authority keeps of a file that moved: the references, where, when. Nothing of the content."""

    transfer_id: int
    old_reference: str
    new_reference: str
    to_authority: str
    decided_at: object


def transfer_stubs_for(*, user: User, limit: int = 100) -> list[TransferStub]:
    """Files that left the user's authority (``may_see_transfer_stub``). One query."""
    if user.organisation is None or not may_see_transfer_stub(user, user.organisation.municipality_id):
        return []
    rows = (
        CaseTransfer.objects.filter(
            status=TransferStatus.ACCEPTED, from_municipality_id=user.organisation.municipality_id
        )
        .select_related("to_municipality")
        .order_by("-decided_at", "-pk")[:limit]
    )
    return [
        TransferStub(
            transfer_id=row.pk,
            old_reference=row.old_reference,
            new_reference=row.new_reference,
            to_authority=row.to_municipality.name,
            decided_at=row.decided_at,
        )
        for row in rows
    ]


def transfers_waiting_for(*, user: User) -> list[CaseTransfer]:
    """Transfers proposed to the user's authority, for its supervisors to accept or decline. One query."""
    if user.organisation is None or not may_decide_transfer(user, user.organisation.municipality_id):
        return []
    return list(
        CaseTransfer.objects.filter(
            status=TransferStatus.PROPOSED, to_municipality_id=user.organisation.municipality_id
        )
        .select_related("from_municipality")
        .order_by("proposed_at")
    )


def known_child_requests_for(*, user: User) -> tuple[list[KnownChildRequest], list[KnownChildRequest]]:
    """(asked of the user's authority and unanswered — for supervisors; asked by the user's authority). Two queries."""
    if user.organisation is None:
        return [], []
    municipality_id = user.organisation.municipality_id
    incoming: list[KnownChildRequest] = []
    if may_answer_known_child(user, municipality_id):
        incoming = list(
            KnownChildRequest.objects.filter(asked_municipality_id=municipality_id, answer="")
            .select_related("report")
            .order_by("asked_at")
        )
    if not may_ask_known_child(user, municipality_id):
        return incoming, []
    outgoing = list(
        KnownChildRequest.objects.filter(requesting_municipality_id=municipality_id)
        .select_related("report", "asked_municipality")
        .order_by("-asked_at")[:50]
    )
    return incoming, outgoing


@dataclass(frozen=True)
class ReportCompetence:
    """Why the report is with this authority (§ 61), and whether it is to be forwarded (routing columns only)."""

    basis: str
    basis_label: str
    residence: str
    found: str
    forward_to: str
    forward_to_id: int | None


def report_competence_view(report: Report) -> ReportCompetence:
    """The report's competence columns by name (at most three small queries, none when nothing was given)."""
    residence = report.residence_municipality.name if report.residence_municipality is not None else ""
    found = report.found_municipality.name if report.found_municipality is not None else ""
    forward_to = report.forward_to.name if report.forward_to is not None else ""
    return ReportCompetence(
        basis=report.competence_basis,
        basis_label=str(CompetenceBasis(report.competence_basis).label) if report.competence_basis else "",
        residence=residence,
        found=found,
        forward_to=forward_to,
        forward_to_id=report.forward_to_id,
    )
