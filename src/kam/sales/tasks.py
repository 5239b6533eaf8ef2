"""Background jobs of sales; the scheduler (kam.core.schedule) enqueues them nightly."""

from django_tasks import task


@task()
def lead_sla_sweep(now: str = "") -> dict:
    """Leads past their follow-up deadline escalate to the assignee's manager; escalated
    leads still without a follow-up one period later are reassigned."""
    from datetime import datetime

    from kam.sales.leads.routing import lead_sla_sweep as sweep

    return sweep(now=datetime.fromisoformat(now) if now else None)


@task()
def pool_sweep(as_of: str = "") -> dict:
    """Owners of accounts about to return to the public pool get notice; accounts past their
    allowed days without a follow-up return to the pool."""
    from datetime import date

    from kam.sales.pool.services import pool_sweep as sweep

    return sweep(today=date.fromisoformat(as_of) if as_of else None)


@task()
def review_escalation_sweep(now: str = "") -> int:
    """Deal reviews at or above the senior amount left without a decision escalate."""
    from datetime import datetime

    from kam.sales.reviews.services import review_escalation_sweep as sweep

    return sweep(now=datetime.fromisoformat(now) if now else None)
