"""Background jobs of core; the scheduler (kam.core.schedule) enqueues them nightly."""

from datetime import datetime

from django_tasks import task

from kam.core.audit import audit_events_purge


@task()
def audit_retention_sweep(now: str = "") -> int:
    """Audit events older than AUDIT_RETENTION_DAYS are removed (the removal is recorded)."""
    return audit_events_purge(now=datetime.fromisoformat(now) if now else None)


@task()
def summaries_rebuild() -> dict[str, int]:
    """Every read model computed afresh (the incremental path keeps them current during the day)."""
    from kam.core import summaries

    return summaries.rebuild()
