"""Compartments: the classification of every protected field (DOMAIN.md, "Information sharing rules").

The domain says which compartment a field belongs to; ``permissions.policy`` decides who may read which compartment.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Compartment(models.TextChoices):
    BASICS = "basics", _("Case basics")
    # Rodné číslo, address and the legal representatives: needed by OSPOD to identify and contact the family, not by
    # partners (§51: only as far as necessary). Stricter than "basics"; see docs/adr/0002-key-hierarchy.md.
    IDENTITY = "identity", _("Identity")
    SOCIAL = "social", _("Social")
    SCHOOL = "school", _("School")
    HEALTH = "health", _("Health")
    SERVICES = "services", _("Services")
    OTHER = "other", _("Other")
    NOTIFIER = "notifier", _("Notifier")
    CHILD_VOICE = "child_voice", _("Child's voice")
