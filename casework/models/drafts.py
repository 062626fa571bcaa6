"""Work kept while it is being written: server-side drafts of long forms, and text posted after a session ended.

* ``FormDraft`` — the autosaved state of one person's form for one object (the assessment task, a conference's
  record, the plan version being drafted). Sealed with the case's data key like the content it will become; read
  back only by its author (the selector filters by user, then the gate decides as for any case row); deleted when the
  real form is submitted.
* ``KeptWork`` — what a form posted when the session had already ended (or just before a language switch): sealed
  under a one-time key that only the browser holds (in a short-lived cookie), found by a random token, never by the
  content. After logging in again the person returns to the form with the text restored; the row is deleted when
  restored and expires after ``KEPT_WORK_MINUTES`` otherwise.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.compartments import Compartment
from casework.models.cases import Case
from casework.models.keys import KeyOwnerType
from casework.sealing import PER_ROW, SealedField, SealedModel


class DraftKind(models.TextChoices):
    ASSESSMENT = "assessment", _("Assessment")
    MINUTES = "minutes", _("Conference record")
    PLAN = "plan", _("Protection plan")


class FormDraft(SealedModel):
    """One person's unsent form for one object (its ``object_id``: the task, the conference or the plan version)."""

    SEAL_OWNER_TYPE = KeyOwnerType.CASE

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=DraftKind.choices)
    object_id = models.CharField(max_length=64)
    # The draft is read like the social record it will become (the gate checks it).
    compartment = models.CharField(max_length=16, default=Compartment.SOCIAL.value, editable=False)
    data = SealedField(compartment=PER_ROW, verbose_name=_("draft"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("form draft")
        verbose_name_plural = _("form drafts")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "object_id"], name="form_draft_one_per_user_and_object")
        ]

    def __str__(self) -> str:
        return f"draft {self.pk}"

    def seal_owner_id(self) -> uuid.UUID:
        return self.case_id

    @classmethod
    def owner_filter(cls, owner_id: uuid.UUID) -> models.Q:
        return models.Q(case_id=owner_id)


class KeptWork(models.Model):
    """A form's posted fields, sealed under a key held only by the browser (``casework.crypto.browser``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    #: SHA-256 of the random token in the browser's cookie (the row is found by it, never by content).
    token_hash = models.CharField(max_length=64, unique=True)
    #: The form's page: the text comes back only there (a path: ids, never content).
    path = models.CharField(max_length=512)
    #: Whose it is, when known (a language switch); ``None`` after an ended session (the next login on the browser).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    envelope = models.BinaryField()
    expires_at = models.DateTimeField()
    #: For work kept without a logged-in user: a keyed hash of the client's address (never the address), so that one
    #: address cannot fill the table (``casework.services.drafts.KEPT_WORK_PER_ADDRESS``). Empty when the user is known.
    source = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("kept form")
        verbose_name_plural = _("kept forms")
        indexes = [
            models.Index(fields=["expires_at"], name="kept_work_expiry"),
            models.Index(fields=["source", "expires_at"], name="kept_work_source"),
        ]

    def __str__(self) -> str:
        return f"kept work {self.pk}"
