"""Re-encrypt every owner's sealed values under a fresh data key; resumable and idempotent.

A run remembers its start time (``ReencryptionRun``); it renews every owner whose active data key is older than that.
Each owner is one transaction: open its values with the old key (in memory only), create the new key, re-seal, retire
and destroy the old key. Killed at any point (even ``kill -9``), a rerun resumes the open run and skips owners already
done, so no value is ever left under a key that is gone.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from casework.models import DataKey, ReencryptionRun
from casework.sealing import Keyring, open_values, seal_values, sealed_models
from permissions import audit


class Command(BaseCommand):
    help = "Re-encrypt sealed values with new data keys, owner by owner (resumes an interrupted run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        run = ReencryptionRun.objects.filter(finished_at__isnull=True).order_by("started_at").first()
        if run is None:
            run = ReencryptionRun.objects.create(started_at=timezone.now())
            self.stdout.write(f"Started re-encryption run {run.pk}.")
        else:
            self.stdout.write(f"Resuming re-encryption run {run.pk} ({run.owners_done} owners done before).")
        owners = list(
            DataKey.objects.filter(retired_at__isnull=True, destroyed_at__isnull=True, created_at__lt=run.started_at)
            .order_by("created_at", "id")
            .values_list("owner_type", "owner_id")
        )
        throttle = float(os.environ.get("REENCRYPT_THROTTLE_SECONDS", "0"))  # tests slow it down to kill it mid-run
        owners_done = values_done = 0
        for owner_type, owner_id in tqdm(owners, disable=options["no_progress"], unit="owner", file=self.stderr):
            done = self._renew_owner(run, owner_type, owner_id)
            if done is not None:
                owners_done += 1
                values_done += done
            if throttle:
                time.sleep(throttle)
        ReencryptionRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {values_done} values of {owners_done} owners; run {run.pk} finished.")
        )

    def _renew_owner(self, run: ReencryptionRun, owner_type: str, owner_id: uuid.UUID) -> int | None:
        with audit.atomic():
            old = (
                DataKey.objects.select_for_update(no_key=True)
                .filter(owner_type=owner_type, owner_id=owner_id, retired_at__isnull=True)
                .first()
            )
            if old is None or old.created_at >= run.started_at or old.destroyed_at is not None:
                return None  # renewed by an earlier attempt, or shredded meanwhile
            keyring = Keyring()
            plaintexts = []
            for model in sealed_models():
                if owner_type != model.SEAL_OWNER_TYPE:
                    continue
                names = list(model.sealed_fields())
                for row in model._default_manager.filter(model.owner_filter(owner_id)):
                    plaintexts.append((row, open_values(row, names, keyring)))
            now = timezone.now()
            DataKey.objects.filter(pk=old.pk).update(retired_at=now, destroyed_at=now, wrapped_key=None)
            keyring.forget_owner(owner_type, owner_id)
            keyring.create_key(owner_type, owner_id)
            count = 0
            for row, values in plaintexts:
                seal_values(row, values, keyring)
                row.save(update_fields=list(values))
                count += sum(1 for v in values.values() if v is not None)
            ReencryptionRun.objects.filter(pk=run.pk).update(owners_done=F("owners_done") + 1)
            audit.record(
                actor=None,
                action=audit.AuditAction.WRITE,
                object_type=f"datakey.{owner_type}",
                object_id=str(owner_id),
                fields=["reencrypt"],
                purpose="re-encryption with a new data key",
                outcome=audit.AuditOutcome.ALLOWED,
            )
            return count
