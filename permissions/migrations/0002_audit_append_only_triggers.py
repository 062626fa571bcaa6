"""Make the audit table append-only in the database itself. The SQL lives in permissions/triggers.py."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from permissions.triggers import create_triggers, drop_triggers


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    create_triggers(schema_editor.connection)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0001_audit_log"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
