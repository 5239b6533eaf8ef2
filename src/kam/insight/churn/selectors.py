"""What the churn pages and the API read about events: always the events of the accounts the
user sees."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kam.core.models import OrgUnit
from kam.insight.churn.filters import ChurnEventFilter
from kam.insight.models import ChurnEvent


def churn_events(*, user: Any, filters: ChurnEventFilter | None = None) -> QuerySet[ChurnEvent]:
    """The events on the accounts `user` sees, filtered, newest first."""
    f = filters or ChurnEventFilter()
    qs = ChurnEvent.objects.visible_to(user).select_related(
        "account", "account__industry", "account__unit", "definition", "reason", "competitor", "recorded_by")
    if f.definition:
        qs = qs.filter(definition_id=f.definition)
    if f.reason == 0:
        qs = qs.filter(reason__isnull=True)
    elif f.reason:
        qs = qs.filter(reason_id=f.reason)
    if f.unit:
        unit = OrgUnit.objects.filter(pk=f.unit).first()
        qs = qs.filter(account__unit__path__startswith=unit.path) if unit else qs.none()
    if f.industry:
        qs = qs.filter(account__industry_id=f.industry)
    if f.account:
        qs = qs.filter(account_id=f.account)
    if f.detected_from:
        qs = qs.filter(detected_on__gte=f.detected_from)
    if f.detected_to:
        qs = qs.filter(detected_on__lte=f.detected_to)
    if f.state == "open":
        qs = qs.filter(recovered_on__isnull=True)
    elif f.state == "recovered":
        qs = qs.filter(recovered_on__isnull=False)
    return qs.order_by("-detected_on", "-id")


def churn_event_get(*, user: Any, pk: int) -> ChurnEvent | None:
    return churn_events(user=user).filter(pk=pk).first()
