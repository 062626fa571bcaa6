"""What an import of an authority's existing register did, row by row (``manage.py import_register``).

One :class:`ImportedRow` per row of a file that was carried out, written in the same transaction as the child (and
case) the row created or matched: a rerun of the same file skips the rows already done, so an import killed half-way
resumes where it stopped and never writes a child twice (docs/adr/0032-register-import-and-authority-export.md).

No protected content: the file's SHA-256, the row number, ids, the previous system's case reference and date.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case
from casework.models.children import Child
from casework.models.organisations import Municipality


class ImportOutcome(models.TextChoices):
    CREATED = "created", _("child registered")
    MATCHED = "matched", _("matched an existing child")


class ImportedRow(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    row_number = models.PositiveIntegerField(_("row"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=ImportOutcome.choices)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    previous_reference = models.CharField(_("reference in the previous system"), max_length=40, blank=True)
    previous_opened_on = models.DateField(_("opened in the previous system"), null=True, blank=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("imported register row")
        verbose_name_plural = _("imported register rows")
        constraints = [
            models.UniqueConstraint(fields=["file_sha256", "row_number"], name="imported_row_once_per_file"),
        ]
        indexes = [models.Index(fields=["municipality", "child"], name="imported_row_child")]

    def __str__(self) -> str:
        return f"{self.file_sha256[:12]}#{self.row_number}"
