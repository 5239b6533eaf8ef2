from django.db import migrations

OLD = {"value_share": "0.20", "growth_cut": "0.10"}
NEW = {
    "growth_cut": "0.20", "decline_band": "0.30", "future_share": "0.50", "growth_cap": "1",
    "min_margin_rate": "0", "overdue_share": "0.10", "complaints_min": 3,
}


def forward(apps, schema_editor):
    """The BCG schemes read the source's matrix: the new parameters join the stored ones (a
    growth cut left at the old default of 10 % becomes 20 %), and 明星/金牛 form the value
    customers."""
    Scheme = apps.get_model("tiering", "Scheme")
    for scheme in Scheme.objects.filter(method="bcg"):
        params = dict(scheme.params)
        if params.get("growth_cut") == OLD["growth_cut"]:
            params["growth_cut"] = NEW["growth_cut"]
        for key, value in NEW.items():
            params.setdefault(key, value)
        codes = params.get("tiers") or []
        value_codes = set(codes[:2])  # [star, cow, wildcat, dog]
        tiers = [{**t, "group": "value"} if t.get("code") in value_codes else t for t in scheme.tiers]
        scheme.params, scheme.tiers = params, tiers
        scheme.save(update_fields=["params", "tiers"])


def backward(apps, schema_editor):
    Scheme = apps.get_model("tiering", "Scheme")
    for scheme in Scheme.objects.filter(method="bcg"):
        params = {k: v for k, v in scheme.params.items() if k not in NEW or k == "growth_cut"}
        if params.get("growth_cut") == NEW["growth_cut"]:
            params["growth_cut"] = OLD["growth_cut"]
        scheme.params = params
        scheme.tiers = [{k: v for k, v in t.items() if k != "group"} for t in scheme.tiers]
        scheme.save(update_fields=["params", "tiers"])


class Migration(migrations.Migration):
    dependencies = [("tiering", "0005_snapshot_worker")]
    operations = [migrations.RunPython(forward, backward)]
