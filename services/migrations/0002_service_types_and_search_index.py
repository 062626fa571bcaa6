"""The starting list of service types used in the Olomouc Region (administrators edit it afterwards), and on
PostgreSQL a trigram index for the directory's search over ``search_text`` (``UPPER(search_text) LIKE '%…%'``, as
Django writes ``icontains``; pg_trgm was created by ``casework/0020``). Reversible: removes only unused types."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TYPES = [
    # (code, Czech, English, abbreviation) — a frozen copy of services.models.DEFAULT_SERVICE_TYPES
    ("sas", "sociálně aktivizační služby pro rodiny s dětmi", "social activation services for families with children", "SAS"),
    ("counselling", "odborné sociální poradenství", "specialised social counselling", ""),
    ("nzdm", "nízkoprahové zařízení pro děti a mládež", "low-threshold facility for children and youth", "NZDM"),
    ("early_care", "raná péče", "early intervention", ""),
    ("crisis", "krizová pomoc", "crisis help", ""),
    ("therapy", "terapie (rodinná, individuální)", "therapy (family, individual)", ""),
    ("ppp", "pedagogicko-psychologická poradna", "educational and psychological counselling centre", "PPP"),
    ("spc", "speciálně pedagogické centrum", "special educational centre", "SPC"),
    ("child_psychiatrist", "dětský psychiatr", "child psychiatrist", ""),
    ("child_psychologist", "dětský klinický psycholog", "child clinical psychologist", ""),
    ("shelter", "azylový dům", "shelter", ""),
    ("intervention_centre", "intervenční centrum", "intervention centre", ""),
    ("mediation", "rodinná mediace", "family mediation", ""),
    ("facility_urgent", "zařízení pro děti vyžadující okamžitou pomoc", "facility for children needing immediate help", "ZDVOP"),
    ("foster_support", "doprovázení pěstounských rodin", "support of foster families", ""),
    ("other", "jiná služba", "other service", ""),
]

_TRGM_INDEX = "service_search_text_trgm"


def add_types(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ServiceType = apps.get_model("services", "ServiceType")
    for position, (code, name_cs, name_en, abbreviation) in enumerate(TYPES):
        ServiceType.objects.get_or_create(
            code=code,
            defaults={"name_cs": name_cs, "name_en": name_en, "abbreviation": abbreviation, "position": position * 10},
        )


def remove_types(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ServiceType = apps.get_model("services", "ServiceType")
    ServiceType.objects.filter(code__in=[t[0] for t in TYPES], services__isnull=True).delete()


def create_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {_TRGM_INDEX} ON services_service "
        'USING gin ((UPPER("search_text"::text)) gin_trgm_ops)'
    )


def drop_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {_TRGM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0001_service_directory"),
        ("casework", "0020_case_list_index_and_reference_trigrams"),
    ]

    operations = [
        migrations.RunPython(add_types, remove_types),
        migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False),
    ]
