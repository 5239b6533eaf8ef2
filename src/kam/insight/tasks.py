"""Background jobs of insight; the scheduler (kam.core.schedule) enqueues them nightly."""

from datetime import date

from django_tasks import task

from kam.insight.churn.services import churn_sweep
from kam.insight.forecast.services import refit_and_score
from kam.insight.health.services import health_sweep
from kam.insight.warnings.services import warning_sweep


@task()
def insight_nightly(as_of: str = "") -> dict[str, object]:
    """In this order, each reading what the one before wrote: refit the customer-base models
    and score every account; detect churn; evaluate the early-warning rules; compute health."""
    day = date.fromisoformat(as_of) if as_of else None
    return {
        "scores": refit_and_score(as_of=day),
        "churn": churn_sweep(as_of=day),
        "warnings": warning_sweep(as_of=day),
        "health": health_sweep(as_of=day),
    }
