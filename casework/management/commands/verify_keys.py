"""``manage.py verify_keys``: do the configured keys open this database? Exit 0 only if they do.

Unwraps every data key that was not crypto-shredded with the configured key-encryption keys and opens the first
sealed value of each sealed model (nothing is printed but counts). Run after a restore, a KEK rotation, or a change of
the key store; a missing or wrong key ends with one line naming the key id, never a key or a value.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casework.crypto.errors import CryptoError
from casework.models import DataKey
from casework.sealing import Keyring, open_values, sealed_models


class Command(BaseCommand):
    help = "Check that the configured keys open every live data key and a sealed value of each sealed model."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            keyring = Keyring()
            live = DataKey.objects.filter(destroyed_at__isnull=True, wrapped_key__isnull=False)
            keys = 0
            for key_id in live.values_list("id", flat=True).iterator():
                keyring.key_by_id(key_id)
                keys += 1
            opened = 0
            destroyed = set(DataKey.objects.filter(destroyed_at__isnull=False).values_list("owner_id", flat=True))
            for model in sealed_models():
                for name in model.sealed_fields():
                    for row in model._default_manager.exclude(**{name: None}).order_by("pk")[:20]:
                        if row.seal_owner_id() in destroyed:
                            continue
                        open_values(row, [name], keyring)
                        opened += 1
                        break
        except CryptoError as error:
            raise CommandError(f"The keys do not open this database: {error}") from None
        self.stdout.write(f"OK: {keys} data keys unwrap, {opened} sealed fields open")
