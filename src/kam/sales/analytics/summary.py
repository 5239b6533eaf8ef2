"""The sales analytics' read model: the funnel, the conversion between stages, the days per
stage, the customer-state conversion and the people's process metrics of a period, read from
AnalyticsFigure rows instead of worked out over every visible opportunity's stage history,
account's field history and the period's activities on each request (kam.core.summaries
explains the mechanism). Only the competitors and the quotes, over the deals closed in the
period (few, and indexed), are read from the deals.

Rows are kept per period (its first and last day) and per the account's unit and owner:

- per stage and owner of the opportunities: open now or won or lost in the period (count,
  amount); entered in the period, moved on, won; the stays that ended in the period and
  their seconds; per owner, open now and won in the period;
- per state on the ladder, the accounts in it during the period and those that moved on;
- per person, the period's activities on the group's accounts they took part in (all,
  visits, decision makers met, quotes), and per owner of open opportunities the period's
  activities on those opportunities' accounts (follow-ups).

This quarter is always kept; any other period from its first read, which works it out for
every account and stores it (a marker row, unit -1, says it is there); the rebuild drops the
other periods.

A change of an account (its state, unit or owner) marks it ("accounts"); an activity logged,
edited or deleted, or its participants changed, marks its account ("activities"); an
opportunity's change — a move between stages too — marks its account ("opportunities").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

import numpy as np
from django.db.models import Count, Q, Sum, Value
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
from kam.sales.analytics import selectors as analytics
from kam.sales.analytics.selectors import (
    LADDER,
    PROGRESS,
    WON_PROGRESS,
    Analytics,
    FunnelStep,
    Period,
    PersonMetrics,
    Scope,
    StageConversion,
    StageDays,
    StateConversion,
    followed_up,
    funnel_steps,
    in_funnel,
    owned,
    participation,
    people_metrics,
    period_changes,
    stage_outcomes,
    state_outcomes,
    stays,
    taking_part,
)
from kam.sales.models import OPEN_STAGES, AnalyticsFigure, AnalyticsSpan, Opportunity

ANALYTICS = "analytics"
MARKER_UNIT = -1  # the unit of the row saying a period is stored: in no group
COUNTS = ("activities", "visits", "decision_maker_meetings", "quotes")
MEASURES = ("opportunities", "amount", "entered", "won", "stays", "seconds", "open_opportunities", "held", "moved_on",
            *COUNTS, "follow_ups")
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
    """The key's rows for `accounts` per unit and owner, and the marker."""
    start, end = key
    period = Period(start, end)
    base = {"start": start, "end": end}
    rows = [AnalyticsFigure(**base, unit_id=MARKER_UNIT, owner_id=summaries.NO_OWNER, span=AnalyticsSpan.KEY)]
    if not accounts.exists():
        return rows
    rows += _opportunity_rows(accounts, period, base)
    rows += _state_rows(accounts, period, base)
    unit, owner = Coalesce("activity__account__unit_id", Value(0)), Coalesce("activity__account__owner_id", Value(0))
    for r in (taking_part(accounts, period).order_by().annotate(u=unit, o=owner).values("u", "o", "user_id")
              .annotate(**participation())):
        rows.append(AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.PERSON,
                                    person_id=r["user_id"], **{name: r[name] for name in COUNTS}))
    return rows


def _grouped(ids: np.ndarray, of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct groups of `ids` (rows of `of`: id, then the group's columns, sorted by id)
    and each id's index among them."""
    where = of[np.searchsorted(of[:, 0], ids)]
    pairs, group = np.unique(where[:, 1:], axis=0, return_inverse=True)
    return pairs, group.reshape(-1)


def _state_rows(accounts, period: Period, base: dict) -> list[AnalyticsFigure]:
    groups = integer_rows(accounts.order_by().annotate(u=Coalesce("unit_id", Value(0)), o=Coalesce("owner_id", Value(0)))
                          .values_list("pk", "u", "o"), 3)
    groups = groups[np.argsort(groups[:, 0])]
    rows = []
    for state, (ids, moved) in zip(LADDER[:-1], state_outcomes(accounts, period), strict=True):
        if not len(ids):
            continue
        pairs, group = _grouped(ids, groups)
        held = np.bincount(group, minlength=len(pairs))
        on = np.bincount(group, weights=moved.astype(np.float64), minlength=len(pairs))
        rows += [AnalyticsFigure(**base, unit_id=int(u), owner_id=int(o), span=AnalyticsSpan.STATE, state=state,
                                 held=int(h), moved_on=int(m)) for (u, o), h, m in zip(pairs, held, on, strict=True)]
    return rows


def _opportunity_rows(accounts, period: Period, base: dict) -> list[AnalyticsFigure]:
    """Funnel, stage conversion, days per stage, owned and follow-ups per group and owner of the opportunities."""
    opportunities = Opportunity.objects.alive().filter(account__in=accounts.values("pk"))
    u, o = Coalesce("account__unit_id", Value(0)), Coalesce("account__owner_id", Value(0))
    rows = [AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.FUNNEL, person_id=r["owner_id"],
                            stage=r["stage"], opportunities=r["n"], amount=r["amount"] or 0)
            for r in in_funnel(opportunities, period).order_by().annotate(u=u, o=o)
            .values("u", "o", "owner_id", "stage").annotate(n=Count("pk"), amount=Sum("amount"))]
    rows += [AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.OWNED, person_id=r["owner_id"],
                             open_opportunities=r["open"], won=r["won"])
             for r in owned(opportunities, period).annotate(u=u, o=o).values("u", "o", "owner_id", "open", "won")]
    rows += [AnalyticsFigure(**base, unit_id=r["u"], owner_id=r["o"], span=AnalyticsSpan.FOLLOW_UP,
                             person_id=r["owner_id"], follow_ups=r["n"])
             for r in followed_up(opportunities, period).order_by().annotate(u=u, o=o)
             .values("u", "o", "owner_id").annotate(n=Count("account__activities"))]
    scope = Scope(opportunities=opportunities, accounts=accounts, activity_accounts=accounts)
    changes = period_changes(scope, period)
    if not len(changes):
        return rows
    groups = integer_rows(opportunities.order_by().annotate(u=u, o=o).values_list("pk", "u", "o", "owner_id"), 4)
    groups = groups[np.argsort(groups[:, 0])]

    def of(i: int, pairs: np.ndarray) -> dict[str, Any]:
        return {**base, "unit_id": int(pairs[i][0]), "owner_id": int(pairs[i][1]), "person_id": int(pairs[i][2])}

    for stage, (ids, after) in zip(OPEN_STAGES, stage_outcomes(changes), strict=True):
        if not len(ids):
            continue
        pairs, group = _grouped(ids, groups)
        entered = np.bincount(group, minlength=len(pairs))
        moved = np.bincount(group, weights=(after > PROGRESS[stage]).astype(np.float64), minlength=len(pairs))
        won = np.bincount(group, weights=(after == WON_PROGRESS).astype(np.float64), minlength=len(pairs))
        rows += [AnalyticsFigure(**of(i, pairs), span=AnalyticsSpan.CONVERSION, stage=stage, entered=int(entered[i]),
                                 moved_on=int(moved[i]), won=int(won[i])) for i in range(len(pairs))]
    whose, stage_n, seconds = stays(scope, period, changes)
    for stage in OPEN_STAGES:
        mine = stage_n == PROGRESS[stage]
        if not mine.any():
            continue
        pairs, group = _grouped(whose[mine], groups)
        # Seconds are whole and their sums exact: an integer sum, not a float one.
        total = np.zeros(len(pairs), dtype=np.int64)
        np.add.at(total, group, seconds[mine])
        count = np.bincount(group, minlength=len(pairs))
        rows += [AnalyticsFigure(**of(i, pairs), span=AnalyticsSpan.DAYS, stage=stage, stays=int(count[i]),
                                 seconds=int(total[i])) for i in range(len(pairs))]
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
        measures=MEASURES))
    summaries.watch(Activity, "activities")
    summaries.watch(Opportunity, "opportunities")
    m2m_changed.connect(_participants_changed, sender=Activity.participants.through,
                        dispatch_uid="analytics:participants")


# --- reading ---------------------------------------------------------------------------------


def _read(scope: Scope, period: Period) -> tuple[dict[str, list[Any]], datetime]:
    """The scope's rows of the period per span, from the read model (the period stored first
    if it is not), summed over the accounts' owners by the database."""
    assert scope.user is not None
    key = (period.start, period.end)
    stored = summaries.stored(ANALYTICS, marker=Q(span=AnalyticsSpan.KEY, start=key[0], end=key[1]),
                              replace=Q(start=key[0], end=key[1]),
                              rows=lambda: measured_rows(Account.objects.alive(), key))
    where: dict[str, Any] = {"start": period.start, "end": period.end}
    if scope.unit is not None:
        where["unit_id__in"] = list(OrgUnit.objects.filter(path__startswith=scope.unit.path).values_list("pk", flat=True))
    reads = [{"span__in": [s for s in AnalyticsSpan.values if s != AnalyticsSpan.KEY]}]
    if scope.owner_id is not None:  # the accounts' owner for the states, the opportunities' or the participant otherwise
        reads = [{"span": AnalyticsSpan.STATE, "owner_id": scope.owner_id},
                 {"span__in": [s for s in AnalyticsSpan.values if s not in (AnalyticsSpan.KEY, AnalyticsSpan.STATE)],
                  "person_id": scope.owner_id}]
    found: dict[str, list[Any]] = defaultdict(list)
    true_at = []
    for extra in reads:
        read = summaries.figures(ANALYTICS, scope.user, by_owner=False, raw=not stored, **where, **extra)
        true_at.append(read.as_of)
        for row in read.rows:
            found[row.span].append(row)
    return found, min(true_at)


def _states(rows: list[Any]) -> list[StateConversion]:
    held, moved = summaries.by(rows, "state", "held"), summaries.by(rows, "state", "moved_on")
    return [StateConversion(here, there, held.get(here, 0), moved.get(here, 0))
            for here, there in zip(LADDER[:-1], LADDER[1:], strict=True)]


def _people(scope: Scope, period: Period, found: dict[str, list[Any]]) -> list[PersonMetrics]:
    counted: dict[int, dict[str, Any]] = {}
    for row in found[AnalyticsSpan.PERSON]:
        line = counted.setdefault(row.person_id, {"user_id": row.person_id, **dict.fromkeys(COUNTS, 0)})
        for name in COUNTS:
            line[name] += getattr(row, name)
    owns: dict[int, tuple[int, int]] = {}
    for row in found[AnalyticsSpan.OWNED]:
        open_now, won = owns.get(row.person_id, (0, 0))
        owns[row.person_id] = (open_now + row.open_opportunities, won + row.won)
    return people_metrics(scope, period, counted.values(),
                          summaries.by(found[AnalyticsSpan.FOLLOW_UP], "person_id", "follow_ups"), owns)


def _funnel(rows: list[Any]) -> list[FunnelStep]:
    count, amount = summaries.by(rows, "stage", "opportunities"), summaries.by(rows, "stage", "amount")
    return funnel_steps({stage: (n, amount[stage]) for stage, n in count.items()})


def _conversion(rows: list[Any]) -> list[StageConversion]:
    entered, moved, won = (summaries.by(rows, "stage", name) for name in ("entered", "moved_on", "won"))
    return [StageConversion(stage, entered.get(stage, 0), moved.get(stage, 0), won.get(stage, 0)) for stage in OPEN_STAGES]


def _days(rows: list[Any]) -> list[StageDays]:
    count, seconds = summaries.by(rows, "stage", "stays"), summaries.by(rows, "stage", "seconds")
    return [StageDays(stage, count.get(stage, 0), seconds[stage] / count[stage] / 86400 if count.get(stage) else None)
            for stage in OPEN_STAGES]


def page(scope: Scope, period: Period) -> Analytics:
    """Everything the analytics page shows (as selectors.analyse): the read model's parts when it is on."""
    if not config().READ_MODELS or scope.user is None:
        return analytics.analyse(scope, period)
    found, true_at = _read(scope, period)
    return Analytics(period=period, true_at=true_at, funnel=_funnel(found[AnalyticsSpan.FUNNEL]),
                     conversion=_conversion(found[AnalyticsSpan.CONVERSION]), days=_days(found[AnalyticsSpan.DAYS]),
                     competitors=analytics.win_rate_by_competitor(scope, period),
                     quotes=analytics.quote_comparison(scope, period), states=_states(found[AnalyticsSpan.STATE]),
                     people=_people(scope, period, found))
