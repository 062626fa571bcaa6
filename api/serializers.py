"""What the API answers and accepts. Output serializers describe the read models' plain values (already disclosed by
the gate); they never touch a sealed field themselves. Descriptions are lazy translations: the schema is served in
the request's language (Czech by default, English with ``?lang=en`` or the ``django_language`` cookie)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from casework.models import ReportChannel, UrgencyHint

# --- Shared --------------------------------------------------------------------------------------------------------


class CursorPageSerializer(serializers.Serializer):
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text=_("Pass as ?cursor= for the next page; null on the last page. Opaque: numbers and ids only."),
    )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(help_text=_("The account's role."))
    organisation = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    scope = serializers.CharField(help_text=_("The credential's scope: read, or write (read and write)."))


# --- Tasks ---------------------------------------------------------------------------------------------------------


class ChildLabelSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("The child's name as far as you may read it."))
    age = serializers.IntegerField(allow_null=True)


class TaskSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="task_id")
    type = serializers.CharField(source="task_type", help_text=_("The kind of task, e.g. do_action, triage."))
    title = serializers.CharField()
    status = serializers.CharField()
    created = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    urgent = serializers.BooleanField()
    case_id = serializers.UUIDField(allow_null=True)
    case_reference = serializers.CharField(allow_null=True)
    report_reference = serializers.CharField(allow_null=True)
    child = ChildLabelSerializer(allow_null=True, help_text=_("Null when you may not read the case's basics."))


class TaskPageSerializer(CursorPageSerializer):
    results = TaskSerializer(many=True)


class TaskClaimedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class ActionReportInSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=10_000,
        trim_whitespace=True,
        help_text=_("What was done (progress), or how it ended. Sealed; visible to your sector and the case's lead."),
    )
    completes = serializers.BooleanField(
        default=False, help_text=_("True: the action is done (the task completes). False: a progress report.")
    )


class ActionReportOutSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text=_("The report's id."))
    action_id = serializers.UUIDField()
    completes = serializers.BooleanField()
    action_status = serializers.CharField(help_text=_("The action's status after the report: open or done."))
    task_status = serializers.CharField(help_text=_("The task's status after the report."))
    created_at = serializers.DateTimeField()


# --- Cases ---------------------------------------------------------------------------------------------------------


class ChildBasicsSerializer(serializers.Serializer):
    name = serializers.CharField(allow_blank=True)
    age = serializers.IntegerField(allow_null=True)
    withheld = serializers.BooleanField(help_text=_("Part of the child's basics is withheld from you."))


class CaseRowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    is_open = serializers.BooleanField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    coordinator = serializers.CharField()
    relation = serializers.CharField(help_text=_("How you stand to the case: coordinator, supervisor, team member."))
    child = ChildBasicsSerializer()


class CasePageSerializer(CursorPageSerializer):
    results = CaseRowSerializer(many=True)


class MemberSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    organisation = serializers.CharField(allow_blank=True)
    sector = serializers.CharField(allow_blank=True)
    role = serializers.CharField()
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    ongoing = serializers.BooleanField()


class NoteSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    author = serializers.CharField()
    organisation = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    shared = serializers.BooleanField(help_text=_("Read because it was shared with you."))


class NoteSectionSerializer(serializers.Serializer):
    compartment = serializers.CharField()
    label = serializers.CharField()
    whole = serializers.BooleanField(help_text=_("You read this compartment as a whole; otherwise it is hidden."))
    notes = NoteSerializer(many=True)
    more = serializers.BooleanField(help_text=_("More notes exist than are listed (the newest are listed)."))


class CaseHeaderSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    is_open = serializers.BooleanField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    coordinator = serializers.CharField()
    authority = serializers.CharField()
    relation = serializers.CharField()


class CaseDetailSerializer(serializers.Serializer):
    case = CaseHeaderSerializer()
    child = ChildBasicsSerializer()
    members = MemberSerializer(many=True, help_text=_("The team now and to come."))
    notes = NoteSectionSerializer(many=True, help_text=_("The case's notes by compartment, as far as you may read."))
    may_write = serializers.BooleanField()
    read_only = serializers.BooleanField()


class MembershipsSerializer(serializers.Serializer):
    current = MemberSerializer(many=True)
    past = MemberSerializer(many=True, help_text=_("Past members: for the case's lead only (empty otherwise)."))


class PlanVersionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    next_review_on = serializers.DateField(allow_null=True)


class PlanVersionsSerializer(serializers.Serializer):
    results = PlanVersionSerializer(many=True)


# --- Reports (§ 10(4)) ---------------------------------------------------------------------------------------------


class ReportInSerializer(serializers.Serializer):
    facts = serializers.CharField(max_length=10_000, help_text=_("What you observed. Sealed."))
    child_given_name = serializers.CharField(max_length=200)
    child_family_name = serializers.CharField(max_length=200)
    child_date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
    child_birth_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    child_address = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    urgency_hints = serializers.ListField(
        child=serializers.ChoiceField(choices=UrgencyHint.choices), required=False, default=list, max_length=20
    )
    urgent_suggested = serializers.BooleanField(required=False, default=False)
    feedback_requested = serializers.BooleanField(
        required=False, default=False, help_text=_("Ask for the § 10(4) feedback (mandated notifiers only).")
    )
    residence_municipality = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text=_("The municipality of the child's permanent residence; blank: your own authority."),
    )
    found_elsewhere = serializers.BooleanField(required=False, default=False)
    found_municipality = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    channel = serializers.ChoiceField(
        choices=ReportChannel.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("OSPOD staff entering a report only; a partner files as the notifier."),
    )
    notifier_kind = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    notifier_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    notifier_contact = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ReportOutSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField(help_text=_("The report's number, e.g. OM 2026/0042."))
    received_at = serializers.DateTimeField()
    status = serializers.CharField(help_text=_("The report's status as its filer sees it."))
    feedback_requested = serializers.BooleanField()
    answer = serializers.CharField(allow_null=True, help_text=_("The § 10(4) answer once it was sent."))


# --- Notifications ---------------------------------------------------------------------------------------------------


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    case_id = serializers.UUIDField(allow_null=True)
    case_reference = serializers.CharField(allow_blank=True)
    object_type = serializers.CharField(allow_blank=True)
    object_id = serializers.CharField(allow_blank=True)
    urgent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationPageSerializer(CursorPageSerializer):
    results = NotificationSerializer(many=True)


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many notifications were marked read."))


# --- The service directory (no child data: a provider's public description) -----------------------------------------

#: The largest id the database holds: a larger one names nothing.
MAX_ID = 2**31 - 1


class ServiceFilterSerializer(serializers.Serializer):
    """The directory's filters, as the directory page has them (``services.selectors.directory.DirectoryFilters``).
    An unknown type, ORP or municipality finds nothing; a malformed value is a field-level error."""

    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Words that must all occur in the card (name, description, provider, type); no diacritics needed."),
    )
    type = serializers.SlugField(
        required=False, allow_blank=True, max_length=32, help_text=_("A service type's code (see service-types).")
    )
    orp = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The id of an ORP: services covering it or one of its municipalities."),
    )
    municipality = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text=_("The id of a municipality: services covering it or its whole ORP."),
    )
    age = serializers.IntegerField(
        required=False, min_value=0, max_value=120, help_text=_("The child's age in years: services for that age.")
    )
    free = serializers.BooleanField(required=False, default=False, help_text=_("Only services with free places."))


class ServiceRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provider = serializers.CharField(help_text=_("The provider's name."))
    type_code = serializers.CharField(help_text=_("The service type's code."))
    type_name = serializers.CharField(help_text=_("The service type's name in the answer's language."))
    age_min = serializers.IntegerField(allow_null=True, help_text=_("From age (years); null: any."))
    age_max = serializers.IntegerField(allow_null=True, help_text=_("To age (years); null: any."))
    capacity_total = serializers.IntegerField(
        allow_null=True, help_text=_("Families or clients at a time; null: not stated.")
    )
    free_places = serializers.IntegerField(allow_null=True, help_text=_("Free places now; null: not stated."))
    waiting_days = serializers.IntegerField(
        allow_null=True, help_text=_("Current waiting time from referral to first contact, in days.")
    )
    areas = serializers.ListField(child=serializers.CharField(), help_text=_("The ORPs and municipalities served."))
    card_updated_at = serializers.DateTimeField(help_text=_("When the provider last confirmed the card."))
    is_stale = serializers.BooleanField(help_text=_("The card was not confirmed for longer than the set period."))


class ServicePageSerializer(CursorPageSerializer):
    results = ServiceRowSerializer(many=True)


class ServiceCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    provider = serializers.CharField(help_text=_("The provider's name."))
    provider_registration_number = serializers.CharField(
        allow_blank=True, help_text=_("Identifier in the register of social-service providers, where it has one.")
    )
    provider_web = serializers.CharField(allow_blank=True)
    type_code = serializers.CharField(help_text=_("The service type's code."))
    type_name = serializers.CharField(help_text=_("The service type's name in the answer's language."))
    description = serializers.CharField(allow_blank=True)
    target_group = serializers.CharField(allow_blank=True)
    age_min = serializers.IntegerField(allow_null=True, help_text=_("From age (years); null: any."))
    age_max = serializers.IntegerField(allow_null=True, help_text=_("To age (years); null: any."))
    orps = serializers.ListField(child=serializers.CharField(), help_text=_("The ORPs served as a whole."))
    municipalities = serializers.ListField(
        child=serializers.CharField(), help_text=_("Single municipalities served (outside a whole ORP).")
    )
    address = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    web = serializers.CharField(allow_blank=True)
    opening_hours = serializers.CharField(allow_blank=True)
    how_to_refer = serializers.CharField(allow_blank=True, help_text=_("How to refer a family to the service."))
    capacity_total = serializers.IntegerField(
        allow_null=True, help_text=_("Families or clients at a time; null: not stated.")
    )
    free_places = serializers.IntegerField(allow_null=True, help_text=_("Free places now; null: not stated."))
    waiting_days = serializers.IntegerField(
        allow_null=True, help_text=_("Current waiting time from referral to first contact, in days.")
    )
    languages = serializers.ListField(child=serializers.CharField())
    cost = serializers.CharField(help_text=_("free, contribution or paid."))
    cost_label = serializers.CharField(help_text=_("The cost in the answer's language."))
    cost_note = serializers.CharField(allow_blank=True)
    card_updated_at = serializers.DateTimeField(help_text=_("When the provider last confirmed the card."))
    is_stale = serializers.BooleanField(help_text=_("The card was not confirmed for longer than the set period."))
    is_active = serializers.BooleanField(help_text=_("False only for the provider's own users (others get 404)."))
    may_edit = serializers.BooleanField(help_text=_("You may keep this card current (the provider's own users)."))


class ServiceTypeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Stable short name, for the type filter of the service list."))
    name = serializers.CharField(help_text=_("The name in the answer's language."))
    abbreviation = serializers.CharField(allow_blank=True, help_text=_("e.g. SAS, NZDM, PPP"))


class ServiceTypesSerializer(serializers.Serializer):
    results = ServiceTypeSerializer(many=True)
