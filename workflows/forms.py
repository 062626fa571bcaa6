"""Forms of the intake and the report's tasks. They parse and shape input; the ``casework`` services validate the
domain rules (required details, birth numbers, who may ask for feedback) and their field errors come back onto the
fields through ``apply_service_errors``."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from casework import plausibility
from casework.case_forms import CaseForm, DateInput, PersonChoiceField, authority_staff, kept_apart_field
from casework.forms import child_address_field, other_identifiers_field
from casework.models import (
    OTHER_SECTOR_NOTIFIER_KINDS,
    Conference,
    NotifierKind,
    ReportChannel,
    ReportCloseReason,
    Sector,
    TeamMembership,
    UrgencyHint,
    User,
)
from casework.services import ChildIdentity, ReportDetails
from casework.services.assessments import ASSESSMENT_FIELD_MAX, INPUT_MAX, InputRequest
from casework.services.children import ADDRESS_MAX, CONTACT_MAX, NAME_MAX
from casework.services.plan_actions import ACTION_TEXT_MAX, ACTIONS_MAX, ACTIONS_PREFIX, ActionInput
from casework.services.plans import PLAN_TEXT_MAX
from casework.services.reports import FACTS_MAX, FORWARDED_TO_MAX, NOTIFIER_NAME_MAX

_NUMBER_WIDGET = forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"})


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class ReportForm(CaseForm):
    """The report (oznámení). Most fields are optional here: the service says what is missing, in one place.

    ``staff``: OSPOD staff entering a report that came by phone, letter, in person or anonymously get the channel and
    the notifier's fields; a partner is the notifier themselves (only a partner of the "other" sector says whether
    they report as a state body).
    """

    channel = forms.ChoiceField(
        label=_("How did the report arrive?"),
        choices=[("", "—"), *[(c.value, c.label) for c in ReportChannel if c != ReportChannel.WEB_FORM]],
        required=False,
    )
    received_at = forms.DateTimeField(
        label=_("Received"),
        required=False,
        widget=DateTimeInput,
        help_text=_("Leave empty for now. For a letter, the day it arrived."),
    )
    notifier_kind = forms.ChoiceField(label=_("Who reported?"), choices=[("", "—")], required=False)
    notifier_name = forms.CharField(
        label=_("Notifier's name"),
        max_length=NOTIFIER_NAME_MAX,
        required=False,
        help_text=_("For an institution: its name and the person who reported. Leave empty for an anonymous report."),
    )
    notifier_contact = forms.CharField(label=_("Notifier's contact"), max_length=CONTACT_MAX, required=False)

    child_given_name = forms.CharField(label=_("Child's given name"), max_length=NAME_MAX, required=False)
    child_family_name = forms.CharField(label=_("Child's family name"), max_length=NAME_MAX, required=False)
    child_date_of_birth = forms.DateField(
        label=_("Child's date of birth"),
        widget=DateInput,
        required=False,
        validators=[plausibility.validate_child_date_of_birth],
        help_text=_("The date of birth or the birth number (or both) is required."),
    )
    child_birth_number = forms.CharField(
        label=_("Child's birth number"),
        max_length=11,
        required=False,
        widget=_NUMBER_WIDGET,
        help_text=_("If you know it: 9 or 10 digits, optionally with a slash after the sixth."),
    )
    child_address = forms.CharField(
        label=_("Where the child lives"),
        max_length=ADDRESS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    residence_municipality = forms.CharField(
        label=_("Municipality of the child's permanent residence"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "municipalities", "autocomplete": "off"}),
        help_text=_("Pick or type it: the report goes to the OSPOD of the ORP the municipality belongs to (§ 61(1))."),
    )
    found_elsewhere = forms.BooleanField(
        label=_("The child was found elsewhere, e.g. without care (§ 61(3)(a), (4))"),
        required=False,
        help_text=_("Then the OSPOD of the place where the child is acts."),
    )
    found_municipality = forms.CharField(
        label=_("Municipality where the child was found"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"list": "municipalities", "autocomplete": "off"}),
    )
    facts = forms.CharField(
        label=_("What did you observe?"),
        max_length=FACTS_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Facts: what you saw or heard, when, and who else knows. OSPOD keeps your identity confidential."),
    )
    urgency_hints = forms.MultipleChoiceField(
        label=_("Does any of this apply?"),
        choices=UrgencyHint.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    urgent_suggested = forms.BooleanField(label=_("I consider the situation urgent"), required=False)
    feedback_requested = forms.BooleanField(
        label=_("I ask to be told whether the child was found to be at risk (§ 10(4))"),
        required=False,
        help_text=_(
            "Only for notifiers with the duty to report: schools, health-care providers, services, state bodies."
        ),
    )

    def __init__(self, *args: Any, user: User, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.staff = staff
        kind = self.fields["notifier_kind"]
        assert isinstance(kind, forms.ChoiceField)
        if staff:
            kind.choices = [("", "—"), *NotifierKind.choices]
            return
        for name in ("channel", "received_at", "notifier_name"):
            del self.fields[name]
        contact = self.fields["notifier_contact"]
        contact.label = _("Where can OSPOD reach you?")
        contact.help_text = _("A phone number, if you prefer it to your e-mail address.")
        if user.sector == Sector.OTHER:
            kind.choices = [("", "—"), *[(k.value, k.label) for k in OTHER_SECTOR_NOTIFIER_KINDS]]
            kind.label = _("You report as")
        else:
            del self.fields["notifier_kind"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # A partner says where the child lives (or where they were found): it decides which OSPOD gets the report.
        # Staff entering a call may not know it yet (their own authority then receives it).
        if (
            not self.staff
            and not data.get("found_elsewhere")
            and not (data.get("residence_municipality") or "").strip()
        ):
            self.add_error("residence_municipality", _("Enter the municipality where the child lives."))
        return data

    def details(self) -> ReportDetails:
        data = self.cleaned_data
        received = data.get("received_at")
        if isinstance(received, datetime.datetime) and timezone.is_naive(received):
            received = timezone.make_aware(received)
        return ReportDetails(
            facts=data.get("facts") or "",
            child_given_name=data.get("child_given_name") or "",
            child_family_name=data.get("child_family_name") or "",
            child_date_of_birth=data.get("child_date_of_birth"),
            child_birth_number=data.get("child_birth_number") or "",
            child_address=data.get("child_address") or "",
            urgency_hints=tuple(data.get("urgency_hints") or ()),
            urgent_suggested=bool(data.get("urgent_suggested")),
            feedback_requested=bool(data.get("feedback_requested")),
            channel=data.get("channel") or "",
            notifier_kind=data.get("notifier_kind") or "",
            notifier_name=data.get("notifier_name") or "",
            notifier_contact=data.get("notifier_contact") or "",
            received_at=received,
            residence_municipality=data.get("residence_municipality") or "",
            found_elsewhere=bool(data.get("found_elsewhere")),
            found_municipality=data.get("found_municipality") or "",
        )


class TriageForm(CaseForm):
    """The urgency triage (quality standard 8). The child's details come pre-filled from the report: the supervisor
    confirms or corrects them; they make the register entry when the birth number matches no registered child."""

    urgent = forms.ChoiceField(
        label=_("Urgency"),
        choices=[("urgent", _("urgent: act today")), ("standard", _("standard"))],
        widget=forms.RadioSelect,
        required=False,
    )
    at_risk = forms.ChoiceField(
        label=_("Is the child at risk under § 6?"),
        choices=[
            ("yes", _("yes: open the case (or attach the report to the child's open case)")),
            ("no", _("no: close the report without a case")),
        ],
        widget=forms.RadioSelect,
        required=False,
    )
    coordinator = PersonChoiceField(
        label=_("Coordinator"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    close_reason = forms.ChoiceField(
        label=_("Why does it close without a case?"),
        choices=[("", "—"), *ReportCloseReason.choices],
        required=False,
    )
    forwarded_to = forms.CharField(
        label=_("Forwarded to (the competent authority)"),
        max_length=FORWARDED_TO_MAX,
        required=False,
        help_text=_("When another authority is competent: the feedback tells the notifier where the report went."),
    )
    duplicate_of = forms.CharField(
        label=_("The open case already dealing with the facts"),
        max_length=24,
        required=False,
        help_text=_("For a repeated report: the case's reference number; the report joins it."),
    )
    given_name = forms.CharField(label=_("Given name"), max_length=NAME_MAX, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=NAME_MAX, required=False)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=DateInput,
        required=False,
        validators=[plausibility.validate_child_date_of_birth],
    )
    date_of_birth_estimated = forms.BooleanField(
        label=_("The date of birth is an estimate (from the child's age)"), required=False
    )
    birth_number = forms.CharField(
        label=_("Birth number"),
        max_length=11,
        required=False,
        widget=_NUMBER_WIDGET,
        help_text=_("If known. A child without one is registered by name and date of birth; add it later."),
    )
    other_identifiers = other_identifiers_field()
    address = child_address_field()
    same_as = forms.TypedChoiceField(
        label=_("The same child as a registered one"),
        choices=[("", "—")],
        coerce=uuid.UUID,
        empty_value=None,
        required=False,
        help_text=_("Possible duplicates: registered children with the same name and date of birth."),
    )

    #: The triage's decision fields and the child's register fields, for the template's two fieldsets.
    DECISION_FIELDS = ("urgent", "at_risk", "coordinator", "close_reason", "forwarded_to", "duplicate_of")
    CHILD_FIELDS = (
        "given_name",
        "family_name",
        "date_of_birth",
        "date_of_birth_estimated",
        "birth_number",
        "other_identifiers",
        "address",
        "same_as",
    )

    def __init__(
        self, *args: Any, municipality_id: int, same_as_choices: Sequence[tuple[str, str]] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["coordinator"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = authority_staff(municipality_id)
        same_as = self.fields["same_as"]
        assert isinstance(same_as, forms.TypedChoiceField)
        if same_as_choices:
            same_as.choices = [("", _("— no, register a new entry")), *same_as_choices]
        else:
            del self.fields["same_as"]

    def decision_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.DECISION_FIELDS]

    def child_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.CHILD_FIELDS if name in self.fields]

    def decision(self) -> dict[str, Any]:
        data = self.cleaned_data
        urgent = {"urgent": True, "standard": False}.get(data.get("urgent") or "")
        at_risk = {"yes": True, "no": False}.get(data.get("at_risk") or "")
        return {
            "urgent": urgent,
            "at_risk": at_risk,
            "coordinator": data.get("coordinator"),
            "close_reason": data.get("close_reason") or "",
            "forwarded_to": data.get("forwarded_to") or "",
            "duplicate_of": data.get("duplicate_of") or "",
            "child": ChildIdentity(
                given_name=data.get("given_name") or "",
                family_name=data.get("family_name") or "",
                date_of_birth=data.get("date_of_birth"),
                birth_number=data.get("birth_number") or "",
                address=data.get("address") or "",
                date_of_birth_estimated=bool(data.get("date_of_birth_estimated")),
                other_identifiers=data.get("other_identifiers") or "",
                same_as=data.get("same_as"),
            ),
        }


class FeedbackForm(CaseForm):
    confirm = forms.BooleanField(
        label=_("I have sent the notifier this answer (letter, data box or e-mail)"),
        error_messages={"required": _("Confirm that the answer was sent.")},
    )


# --- The case flow: the assessment ---------------------------------------------------------------------------------

#: The default time a member has for their input.
INPUT_DAYS = 14


class InputRequestForm(CaseForm):
    """Which current team members to ask for an input, each with a due date (default: in 14 days)."""

    def __init__(self, *args: Any, members: list[tuple[User, str]], allow_none: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        # A re-assessment asks whom the coordinator chooses, possibly nobody; the first assessment at least one.
        self.allow_none = allow_none
        default_due = timezone.localdate() + datetime.timedelta(days=INPUT_DAYS)
        for user, role in members:
            self.fields[f"member_{user.pk}"] = forms.BooleanField(
                label=f"{user.display_name()} ({role})" if role else user.display_name(), required=False
            )
            self.fields[f"due_{user.pk}"] = forms.DateField(
                label=_("Due"),
                widget=DateInput,
                required=False,
                initial=default_due,
                validators=[plausibility.validate_due_date],
            )

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"member_{user.pk}"], self[f"due_{user.pk}"]) for user, _role in self.members]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = 0
        for user, _role in self.members:
            if not data.get(f"member_{user.pk}"):
                continue
            chosen += 1
            if data.get(f"due_{user.pk}") is None and f"due_{user.pk}" not in self.errors:
                self.add_error(f"due_{user.pk}", _("Give a due date."))
        if not chosen and not self.allow_none:
            raise forms.ValidationError(_("Choose at least one team member."))
        return data

    def requests(self) -> list[InputRequest]:
        data = self.cleaned_data
        return [
            InputRequest(member=user, due_on=data[f"due_{user.pk}"])
            for user, _role in self.members
            if data.get(f"member_{user.pk}")
        ]


class ProvideInputForm(CaseForm):
    text = forms.CharField(
        label=_("Your input"),
        max_length=INPUT_MAX,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "What you know from your work with the child and the family that matters for the assessment: facts, "
            "dates, what helps and what worries you. Only the case's lead and your own sector read it."
        ),
    )
    kept_apart = kept_apart_field(
        _(
            "Choose a reason when your input holds what § 55(2) keeps from parents, e.g. what the child told you "
            "without a parent present."
        )
    )


class AssessmentForm(CaseForm):
    """The assessment under the headings of Decree No. 473/2012 Coll., § 1."""

    child_needs = forms.CharField(
        label=_("The child's needs"),
        max_length=ASSESSMENT_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Health, development, education, emotional and social needs, safety."),
    )
    parenting_capacity = forms.CharField(
        label=_("The parents' ability to meet them"),
        max_length=ASSESSMENT_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    family_environment = forms.CharField(
        label=_("The family and social environment"),
        max_length=ASSESSMENT_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Housing, income, relatives and others who support the family, school and community."),
    )
    child_views = forms.CharField(
        label=_("The child's own views and wishes"),
        max_length=ASSESSMENT_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("In the child's words where possible. If the child could not be heard, say why."),
    )


class ReassessmentForm(AssessmentForm):
    """The re-assessment at a review: "no change" with its reason, or the decree's headings again."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"

    outcome = forms.ChoiceField(
        label=_("Outcome of the re-assessment"),
        choices=[
            (CHANGED, _("The situation changed: a revised assessment")),
            (UNCHANGED, _("No change: the current assessment still holds")),
        ],
        widget=forms.RadioSelect,
    )
    unchanged_reason = forms.CharField(
        label=_("Why nothing changed"),
        max_length=ASSESSMENT_FIELD_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_('Required for "no change": what you checked and why the assessment still holds.'),
    )
    field_order = ["outcome", "unchanged_reason", "child_needs", "parenting_capacity", "family_environment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required or not depends on the outcome: the service says which, field by field.
        for name in ("child_needs", "parenting_capacity", "family_environment", "child_views"):
            self.fields[name].required = False

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "unchanged": data["outcome"] == self.UNCHANGED,
            "unchanged_reason": data.get("unchanged_reason") or "",
            "child_needs": data.get("child_needs") or "",
            "parenting_capacity": data.get("parenting_capacity") or "",
            "family_environment": data.get("family_environment") or "",
            "child_views": data.get("child_views") or "",
        }


class PlanForm(CaseForm):
    """The draft of a plan version: goals (one per line), support, the child's and the parents' views, next review."""

    goals = forms.CharField(
        label=_("Goals"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=_("One goal per line: what should be different for the child, in words the family understands."),
    )
    support_offered = forms.CharField(
        label=_("Support offered"), max_length=PLAN_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    child_views = forms.CharField(
        label=_("The child's views"),
        max_length=PLAN_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        help_text=_("What the child wants and how they see the plan; if the child could not be heard, say why."),
    )
    parents_views = forms.CharField(
        label=_("The parents' views"),
        max_length=PLAN_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
    )
    next_review_on = forms.DateField(
        label=_("Next review"),
        widget=DateInput,
        required=False,
        help_text=_("Leave empty for the authority's usual interval, counted from the approval."),
    )

    def goal_lines(self) -> list[str]:
        return split_goal_lines(self.cleaned_data["goals"])


def split_goal_lines(text: str) -> list[str]:
    """The goals of the goals field, in order: one per non-empty line (an action's goal number counts these)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --- The plan's actions ---------------------------------------------------------------------------------------------

#: How many empty action rows the editor offers below the draft's actions (no JavaScript: rows left empty are ignored).
ACTION_EXTRA_ROWS = 2
USER_OWNER = "u:"
ORGANISATION_OWNER = "o:"


def owner_value(user_id: int | None, organisation_id: int | None) -> str:
    """An action's owner as the owner select's value: ``u:<user id>`` or ``o:<organisation id>``."""
    if user_id is not None:
        return f"{USER_OWNER}{user_id}"
    return f"{ORGANISATION_OWNER}{organisation_id}" if organisation_id is not None else ""


def owner_choices(
    members: Iterable[TeamMembership], former: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The owner select's groups: the current members ("Name (role, organisation)"), the organisations of current
    members ("Organisation (organisation)") and, so that a draft's action keeps its owner on screen, the owners
    (``(value, name)``) of the draft's actions who are no longer on the team (the service refuses them with its own
    message)."""
    people: list[tuple[str, str]] = []
    organisations: dict[int, str] = {}
    for membership in members:
        user = membership.user
        role = str(membership.team_role)
        if user.organisation is not None:
            label = _("%(name)s (%(role)s, %(organisation)s)") % {
                "name": user.display_name(),
                "role": role,
                "organisation": user.organisation.name,
            }
            organisations[user.organisation.pk] = str(
                _("%(organisation)s (organisation)") % {"organisation": user.organisation.name}
            )
        else:
            label = _("%(name)s (%(role)s)") % {"name": user.display_name(), "role": role}
        people.append((owner_value(user.pk, None), str(label)))
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        (str(_("Team members")), people),
        (
            str(_("Organisations on the team")),
            [(owner_value(None, pk), label) for pk, label in sorted(organisations.items(), key=lambda kv: kv[1])],
        ),
    ]
    listed = {value for _group, options in groups for value, _label in options}
    gone = [(value, str(_("%(name)s (no longer on the team)") % {"name": name})) for value, name in former]
    groups.append((str(_("No longer on the team")), [(value, label) for value, label in gone if value not in listed]))
    return [(group, options) for group, options in groups if options]


def goal_choices(goals: Sequence[str]) -> list[tuple[str, str]]:
    """The goal select: "—" or a goal by its text (its value: its 1-based place in the goals field)."""
    return [("", "—"), *((str(n), Truncator(text).chars(80)) for n, text in enumerate(goals, start=1))]


class ActionForm(CaseForm):
    """One action of the draft: what, who (a current member or the organisation of one), by when, how success is
    judged, and which goal it serves. ``decision_id`` / ``carried_from_id`` keep where a draft's action came from;
    only the values of the draft's own actions are accepted."""

    what = forms.CharField(
        label=_("What is to be done"), max_length=ACTION_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 2})
    )
    owner = forms.ChoiceField(label=_("Who does it"))
    due_on = forms.DateField(label=_("Due"), widget=DateInput)
    success_measure = forms.CharField(
        label=_("How success is judged"),
        max_length=ACTION_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    goal = forms.ChoiceField(
        label=_("Goal"),
        required=False,
        error_messages={"invalid_choice": _("Choose one of the plan's goals.")},
        help_text=_("The goal this action serves, as written in the Goals field."),
        widget=forms.Select(attrs={"data-goal-select": ""}),
    )
    decision_id = forms.UUIDField(widget=forms.HiddenInput, required=False)
    carried_from_id = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        owners: Sequence[tuple[str, list[tuple[str, str]]]],
        goals: Sequence[str],
        origins: AbstractSet[uuid.UUID],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.origins = origins
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ChoiceField)
        owner.choices = [("", "—"), *owners]
        goal = self.fields["goal"]
        assert isinstance(goal, forms.ChoiceField)
        goal.choices = goal_choices(goals)

    def _origin(self, name: str) -> uuid.UUID | None:
        value: uuid.UUID | None = self.cleaned_data.get(name)
        if value is not None and value not in self.origins:
            raise forms.ValidationError(_("This action does not belong to the draft."))
        return value

    def clean_decision_id(self) -> uuid.UUID | None:
        return self._origin("decision_id")

    def clean_carried_from_id(self) -> uuid.UUID | None:
        return self._origin("carried_from_id")

    def action(self) -> ActionInput:
        """The service's input for the cleaned row; the goal number becomes the 0-based index of the saved list."""
        data = self.cleaned_data
        owner: str = data["owner"]
        owner_id = int(owner[2:])
        goal = data.get("goal") or ""
        return ActionInput(
            what=data["what"],
            owner_user_id=owner_id if owner.startswith(USER_OWNER) else None,
            owner_organisation_id=owner_id if owner.startswith(ORGANISATION_OWNER) else None,
            due_on=data["due_on"],
            success_measure=data.get("success_measure") or "",
            goal=int(goal) - 1 if goal else None,
            decision_id=data.get("decision_id"),
            carried_from_id=data.get("carried_from_id"),
        )


if TYPE_CHECKING:
    _ActionFormSetBase = forms.BaseFormSet[ActionForm]
else:  # Django's formsets are not subscriptable at run time
    _ActionFormSetBase = forms.BaseFormSet


class BaseActionFormSet(_ActionFormSetBase):
    """The draft's actions (prefix ``actions``, as the service's error keys): the rows kept, in order, become the
    service's list; the service's errors come back onto the row and field they name."""

    def actions(self) -> list[ActionInput]:
        """The kept rows' inputs (call after ``is_valid()``): rows marked for deletion and unused empty rows are left
        out, so the service's index ``i`` is the ``i``-th kept row."""
        self._sent = [
            form
            for index, form in enumerate(self.forms)
            if (index < self.initial_form_count() or form.has_changed()) and not form.cleaned_data.get("DELETE")
        ]
        return [form.action() for form in self._sent]

    def apply_service_errors(self, error: ValidationError) -> ValidationError | None:
        """Attach ``actions-<i>-<field>`` to the row sent as the ``i``-th and ``actions`` to the formset as a whole;
        return the errors about anything else (for the plan's form), or ``None``."""
        if not hasattr(error, "error_dict"):
            return error
        sent: list[ActionForm] = getattr(self, "_sent", [])
        rest: dict[str, list[str]] = {}
        whole: list[str] = []
        for key, messages in error.message_dict.items():
            parts = key.split("-")
            if key == ACTIONS_PREFIX:
                whole.extend(messages)
            elif len(parts) == 3 and parts[0] == ACTIONS_PREFIX and parts[1].isdigit() and int(parts[1]) < len(sent):
                form, field = sent[int(parts[1])], parts[2]
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            else:
                rest[key] = messages
        if whole:
            self._non_form_errors = self.error_class([*self.non_form_errors(), *whole])
        return ValidationError(rest) if rest else None


ActionFormSet = cast(
    type[BaseActionFormSet],
    forms.formset_factory(
        ActionForm, formset=BaseActionFormSet, extra=ACTION_EXTRA_ROWS, can_delete=True, max_num=ACTIONS_MAX
    ),
)


def conference_label(conference: Conference) -> str:
    """A conference as the import select names it: when, where and its state; never anything sealed."""
    where = conference.place or str(_("online"))
    when = formats.date_format(timezone.localtime(conference.starts_at), "SHORT_DATETIME_FORMAT")
    return f"{when}, {where} · {conference.get_status_display()}"


class ConferenceImportForm(CaseForm):
    """Take over the decisions of a held (or signed-off) conference of the case as actions of the draft."""

    conference = forms.ChoiceField(label=_("Conference"))

    def __init__(self, *args: Any, conferences: Sequence[Conference], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conferences = {str(c.pk): c for c in conferences}
        field = self.fields["conference"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(key, conference_label(c)) for key, c in self.conferences.items()]

    def chosen(self) -> Conference:
        return self.conferences[self.cleaned_data["conference"]]


class DecisionForm(CaseForm):
    """A supervisor's decision on a submitted plan version or a closure proposal: approve, or return with a reason."""

    APPROVE = "approve"
    RETURN = "return"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (RETURN, _("Return for changes"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Why it is returned"),
        max_length=PLAN_TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    confirm = forms.BooleanField(
        label=_("I confirm the approval: it cannot be undone."),
        required=False,
        help_text=_("Needed only to approve; returning for changes needs a reason instead."),
    )

    def __init__(self, *args: Any, confirm_label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if confirm_label:
            self.fields["confirm"].label = confirm_label

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == self.RETURN and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say what should change."))
        if data.get("decision") == self.APPROVE and not data.get("confirm"):
            self.add_error("confirm", _("Tick this box to confirm: this step cannot be undone."))
        return data
