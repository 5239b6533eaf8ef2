"""The sales analytics' read model: the customer-state conversion and the people's process
metrics of a period, read from AnalyticsFigure rows instead of worked out over every visible
account's field history and the period's activities on each request (kam.core.summaries
explains the mechanism).

Rows are kept per period (its first and last day) and per the account's unit and owner:

- per state on the ladder, the accounts in it during the period and those that moved on;
- per person, the period's activities on the group's accounts they took part in (all,
  visits, decision makers met, quotes);
- per owner of open opportunities, the period's activities on the accounts of those
  opportunities (follow-ups).

This quarter is always kept; any other period from its first read, which works it out for
every account and stores it (a marker row, unit -1, says it is there); the rebuild drops the
other periods. The opportunities each person owns open now and won in the period are few
and indexed, and stay read from the opportunities.

A change of an account (its state, unit or owner) marks it ("accounts"); an activity logged,
edited or deleted, or its participants changed, marks its account ("activities"); an
opportunity's change marks its account ("opportunities").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import numpy as np
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import m2m_changed
from django.utils import timezone

from kam.accounts.models import Account
from kam.activities.compliance.measure import current_quarter, parse_period
from kam.activities.models import Activity
from kam.core import summaries
from kam.core.arrays import integer_rows
from kam.core.conf import config
from kam.core.models import OrgUnit
from kam.sales.analytics.selectors import (
    LADDER,
    Analytics,
    Period,
    PersonMetrics,
    Scope,
    StateConversion,
    analyse,
    followed_up,
    participation,
    people_metrics,
    state_outcomes,
    taking_part,
)
from kam.sales.models import AnalyticsFigure, AnalyticsSpan, Opportunity

ANALYTICS = "analytics"
MARKER_UNIT = -1  # the unit of the row saying a period is stored: in no group
COUNTS = ("activities", "visits", "decision_maker_meetings", "quotes")
Key = tuple[date, date]


def _this_quarter() -> Key:
    today = timezone.localdate()
    return parse_period(current_quarter(today)) or (today, today)


# --- computing ---------------------------------------------------------------------------------


def _kept_keys() -> list[Key]:
    keys = {_this_quarter()}
    keys |= set(AnalyticsFigure.objects.filter(span=AnalyticsSpan.KEY).values_list("start", "end"))
    return sorted(keys)


def compute(accounts) -> list[AnalyticsFigure]:
    """The rows of `accounts` (live ones) for every period kept."""
    return [row for key in _kept_keys() for row in measured_rows(accounts, key)]


def _compute_where(accounts, where: dict[str, Any]) -> list[AnalyticsFigure]:
    if not {"start", "end"} <= set(where):
        return compute(accounts)
    return measured_rows(accounts, (where["start"], where["end"]))


def measured_rows(accounts, key: Key) -> list[AnalyticsFigure]:
    """The key's rows for `accounts`: states, people and follow-ups per unit and owner, and the marker."""
    start, end = key
    period = Period(start, end)
    base = {"start": start, "end": end}
    rows = [AnalyticsFigure(**base, unit_id=MARKER_UNIT, owner_id=summaries.NO_OWNER, span=AnalyticsSpan.KEY)]
    groups = integer_rows(accounts.order_by().annotate(u=Coalesce("unit_id", Value(0)), o=Coalesce("owner_id", Value(0)))
                          .values_list("pk", "u", "o"), 3)
    if not len(groups):
        return rows
    groups = groups[np.argsort(groups[:, 0])]
    for state, (ids, moved) in zip(LADDER[:-1], state_outcomes(accounts, period), strict=True):
        if not len(ids):
            continue
        where = groups[np.searchsorted(groups[:, 0], ids)]
        pairs, group = np.unique(where[:, 1:], axis=0, return_inverse=True)
        group = group.reshape(-1)
        held = np.bincount(group, minlength=len(pairs))
        on = np.bincount(group, weights=moved.astype(np.float64), minlength=len(pairs))
        rows += [AnalyticsFigure(**base, unit_id=int(u), owner_id=int(o), span=AnalyticsSpan.STATE, state=state,
                                 held=int(h), moved_on=int(m)) for (u, o), h, m in zip(pairs, held, on, strict=True)]
    unit, owner = Coalesce("activity__account__unit_id", Value(0)), Coalesce("activity__account__owner_id", Value(0))
    for r in (taking_part(accounts, period).order_by().annotate(u=unit, o=owner).values("u", "o", "user_id")
              .annotate(**participation())):
        rows.append(AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.PERSON,
                                    person_id=r["user_id"], **{name: r[name] for name in COUNTS}))
    opportunities = Opportunity.objects.alive().filter(account__in=accounts.values("pk"))
    for r in (followed_up(opportunities, period).order_by()
              .annotate(u=Coalesce("account__unit_id", Value(0)), o=Coalesce("account__owner_id", Value(0)))
              .values("u", "o", "owner_id").annotate(n=Count("account__activities"))):
        rows.append(AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.FOLLOW_UP,
                                    person_id=r["owner_id"], follow_ups=r["n"]))
    return rows


def _prune() -> None:
    """Before a rebuild: the periods stored besides this quarter are dropped (each is worked
    out again at its next read)."""
    start, end = _this_quarter()
    AnalyticsFigure.objects.exclude(start=start, end=end).delete()


def _participants_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any) -> None:
    if not action.startswith("post_"):
        return
    if reverse:  # from the user's side: the activities named
        accounts = Activity.objects.filter(pk__in=pk_set or ()).values_list("account_id", flat=True)
        summaries.touch("activities", list(accounts))
    else:
        summaries.touch("activities", [instance.account_id])


def register() -> None:
    summaries.register(summaries.Summary(
        code=ANALYTICS, model=AnalyticsFigure, facts=frozenset({"accounts", "activities", "opportunities"}),
        compute=compute, compute_where=_compute_where, accounts=Account.objects.alive,
        visible=Account.objects.visible_to, team_only=Account.objects.seen_only_through_team, prune=_prune,
        measures=("held", "moved_on", *COUNTS, "follow_ups")))
    summaries.watch(Activity, "activities")
    summaries.watch(Opportunity, "opportunities")
    m2m_changed.connect(_participants_changed, sender=Activity.participants.through,
                        dispatch_uid="analytics:participants")


# --- reading ---------------------------------------------------------------------------------


def _where(scope: Scope, period: Period, span: str) -> dict[str, Any]:
    where: dict[str, Any] = {"start": period.start, "end": period.end, "span": span}
    if scope.unit is not None:
        where["unit_id__in"] = list(OrgUnit.objects.filter(path__startswith=scope.unit.path).values_list("pk", flat=True))
    if scope.owner_id is not None:
        where["owner_id" if span == AnalyticsSpan.STATE else "person_id"] = scope.owner_id
    return where


def _rows(scope: Scope, period: Period, span: str) -> list[Any]:
    """The scope's rows of the span, from the read model (stored first if the period is not)."""
    assert scope.user is not None
    key = (period.start, period.end)
    stored = summaries.stored(ANALYTICS, marker=Q(span=AnalyticsSpan.KEY, start=key[0], end=key[1]),
                              replace=Q(start=key[0], end=key[1]),
                              rows=lambda: measured_rows(Account.objects.alive(), key))
    return summaries.figures(ANALYTICS, scope.user, by_owner=False, raw=not stored, **_where(scope, period, span)).rows


def states(scope: Scope, period: Period) -> list[StateConversion]:
    """The customer-state conversion (as selectors.customer_state_conversion) from the read model."""
    rows = _rows(scope, period, AnalyticsSpan.STATE)
    held, moved = summaries.by(rows, "state", "held"), summaries.by(rows, "state", "moved_on")
    return [StateConversion(here, there, held.get(here, 0), moved.get(here, 0))
            for here, there in zip(LADDER[:-1], LADDER[1:], strict=True)]


def people(scope: Scope, period: Period) -> list[PersonMetrics]:
    """The people's process metrics (as selectors.process_metrics) from the read model."""
    counted: dict[int, dict[str, Any]] = {}
    for row in _rows(scope, period, AnalyticsSpan.PERSON):
        line = counted.setdefault(row.person_id, {"user_id": row.person_id, **dict.fromkeys(COUNTS, 0)})
        for name in COUNTS:
            line[name] += getattr(row, name)
    follow_ups: dict[int, int] = defaultdict(int)
    for row in _rows(scope, period, AnalyticsSpan.FOLLOW_UP):
        follow_ups[row.person_id] += row.follow_ups
    return people_metrics(scope, period, counted.values(), follow_ups)


def page(scope: Scope, period: Period) -> Analytics:
    """Everything the analytics page shows: the read model's parts when it is on."""
    if not config().READ_MODELS or scope.user is None:
        return analyse(scope, period)
    return analyse(scope, period, states=states, people=people)
