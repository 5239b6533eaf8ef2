"""Sales analytics over a period: the funnel, conversion between stages and between customer
states, days per stage, win rate by competitor, our quote against theirs, process metrics.

Pure reads over a `Scope` (the opportunities and accounts a user sees, narrowed to a unit or
an owner) and a period of local days `start`…`end` (both included, Asia/Shanghai). The
definitions, which the analytics page repeats:

- **Funnel**: per open stage, the opportunities in it now, with their intended amount; then
  those won and lost in the period (`closed_on` inside it).
- **Stage conversion**: the cohort of stage S is the opportunities that entered S in the
  period (a StageChange to S, counted once each however often they entered). *Moved on* is
  the part that, after entering S, entered a later stage (the next one or one beyond it, or
  won) before the period ended; *won* the part that was won before the period ended. Losing
  or moving back is not moving on.
- **Days per stage**: for each stay in an open stage that ended in the period (a StageChange
  out of it in the period), the days from entering the stage to leaving it; the mean over
  those stays. A stay still running (the current stage of an open opportunity) is not
  counted: its length is not known yet.
- **Win rate by competitor**: of the deals closed in the period on which the competitor was
  a rival, the share we won.
- **Quote comparison**: for deals closed in the period with our quote and a rival's quote,
  one pair per (deal, rival): means of our quote, theirs and ours minus theirs, and the
  share of pairs where our quote was higher; for won and for lost deals.
- **Customer-state conversion**: from the accounts' field history, the state ladder
  unidentified → prospect → opportunity → ordered → active. An account was *in* state S in
  the period when it was in S at the period's start or entered S during it; it *moved on*
  when, after that, it entered a later state on the ladder (the next or one beyond; churned
  is not on the ladder) before the period ended.
- **Process metrics per person**: activities of the period on the scope's accounts in which
  the person took part — visits (kinds in CADENCE_VISIT_KINDS), decision-maker meetings
  (any kind, decision maker met), quotes (kinds quote and bid), all activities; the
  opportunities the person owns that are open now and those won in the period; and
  follow-ups per open opportunity: the activities of the period (by anyone) on the accounts
  of the person's open opportunities, summed per opportunity, divided by the number of those
  opportunities.

Stage and state histories are read as integer arrays (`core.arrays.integer_rows`, packed by
the database on PostgreSQL) and worked through in numpy; the small tables by aggregate SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from kam.accounts.models import Account, LifecycleStatus
from kam.activities.models import Activity
from kam.core.arrays import integer_rows
from kam.core.conf import config
from kam.core.models import OrgUnit, User
from kam.core.sql import EpochSeconds
from kam.sales.models import CLOSED_STAGES, OPEN_STAGES, Opportunity, Rival, Stage, StageChange

QUOTE_KINDS = ("quote", "bid")
# Progress along the stages: losing is no progress, winning the most.
PROGRESS: dict[str, int] = {Stage.LOST: 0, Stage.CONTACT: 1, Stage.DESIGN: 2, Stage.REVIEW: 3, Stage.TENDER: 4, Stage.WON: 5}
WON_PROGRESS = PROGRESS[Stage.WON]
# The customer-state ladder; churned leaves it.
LADDER = (LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY,
          LifecycleStatus.ORDERED, LifecycleStatus.ACTIVE)
STATE_PROGRESS: dict[str, int] = {LifecycleStatus.CHURNED: 0, **{state: n for n, state in enumerate(LADDER, start=1)}}


def _numbered(field: str, numbers: dict[str, int], default: int = -1) -> Case:
    return Case(*(When(**{field: key}, then=Value(n)) for key, n in numbers.items()),
                default=Value(default), output_field=IntegerField())


# --- scope and period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the analytics read: opportunities and accounts visible to the user, narrowed."""

    opportunities: QuerySet
    accounts: QuerySet  # of the owner, when one is chosen
    activity_accounts: QuerySet  # whose activities count for the people: the unit's, whoever owns them
    owner_id: int | None = None
    everything: bool = False  # every live account: the history tables need no account filter
    user: User | None = None  # whose scope it is (the read model reads their part)
    unit: OrgUnit | None = None  # the unit chosen


def _binned_opportunity_ids() -> list[int]:
    """Opportunities in the recycle bin: on their own, or with their account (the partial index
    opportunity_binned_idx reads them without a scan)."""
    return list(Opportunity.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True))


def scope_for(*, user: User, unit: OrgUnit | None = None, owner: User | None = None) -> Scope:
    """The user's visible opportunities and accounts, within `unit`'s subtree and of `owner`
    when given. The caller checks that the unit and the owner are the user's to choose."""
    accounts = Account.objects.visible_to(user)
    if unit is not None:
        accounts = accounts.filter(unit__path__startswith=unit.path)
    if user.sees_everything and unit is None:
        # Every live account's: the same set as below, without joining a million accounts.
        # The opportunities in the recycle bin (with their account or on their own) are few, so
        # their ids are read first.
        deleted = _binned_opportunity_ids()
        opportunities = Opportunity.objects.exclude(pk__in=deleted) if deleted else Opportunity.objects.all()
    else:
        # The visibility terms on the joined account: a branch's accounts are not listed again
        # for each of the page's queries.
        opportunities = Opportunity.objects.visible_to(user)
        if unit is not None:
            opportunities = opportunities.filter(account__unit__path__startswith=unit.path)
    reach = accounts
    if owner is not None:
        opportunities = opportunities.filter(owner=owner)
        accounts = accounts.filter(owner=owner)
    return Scope(opportunities=opportunities, accounts=accounts, activity_accounts=reach, owner_id=owner.pk if owner else None,
                 everything=user.sees_everything and unit is None and owner is None, user=user, unit=unit)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def lo(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min), timezone.get_default_timezone())

    @property
    def hi(self) -> datetime:  # excluded
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min),
                                   timezone.get_default_timezone())


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


# --- funnel ---------------------------------------------------------------------------------------


class _StageLabel:
    stage: str

    @property
    def label(self) -> str:
        return str(Stage(self.stage).label)


@dataclass
class FunnelStep(_StageLabel):
    stage: str
    count: int
    amount: Decimal


def in_funnel(opportunities: QuerySet, period: Period) -> QuerySet:
    """Of `opportunities`, those the funnel counts: open now, or won or lost in the period."""
    return opportunities.filter(Q(stage__in=OPEN_STAGES) | Q(stage__in=CLOSED_STAGES, closed_on__range=(period.start, period.end)))


def funnel_steps(found: dict[str, tuple[int, Decimal | int | None]]) -> list[FunnelStep]:
    """The funnel's steps from (count, intended amount) per stage."""
    return [FunnelStep(stage, found.get(stage, (0, 0))[0], Decimal(found.get(stage, (0, 0))[1] or 0).quantize(Decimal("0.01")))
            for stage in (*OPEN_STAGES, *CLOSED_STAGES)]


def funnel(scope: Scope, period: Period) -> list[FunnelStep]:
    """Open stages now (count, intended amount), then won and lost in the period: one query."""
    rows = in_funnel(scope.opportunities, period).order_by().values("stage").annotate(n=Count("pk"), amount=Sum("amount"))
    return funnel_steps({r["stage"]: (r["n"], r["amount"]) for r in rows})


# --- stage history --------------------------------------------------------------------------------


def _changes(scope: Scope, **where: Any) -> QuerySet[StageChange]:
    changes = StageChange.objects.filter(**where)
    if not scope.everything:
        return changes.filter(opportunity__in=scope.opportunities.values("pk"))
    # Every live account: only the opportunities in the recycle bin drop out. They are few, so
    # their ids are read first and the changes need no join.
    dropped = _binned_opportunity_ids()
    return changes.exclude(opportunity_id__in=dropped) if dropped else changes


def period_changes(scope: Scope, period: Period, *, with_from: bool = True) -> np.ndarray:
    """The period's stage changes as rows (opportunity, progress of to_stage, epoch seconds,
    progress of from_stage or -1), sorted by opportunity and time (ties: by progress). The
    time and the progress travel packed in one integer (seconds × 8 + progress): fewer
    columns to pack and read. Without `with_from` the last column is left out."""
    changes = _changes(scope, at__gte=period.lo, at__lt=period.hi).annotate(
        key=EpochSeconds("at") * 8 + _numbered("to_stage", PROGRESS))
    if with_from:
        packed = integer_rows(changes.annotate(from_n=_numbered("from_stage", PROGRESS))
                              .values_list("opportunity_id", "key", "from_n"), 3)
    else:
        packed = integer_rows(changes.values_list("opportunity_id", "key"), 2)
    packed = packed[np.lexsort((packed[:, 1], packed[:, 0]))]
    rows = np.empty((len(packed), 4), dtype=np.int64)
    rows[:, 0], rows[:, 1], rows[:, 2] = packed[:, 0], packed[:, 1] & 7, packed[:, 1] >> 3
    rows[:, 3] = packed[:, 2] if with_from else -1
    return rows


def _later_max(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """For each row of rows sorted by group (and time within it), the largest `value` (0…15)
    among the group's strictly later rows; -1 for a group's last row."""
    n = len(group)
    later = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return later
    backwards = group[::-1]
    ordinal = np.cumsum(np.r_[True, backwards[1:] != backwards[:-1]]) - 1
    # Each group's keys lie above every earlier group's, so one running maximum restarts per group.
    running = (np.maximum.accumulate(ordinal * 16 + value[::-1]) - ordinal * 16)[::-1]
    same = group[1:] == group[:-1]
    later[:-1][same] = running[1:][same]
    return later


def _cohort(group: np.ndarray, value: np.ndarray, later: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
    """The groups with a row at `level` (sorted) and, for each, the largest value after its
    first such row."""
    at_level = np.flatnonzero(value == level)
    keys, first = np.unique(group[at_level], return_index=True)
    return keys, later[at_level[first]]


@dataclass
class StageConversion(_StageLabel):
    stage: str
    entered: int
    moved_on: int
    won: int

    @property
    def moved_on_rate(self) -> float | None:
        return _share(self.moved_on, self.entered)

    @property
    def won_rate(self) -> float | None:
        return _share(self.won, self.entered)


def stage_outcomes(rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per open stage, from the period's changes (`period_changes`): the opportunities that
    entered it (ids, sorted) and, for each, the most progress it made after entering."""
    later = _later_max(rows[:, 0], rows[:, 1])
    return [_cohort(rows[:, 0], rows[:, 1], later, PROGRESS[stage]) for stage in OPEN_STAGES]


def stage_conversion(scope: Scope, period: Period, rows: np.ndarray | None = None) -> list[StageConversion]:
    """Per open stage, the opportunities that entered it in the period, and how many of them
    moved on to a later stage and were won before the period ended."""
    rows = period_changes(scope, period, with_from=False) if rows is None else rows
    return [StageConversion(stage, len(after), int((after > PROGRESS[stage]).sum()), int((after == WON_PROGRESS).sum()))
            for stage, (_opportunities, after) in zip(OPEN_STAGES, stage_outcomes(rows), strict=True)]


@dataclass
class StageDays(_StageLabel):
    stage: str
    stays: int
    mean_days: float | None


def stays(scope: Scope, period: Period, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The stays in an open stage that ended in the period (see the module): per stay the
    opportunity, the progress number of the stage and the seconds it lasted."""
    rows = period_changes(scope, period) if rows is None else rows
    opp, to_n, t, from_n = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    same = opp[1:] == opp[:-1]
    # Stays that began and ended in the period: from one change to the opportunity's next.
    whose = [opp[:-1][same]]
    stage = [to_n[:-1][same]]
    seconds = [(t[1:] - t[:-1])[same]]
    # Stays that began before: the first change of the period leaves a stage entered earlier.
    first = np.flatnonzero(np.r_[True, ~same] & (from_n >= 0))
    if len(first):
        continuing = _changes(scope, at__gte=period.lo, at__lt=period.hi).exclude(from_stage="").values("opportunity_id")
        entered = integer_rows(
            StageChange.objects.filter(at__lt=period.lo, opportunity__in=continuing).order_by()
            .values("opportunity_id").annotate(last=EpochSeconds(Max("at"))).values_list("opportunity_id", "last"), 2)
        entered = entered[np.argsort(entered[:, 0])]
        where = np.searchsorted(entered[:, 0], opp[first])
        known = where < len(entered)
        known[known] = entered[where[known], 0] == opp[first][known]
        whose.append(opp[first][known])
        stage.append(from_n[first][known])
        seconds.append(t[first][known] - entered[where[known], 1])
    return np.concatenate(whose), np.concatenate(stage), np.concatenate(seconds)


def days_per_stage(scope: Scope, period: Period, rows: np.ndarray | None = None) -> list[StageDays]:
    """Mean days of the stays in each open stage that ended in the period (see the module)."""
    _whose, stages, waits = stays(scope, period, rows)
    out = []
    for name in OPEN_STAGES:
        mine = waits[stages == PROGRESS[name]]
        out.append(StageDays(name, len(mine), float(mine.sum() / len(mine) / 86400) if len(mine) else None))
    return out


# --- competitors ----------------------------------------------------------------------------------


def _closed(scope: Scope, period: Period) -> QuerySet:
    return scope.opportunities.filter(stage__in=CLOSED_STAGES, closed_on__range=(period.start, period.end))


@dataclass
class CompetitorRate:
    competitor_id: int
    competitor: str
    deals: int
    won: int

    @property
    def win_rate(self) -> float | None:
        return _share(self.won, self.deals)


def win_rate_by_competitor(scope: Scope, period: Period) -> list[CompetitorRate]:
    """Per competitor met on deals closed in the period: those deals and the ones we won."""
    rows = (Rival.objects.filter(opportunity__in=_closed(scope, period).values("pk")).order_by()
            .values("competitor_id", "competitor__name")
            .annotate(deals=Count("opportunity_id"), won=Count("opportunity_id", filter=Q(opportunity__stage=Stage.WON))))
    out = [CompetitorRate(r["competitor_id"], r["competitor__name"], r["deals"], r["won"]) for r in rows]
    return sorted(out, key=lambda r: (-r.deals, r.competitor))


@dataclass
class QuoteComparison:
    outcome: str
    competitor: str | None  # None: all competitors
    pairs: int
    our_mean: Decimal | None
    their_mean: Decimal | None
    difference_mean: Decimal | None  # ours minus theirs
    dearer: int  # pairs where our quote was higher

    @property
    def dearer_share(self) -> float | None:
        return _share(self.dearer, self.pairs)


def _mean(total: Decimal | int | None, count: int) -> Decimal | None:
    if total is None:
        total = 0
    return None if not count else (Decimal(total) / count).quantize(Decimal("0.01"))


def quote_comparison(scope: Scope, period: Period) -> list[QuoteComparison]:
    """Our quote against each rival's on deals closed in the period: won, then lost, each as a
    total line and one line per competitor."""
    rows = list(Rival.objects.filter(opportunity__in=_closed(scope, period).values("pk"), quote__isnull=False,
                                     opportunity__our_quote__isnull=False).order_by()
                .values("opportunity__stage", "competitor__name")
                .annotate(pairs=Count("pk"), ours=Sum("opportunity__our_quote"), theirs=Sum("quote"),
                          dearer=Count("pk", filter=Q(opportunity__our_quote__gt=F("quote")))))
    out = []
    for outcome in (Stage.WON, Stage.LOST):
        mine = sorted((r for r in rows if r["opportunity__stage"] == outcome), key=lambda r: (-r["pairs"], r["competitor__name"]))
        lines = [(None, sum(r["pairs"] for r in mine), sum(Decimal(r["ours"]) for r in mine),
                  sum(Decimal(r["theirs"]) for r in mine), sum(r["dearer"] for r in mine))]
        lines += [(r["competitor__name"], r["pairs"], Decimal(r["ours"]), Decimal(r["theirs"]), r["dearer"]) for r in mine]
        for name, pairs, ours, theirs, dearer in lines:
            out.append(QuoteComparison(outcome, name, pairs, _mean(ours, pairs), _mean(theirs, pairs),
                                       _mean(ours - theirs, pairs), dearer))
    return out


# --- customer states ------------------------------------------------------------------------------


@dataclass
class StateConversion:
    state: str
    next_state: str
    held: int  # accounts in the state at some time in the period
    moved_on: int

    @property
    def label(self) -> str:
        return str(LifecycleStatus(self.state).label)

    @property
    def next_label(self) -> str:
        return str(LifecycleStatus(self.next_state).label)

    @property
    def rate(self) -> float | None:
        return _share(self.moved_on, self.held)


def state_outcomes(accounts: QuerySet | None, period: Period) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per state on the ladder but the last, the accounts of `accounts` (None: every live
    one) in it during the period — their ids, sorted — and whether each moved on to a later
    state before the period ended (see the module)."""
    history = Account.history.model.objects.filter(history_date__lt=period.hi, history_type__in=("+", "~"))
    history = history.filter(id__in=(Account.objects.alive() if accounts is None else accounts).values("pk"))
    rows = integer_rows(history.annotate(n=_numbered("lifecycle_status", STATE_PROGRESS), t=EpochSeconds("history_date"))
                        .values_list("id", "n", "t", "history_id"), 4)
    rows = rows[np.lexsort((rows[:, 3], rows[:, 2], rows[:, 0]))]
    account, state = rows[:, 0], rows[:, 1]
    before = rows[:, 2] < int(period.lo.timestamp())
    last_version = np.r_[account[1:] != account[:-1], True]
    # Each account's state at the start (its last version before it) and its versions in the period.
    keep = ~before | (before & (last_version | ~np.r_[before[1:], False]))
    account, state = account[keep], state[keep]
    later = _later_max(account, state)
    out = []
    for here in LADDER[:-1]:
        ids, after = _cohort(account, state, later, STATE_PROGRESS[here])
        out.append((ids, after > STATE_PROGRESS[here]))
    return out


def customer_state_conversion(scope: Scope, period: Period) -> list[StateConversion]:
    """Per state on the ladder (but the last), the accounts in it during the period and how
    many of them moved on to a later state before the period ended (see the module)."""
    outcomes = state_outcomes(None if scope.everything else scope.accounts, period)
    return [StateConversion(here, there, len(ids), int(moved.sum()))
            for (here, there), (ids, moved) in zip(zip(LADDER[:-1], LADDER[1:], strict=True), outcomes, strict=True)]


# --- process metrics ------------------------------------------------------------------------------


@dataclass
class PersonMetrics:
    user_id: int
    name: str
    activities: int = 0
    visits: int = 0
    decision_maker_meetings: int = 0
    quotes: int = 0
    open_opportunities: int = 0
    won: int = 0
    follow_ups: int = 0  # activities on the accounts of the open opportunities, summed per opportunity

    @property
    def follow_ups_per_opportunity(self) -> float | None:
        return None if not self.open_opportunities else self.follow_ups / self.open_opportunities


def visit_kinds() -> list[str]:
    return list(config().CADENCE_VISIT_KINDS)


def taking_part(accounts: QuerySet, period: Period) -> QuerySet:
    """Who took part in the period's activities on `accounts`: rows of the participants table."""
    activities = Activity.objects.filter(occurred_at__gte=period.lo, occurred_at__lt=period.hi,
                                         account__in=accounts.values("pk"))
    return Activity.participants.through.objects.filter(activity__in=activities.values("pk"))


def participation() -> dict[str, Count]:
    """What `taking_part` rows are counted into per person (the names PersonMetrics has)."""
    return {"activities": Count("pk"), "visits": Count("pk", filter=Q(activity__kind__in=visit_kinds())),
            "decision_maker_meetings": Count("pk", filter=Q(activity__decision_maker_met=True)),
            "quotes": Count("pk", filter=Q(activity__kind__in=QUOTE_KINDS))}


def followed_up(opportunities: QuerySet, period: Period) -> QuerySet:
    """The open ones of `opportunities` joined to the period's activities on their accounts:
    Count("account__activities") counts the follow-ups."""
    return opportunities.filter(stage__in=OPEN_STAGES, account__activities__occurred_at__gte=period.lo,
                                account__activities__occurred_at__lt=period.hi)


def process_metrics(scope: Scope, period: Period) -> list[PersonMetrics]:
    """One line per person who took part in an activity of the period on the scope's accounts
    or owns one of its opportunities open now or won in the period; by name."""
    rows = taking_part(scope.activity_accounts, period)
    if scope.owner_id is not None:
        rows = rows.filter(user_id=scope.owner_id)
    counted = rows.order_by().values("user_id").annotate(**participation())
    follow_ups = (followed_up(scope.opportunities, period).order_by().values("owner_id")
                  .annotate(n=Count("account__activities")))
    return people_metrics(scope, period, counted, {r["owner_id"]: r["n"] for r in follow_ups})


def owned(opportunities: QuerySet, period: Period) -> QuerySet:
    """Per owner of `opportunities`: how many are open now (`open`) and won in the period (`won`)."""
    return (opportunities.filter(Q(stage__in=OPEN_STAGES) | Q(stage=Stage.WON, closed_on__range=(period.start, period.end)))
            .order_by().values("owner_id").annotate(open=Count("pk", filter=Q(stage__in=OPEN_STAGES)),
                                                    won=Count("pk", filter=Q(stage=Stage.WON))))


def people_metrics(scope: Scope, period: Period, counted: Iterable[dict[str, Any]], follow_ups: dict[int, int],
                   owns: dict[int, tuple[int, int]] | None = None) -> list[PersonMetrics]:
    """The lines of the people: their counts of taking part (`counted`: per user_id, the
    counts `participation` names), follow-ups, and the opportunities each owns open now and
    won in the period (`owns`; None: read here)."""
    people: dict[int, PersonMetrics] = {}

    def person(pk: int) -> PersonMetrics:
        return people.setdefault(pk, PersonMetrics(pk, ""))

    for r in counted:
        p = person(r["user_id"])
        p.activities, p.visits = r["activities"], r["visits"]
        p.decision_maker_meetings, p.quotes = r["decision_maker_meetings"], r["quotes"]
    if owns is None:
        owns = {r["owner_id"]: (r["open"], r["won"]) for r in owned(scope.opportunities, period)}
    for pk, (open_now, won) in owns.items():
        if open_now or won:
            p = person(pk)
            p.open_opportunities, p.won = open_now, won
    for pk, n in follow_ups.items():
        if n:
            person(pk).follow_ups = n
    for user in get_user_model().objects.filter(pk__in=list(people)):
        people[user.pk].name = str(user)
    return sorted(people.values(), key=lambda p: (p.name, p.user_id))


# --- all of it ------------------------------------------------------------------------------------


@dataclass
class Analytics:
    period: Period
    funnel: list[FunnelStep]
    conversion: list[StageConversion]
    days: list[StageDays]
    competitors: list[CompetitorRate]
    quotes: list[QuoteComparison]
    states: list[StateConversion]
    people: list[PersonMetrics]
    true_at: datetime | None = field(default=None, compare=False)  # read model: when its figures were true


def analyse(scope: Scope, period: Period) -> Analytics:
    """Everything the analytics page shows, from the raw facts; the period's stage changes are read once."""
    rows = period_changes(scope, period)
    return Analytics(period=period, funnel=funnel(scope, period), conversion=stage_conversion(scope, period, rows),
                     days=days_per_stage(scope, period, rows), competitors=win_rate_by_competitor(scope, period),
                     quotes=quote_comparison(scope, period), states=customer_state_conversion(scope, period),
                     people=process_metrics(scope, period))
