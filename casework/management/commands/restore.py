"""``manage.py restore DIR --database-url URL [--keys FILE]``: restore a backup into a new database and check it.

The keys (from FILE, or else this installation's own) must be the backup's: a restore without them stops with one
line before touching any database. The target must be new or empty (PostgreSQL: created when missing). Afterwards
``verify_audit`` and ``verify_keys`` run against the restored database. Point the installation at it (DATABASE_URL,
and the keys) only after both passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.backup import BackupError, key_material_from_settings, read_key_file, restore, verify_restored


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` into a new database, then verify its audit chain and keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="The backup directory (database dump and manifest).")
        parser.add_argument("--database-url", required=True, help="The new database, e.g. postgres://…/restored.")
        parser.add_argument("--keys", type=Path, help="The key file written by `backup --keys` (default: ours).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            material = read_key_file(Path(options["keys"])) if options["keys"] else key_material_from_settings()
            directory = Path(options["directory"])
            manifest = restore(directory=directory, database_url=options["database_url"], material=material)
            outputs = verify_restored(database_url=options["database_url"], material=material)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Restored the backup of {manifest['created_at']} ({manifest['vendor']}).")
        for line in outputs:
            self.stdout.write(line)
