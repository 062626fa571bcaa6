"""Fill the region of the Olomouc Region's ORPs and the statistics fields of children registered earlier."""

from django.db import migrations


OLOMOUC_REGION_NAME = "Olomoucký kraj"


def fill_region(apps, schema_editor):
    """The Olomouc Region's ORPs (migration 0014) belong to its regional office."""
    from casework.competence_data import OLOMOUC_REGION

    Municipality = apps.get_model("casework", "Municipality")
    codes = [code for code, _name, _places in OLOMOUC_REGION]
    Municipality.objects.filter(code__in=codes, region="").update(region=OLOMOUC_REGION_NAME)


def fill_statistics_fields(apps, schema_editor):
    """Children registered before this migration get their year of birth and sex through the gate, audited as one
    system read with the purpose "statistics" per batch (docs/adr/0030). Nothing to do on a fresh database."""
    Child = apps.get_model("casework", "Child")
    if not Child.objects.filter(birth_year__isnull=True, shredded_at__isnull=True).exists():
        return
    from casework.services.children import fill_statistics_fields as fill

    fill()


class Migration(migrations.Migration):
    # The gate commits its audit rows before it decrypts (fail closed): it refuses to run inside the migration's
    # transaction, so this data migration runs in autocommit; each step is idempotent.
    atomic = False

    dependencies = [("casework", "0022_statistics_fields_region_regional_office")]

    operations = [
        migrations.RunPython(fill_region, migrations.RunPython.noop),
        migrations.RunPython(fill_statistics_fields, migrations.RunPython.noop),
    ]
