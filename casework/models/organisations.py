"""Who works in the product: municipalities with extended powers (ORP), organisations with a sector, users with a role.

A user belongs to exactly one organisation. OSPOD workers and supervisors belong to an OSPOD organisation of their ORP;
partners belong to a school, health, service or other organisation. The data-protection officer and the administrator
never see case content (the policy in ``permissions`` enforces that; these models only describe people).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

#: The default case reference (``OM 2026/0001``); an authority may set its registry's own, e.g. ``Om {number}/{year}``.
DEFAULT_CASE_REFERENCE_FORMAT = "{code} {year}/{number:04d}"


def format_case_reference(template: str, *, code: str, year: int, number: int) -> str:
    """Fill an authority's reference template; raises ``KeyError``/``ValueError``/``IndexError`` on a bad template."""
    return template.format(code=code, year=year, number=number)


def validate_case_reference_format(value: str) -> None:
    """A template must name the number and the year and fit the reference column (24 characters)."""
    if "{number" not in value or "{year" not in value:
        raise ValidationError(_("The format must contain {number} and {year}."))
    try:
        sample = format_case_reference(value, code="XXXXXXXX", year=2026, number=99999)
    except (KeyError, ValueError, IndexError, AttributeError) as exc:
        raise ValidationError(_("Use only {code}, {year} and {number} (e.g. {number:04d}).")) from exc
    if len(sample) > 24:
        raise ValidationError(_("A reference made with this format would be too long."))


class Sector(models.TextChoices):
    OSPOD = "ospod", _("OSPOD")
    SCHOOL = "school", _("School")
    HEALTH = "health", _("Health")
    SERVICE = "service", _("Social service")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    OSPOD_WORKER = "ospod_worker", _("OSPOD worker")
    SUPERVISOR = "supervisor", _("Supervisor")
    PARTNER = "partner", _("Partner")
    DPO = "dpo", _("Data-protection officer")
    ADMINISTRATOR = "administrator", _("Administrator")
    #: The regional office (krajský úřad): sees the aggregate figures of every ORP of its region, never a case.
    REGIONAL_OFFICE = "regional_office", _("Regional office")


OSPOD_ROLES = frozenset({Role.OSPOD_WORKER, Role.SUPERVISOR})


class Municipality(models.Model):
    """An ORP (obec s rozšířenou působností): the area one OSPOD serves. ``code`` prefixes case references."""

    code = models.CharField(_("code"), max_length=8, unique=True, help_text=_("Prefix of case references, e.g. OM."))
    name = models.CharField(_("name"), max_length=120, unique=True)
    partners_require_second_factor = models.BooleanField(
        _("partners log in with a second factor"),
        default=False,
        help_text=_(
            "When on, partners of this authority's organisations must enrol an authenticator app and enter its code "
            "at every login. OSPOD staff, the DPO and administrators need it in production anyway."
        ),
    )

    case_reference_format = models.CharField(
        _("case reference format"),
        max_length=40,
        default=DEFAULT_CASE_REFERENCE_FORMAT,
        validators=[validate_case_reference_format],
        help_text=_('How the registry numbers case files: {code}, {year} and {number}, e.g. "Om {number}/{year}".'),
    )
    #: The region (kraj) the ORP lies in: its regional office sees the authority's figures (aggregates only).
    region = models.CharField(_("region"), max_length=80, blank=True, default="")
    ospod_address = models.TextField(
        _("OSPOD postal address"),
        blank=True,
        help_text=_("Printed on the cover letter of a report forwarded to this authority."),
    )

    class Meta:
        verbose_name = _("municipality with extended powers")
        verbose_name_plural = _("municipalities with extended powers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def case_reference(self, year: int, number: int) -> str:
        return format_case_reference(self.case_reference_format, code=self.code, year=year, number=number)


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=16, choices=Sector.choices)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("ORP"), on_delete=models.PROTECT, related_name="organisations"
    )
    ico = models.CharField(_("company ID (IČO)"), max_length=8, blank=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "municipality"], name="organisation_unique_name_per_orp"),
            models.CheckConstraint(
                condition=models.Q(sector__in=[s.value for s in Sector]), name="organisation_sector_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in. ``role`` is the system role; a role on a particular case comes with team membership."""

    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        help_text=_("Every user except a technical superuser belongs to one organisation."),
    )
    role = models.CharField(_("system role"), max_length=16, choices=Role.choices, default=Role.PARTNER)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    #: The authority's records officer (spisový pracovník / archivář): decides shredding reviews of its closed files
    #: beside its supervisors. Counts only for OSPOD staff (``permissions.policy.is_records_officer``); grants no
    #: reading of case content.
    is_records_officer = models.BooleanField(_("records officer"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"),
        ]

    @property
    def sector(self) -> str | None:
        return self.organisation.sector if self.organisation is not None else None

    @property
    def is_ospod_staff(self) -> bool:
        return self.role in OSPOD_ROLES

    def clean(self) -> None:
        super().clean()
        if self.organisation is None:
            if self.role != Role.ADMINISTRATOR:
                raise ValidationError({"organisation": _("Choose the organisation this person works for.")})
            return
        sector = self.organisation.sector
        if self.role in OSPOD_ROLES and sector != Sector.OSPOD:
            raise ValidationError({"role": _("OSPOD workers and supervisors must belong to an OSPOD organisation.")})
        if self.role == Role.REGIONAL_OFFICE and sector == Sector.OSPOD:
            raise ValidationError({"role": _('A regional office belongs to an organisation of the "other" sector.')})
        if self.role == Role.PARTNER and sector == Sector.OSPOD:
            raise ValidationError({"role": _("A partner belongs to a school, health, service or other organisation.")})

    def display_name(self) -> str:
        return self.get_full_name() or self.username
