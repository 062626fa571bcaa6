"""Data keys: one active AES-256 key per owner (a child's identity, a case, a report), stored wrapped by a KEK.

An owner may have retired keys (replaced by ``reencrypt``) and, after crypto-shredding, destroyed ones; the partial
unique constraint keeps exactly one active key per owner.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class KeyOwnerType(models.TextChoices):
    CHILD = "child", _("Child")
    CASE = "case", _("Case")
    REPORT = "report", _("Report")


class DataKey(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_type = models.CharField(max_length=16, choices=KeyOwnerType.choices)
    owner_id = models.UUIDField()
    kek_id = models.CharField(max_length=64)
    wrapped_key = models.BinaryField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.UniqueConstraint(
                fields=["owner_type", "owner_id"],
                condition=models.Q(retired_at__isnull=True),
                name="datakey_one_active_per_owner",
            ),
            models.CheckConstraint(
                condition=models.Q(destroyed_at__isnull=True, wrapped_key__isnull=False)
                | models.Q(destroyed_at__isnull=False, wrapped_key__isnull=True),
                name="datakey_destroyed_has_no_material",
            ),
        ]
        indexes = [models.Index(fields=["kek_id"], name="datakey_kek_idx")]

    def __str__(self) -> str:
        return f"{self.owner_type}:{self.owner_id} ({self.kek_id})"


class ReencryptionRun(models.Model):
    """One run of ``manage.py reencrypt``. Its start time is the cut-off, so a resumed run finishes the same set."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    owners_done = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"re-encryption run {self.pk} from {self.started_at:%Y-%m-%d %H:%M}"
