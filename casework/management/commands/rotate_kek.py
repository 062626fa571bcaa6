"""Re-wrap every data key under the current key-encryption key (KEK).

Procedure (README, "Keys"): add the new KEK to FIELD_KEKS and make it FIELD_KEK_CURRENT (or, with the local key file,
let ``--generate-local`` do both), run this command, then remove the old KEK once it reports that no data key uses it.
Old KEKs stay configured — and readable — until the run completes. Each batch is one transaction; a rerun continues
where an interrupted one stopped (keys already under the current KEK are skipped).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from casework.crypto.keys import LocalKeyProvider, get_key_provider, new_data_key
from casework.models import DataKey

BATCH = 500


def _rewrite_key_file(path: Path, kek_id: str, key: bytes) -> None:
    """Append the new KEK to FIELD_KEKS and make it current; written atomically with mode 0600."""
    lines = path.read_text().splitlines() if path.exists() else []
    encoded = base64.b64encode(key).decode()
    out, seen_keks, seen_current = [], False, False
    for line in lines:
        if line.startswith("FIELD_KEKS="):
            line = f"{line},{kek_id}:{encoded}"
            seen_keks = True
        elif line.startswith("FIELD_KEK_CURRENT="):
            line = f"FIELD_KEK_CURRENT={kek_id}"
            seen_current = True
        out.append(line)
    if not seen_keks:
        out.append(f"FIELD_KEKS={kek_id}:{encoded}")
    if not seen_current:
        out.append(f"FIELD_KEK_CURRENT={kek_id}")
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(out) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class Command(BaseCommand):
    help = "Re-wrap every data key under the current key-encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate-local",
            action="store_true",
            help="Generate a new KEK into the local key file (KEY_FILE), make it current, then re-wrap.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        provider = get_key_provider()
        if options["generate_local"]:
            if not isinstance(provider, LocalKeyProvider):
                raise CommandError("--generate-local works only with the local key provider")
            kek_id = "local-" + secrets.token_hex(4)
            key = new_data_key()
            # Persist first: a data key must never be wrapped under a KEK that exists only in memory.
            _rewrite_key_file(Path(settings.KEY_FILE), kek_id, key)
            provider.add_kek(kek_id, key, make_current=True)
            self.stdout.write(f"New key-encryption key {kek_id} written to {settings.KEY_FILE}.")
        current = provider.current_kek_id()
        rewrapped = 0
        while True:
            with transaction.atomic():
                batch = list(
                    DataKey.objects.select_for_update(no_key=True)
                    .filter(wrapped_key__isnull=False)
                    .exclude(kek_id=current)
                    .order_by("id")[:BATCH]
                )
                if not batch:
                    break
                for row in batch:
                    material = provider.unwrap(row.kek_id, bytes(row.wrapped_key or b""), data_key_id=row.id)
                    row.kek_id, row.wrapped_key = provider.wrap(material, data_key_id=row.id)
                DataKey.objects.bulk_update(batch, ["kek_id", "wrapped_key"])
                rewrapped += len(batch)
        in_use = sorted(
            set(DataKey.objects.filter(wrapped_key__isnull=False).values_list("kek_id", flat=True)) - {current}
        )
        self.stdout.write(self.style.SUCCESS(f"Re-wrapped {rewrapped} data keys under {current}."))
        if in_use:
            raise CommandError(f"Data keys still wrapped under: {', '.join(in_use)}")
        self.stdout.write("No data key uses any other key-encryption key; older ones may be removed from FIELD_KEKS.")
