"""Read side of visit planning: whose visits a user may plan, what each account owes in a
month, and the plan's tasks. Every query is scoped to what the user sees."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from kam.accounts.models import Account, Channel
from kam.activities.compliance import measure as compliance
from kam.activities.compliance.cadence import Cadence
from kam.activities.models import Activity, Task, TaskSource
from kam.activities.planning.planner import PlanAccount, visits_due_in_month
from kam.activities.policies import MANAGING_ROLES
from kam.activities.selectors import day_end, day_start
from kam.core.calendar import month_days
from kam.core.conf import config
from kam.tiering.models import Scheme

User = get_user_model()


def plannable_people(*, user: Any) -> QuerySet[Any]:
    """Whose visits `user` may plan (policies.may_plan_for, as a query): themselves, and for
    managers and HQ the active people of the units they see."""
    people = User.objects.filter(is_active=True)
    if user.sees_everything:
        return people.select_related("unit").order_by("username")
    mine = Q(pk=user.pk)
    if user.role in MANAGING_ROLES and user.visible_unit_ids:
        mine |= Q(unit_id__in=user.visible_unit_ids)
    return people.filter(mine).select_related("unit").order_by("username")


def plan_key(month: date) -> int:
    """The source id of a month's plan tasks: YYYYMM."""
    return month.year * 100 + month.month


def plan_tasks(*, user: Any, person: Any, month: date) -> QuerySet[Task]:
    """`person`'s plan tasks for `month` that `user` sees, by day and region."""
    return (Task.objects.visible_to(user)
            .filter(owner=person, source_kind=TaskSource.PLAN, source_id=plan_key(month))
            .select_related("account", "account__region").order_by("due_on", "account__region__name", "id"))


def visit_plan_inputs(*, actor: Any, user: Any, month: date, as_of: date) -> list[PlanAccount]:
    """`user`'s accounts (those `actor` also sees) with the visits each owes in `month`, its
    region and its last visit up to `as_of`. The visits owed come from the service standard of
    the account's tier in the cadence scheme (CADENCE_SCHEME); a key account without one owes
    PLAN_KEY_ACCOUNT_VISITS_PER_MONTH."""
    accounts = Account.objects.visible_to(actor).filter(owner=user)
    rows = {pk: (region, channel) for pk, region, channel in
            accounts.order_by("pk").values_list("pk", "region__name", "channel")}
    if not rows:
        return []
    end = month_days(month.year, month.month)[-1]
    scheme = Scheme.objects.filter(code=config().CADENCE_SCHEME).first()
    tiers: dict[int, str] = {}
    cadences: dict[str, Cadence] = {}
    if scheme is not None:
        m = compliance.measure(user=actor, scheme=scheme, start=month, end=end, as_of=as_of, accounts=accounts)
        tiers = {int(pk): tier for pk, tier in zip(m.ids, m.tier, strict=True) if tier}
        cadences = m.visit_cadences
    visit_kinds, _calls = compliance.contact_kinds()

    def period_start(months: int) -> date:
        first = (month.month - 1) // months * months + 1
        return date(month.year, first, 1)

    starts = {pk: period_start(cadences[tiers[pk]].months) if tiers.get(pk) in cadences else month for pk in rows}
    earliest = min(starts.values())
    visits = Activity.objects.filter(account__in=list(rows), kind__in=visit_kinds,
                                     occurred_at__lt=day_end(as_of)).order_by()
    last = dict(visits.values("account_id").annotate(last=Max("occurred_at")).values_list("account_id", "last"))
    done: Counter[int] = Counter()
    for pk, at in visits.filter(occurred_at__gte=day_start(earliest)).values_list("account_id", "occurred_at"):
        if timezone.localdate(at) >= starts[pk]:
            done[pk] += 1
    result = []
    for pk, (region, channel) in rows.items():
        cadence = cadences.get(tiers.get(pk, ""))
        if cadence is not None:
            index = month.month - starts[pk].month
            required = visits_due_in_month(count=cadence.count, period_months=cadence.months, month_index=index,
                                           done_in_period=done[pk])
        elif channel == Channel.KEY:
            required = max(0, config().PLAN_KEY_ACCOUNT_VISITS_PER_MONTH - done[pk])
        else:
            required = 0
        result.append(PlanAccount(account_id=pk, required=required, region=region or "",
                                  last_visit=timezone.localdate(last[pk]) if pk in last else None))
    return result
