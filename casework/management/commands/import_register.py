"""``manage.py import_register FILE --authority OM --as worker [--commit]``: bring an existing register over.

A dry run by default. See :mod:`casework.register_import` and README ("Importing an existing register").
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from casework import register_import
from casework.models import Municipality, ResidenceMunicipality, User
from permissions import audit
from permissions.policy import may_import_register


def _columns_help() -> str:
    return " ".join(f"{name}{' (*)' if required else ''}: {text}" for name, required, text in register_import.COLUMNS)


def authority(value: str) -> Municipality:
    found = Municipality.objects.filter(code=value).first()
    if found is None and value.isdigit():
        found = Municipality.objects.filter(pk=int(value)).first()
    if found is None:
        raise CommandError(_("No authority with the code or id %(value)s.") % {"value": value[:20]})
    return found


class Command(BaseCommand):
    help = (
        "Import children and their open cases from an authority's existing register (CSV or XLSX, header in row 1). "
        "Dry run unless --commit: prints what would be created, matched or rejected, by row number. The real run "
        "is resumable (rerun the same file to finish it) and idempotent. Columns, (*) = required in the header: "
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        self.help = self.help + _columns_help()
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", help="The register file (.csv or .xlsx).")
        parser.add_argument("--authority", help="The ORP's code (e.g. OM) or id.")
        parser.add_argument(
            "--as",
            dest="as_user",
            help="Username of the authority's OSPOD worker or supervisor who imports (and coordinates by default).",
        )
        parser.add_argument("--commit", action="store_true", help="Carry the import out (default: a dry run).")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")
        parser.add_argument(
            "--write-template",
            metavar="DIR",
            help="Write register-template.csv and .xlsx (fictional example rows) into DIR and stop.",
        )
        parser.add_argument(
            "--write-sample",
            metavar="COUNT",
            type=int,
            help="Write COUNT fictional rows to FILE (.csv or .xlsx) for --authority's municipalities and stop.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["write_template"]:
            self._write_template(Path(options["write_template"]))
            return
        if not options["file"] or not options["authority"]:
            raise CommandError(_("Give the file and --authority."))
        path = Path(options["file"])
        municipality = authority(options["authority"])
        if options["write_sample"]:
            self._write_sample(path, municipality, options["write_sample"])
            return
        if not options["as_user"]:
            raise CommandError(_("Give --as: the username of the authority's OSPOD worker or supervisor."))
        actor = User.objects.select_related("organisation").filter(username=options["as_user"]).first()
        if actor is None or not may_import_register(actor, municipality.pk):
            if actor is not None:
                audit.record_committed(
                    actor=actor,
                    action=audit.AuditAction.DENY,
                    object_type="casework.municipality",
                    object_id=str(municipality.pk),
                    fields=["import"],
                    purpose=register_import.PURPOSE,
                    outcome=audit.AuditOutcome.DENIED,
                )
            raise CommandError(_("--as must be an active OSPOD worker or supervisor of this authority."))
        try:
            result = register_import.plan_import(path, municipality=municipality, actor=actor)
        except register_import.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        if options["commit"]:
            # The kill -9 drill (tests) slows the run down to stop it half-way; 0 otherwise.
            pause = float(os.environ.get("IMPORT_PAUSE_AFTER_ROW_SECONDS", "0"))

            def progress(plans: Any) -> Any:
                for plan in tqdm(
                    plans, file=cast(TextIO, self.stderr._out), disable=options["no_progress"], unit="row", ascii=True
                ):
                    yield plan
                    if pause:
                        time.sleep(pause)

            register_import.carry_out(result, municipality=municipality, actor=actor, progress=progress)
        else:
            self.stdout.write(_("Dry run: nothing was written. Add --commit to import."))
        for line in register_import.report_lines(result):
            self.stdout.write(line)

    def _write_template(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        rows = register_import.template_rows()
        register_import.write_csv(directory / "register-template.csv", rows)
        register_import.write_xlsx(directory / "register-template.xlsx", rows)
        self.stdout.write(_("Wrote the template into %(dir)s.") % {"dir": directory})

    def _write_sample(self, path: Path, municipality: Municipality, count: int) -> None:
        names = list(ResidenceMunicipality.objects.filter(orp=municipality).values_list("name", flat=True))
        if not names:
            raise CommandError(_("The authority has no municipalities (obce) in its area."))
        rows = register_import.sample_rows(count, municipality_names=names)
        if path.suffix.lower() == ".xlsx":
            register_import.write_xlsx(path, rows)
        else:
            register_import.write_csv(path, rows)
        self.stdout.write(_("Wrote %(count)d fictional rows to %(file)s.") % {"count": count, "file": path})
