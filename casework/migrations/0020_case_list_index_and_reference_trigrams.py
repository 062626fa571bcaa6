"""The case list's indexes (authority, status, newest first; authority, newest first) and, on PostgreSQL, a trigram index for the reference
search (``UPPER(reference) LIKE '%…%'``, as Django writes ``icontains``). SQLite has no trigram indexes: the search
scans there, which is fine for a demo's data."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

_TRGM_INDEX = "case_reference_trgm"


def _create_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL ≥ 13): the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS {_TRGM_INDEX} ON casework_case USING gin ((UPPER("reference"::text)) gin_trgm_ops)'
    )


def _drop_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {_TRGM_INDEX}")  # the extension stays: others may use it


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0019_supervisor_cover"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["municipality", "status", "-opened_at", "-id"], name="case_list_order"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["municipality", "-opened_at", "-id"], name="case_list_all_order"),
        ),
        migrations.RunPython(_create_trigram_index, _drop_trigram_index, elidable=False),
    ]
