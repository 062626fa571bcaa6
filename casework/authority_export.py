"""A full export of one authority's data, for moving to another system (``manage.py export_authority``).

Asked for by a supervisor of the authority (``permissions.policy.may_export_authority``); everything sealed is opened
through the gate in one batch (``gate.read_for_export``, purpose "export"): one audit row per record group (a
child's entry, a case's notes, …), all committed before anything is decrypted, with the supervisor as the actor.

The output is a new directory (mode 0700) of files readable by their owner only (0600), never overwritten:

- ``manifest.json`` — format, authority, when, by whom, record counts and the SHA-256 of every other file;
- ``children.csv`` — the register (identity in clear; a shredded entry has its row and no identity);
- ``cases.csv`` — the case files (reference, child, status, coordinator, dates, reasons, the previous system's
  reference if it came through the import);
- ``team.csv`` — team memberships of every case;
- ``records.json`` — every sealed record of the authority (children, representatives, reports, notes, assessments,
  conferences, plans and their goals, actions and reports, closures, …), model by model: plain columns and opened
  sealed values side by side, as in the archive package (``casework.archive_export``);
- ``tables.json`` — the plain tables around the cases (coordinator assignments, plan acquaintance, transfers, import
  records).

Files of shredded entries and destroyed case files are listed without content: their keys are gone.
docs/adr/0032-register-import-and-authority-export.md says how the output is protected and what the operator does
with it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from casework.models import (
    Case,
    CaseTransfer,
    Child,
    CoordinatorAssignment,
    ImportedRow,
    KeyOwnerType,
    Municipality,
    Report,
    TeamMembership,
    User,
)
from casework.sealing import SealedField, SealedModel, sealed_models
from permissions import audit, gate
from permissions.access import record_denial
from permissions.policy import Subject, may_export_authority

EXPORT_FORMAT = "casework-authority-export/1"
PURPOSE = "export"

CHILD_COLUMNS = (
    "id",
    "given_name",
    "family_name",
    "date_of_birth",
    "date_of_birth_estimated",
    "birth_number",
    "address",
    "other_identifiers",
    "created_at",
    "merged_into_id",
    "shredded_at",
)
CASE_COLUMNS = (
    "id",
    "reference",
    "child_id",
    "status",
    "coordinator",
    "opened_at",
    "open_reason",
    "closed_at",
    "close_reason",
    "substitute_care",
    "file_destroyed_at",
    "previous_reference",
    "previous_opened_on",
)
TEAM_COLUMNS = (
    "id",
    "case_id",
    "case_reference",
    "member",
    "team_role",
    "valid_from",
    "valid_until",
    "ended_at",
    "end_reason",
)


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    counts: dict[str, int]


#: Keyed blind indexes mean nothing outside this installation (and would link records across exports): left out.
BLIND_INDEX_COLUMNS = frozenset({"birth_number_index", "identity_index"})


def _plain(row: models.Model) -> dict[str, Any]:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if not isinstance(field, SealedField) and field.attname not in BLIND_INDEX_COLUMNS
    }


def _readable(owner: Child | Case | Report) -> bool:
    if isinstance(owner, Child):
        return owner.shredded_at is None
    if isinstance(owner, Case):
        return owner.file_destroyed_at is None
    return True


def _sealed_batches(
    children: Sequence[Child], cases: Sequence[Case], reports: Sequence[Report]
) -> list[tuple[Child | Case | Report, list[SealedModel], list[str]]]:
    """(owner, rows of one model, sealed field names) for every sealed record whose key still exists."""
    owners: dict[str, Sequence[Child | Case | Report]] = {
        KeyOwnerType.CHILD: children,
        KeyOwnerType.CASE: cases,
        KeyOwnerType.REPORT: reports,
    }
    batches: list[tuple[Child | Case | Report, list[SealedModel], list[str]]] = []
    for model in sorted(sealed_models(), key=lambda m: m._meta.label_lower):
        fields = list(model.sealed_fields())
        for owner in owners.get(model.SEAL_OWNER_TYPE, ()):
            if not _readable(owner):
                continue
            if model is type(owner):
                rows: list[SealedModel] = [owner]
            else:
                rows = list(model._default_manager.filter(model.owner_filter(owner.pk)).order_by("pk"))
            if rows:
                batches.append((owner, rows, fields))
    return batches


def _text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _csv(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(name)) for name in columns])
    return buffer.getvalue().encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def _write_private(path: Path, data: bytes) -> None:
    """A new file only its owner can read (O_EXCL: an existing file is never overwritten or followed as a link)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def export_authority(*, municipality: Municipality, by: User, directory: Path) -> ExportResult:
    """Write the authority's data into ``directory`` (created, must not exist). ``PermissionDenied`` (audited) for
    anyone but the authority's supervisor; ``FileExistsError`` when the directory exists."""
    if not may_export_authority(Subject.from_user(by), municipality.pk):
        record_denial(by, "casework.municipality", municipality.pk, PURPOSE, fields=["export"])
        raise PermissionDenied
    directory.mkdir(mode=0o700, parents=False, exist_ok=False)
    os.chmod(directory, 0o700)  # whatever the umask

    children = list(Child.objects.filter(municipality=municipality).order_by("created_at", "pk"))
    cases = list(
        Case.objects.filter(municipality=municipality).select_related("coordinator").order_by("year", "number")
    )
    reports = list(Report.objects.filter(municipality=municipality).order_by("pk"))
    batches = _sealed_batches(children, cases, reports)
    opened = gate.read_for_export(by, municipality.pk, batches, purpose=PURPOSE) if batches else []

    records: dict[str, list[dict[str, Any]]] = {}
    child_values: dict[Any, dict[str, Any]] = {}
    for (_owner, rows, _fields), disclosures in zip(batches, opened, strict=True):
        for row, disclosure in zip(rows, disclosures, strict=True):
            label = row._meta.label_lower
            records.setdefault(label, []).append({"columns": _plain(row), "sealed": dict(disclosure.values)})
            if isinstance(row, Child):
                child_values[row.pk] = dict(disclosure.values)

    imports = {row.case_id: row for row in ImportedRow.objects.filter(municipality=municipality, case__isnull=False)}
    children_rows = [{**_plain(child), **child_values.get(child.pk, {})} for child in children]
    case_rows = []
    for case in cases:
        imported = imports.get(case.pk)
        case_rows.append(
            {
                **_plain(case),
                "coordinator": case.coordinator.username,
                "previous_reference": imported.previous_reference if imported else "",
                "previous_opened_on": imported.previous_opened_on if imported else None,
            }
        )
    team_rows = [
        {
            **_plain(member),
            "case_reference": member.case.reference,
            "member": member.user.username,
            "team_role": member.team_role.name_cs,
        }
        for member in TeamMembership.objects.filter(case__municipality=municipality)
        .select_related("case", "user", "team_role")
        .order_by("case__year", "case__number", "valid_from", "pk")
    ]
    tables = {
        "casework.coordinatorassignment": [
            _plain(row)
            for row in CoordinatorAssignment.objects.filter(case__municipality=municipality).order_by("assigned_at")
        ],
        "casework.casetransfer": [
            _plain(row)
            for row in CaseTransfer.objects.filter(
                models.Q(from_municipality=municipality) | models.Q(to_municipality=municipality)
            ).order_by("proposed_at")
        ],
        "casework.importedrow": [
            _plain(row) for row in ImportedRow.objects.filter(municipality=municipality).order_by("imported_at")
        ],
    }
    parts = {
        "children.csv": _csv(CHILD_COLUMNS, children_rows),
        "cases.csv": _csv(CASE_COLUMNS, case_rows),
        "team.csv": _csv(TEAM_COLUMNS, team_rows),
        "records.json": _json(records),
        "tables.json": _json(tables),
    }
    counts = {
        "children": len(children),
        "cases": len(cases),
        "team_memberships": len(team_rows),
        **{label: len(rows) for label, rows in records.items()},
    }
    manifest = {
        "format": EXPORT_FORMAT,
        "authority": {"id": municipality.pk, "code": municipality.code, "name": municipality.name},
        "exported_at": timezone.now(),
        "exported_by": by.username,
        "counts": counts,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in parts.items()},
    }
    for name, data in parts.items():
        _write_private(directory / name, data)
    _write_private(directory / "manifest.json", _json(manifest))
    audit.record_committed(
        actor=by,
        action=audit.AuditAction.WRITE,
        object_type="casework.municipality",
        object_id=str(municipality.pk),
        fields=["export"],
        purpose=PURPOSE,
        outcome=audit.AuditOutcome.ALLOWED,
    )
    return ExportResult(directory=directory, counts=counts)
