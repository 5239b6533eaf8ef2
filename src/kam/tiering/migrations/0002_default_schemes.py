from django.db import migrations


def seed(apps, schema_editor):
    from kam.tiering.defaults import SCHEMES

    Scheme = apps.get_model("tiering", "Scheme")
    for scheme in SCHEMES:
        Scheme.objects.get_or_create(code=scheme["code"], defaults={k: v for k, v in scheme.items() if k != "code"})


class Migration(migrations.Migration):
    dependencies = [("tiering", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
