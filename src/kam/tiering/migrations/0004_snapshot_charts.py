from django.db import migrations, models

# Chart data used to be stored among the tiers of a snapshot's summary.
CHART_KEYS = ("curve", "points")


def move_charts(apps, schema_editor):
    Snapshot = apps.get_model("tiering", "Snapshot")
    for snapshot in Snapshot.objects.filter(state="done").only("summary", "charts").iterator(chunk_size=500):
        summary = snapshot.summary or {}
        charts = {key: summary[key] for key in CHART_KEYS if key in summary and not _is_tier(summary[key])}
        if charts:
            snapshot.summary = {k: v for k, v in summary.items() if k not in charts}
            snapshot.charts = charts
            snapshot.save(update_fields=["summary", "charts"])


def _is_tier(value) -> bool:
    return isinstance(value, dict) and "count" in value


def merge_charts(apps, schema_editor):
    Snapshot = apps.get_model("tiering", "Snapshot")
    for snapshot in Snapshot.objects.exclude(charts={}).only("summary", "charts").iterator(chunk_size=500):
        snapshot.summary = {**snapshot.summary, **snapshot.charts}
        snapshot.save(update_fields=["summary"])


class Migration(migrations.Migration):
    dependencies = [("tiering", "0003_value_potential_axis")]
    operations = [
        migrations.AddField(model_name="snapshot", name="charts", field=models.JSONField(blank=True, default=dict)),
        migrations.RunPython(move_charts, merge_charts),
    ]
