"""The assessment's read model (DESIGN invariant 11): the coordinator's assessment and the team's inputs it rests on, as
the gate lets a viewer read them.

One read model for every page that shows the assessment — the case file, the process page, the plan's draft and its
approval — rendered by one partial (``casework/_assessment.html``). What the viewer reads is the gate's answer per
field: the lead reads every input and the whole assessment; a team member reads her own input (her sector's
compartment) and whatever else the policy gives her. A part the gate withholds is left out and the view says that
something is hidden, never how much.

A fixed number of queries whatever the number of inputs and versions: the versions and the inputs are one query each,
each gate read one committed audit write. Imports ``permissions``: imported from its own path.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TypeVar

from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy

from casework.compartments import Compartment
from casework.models import Assessment, AssessmentInput, Case, InputStatus, User
from permissions import gate
from permissions.access import AccessedCase, accessed_case

#: The decree's headings, in the order the assessment is written.
ASSESSMENT_HEADINGS = (
    ("child_needs", gettext_lazy("The child's needs")),
    ("parenting_capacity", gettext_lazy("The parents' ability to meet them")),
    ("family_environment", gettext_lazy("The family and social environment")),
    ("child_views", gettext_lazy("The child's own views and wishes")),
)


_Row = TypeVar("_Row")


@dataclass(frozen=True)
class AssessmentPart:
    label: str
    text: str | None
    withheld: bool


@dataclass(frozen=True)
class AssessmentVersion:
    id: uuid.UUID
    #: 1 for the first assessment of the case, 2 after a re-assessment, …
    number: int
    created_at: datetime.datetime
    author: str
    parts: tuple[AssessmentPart, ...]

    @property
    def withheld(self) -> bool:
        """Every heading is withheld: the version is only dated."""
        return all(p.withheld for p in self.parts)

    @property
    def partly_withheld(self) -> bool:
        return any(p.withheld for p in self.parts)


@dataclass(frozen=True)
class InputRow:
    id: uuid.UUID
    author: str
    role: str
    organisation: str
    compartment: str
    status: str
    status_label: str
    requested_at: datetime.datetime
    due_at: datetime.datetime
    provided_at: datetime.datetime | None
    overdue: bool
    #: The viewer's own input.
    own: bool
    text: str | None


@dataclass(frozen=True)
class AssessmentFile:
    #: Newest first.
    versions: tuple[AssessmentVersion, ...]
    more_versions: bool
    #: Newest request first: the inputs given that the viewer reads, and the open requests the viewer may see.
    inputs: tuple[InputRow, ...]
    more_inputs: bool
    #: Something of the assessment (a version, a heading, an input) is hidden from the viewer; never how much.
    withheld: bool

    @property
    def current(self) -> AssessmentVersion | None:
        return self.versions[0] if self.versions else None

    @property
    def earlier(self) -> tuple[AssessmentVersion, ...]:
        return self.versions[1:]

    @property
    def empty(self) -> bool:
        return not self.versions and not self.inputs and not self.withheld


def _limited(rows: list[_Row], limit: int | None) -> tuple[list[_Row], bool]:
    if limit is None:
        return rows, False
    return rows[:limit], len(rows) > limit


def assessment_disclosed(
    *,
    user: User,
    case: AccessedCase | Case,
    purpose: str,
    limit: int | None = None,
) -> AssessmentFile:
    """The case's assessment versions and inputs for ``user``, each read through the gate with ``purpose``.

    ``limit``: at most this many versions and inputs (the newest), and whether there are more; None: all of them.
    An open request (no text yet) is listed for the lead and for the member asked; a withdrawn one for the lead.
    """
    accessed = accessed_case(user, case)
    case, access = accessed
    versions_query = (
        Assessment.objects.filter(case=case)
        .select_related("author")
        .annotate(number=Window(RowNumber(), order_by=[F("created_at").asc(), F("id").asc()]))
        .order_by("-created_at", "-id")
    )
    loaded_versions = list(versions_query[: limit + 1] if limit is not None else versions_query)
    inputs_query = (
        AssessmentInput.objects.filter(case=case)
        .select_related("member", "membership__team_role", "author_organisation")
        .order_by("-requested_at", "-id")
    )
    if not access.is_lead:
        # A member sees inputs given (as far as the gate lets her read them) and her own open request.
        inputs_query = inputs_query.filter(
            Q(status=InputStatus.PROVIDED) | Q(status=InputStatus.REQUESTED, member=user)
        )
    loaded_inputs = list(inputs_query[: limit + 1] if limit is not None else inputs_query)
    fields = [name for name, _label in ASSESSMENT_HEADINGS]
    version_texts = gate.read_case(user, accessed, loaded_versions, fields, purpose=purpose) if loaded_versions else []
    given = [row for row in loaded_inputs if row.status == InputStatus.PROVIDED]
    input_texts = dict(
        zip(
            [row.pk for row in given],
            gate.read_case(user, accessed, given, ["text"], purpose=purpose) if given else [],
            strict=True,
        )
    )
    versions = [
        AssessmentVersion(
            id=row.pk,
            number=row.number,
            created_at=row.created_at,
            author=row.author.display_name(),
            parts=tuple(
                AssessmentPart(label=str(label), text=d.get(name), withheld=not d.shows(name))
                for name, label in ASSESSMENT_HEADINGS
            ),
        )
        for row, d in zip(loaded_versions, version_texts, strict=True)
    ]
    now = timezone.now()
    inputs: list[InputRow] = []
    hidden = False
    for row in loaded_inputs:
        disclosure = input_texts.get(row.pk)
        if disclosure is not None and not disclosure.shows("text"):
            hidden = True
            continue
        inputs.append(
            InputRow(
                id=row.pk,
                author=row.member.display_name(),
                role=str(row.membership.team_role),
                organisation=row.author_organisation.name if row.author_organisation else "",
                compartment=str(Compartment(row.compartment).label),
                status=row.status,
                status_label=row.get_status_display(),
                requested_at=row.requested_at,
                due_at=row.due_at,
                provided_at=row.provided_at,
                overdue=row.status == InputStatus.REQUESTED and row.due_at < now,
                own=row.member_id == user.pk,
                text=disclosure.get("text") if disclosure is not None else None,
            )
        )
    shown_versions, more_versions = _limited(versions, limit)
    shown_inputs, more_inputs = _limited(inputs, limit)
    return AssessmentFile(
        versions=tuple(shown_versions),
        more_versions=more_versions,
        inputs=tuple(shown_inputs),
        more_inputs=more_inputs or (limit is not None and len(loaded_inputs) > limit),
        withheld=hidden or any(v.partly_withheld for v in versions),
    )
