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
