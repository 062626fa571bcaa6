"""A new audit action, ``account``: second-factor enrolment, recovery codes, reset and removal.

Changing the action's check constraint makes SQLite rebuild the audit table, which loses its append-only triggers;
they are dropped before and created again after, in both directions. Existing rows and their hashes are untouched
(the action's value is hashed as text; no row has the new value before this migration).
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from permissions.triggers import create_triggers, drop_triggers


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    drop_triggers(schema_editor.connection)


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    create_triggers(schema_editor.connection)


_OLD_ACTIONS = ["read", "write", "deny", "export", "break_glass", "login"]
_NEW_ACTIONS = [*_OLD_ACTIONS, "account"]


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0004_share_purpose_sealed"),
    ]

    operations = [
        migrations.RunPython(drop, create, elidable=False),
        migrations.RemoveConstraint(
            model_name="auditevent",
            name="audit_action_valid",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("read", "read"),
                    ("write", "write"),
                    ("deny", "denied access"),
                    ("export", "export"),
                    ("break_glass", "break-glass"),
                    ("login", "login"),
                    ("account", "account security"),
                ],
                max_length=16,
                verbose_name="action",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("action__in", _NEW_ACTIONS)), name="audit_action_valid"
            ),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
