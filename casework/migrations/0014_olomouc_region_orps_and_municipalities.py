"""Seed the Olomouc Region's 13 ORPs and a few municipalities of each (``casework.competence_data``). An ORP row does
not mean the authority uses the product: that is an OSPOD organisation with a supervisor. Reversible: the reverse
removes the municipalities it added and the ORPs nothing else refers to."""

from django.db import migrations
from django.db.models import ProtectedError

from casework.competence_data import OLOMOUC_REGION


def seed(apps, schema_editor):
    Municipality = apps.get_model("casework", "Municipality")
    ResidenceMunicipality = apps.get_model("casework", "ResidenceMunicipality")
    for code, name, places in OLOMOUC_REGION:
        orp = Municipality.objects.filter(code=code).first() or Municipality.objects.filter(name=name).first()
        if orp is None:
            orp = Municipality.objects.create(code=code, name=name)
        for place in places:
            ResidenceMunicipality.objects.get_or_create(orp=orp, name=place)


def unseed(apps, schema_editor):
    Municipality = apps.get_model("casework", "Municipality")
    ResidenceMunicipality = apps.get_model("casework", "ResidenceMunicipality")
    for code, _name, places in OLOMOUC_REGION:
        ResidenceMunicipality.objects.filter(orp__code=code, name__in=places).delete()
        try:
            Municipality.objects.filter(code=code, organisations__isnull=True, residence_municipalities__isnull=True).delete()
        except ProtectedError:
            pass


class Migration(migrations.Migration):
    dependencies = [("casework", "0013_competence_transfers_duty_reference_format")]

    operations = [migrations.RunPython(seed, unseed)]
