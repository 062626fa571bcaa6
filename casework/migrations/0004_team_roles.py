"""The starting list of roles on a case team; administrators edit it afterwards (reversible: removes only unused
rows of this list)."""

from django.db import migrations

ROLES = [
    # (Czech, English, usual sector)
    ("třídní učitel/ka", "class teacher", "school"),
    ("výchovný poradce / výchovná poradkyně", "educational counsellor", "school"),
    ("školní metodik prevence", "school prevention officer", "school"),
    ("školní psycholog/psycholožka", "school psychologist", "school"),
    ("praktický lékař pro děti a dorost", "paediatrician", "health"),
    ("dětský psychiatr/psychiatrička", "child psychiatrist", "health"),
    ("klinický psycholog/psycholožka", "clinical psychologist", "health"),
    ("sociální pracovník/pracovnice SAS", "SAS social worker", "service"),
    ("pracovník/pracovnice pověřené osoby", "worker of an accredited organisation", "service"),
    ("sociální pracovník/pracovnice OSPOD", "OSPOD social worker", "ospod"),
    ("kurátor/ka pro děti a mládež", "youth probation worker", "ospod"),
    ("policie ČR", "Police of the Czech Republic", "other"),
    ("jiná role", "other role", ""),
]


def add_roles(apps, schema_editor):
    TeamRole = apps.get_model("casework", "TeamRole")
    for position, (name_cs, name_en, sector) in enumerate(ROLES):
        TeamRole.objects.get_or_create(
            name_cs=name_cs, defaults={"name_en": name_en, "sector": sector, "position": position * 10}
        )


def remove_roles(apps, schema_editor):
    TeamRole = apps.get_model("casework", "TeamRole")
    TeamRole.objects.filter(name_cs__in=[r[0] for r in ROLES], teammembership__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("casework", "0003_cases_teams_notes")]

    operations = [migrations.RunPython(add_roles, remove_roles)]
