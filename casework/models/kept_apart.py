"""§ 55(2) of Act No. 359/1999 Coll.: what is kept apart from the file a parent or the child may inspect.

A ``KeptApartMark`` says that one item of a case is kept apart, and why (a reason from the law's list, never the
content). It is metadata beside the item, not a column of it: rewriting the item (conference minutes recorded again
before sign-off) cannot drop it, and the § 55 inspection export leaves out every item that has one
(``casework.selectors.kept_apart.kept_apart_items``). The report (intake) and its notifier are always kept apart and
need no mark.

Set when the item is written (the form's field) or later by the case's lead (coordinator or a supervisor covering);
each change is audited. Only ``casework.services.kept_apart`` writes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.models.cases import Case


class KeptApartReason(models.TextChoices):
    """Why an item is kept apart (§ 55(2)). Add values at the end; the value is stored."""

    CHILD_STATEMENT = "child_statement", _("what the child said without the legal representative present")
    VICTIM_ADDRESS = "victim_address", _("the address of a victim of domestic violence")
    CARERS = "carers", _("data on pre-adoptive or foster carers")
    NOTIFIER = "notifier", _("the notifier or what would reveal them")
    #: Not § 55(2) itself but the product's policy (DOMAIN.md): information about third persons is left out too.
    THIRD_PERSONS = "third_persons", _("information about third persons")


class KeptApartItem(models.TextChoices):
    """The kinds of item that carry a mark (the value is the model's label). Add values at the end."""

    NOTE = "casework.casenote", _("case note")
    INPUT = "casework.assessmentinput", _("input to the assessment")
    MINUTES = "casework.conference", _("minutes of a case conference")
    ACTION_REPORT = "casework.actionreport", _("report on a plan action")


class MarkSource(models.TextChoices):
    WRITTEN = "written", _("when it was written")
    LATER = "later", _("later, by the case's lead")


class KeptApartMark(models.Model):
    """One item of a case kept apart under § 55(2), with the reason; at most one mark per item."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="kept_apart_marks")
    item_type = models.CharField(_("item"), max_length=32, choices=KeptApartItem.choices)
    item_id = models.UUIDField()
    reason = models.CharField(_("reason"), max_length=32, choices=KeptApartReason.choices)
    source = models.CharField(_("marked"), max_length=16, choices=MarkSource.choices)
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("§ 55(2) mark")
        verbose_name_plural = _("§ 55(2) marks")
        ordering = ["case", "marked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item_type", "item_id"], name="kept_apart_one_mark_per_item"),
            models.CheckConstraint(
                condition=models.Q(item_type__in=KeptApartItem.values), name="kept_apart_item_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=KeptApartReason.values), name="kept_apart_reason_valid"
            ),
            models.CheckConstraint(condition=models.Q(source__in=MarkSource.values), name="kept_apart_source_valid"),
        ]

    def __str__(self) -> str:
        return f"§ 55(2) mark on {self.item_type} {self.item_id}"
