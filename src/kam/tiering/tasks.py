"""Snapshots compute in the background worker; the scheme page polls their progress."""

from django_tasks import task

from kam.tiering.services import snapshot_compute


@task()
def compute_snapshot(snapshot_id: int) -> None:
    snapshot_compute(snapshot_id=snapshot_id)
