"""The archive package of a case file whose shredding review decided a transfer to the archive.

A self-contained ZIP in ``settings.ARCHIVE_EXPORT_DIR``, written before the file's keys are destroyed:

- ``metadata.json`` — the package's own description: format version, the case reference, the authority, the dates
  that started the retention period, the review's decision and reference, counts, and the SHA-256 of each part;
- ``content.json`` — every record of the file: the case row, each record owned by the case's data key (notes,
  assessments, conferences, plans, closure, shares, consents, drafts…), its reports (with the notifier compartment)
  and the child's register entry, plain columns and opened sealed values side by side;
- ``index.html`` — the same content for a person, escaped, without scripts or external resources.

Plaintext comes only through the gate (``gate.read_as_system`` with ``SystemRead.ARCHIVE_TRANSFER``), audited as a
system read per record type. The file name is derived from the review (never from content) and the write is atomic
(a temporary file renamed into place), so a rerun after a crash rewrites the same package. How this maps to the
National Archives' SIP format is in docs/adr/0022-retention-and-shredding-review.md.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from casework.models import Case, KeyOwnerType, Report, RetentionReview
from casework.sealing import SealedField, SealedModel, sealed_models
from permissions import gate
from permissions.policy import SystemRead

PACKAGE_FORMAT = "casework-archive-package/1"


@dataclass(frozen=True)
class ArchivePackage:
    name: str
    sha256: str
    path: Path


def archive_dir() -> Path:
    return Path(settings.ARCHIVE_EXPORT_DIR)


def package_name(review: RetentionReview) -> str:
    """``<authority code>-<year>-<number>-<review id>.zip``: from the case's numbering only."""
    case = review.case
    return f"{case.municipality.code}-{case.year}-{case.number:05d}-review{review.pk}.zip"


def _plain(row: models.Model) -> dict[str, Any]:
    return {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if not isinstance(field, SealedField)
    }


def _file_rows(case: Case) -> list[tuple[type[SealedModel], list[SealedModel]]]:
    """Every sealed record of the file, model by model, in a stable order."""
    found: list[tuple[type[SealedModel], list[SealedModel]]] = []
    for model in sorted(sealed_models(), key=lambda m: m._meta.label_lower):
        if model.SEAL_OWNER_TYPE == KeyOwnerType.CASE:
            rows = list(model._default_manager.filter(model.owner_filter(case.pk)).order_by("pk"))
        elif model is Report:
            rows = list(Report.objects.filter(case_id=case.pk).order_by("pk"))
        elif model.SEAL_OWNER_TYPE == KeyOwnerType.CHILD:
            rows = list(model._default_manager.filter(model.owner_filter(case.child_id)).order_by("pk"))
        else:
            rows = []
        if rows:
            found.append((model, rows))
    return found


def file_content(review: RetentionReview) -> dict[str, Any]:
    """The file's records with their sealed values opened through the gate (audited system reads)."""
    case = review.case
    groups = _file_rows(case)
    batches: list[tuple[Case, Sequence[SealedModel], Sequence[str]]] = [
        (case, rows, list(model.sealed_fields())) for model, rows in groups
    ]
    opened = (
        gate.read_as_system(
            SystemRead.ARCHIVE_TRANSFER, batches, purpose=f"archive transfer per decision {review.decision_reference}"
        )
        if batches
        else []
    )
    records: dict[str, list[dict[str, Any]]] = {}
    for (model, rows), disclosures in zip(groups, opened, strict=True):
        records[model._meta.label_lower] = [
            {"columns": _plain(row), "sealed": dict(disclosure.values)}
            for row, disclosure in zip(rows, disclosures, strict=True)
        ]
    return {"case": _plain(case), "records": records}


def _metadata(review: RetentionReview, parts: dict[str, bytes], counts: dict[str, int]) -> dict[str, Any]:
    case = review.case
    return {
        "format": PACKAGE_FORMAT,
        "created_at": timezone.now(),
        "case": {
            "id": case.pk,
            "reference": case.reference,
            "authority": {"code": case.municipality.code, "name": case.municipality.name},
            "opened_at": case.opened_at,
            "closed_at": case.closed_at,
            "close_reason": case.close_reason,
            "substitute_care": case.substitute_care,
        },
        "retention": {
            "rule": "§ 55(5) Act No. 359/1999 Coll.: 15 years after the year of leaving the register",
            "due_on": review.due_on,
        },
        "shredding_review": {
            "decision": review.decision,
            "decision_reference": review.decision_reference,
            "decided_at": review.decided_at,
            "decided_by": review.decided_by_id,
        },
        "records": counts,
        "parts": {name: hashlib.sha256(data).hexdigest() for name, data in parts.items()},
    }


def _index_html(review: RetentionReview, content: dict[str, Any]) -> str:
    esc = html.escape
    lines = [
        "<!doctype html>",
        '<html lang="cs"><head><meta charset="utf-8">',
        f"<title>{esc(review.case.reference)}</title></head><body>",
        f"<h1>{esc(review.case.reference)}</h1>",
    ]
    for label, records in content["records"].items():
        lines.append(f"<h2>{esc(label)} ({len(records)})</h2>")
        for record in records:
            lines.append("<dl>")
            for key, value in {**record["columns"], **record["sealed"]}.items():
                text = "" if value is None else str(value)
                lines.append(f"<dt>{esc(str(key))}</dt><dd>{esc(text)}</dd>")
            lines.append("</dl>")
    lines.append("</body></html>")
    return "\n".join(lines)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, sort_keys=True).encode()


def archive_package_write(review: RetentionReview) -> ArchivePackage:
    """Build the package and put it in place atomically; returns its name and SHA-256."""
    content = file_content(review)
    parts = {
        "content.json": _dumps(content),
        "index.html": _index_html(review, content).encode(),
    }
    counts = {label: len(records) for label, records in content["records"].items()}
    metadata = _dumps(_metadata(review, parts, counts))
    buffer = io.BytesIO()
    fixed_time = (1980, 1, 1, 0, 0, 0)
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in {"metadata.json": metadata, **parts}.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=fixed_time), data)
    data = buffer.getvalue()
    directory = archive_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = package_name(review)
    target = directory / name
    temporary = directory / f".{name}.{uuid.uuid4().hex}.tmp"
    # Only the service account reads it: the package holds the whole file in clear.
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return ArchivePackage(name=name, sha256=hashlib.sha256(data).hexdigest(), path=target)
