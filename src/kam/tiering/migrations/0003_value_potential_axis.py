from django.db import migrations


def add_axis(apps, schema_editor):
    """The value-potential scheme names its potential axis: the model's forecast by default."""
    Scheme = apps.get_model("tiering", "Scheme")
    for scheme in Scheme.objects.filter(method="value_potential"):
        if "potential" not in scheme.params:
            scheme.params = {**scheme.params, "potential": "model"}
            scheme.save(update_fields=["params"])


def remove_axis(apps, schema_editor):
    Scheme = apps.get_model("tiering", "Scheme")
    for scheme in Scheme.objects.filter(method="value_potential"):
        if scheme.params.get("potential") == "model":
            scheme.params = {k: v for k, v in scheme.params.items() if k != "potential"}
            scheme.save(update_fields=["params"])


class Migration(migrations.Migration):
    dependencies = [("tiering", "0002_default_schemes")]
    operations = [migrations.RunPython(add_axis, remove_axis)]
