"""The service directory: who provides which service for families and children, where, for whom and how full it is.

* :class:`ServiceType` — a configurable list of the kinds of service used in the region (SAS, NZDM, PPP, …), seeded by
  migration ``services/0002`` and kept in the admin. ``code`` is stable (filters, URLs, statistics); the names are
  what people read.
* :class:`Provider` — an :class:`~casework.models.Organisation` that offers services, with its identifier in the
  register of social-service providers where it has one (a school counselling centre or a psychiatrist has none).
  The provider's own users are the partner users of that organisation (``permissions.policy``).
* :class:`Service` — one service's card: type, target group and ages, the area it serves (ORPs and, more finely,
  municipalities), address and contact, opening hours, how to refer, capacity, free places and the current waiting
  time, languages and cost. ``card_updated_at`` says when the provider last confirmed the card; a card older than
  ``SERVICE_CARD_STALE_MONTHS`` is flagged as stale.

None of this is protected child data: plain columns, no sealing, no gate. Writes go through ``services.services``
(audited); reads through ``services.selectors``.
"""

from __future__ import annotations

import calendar
import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from casework.models import Municipality, Organisation, ResidenceMunicipality


def _in_english() -> bool:
    return (get_language() or "cs").startswith("en")


class ServiceType(models.Model):
    """A kind of service ("sociálně aktivizační služby pro rodiny s dětmi"). A configurable list (admin)."""

    code = models.SlugField(
        _("code"), max_length=32, unique=True, help_text=_("Stable short name used in filters and statistics.")
    )
    name_cs = models.CharField(_("name (Czech)"), max_length=160, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=160)
    abbreviation = models.CharField(_("abbreviation"), max_length=16, blank=True, help_text=_("e.g. SAS, NZDM, PPP"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["position", "name_cs"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if _in_english() else self.name_cs


#: The starting list of service types: (code, Czech, English, abbreviation). Migration 0002 installed a frozen copy;
#: ``services.services.service_types_ensure_defaults`` restores missing ones (the demo, tests after a database flush).
DEFAULT_SERVICE_TYPES: tuple[tuple[str, str, str, str], ...] = (
    (
        "sas",
        "sociálně aktivizační služby pro rodiny s dětmi",
        "social activation services for families with children",
        "SAS",
    ),
    ("counselling", "odborné sociální poradenství", "specialised social counselling", ""),
    ("nzdm", "nízkoprahové zařízení pro děti a mládež", "low-threshold facility for children and youth", "NZDM"),
    ("early_care", "raná péče", "early intervention", ""),
    ("crisis", "krizová pomoc", "crisis help", ""),
    ("therapy", "terapie (rodinná, individuální)", "therapy (family, individual)", ""),
    ("ppp", "pedagogicko-psychologická poradna", "educational and psychological counselling centre", "PPP"),
    ("spc", "speciálně pedagogické centrum", "special educational centre", "SPC"),
    ("child_psychiatrist", "dětský psychiatr", "child psychiatrist", ""),
    ("child_psychologist", "dětský klinický psycholog", "child clinical psychologist", ""),
    ("shelter", "azylový dům", "shelter", ""),
    ("intervention_centre", "intervenční centrum", "intervention centre", ""),
    ("mediation", "rodinná mediace", "family mediation", ""),
    (
        "facility_urgent",
        "zařízení pro děti vyžadující okamžitou pomoc",
        "facility for children needing immediate help",
        "ZDVOP",
    ),
    ("foster_support", "doprovázení pěstounských rodin", "support of foster families", ""),
    ("other", "jiná služba", "other service", ""),
)


class Provider(models.Model):
    """An organisation that provides services. Its partner users keep its cards current."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="provider"
    )
    registration_number = models.CharField(
        _("registration number"),
        max_length=20,
        blank=True,
        help_text=_("Identifier in the register of social-service providers, where the provider has one."),
    )
    web = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return self.organisation.name

    @property
    def name(self) -> str:
        return self.organisation.name


class Cost(models.TextChoices):
    FREE = "free", _("free of charge")
    CONTRIBUTION = "contribution", _("with a contribution")
    PAID = "paid", _("paid")


class Service(models.Model):
    """One service's card in the directory."""

    provider = models.ForeignKey(
        Provider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="services"
    )
    service_type = models.ForeignKey(
        ServiceType, verbose_name=_("type of service"), on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    target_group = models.TextField(_("target group"), blank=True)
    age_min = models.PositiveSmallIntegerField(
        _("from age"), null=True, blank=True, validators=[MaxValueValidator(120)], help_text=_("Years; empty: any.")
    )
    age_max = models.PositiveSmallIntegerField(
        _("to age"), null=True, blank=True, validators=[MaxValueValidator(120)], help_text=_("Years; empty: any.")
    )
    area_orps = models.ManyToManyField(
        Municipality,
        verbose_name=_("ORPs served"),
        blank=True,
        related_name="served_by_services",
        help_text=_("The whole area of these municipalities with extended powers."),
    )
    area_municipalities = models.ManyToManyField(
        ResidenceMunicipality,
        verbose_name=_("municipalities served"),
        blank=True,
        related_name="served_by_services",
        help_text=_("Single municipalities, where the service does not cover a whole ORP."),
    )
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    web = models.URLField(_("website"), blank=True)
    opening_hours = models.TextField(_("opening hours"), blank=True)
    how_to_refer = models.TextField(_("how to refer"), blank=True)
    capacity_total = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Families or clients at a time; empty: not stated.")
    )
    free_places = models.PositiveIntegerField(_("free places"), null=True, blank=True)
    waiting_days = models.PositiveIntegerField(
        _("current waiting time (days)"), null=True, blank=True, help_text=_("From referral to first contact.")
    )
    languages = models.CharField(
        _("languages"), max_length=200, blank=True, help_text=_("Comma-separated, e.g. čeština, ukrajinština.")
    )
    cost = models.CharField(_("cost"), max_length=16, choices=Cost.choices, default=Cost.FREE)
    cost_note = models.CharField(_("cost note"), max_length=200, blank=True)
    card_updated_at = models.DateTimeField(_("card updated"), default=timezone.now)
    card_updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("card updated by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    is_active = models.BooleanField(_("active"), default=True)
    #: When the provider's users were last told that this card went stale (``remind_stale_cards``). A card is
    #: reminded when it is stale and this is empty or older than ``card_updated_at``: once per stale spell, since
    #: confirming the card moves ``card_updated_at`` past it.
    stale_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: Name, description, target group, provider and type names, folded to lower case without diacritics; kept by
    #: ``services.services`` on every save (``service_search_text``). On PostgreSQL a trigram index serves the search.
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["-card_updated_at", "-id"]
        indexes = [
            # The directory's keyset order (freshest cards first), and the network view's grouping.
            models.Index(fields=["is_active", "-card_updated_at", "-id"], name="service_directory_order"),
            models.Index(fields=["service_type", "is_active"], name="service_type_active"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(age_min__isnull=True)
                | models.Q(age_max__isnull=True)
                | models.Q(age_min__lte=models.F("age_max")),
                name="service_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(free_places__isnull=True)
                | models.Q(capacity_total__isnull=True)
                | models.Q(free_places__lte=models.F("capacity_total")),
                name="service_free_places_within_capacity",
            ),
            models.CheckConstraint(condition=models.Q(cost__in=[c.value for c in Cost]), name="service_cost_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_free_capacity(self) -> bool:
        return bool(self.free_places)

    def is_stale(self, now: datetime.datetime | None = None) -> bool:
        """Whether the card was last confirmed more than ``SERVICE_CARD_STALE_MONTHS`` ago."""
        return self.card_updated_at < stale_before(now)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day if it has no such day)."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """Cards confirmed before this moment are stale (``SERVICE_CARD_STALE_MONTHS``, default 6)."""
    months = int(getattr(settings, "SERVICE_CARD_STALE_MONTHS", 6))
    return months_before(now or timezone.now(), months)


# Referrals from a case to a service (docs/adr/0029-referrals.md) live in their own module; imported here so that
# Django registers them with this app.
from services.referrals.models import Referral, ReferralEvent  # noqa: E402

__all__ = ["Cost", "Provider", "Referral", "ReferralEvent", "Service", "ServiceType", "months_before", "stale_before"]
