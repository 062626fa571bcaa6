"""The record of processing activities (GDPR Art. 30), generated from the configuration.

What the product already knows is read, never copied: the compartments (``casework.compartments``), which sealed field
belongs to which (the models' ``SealedField`` declarations), who reads which compartment (the policy table
``permissions.policy``: ``READ_POLICY``, ``SECTOR_COMPARTMENTS``, shares and agreements, what a § 55 inspection never
holds) and the security settings (second factor, lockout, idle sessions, keys). A change of the policy or a new sealed
field shows up here without editing this module. What the code cannot know — the purposes and their legal bases, the
categories of data subjects — is written here once, in words, next to the compartments it concerns.

No case content, no personal data: the DPO and supervisors read it (``permissions.policy.may_see_processing_record``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework.compartments import Compartment
from casework.models import Role, Sector
from casework.sealing import PER_ROW, SealedField, SealedModel
from permissions.policy import (
    AUTHOR_ORGANISATION_ONLY,
    CONSENT_REQUIRED,
    INSPECTION_EXCLUDED_COMPARTMENTS,
    READ_POLICY,
    SECTOR_COMPARTMENTS,
    SHAREABLE_COMPARTMENTS,
    SHAREABLE_ITEM_COMPARTMENTS,
    Relationship,
)

#: The file is kept this many years after the calendar year the child left the register (§ 55(5) of Act No. 359/1999
#: Coll.); a setting of the same name overrides it (the retention work reads the same setting).
DEFAULT_RETENTION_YEARS = 15

#: Who a relationship of the policy table is, in words.
RELATIONSHIP_LABELS: dict[Relationship, Promise] = {
    Relationship.CASE_LEAD: gettext_lazy("the case's coordinator and the supervisors of its authority"),
    Relationship.AUTHORITY_STAFF: gettext_lazy("OSPOD staff of the child's authority (the register)"),
    Relationship.TEAM_MEMBER: gettext_lazy("every current member of the case's team"),
    Relationship.REPORT_HANDLER: gettext_lazy("whoever handles the report (supervisors, the case's coordinator)"),
}

#: Purposes and legal bases (not in the configuration: the law's words, kept here once).
PURPOSES: tuple[tuple[Promise, Promise], ...] = (
    (
        gettext_lazy(
            "Social and legal protection of children at risk: reports, assessment, case conferences, the "
            "individual protection plan, its monitoring and review"
        ),
        gettext_lazy(
            "Art. 6(1)(c) and (e), Art. 9(2)(b), (g) and (h) GDPR; §§ 6, 10, 14 and 51 to 53 of Act No. "
            "359/1999 Coll.; Decree No. 473/2012 Coll."
        ),
    ),
    (
        gettext_lazy("The register of children at risk and the case file (spis Om)"),
        gettext_lazy("§ 54 and § 55 of Act No. 359/1999 Coll."),
    ),
    (
        gettext_lazy("Cooperation with schools, health providers, social services and others on the team"),
        gettext_lazy("§ 51(5), § 53 and § 57(2) of Act No. 359/1999 Coll."),
    ),
    (
        gettext_lazy("File inspection by the child and the parents with parental responsibility"),
        gettext_lazy("§ 55(3) of Act No. 359/1999 Coll."),
    ),
    (
        gettext_lazy("Security and accountability: the audit log, access oversight, anomaly flags"),
        gettext_lazy("Art. 5(2), Art. 32 GDPR; § 57 of Act No. 359/1999 Coll."),
    ),
    (
        gettext_lazy("Statistics without a child's identity (the annual return V (MPSV) 20-01)"),
        gettext_lazy("Art. 89 GDPR; § 54 of Act No. 359/1999 Coll."),
    ),
)

#: Categories of data subjects and the compartments that hold their data (words; the compartments are checked
#: against ``Compartment`` in the tests).
SUBJECTS: tuple[tuple[Promise, tuple[Compartment, ...]], ...] = (
    (
        gettext_lazy("Children at risk"),
        (
            Compartment.BASICS,
            Compartment.IDENTITY,
            Compartment.SOCIAL,
            Compartment.SCHOOL,
            Compartment.HEALTH,
            Compartment.SERVICES,
            Compartment.OTHER,
            Compartment.CHILD_VOICE,
        ),
    ),
    (gettext_lazy("Parents, guardians and other legal representatives"), (Compartment.IDENTITY, Compartment.SOCIAL)),
    (gettext_lazy("Notifiers (who reported the child)"), (Compartment.NOTIFIER,)),
    (
        gettext_lazy("Third persons named in the file (relatives, carers, others in the household)"),
        (Compartment.SOCIAL, Compartment.OTHER),
    ),
    (gettext_lazy("Users: OSPOD staff, partners, the DPO, administrators (accounts and the audit log)"), ()),
)


@dataclass(frozen=True)
class CompartmentRow:
    key: str
    label: str
    data: tuple[str, ...]
    readers: tuple[str, ...]
    #: Shared with other members item by item or whole, and whether that needs a recorded agreement.
    sharing: str
    in_inspection: bool


@dataclass(frozen=True)
class SectorRow:
    sector: str
    reads: tuple[str, ...]
    if_shared: tuple[str, ...]


@dataclass(frozen=True)
class ProcessingRecord:
    generated_at: datetime.datetime
    purposes: tuple[tuple[str, str], ...]
    subjects: tuple[tuple[str, tuple[str, ...]], ...]
    compartments: tuple[CompartmentRow, ...]
    sectors: tuple[SectorRow, ...]
    retention: tuple[str, ...]
    security: tuple[str, ...]


def sealed_fields_by_compartment() -> dict[Compartment, list[str]]:
    """Every sealed field of every model, by compartment ("model: field"); a per-row field under each compartment
    its model's ``compartment`` column allows."""
    found: dict[Compartment, list[str]] = {c: [] for c in Compartment}
    for model in apps.get_models():
        if not issubclass(model, SealedModel):
            continue
        for field in model._meta.get_fields():
            if not isinstance(field, SealedField):
                continue
            label = f"{model._meta.verbose_name}: {field.verbose_name}"
            if field.compartment == PER_ROW:
                column = model._meta.get_field("compartment")  # type: ignore[misc]
                allowed = [Compartment(value) for value, _label in (getattr(column, "choices", None) or [])]
                for compartment in allowed or list(Compartment):
                    found[compartment].append(label)
            else:
                found[Compartment(field.compartment)].append(label)
    return {c: sorted(set(labels)) for c, labels in found.items()}


def _readers(compartment: Compartment) -> list[str]:
    readers = [str(label) for rel, label in RELATIONSHIP_LABELS.items() if compartment in READ_POLICY[rel]]
    for sector, compartments in SECTOR_COMPARTMENTS.items():
        if compartment in compartments:
            text = _("team members of the sector %(sector)s") % {"sector": Sector(sector).label}
            if compartment in AUTHOR_ORGANISATION_ONLY:
                text += " " + _("(their own organisation's items only)")
            readers.append(text)
    return readers


def _sharing(compartment: Compartment) -> str:
    if compartment in SHAREABLE_COMPARTMENTS:
        text = _("shared with other members whole or item by item, for a purpose, until a date")
    elif compartment in SHAREABLE_ITEM_COMPARTMENTS:
        text = _("shared with other members item by item, for a purpose, until a date")
    else:
        return _("never shared")
    if compartment in CONSENT_REQUIRED:
        text += "; " + _("only with a recorded agreement, which can be withdrawn")
    return text


def processing_record() -> ProcessingRecord:
    """The record as the configuration says it today."""
    fields = sealed_fields_by_compartment()
    compartments = tuple(
        CompartmentRow(
            key=c.value,
            label=str(c.label),
            data=tuple(fields[c]),
            readers=tuple(_readers(c)),
            sharing=_sharing(c),
            in_inspection=c not in INSPECTION_EXCLUDED_COMPARTMENTS,
        )
        for c in Compartment
    )
    team_base = READ_POLICY[Relationship.TEAM_MEMBER]
    sectors = tuple(
        SectorRow(
            sector=str(Sector(sector).label),
            reads=tuple(str(c.label) for c in Compartment if c in team_base | SECTOR_COMPARTMENTS.get(sector, set())),
            if_shared=tuple(
                str(c.label)
                for c in Compartment
                if c in SHAREABLE_ITEM_COMPARTMENTS and c not in team_base | SECTOR_COMPARTMENTS.get(sector, set())
            ),
        )
        for sector in Sector.values
    )
    years = int(getattr(settings, "CASE_RETENTION_YEARS", DEFAULT_RETENTION_YEARS))
    retention = (
        _(
            "The case file: %(years)d years after the end of the calendar year in which the child left the register "
            "(§ 55(5) of Act No. 359/1999 Coll.); for an adopted or fostered child %(years)d years after the year "
            "they come of age. Then a shredding review (Act No. 499/2004 Coll.) decides destruction or transfer to "
            "the archive: never silent automatic deletion."
        )
        % {"years": years},
        _("The audit log: append-only and kept with the files it describes; it holds field names, never values."),
    )
    required = [str(Role(role).label) for role in getattr(settings, "OTP_REQUIRED_ROLES", []) if role in Role.values]
    security = (
        _(
            "Encryption at rest: every protected field sealed with AES-GCM under its owner's data key (the child, the "
            "case, the report), data keys wrapped by a key-encryption key kept outside the database; crypto-shredding "
            "destroys a data key."
        ),
        _("Birth numbers searchable only by exact match through a keyed HMAC blind index."),
        _(
            "One gate: every read of protected content is decided by the policy per field and audited (committed "
            "before anything is decrypted); default deny."
        ),
        _("Audit log chained by HMAC, append-only in the database (triggers), verified on demand and hourly."),
        _("Second factor (TOTP) required for: %(roles)s.") % {"roles": ", ".join(required) or _("nobody (this setup)")},
        _("Login lockout after %(n)d failed attempts; sessions end after %(minutes)d minutes of inactivity.")
        % {
            "n": getattr(settings, "AXES_FAILURE_LIMIT", 0),
            "minutes": getattr(settings, "SESSION_IDLE_MINUTES", 0),
        },
        _(
            "Access oversight and anomaly flags for supervisors and the DPO; the administrator and the DPO never read "
            "case content."
        ),
        _("Notifications, e-mails, logs and URLs carry kinds, ids and case references only, never protected content."),
    )
    return ProcessingRecord(
        generated_at=timezone.localtime(),
        purposes=tuple((str(p), str(b)) for p, b in PURPOSES),
        subjects=tuple((str(s), tuple(str(c.label) for c in cs)) for s, cs in SUBJECTS),
        compartments=compartments,
        sectors=sectors,
        retention=retention,
        security=security,
    )
