"""``manage.py export_authority --authority OM --as supervisor --out DIR``: every record of an authority, in clear,
for moving to another system. See :mod:`casework.authority_export` and README ("Exporting an authority's data")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from casework.authority_export import export_authority
from casework.management.commands.import_register import authority
from casework.models import User


class Command(BaseCommand):
    help = (
        "Export all data of an authority (register, cases, teams, plans, notes, reports…) as CSV and JSON into a new "
        "directory readable by its owner only (0700/0600), opened through the gate and audited (purpose export). "
        "Only a supervisor of the authority may; the files hold everything in clear: move them to the new system "
        "over an encrypted channel and delete them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--authority", required=True, help="The ORP's code (e.g. OM) or id.")
        parser.add_argument("--as", dest="as_user", required=True, help="Username of the authority's supervisor.")
        parser.add_argument("--out", required=True, help="A directory to create (it must not exist).")

    def handle(self, *args: Any, **options: Any) -> None:
        municipality = authority(options["authority"])
        user = User.objects.select_related("organisation").filter(username=options["as_user"]).first()
        if user is None:
            raise CommandError(_("--as must be a supervisor of this authority."))
        directory = Path(options["out"])
        if directory.exists():
            raise CommandError(_("%(dir)s exists: give a directory that does not exist yet.") % {"dir": directory})
        try:
            result = export_authority(municipality=municipality, by=user, directory=directory)
        except PermissionDenied:
            raise CommandError(_("--as must be a supervisor of this authority.")) from None
        self.stdout.write(_("Exported into %(dir)s (readable by its owner only).") % {"dir": result.directory})
        for name, count in sorted(result.counts.items()):
            self.stdout.write(f"  {name}: {count}")
