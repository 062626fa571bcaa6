"""``manage.py backup DIR --keys FILE``: a consistent database dump in DIR, the key material in FILE (kept apart).

See :mod:`casework.backup` and README, "Backup and restore". Run it from cron (daily) and copy DIR and FILE to two
different places; the restore drill (``manage.py restore``) proves a backup restores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from casework.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (pg_dump custom format, or SQLite's online backup) and, separately, the keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="A new (or empty) directory for the dump and its manifest.")
        parser.add_argument(
            "--keys",
            type=Path,
            help="Write the key material to this file (mode 0600), outside DIR. Without it, only the database is "
            "backed up: the keys must then be kept from the secret store they come from.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            keys = Path(options["keys"]) if options["keys"] else None  # call_command passes options unparsed
            result = backup(directory=Path(options["directory"]), keys_file=keys)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Database: {result.dump}")
        if result.keys is not None:
            self.stdout.write(f"Keys: {result.keys} (store apart from the database dump)")
        else:
            self.stdout.write("Keys: not written (--keys); a restore needs them from where they are kept.")
