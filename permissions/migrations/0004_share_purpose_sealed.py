"""A share's purpose is sealed under its case's data key (DESIGN invariant 2), in the shared compartment.

Existing rows are sealed in place: a sealed column is added, each plaintext purpose is sealed into it (bound to the
row, the field ``purpose`` and the case, as ``casework.sealing`` binds it), the plaintext column is dropped and the
sealed one takes its name. Reversible: going back opens each envelope into a plaintext column again (the code before
this migration reads it in clear).

On PostgreSQL the dropped column's old row versions stay in the table's pages until they are vacuumed: run
``VACUUM FULL permissions_share`` after migrating an installation that holds shares.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations, models

import casework.sealing

TABLE = "permissions_share"
FIELD = "purpose"
OWNER_TYPE = "case"  # casework.models.keys.KeyOwnerType.CASE
SCHEMA_VERSION = 1  # casework.sealing.SealedModel.SEAL_SCHEMA_VERSION


def _binding(row_id: uuid.UUID, case_id: uuid.UUID) -> Any:
    from casework.crypto import Binding

    return Binding(table=TABLE, row_id=str(row_id), field=FIELD, owner_id=str(case_id), schema_version=SCHEMA_VERSION)


def seal_purposes(apps: Any, schema_editor: Any) -> None:
    """Seal every plaintext purpose not sealed yet (idempotent: a rerun skips sealed rows)."""
    Share = apps.get_model("permissions", "Share")
    db = schema_editor.connection.alias
    rows = list(Share.objects.using(db).filter(purpose_sealed__isnull=True).values_list("pk", "case_id", "purpose"))
    if not rows:
        return
    from casework.crypto import seal
    from casework.sealing import Keyring

    keyring = Keyring()
    for pk, case_id, purpose in rows:
        key_id, key = keyring.active_key(OWNER_TYPE, case_id)
        envelope = seal(purpose, key=key, key_id=key_id, binding=_binding(pk, case_id))
        Share.objects.using(db).filter(pk=pk).update(purpose_sealed=envelope, purpose="")


def open_purposes(apps: Any, schema_editor: Any) -> None:
    """Back to plaintext for the code before this migration: each envelope opened into the plaintext column."""
    Share = apps.get_model("permissions", "Share")
    db = schema_editor.connection.alias
    rows = list(
        Share.objects.using(db).exclude(purpose_sealed__isnull=True).values_list("pk", "case_id", "purpose_sealed")
    )
    if not rows:
        return
    from casework.crypto import envelope_key_id, open_envelope
    from casework.sealing import Keyring

    keyring = Keyring()
    for pk, case_id, envelope in rows:
        data = bytes(envelope)
        key = keyring.key_by_id(envelope_key_id(data))
        purpose = open_envelope(data, key=key, binding=_binding(pk, case_id))
        Share.objects.using(db).filter(pk=pk).update(purpose=purpose, purpose_sealed=None)


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0002_child_register_and_data_keys"),
        ("permissions", "0003_case_permissions_shares_consents"),
    ]

    operations = [
        migrations.AddField(
            model_name="share",
            name="purpose_sealed",
            field=casework.sealing.SealedField(blank=True, compartment="per_row", null=True, verbose_name="purpose"),
        ),
        migrations.RunPython(seal_purposes, open_purposes),
        # A default, so that reversing (which adds the plaintext column back to a table with rows) can fill it.
        migrations.AlterField(
            model_name="share",
            name="purpose",
            field=models.CharField(blank=True, default="", max_length=200, verbose_name="purpose"),
        ),
        migrations.RemoveField(model_name="share", name="purpose"),
        migrations.RenameField(model_name="share", old_name="purpose_sealed", new_name="purpose"),
    ]
