"""Case conferences (případová konference, § 14 of Act No. 359/1999 Coll.).

* ``Conference`` — scheduled by the case's coordinator (when, where or the online link: logistics, in clear, because
  they travel in the invitations), then held (attendance, how the child took part, the minutes), then signed off.
  A signed-off record never changes: corrections are ``ConferenceAddendum`` rows.
* ``ConferenceInvitee`` — a team member (a user) or a named participant without an account (a parent, the child,
  a relative, another professional). The names and e-mail addresses of people without an account are the family's
  personal data: sealed in the identity compartment.
* ``ConferenceDecision`` — what the conference decided (social compartment, with the minutes); a decision may carry an
  owner (a team member or an organisation on the team) and a due date: it then becomes an action of the next draft
  of the protection plan (``casework.models.plans``).

Every sealed row carries its case, so the case's data key seals it and re-encryption finds it. Written only through
``casework.services.conferences``.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import Case
from casework.models.keys import KeyOwnerType
from casework.models.organisations import Organisation
from casework.sealing import SealedField, SealedModel


class ConferenceStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("scheduled")
    HELD = "held", _("held (record being written)")
    SIGNED_OFF = "signed_off", _("signed off")
    CANCELLED = "cancelled", _("cancelled")


#: A conference that took place: it counts for § 14(2)(b) (a court petition needs one).
HELD_STATUSES = (ConferenceStatus.HELD, ConferenceStatus.SIGNED_OFF)


class ChildParticipation(models.TextChoices):
    IN_PERSON = "in_person", _("the child took part in person")
    PART = "part", _("the child took part in a part of it")
    VIEWS_CONVEYED = "views_conveyed", _("the child's views were conveyed by someone else")
    NOT_SUITABLE = "not_suitable", _("not suitable for the child (age, situation)")
    DECLINED = "declined", _("the child declined")


class ParticipantRelation(models.TextChoices):
    """Who a participant without an account is to the child."""

    PARENT = "parent", _("parent")
    CHILD = "child", _("the child")
    RELATIVE = "relative", _("relative or other close person")
    PROFESSIONAL = "professional", _("other professional")
    OTHER = "other", _("other")


class Attendance(models.TextChoices):
    INVITED = "invited", _("invited")
    ATTENDED = "attended", _("attended")
    APOLOGISED = "apologised", _("apologised")
    ABSENT = "absent", _("did not come")


class _CaseSealed(SealedModel):
    """A row sealed with its case's data key."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


class Conference(_CaseSealed):
    """One case conference: scheduled, held, signed off (then immutable)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="conferences")
    starts_at = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration (minutes)"), default=90)
    place = models.CharField(_("place"), max_length=200, blank=True)
    online_link = models.URLField(_("online link"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ConferenceStatus.choices, default=ConferenceStatus.SCHEDULED
    )
    organised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    #: Bumped on every change of the logistics: calendars replace the earlier invitation (iCalendar SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)
    held_at = models.DateTimeField(_("held"), null=True, blank=True)
    child_participation = models.CharField(
        _("the child's participation"), max_length=16, choices=ChildParticipation.choices, blank=True
    )
    minutes = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("minutes"))
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    signed_off_at = models.DateTimeField(_("signed off"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    class Meta:
        verbose_name = _("case conference")
        verbose_name_plural = _("case conferences")
        ordering = ["case", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ConferenceStatus.values), name="conference_status_valid"
            ),
            models.CheckConstraint(condition=~models.Q(place="", online_link=""), name="conference_has_place_or_link"),
            # Signed off ⇔ who and when; held or signed off ⇔ when it was held.
            models.CheckConstraint(
                condition=(
                    models.Q(status="signed_off", signed_off_by__isnull=False, signed_off_at__isnull=False)
                    | (
                        ~models.Q(status="signed_off")
                        & models.Q(signed_off_by__isnull=True, signed_off_at__isnull=True)
                    )
                ),
                name="conference_signed_off_consistent",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["scheduled", "cancelled"]) | models.Q(held_at__isnull=False),
                name="conference_held_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"conference {self.pk}"

    @property
    def ends_at(self) -> datetime.datetime:
        return self.starts_at + datetime.timedelta(minutes=self.duration_minutes)


class ConferenceInvitee(_CaseSealed):
    """An invitation: to a user (a team member), or to a named participant without an account."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="invitees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    relation = models.CharField(
        _("relation to the child"), max_length=16, choices=ParticipantRelation.choices, blank=True
    )
    name = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("name"))
    email = SealedField(compartment=Compartment.IDENTITY, verbose_name=_("e-mail"))
    attendance = models.CharField(
        _("attendance"), max_length=16, choices=Attendance.choices, default=Attendance.INVITED
    )
    invited_at = models.DateTimeField(default=timezone.now)
    #: When the last invitation e-mail (with the iCalendar file) was handed to the mail server.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitee")
        verbose_name_plural = _("invitees")
        ordering = ["conference", "invited_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(attendance__in=Attendance.values), name="invitee_attendance_valid"
            ),
            # A user, or a participant without an account described by their relation to the child.
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, relation="") | models.Q(user__isnull=True) & ~models.Q(relation="")
                ),
                name="invitee_user_or_participant",
            ),
            models.UniqueConstraint(
                fields=["conference", "user"], condition=models.Q(user__isnull=False), name="invitee_user_once"
            ),
        ]

    def __str__(self) -> str:
        return f"invitee {self.pk}"


class ConferenceDecision(_CaseSealed):
    """A decision of the conference; with an owner and a due date it becomes an action of the next plan draft."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="decisions")
    text = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("decision"))
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    owner_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("conference decision")
        verbose_name_plural = _("conference decisions")
        ordering = ["conference", "created_at", "id"]
        constraints = [
            # An action has one owner (a person or an organisation) and a due date, or the decision is no action.
            models.CheckConstraint(
                condition=(
                    models.Q(owner_user__isnull=True, owner_organisation__isnull=True, due_on__isnull=True)
                    | models.Q(owner_user__isnull=False, owner_organisation__isnull=True, due_on__isnull=False)
                    | models.Q(owner_user__isnull=True, owner_organisation__isnull=False, due_on__isnull=False)
                ),
                name="decision_action_owner_and_due",
            ),
        ]

    def __str__(self) -> str:
        return f"decision {self.pk}"

    @property
    def is_action(self) -> bool:
        return self.due_on is not None


class ConferenceAddendum(_CaseSealed):
    """A correction or addition to a signed-off conference record (the record itself never changes)."""

    conference = models.ForeignKey(Conference, on_delete=models.PROTECT, related_name="addenda")
    text = SealedField(compartment=Compartment.SOCIAL, verbose_name=_("addendum"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["conference", "created_at", "id"]

    def __str__(self) -> str:
        return f"addendum {self.pk}"
