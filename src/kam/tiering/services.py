"""Tiering actions: compute a snapshot, freeze the annual list, compare, what-if.

The arithmetic lives in `rules` (pure numpy); here the facts are read from the
monthly aggregates and the results stored.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Avg, BigIntegerField, Case, ExpressionWrapper, F, Q, Value, When
from django.db.models import DecimalField as DecimalOut
from django.db.models import FloatField as FloatOut
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, Contact, RelationshipStrength
from kam.core import summaries, workers
from kam.core.arrays import integer_rows, integer_sums
from kam.core.bulk import insert_rows
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, ValidationFailed, refused
from kam.core.models import User
from kam.core.policies import require
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.tiering import forecasts, policies, rules
from kam.tiering.models import (
    Assessment,
    Method,
    MoveDecision,
    Scheme,
    Snapshot,
    SnapshotEntry,
    SnapshotState,
    TierMove,
)
from kam.tiering.params import numeric_leaves, parameter_errors

Progress = Callable[[str, int, int], None]
MONEY_OUT: DecimalOut[Decimal, Decimal] = DecimalOut(max_digits=20, decimal_places=2)
STRENGTH_SCORE = {
    RelationshipStrength.STRONG: 1.0, RelationshipStrength.GOOD: 0.75, RelationshipStrength.FAIR: 0.5,
    RelationshipStrength.WEAK: 0.25, RelationshipStrength.NONE: 0.0,
}


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def window(as_of: date, months: int) -> tuple[date, date]:
    """The `months` calendar months ending with the month of `as_of`: (first day, as_of)."""
    return month_start(as_of, months - 1), as_of


# Methods that compare the window with the one before it (growth); the others read one window.
GROWTH_METHODS = {Method.VALUE_POTENTIAL, Method.BCG, Method.SCORECARD}


def fen_column(field: str) -> Cast:
    """A money column in whole fen as a 64-bit integer (NULL as 0), converted by the database.
    Typed as a float so that SQLite computes it without a cast to NUMERIC around every step;
    the rounding keeps it exact (PostgreSQL computes in numeric all the same)."""
    scaled = ExpressionWrapper(Coalesce(F(field), Value(0)) * 100, output_field=FloatOut())
    return Cast(Round(scaled), output_field=BigIntegerField())


def _months(first: date, last: date) -> list[date]:
    """The first days of the months from `first`'s to `last`'s, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [month_start(first, -n) for n in range(count)]


def _window_fen(ids: np.ndarray, start: date, end: date, field: str) -> np.ndarray:
    """Per live account (`ids`, sorted), fen in [start, end]: whole months from the monthly
    aggregates, a last month that `end` cuts short from the lines themselves."""
    whole_last_month = month_start(end, -1) - timedelta(days=1) == end
    last_whole = end.replace(day=1) if whole_last_month else month_start(end, 1)
    months = _months(start, last_whole) if start <= last_whole else []
    # A range, not IN (…): with statistics SQLite would answer IN by walking the whole
    # (account, month) key in account order rather than grouping the months' rows.
    in_months = MonthlyRevenue.objects.filter(month__gte=months[0], month__lte=months[-1]) if months else \
        MonthlyRevenue.objects.none()
    total = integer_sums(in_months, "account_id", fen_column(field), ids, parts=[Q(month=m) for m in months])
    if not whole_last_month:
        total += integer_sums(RevenueFact.objects.filter(date__gte=max(start, end.replace(day=1)), date__lte=end),
                              "account_id", fen_column(field), ids)
    return total


def _margin_known(ids: np.ndarray, start: date, end: date) -> np.ndarray:
    """Per live account (`ids`, sorted), whether any of its revenue lines in [start, end]
    carries a margin: only then is its margin a fact (an import without margins says nothing)."""
    with_margin = set(MonthlyRevenue.objects.filter(month__gte=start.replace(day=1), month__lte=end,
                                                    margin__isnull=False)
                      .values_list("account_id", flat=True).distinct().order_by())
    return np.isin(ids, np.fromiter(with_margin, dtype=np.int64, count=len(with_margin)))


def _place(ids: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `keys` (account ids) stands in the sorted `ids`, and which of them are there."""
    where = np.searchsorted(ids, keys)
    known = where < len(ids)
    known[known] = ids[where[known]] == keys[known]
    return where, known


def _overdue_fen(ids: np.ndarray) -> np.ndarray:
    """Per live account (`ids`, sorted), its receivables overdue more than 90 days in fen."""
    rows = integer_rows(Account.objects.alive().filter(receivables_over_90_days__gt=0)
                        .values_list("id", fen_column("receivables_over_90_days")), 2)
    overdue = np.zeros(len(ids), dtype=np.int64)
    if len(rows):
        where, known = _place(ids, rows[:, 0])
        overdue[where[known]] = rows[known, 1]
    return overdue


def gather_facts(scheme_method: str, months: int, as_of: date, params: dict | None = None) -> rules.Facts:
    """Every live account, with its revenue in the window (and, for the methods that need
    growth, in the window before it); the margins where a method reads them (the scorecard,
    the portfolio, the BCG matrix, a Pareto ranking by profit), the overdue receivables for
    the BCG matrix."""
    start, end = window(as_of, months)
    previous_start = month_start(start, months) if scheme_method in GROWTH_METHODS else None
    # Accounts in code order: the position is the tie-break between equal revenue (at a
    # million accounts half of them share their revenue, to the fen, with another).
    in_code_order = integer_rows(Account.objects.alive().values_list("id"), 1, order_by="code")[:, 0]
    by_id = np.argsort(in_code_order, kind="stable")
    ids = in_code_order[by_id]
    revenue = _window_fen(ids, start, end, "amount")
    previous = (_window_fen(ids, previous_start, start - timedelta(days=1), "amount") if previous_start
                else np.zeros_like(revenue))
    facts = rules.Facts(ids=ids, codes=by_id, revenue=revenue, previous=previous, months=months)
    by_margin = scheme_method == Method.PARETO and (params or {}).get("measure") == "margin"
    if scheme_method in (Method.SCORECARD, Method.PORTFOLIO, Method.BCG) or by_margin:
        facts.margin = _window_fen(ids, start, end, "margin")
        facts.margin_known = _margin_known(ids, start, end)
    if scheme_method == Method.BCG:
        facts.overdue = _overdue_fen(ids)
        facts.forecast = _forecast_fen(ids, months, start, as_of)
    if scheme_method in (Method.SCORECARD, Method.PORTFOLIO):
        potential = dict(Account.objects.alive().exclude(growth_potential="").values_list("id", "growth_potential"))
        facts.potential = np.array([potential.get(i, "") for i in ids.tolist()], dtype=object)
        facts.relationship = _relationship_scores(ids, {int(i): n for n, i in enumerate(ids.tolist())})
    if scheme_method == Method.PORTFOLIO:
        facts.indicators = _indicators(ids)
    if scheme_method == Method.VALUE_POTENTIAL:
        facts.forecast = _forecast_fen(ids, months, start, as_of)
    return facts


def _indicators(ids: np.ndarray) -> np.ndarray:
    """Per live account (`ids`, sorted), its attractiveness ratings (one column per
    indicator of rules.INDICATORS), NaN where not rated."""
    found = np.full((len(ids), len(rules.INDICATORS)), np.nan)
    rows = list(Assessment.objects.filter(account__deleted_at__isnull=True)
                .values_list("account_id", *rules.INDICATORS))
    if rows:
        values = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float64)
        where, known = _place(ids, values[:, 0].astype(np.int64))
        found[where[known]] = values[known, 1:]
    return found


def _forecast_fen(ids: np.ndarray, months: int, start: date, as_of: date) -> np.ndarray | None:
    """Per live account (`ids`, sorted), the customer-base model's expected value scaled from
    its horizon (INSIGHT_HORIZON_MONTHS) to a window of `months` months, in fen; NaN where
    the account has no forecast. Only a fit made within the window counts — from data up
    to a day between `start` and `as_of` — so a snapshot never reads a forecast made from
    revenue after its day, nor one long stale. None when no account has a forecast."""
    rows = forecasts.expected_values(start, as_of)
    if not len(rows):
        return None
    forecast = np.full(len(ids), np.nan)
    where, known = _place(ids, rows[:, 0])
    forecast[where[known]] = rows[known, 1] * (months / config().INSIGHT_HORIZON_MONTHS)
    return forecast


def _relationship_scores(ids: np.ndarray, position: dict[int, int]) -> np.ndarray:
    """Mean relationship strength of each account's active contacts, 0..1 (0 with none)."""
    scores = np.zeros(len(ids))
    whens = [When(relationship_strength=k, then=Value(v)) for k, v in STRENGTH_SCORE.items()]
    rows = (
        Contact.objects.alive().filter(status="active")
        .values_list("account_id")
        .annotate(score=Avg(Case(*whens, default=Value(0.0), output_field=FloatOut())))
        .order_by()
    )
    for account_id, score in rows:
        if (i := position.get(account_id)) is not None:
            scores[i] = score or 0.0
    return scores


def _check_parameters(scheme: Scheme, params: dict) -> None:
    if errors := parameter_errors(scheme.method, params):
        path, (problem, *_rest) = next(iter(errors.items()))
        labels = {leaf: label for leaf, label, _value in numeric_leaves(params)}
        raise ValidationFailed(
            _("The parameters of scheme %(scheme)s are wrong: %(field)s: %(problem)s")
            % {"scheme": scheme.name, "field": labels.get(path, path.replace(".", " · ")), "problem": problem},
            errors=errors,
        )
    facts = rules.Facts(ids=np.zeros(0, dtype=np.int64), codes=np.zeros(0, dtype=object),
                        revenue=np.zeros(0, dtype=np.int64), previous=np.zeros(0, dtype=np.int64))
    try:
        rules.apply(scheme.method, facts, params)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValidationFailed(
            _("The parameters of scheme %(code)s are incomplete or wrong: %(problem)s")
            % {"code": scheme.code, "problem": exc},
            errors={"params": [str(exc)]},
        ) from exc


@dataclass
class Computation:
    facts: rules.Facts
    result: rules.Result
    start: date


def compute(scheme: Scheme, as_of: date, params: dict | None = None, cap: dict | None = None) -> Computation:
    params = scheme.params if params is None else params
    _check_parameters(scheme, params)
    facts = gather_facts(scheme.method, scheme.window_months, as_of, params)
    result = rules.apply(scheme.method, facts, params, cap if cap is not None else scheme.cap)
    return Computation(facts=facts, result=result, start=window(as_of, scheme.window_months)[0])


def summarise(facts: rules.Facts, tiers: np.ndarray) -> dict[str, dict]:
    summary: dict[str, dict] = {}
    total = int(np.where(facts.revenue > 0, facts.revenue, 0).sum())
    for code in dict.fromkeys(tiers.tolist()):
        chosen = tiers == code
        revenue = int(facts.revenue[chosen].sum())
        summary[code] = {
            "count": int(chosen.sum()),
            "revenue": str(Decimal(revenue) / 100),
            "share": round(revenue / total, 4) if total else 0.0,
        }
    return summary


def _json_value(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else ("inf" if math.isinf(value) else round(value, 6))
    return value


def _input_columns(result: rules.Result) -> dict[str, list]:
    """Each input that explains a tier (share, cumulative share, growth, score…) as a list
    of JSON values, one per account — converted a column at a time, not a cell at a time."""
    columns = {}
    for name, values in result.inputs.items():
        if name in ("revenue", "rank"):
            continue  # stored in their own columns
        values = np.asarray(values)
        column = values.tolist()  # numpy scalars → Python int / float / str
        columns[name] = [_json_value(v) for v in column] if values.dtype.kind in "fO" else column
    return columns


def snapshot_start(*, actor: User, scheme: Scheme, as_of: date) -> Snapshot:
    """Record a snapshot about to be computed (the page shows its progress)."""
    require(policies.may_compute_snapshot(actor, scheme), _("Only headquarters compute tier snapshots."))
    if not scheme.is_active:
        raise ValidationFailed(_("This scheme is switched off."))
    _check_parameters(scheme, scheme.params)
    return Snapshot.objects.create(
        scheme=scheme, as_of=as_of, window_start=window(as_of, scheme.window_months)[0], method=scheme.method,
        params=scheme.params, cap=scheme.cap, created_by=actor, state=SnapshotState.RUNNING,
    )


def snapshot_compute(*, snapshot_id: int, progress: Progress | None = None) -> Snapshot:
    """Compute and store the tiers of every live account for a started snapshot. Idempotent:
    entries of an earlier, interrupted attempt are replaced in the same transaction."""
    with transaction.atomic():
        snapshot = Snapshot.objects.select_for_update().select_related("scheme").get(pk=snapshot_id)
        if snapshot.state == SnapshotState.DONE:
            return snapshot
        me = workers.worker_id()
        if snapshot.worker and snapshot.worker != me and workers.worker_gone(snapshot.worker) is False:
            raise Conflict(_("This snapshot is being computed by another process."))
        # Who computes it, so a snapshot whose worker died shows as interrupted.
        snapshot.state, snapshot.worker, snapshot.progress, snapshot.message = SnapshotState.RUNNING, me, 0, ""
        snapshot.save(update_fields=["state", "worker", "progress", "message"])

    def report(phase: str, done: int, total: int) -> None:
        Snapshot.objects.filter(pk=snapshot.pk).update(progress=int(100 * done / total) if total else 100)
        if progress:
            progress(phase, done, total)

    try:
        facts = gather_facts(snapshot.method, snapshot.scheme.window_months, snapshot.as_of, snapshot.params)
        result = rules.apply(snapshot.method, facts, snapshot.params, snapshot.cap)
        with transaction.atomic():
            SnapshotEntry.objects.filter(snapshot=snapshot).delete()
            _store_entries(snapshot, facts, result, report)
            snapshot.accounts = len(facts)
            snapshot.summary = summarise(facts, result.tiers)
            snapshot.charts = charts(snapshot, facts, result)
            snapshot.flags, snapshot.state, snapshot.progress = result.flags, SnapshotState.DONE, 100
            snapshot.save(update_fields=["accounts", "summary", "charts", "flags", "state", "progress"])
            summaries.invalidate("tiers")
    except Exception as exc:
        Snapshot.objects.filter(pk=snapshot.pk).update(state=SnapshotState.FAILED, message=str(exc)[:500])
        raise
    return snapshot


def snapshot_interrupted(snapshot: Snapshot) -> bool:
    """A snapshot whose computing process died part-way (nothing of it was stored: the entries
    are written in one transaction); it waits for someone to start it again."""
    return snapshot.state == SnapshotState.RUNNING and bool(snapshot.worker) and workers.worker_gone(snapshot.worker) is True


def snapshot_resume(*, actor: User, snapshot: Snapshot) -> Snapshot:
    """Compute an interrupted snapshot again in the background. Refused while its process is
    alive, and for a snapshot that is not interrupted."""
    from kam.tiering.tasks import compute_snapshot

    require(policies.may_compute_snapshot(actor, snapshot), _("Only headquarters compute tier snapshots."))
    with transaction.atomic():
        snapshot = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if not snapshot_interrupted(snapshot):
            raise Conflict(_("This snapshot is not interrupted; there is nothing to start again."))
        snapshot.worker, snapshot.progress, snapshot.message = "", 0, ""
        snapshot.save(update_fields=["worker", "progress", "message"])
        transaction.on_commit(lambda: compute_snapshot.enqueue(snapshot.pk))
    return snapshot


def snapshot_create(*, actor: User, scheme: Scheme, as_of: date, progress: Progress | None = None) -> Snapshot:
    snapshot = snapshot_start(actor=actor, scheme=scheme, as_of=as_of)
    return snapshot_compute(snapshot_id=snapshot.pk, progress=progress)


def _store_entries(snapshot: Snapshot, facts: rules.Facts, result: rules.Result, report: Progress) -> None:
    rank = result.inputs.get("rank")
    total = len(facts)
    ids, tiers = facts.ids.tolist(), result.tiers.tolist()
    revenue = (Decimal(fen).scaleb(-2) for fen in facts.revenue.tolist())
    ranks = np.where((facts.revenue > 0) & (rank > 0), rank, 0).tolist() if rank is not None else [0] * total
    columns = _input_columns(result)
    names = list(columns)
    inputs = zip(*columns.values(), strict=True) if names else ((),) * total

    def entries() -> Iterator[SimpleNamespace]:
        for i, (account_id, tier, fen, place, values) in enumerate(zip(ids, tiers, revenue, ranks, inputs, strict=True)):
            if i % 50_000 == 0:
                report("store", i, total)
            yield SimpleNamespace(snapshot_id=snapshot.pk, account_id=account_id, tier=tier, rank=place or None,
                                  revenue=fen, inputs=dict(zip(names, values, strict=True)))

    insert_rows(SnapshotEntry, entries())
    report("store", total, total)


def charts(snapshot: Snapshot, facts: rules.Facts, result: rules.Result, points: int = 100) -> dict:
    """What the scheme page draws, computed once: the Pareto curve (revenue per percentile of
    ranked accounts, cumulative share) and, for the matrices, a sample of accounts to plot."""
    found: dict = {}
    positive = np.sort(facts.revenue[facts.revenue > 0])[::-1]
    if len(positive):
        total = positive.sum()
        edges = np.unique(np.linspace(0, len(positive), min(points, len(positive)) + 1).round().astype(int))
        sums = np.add.reduceat(positive, edges[:-1])
        cumulative = np.cumsum(sums) / total
        found["curve"] = {
            "accounts": [round(100 * e / len(positive), 1) for e in edges[1:].tolist()],
            "revenue": [round(float(s) / 100, 2) for s in sums.tolist()],
            "cumulative": [round(100 * float(c), 2) for c in cumulative.tolist()],
        }
    if "growth" in result.inputs:
        order = np.argsort(-facts.revenue, kind="stable")
        chosen = order[: min(1500, len(order))]
        g = result.inputs["growth"]
        found["points"] = [
            [int(facts.ids[i]), round(float(facts.revenue[i]) / 100, 2),
             None if np.isinf(g[i]) else round(100 * float(g[i]), 1), str(result.tiers[i])]
            for i in chosen.tolist() if facts.revenue[i] > 0
        ]
    return found


@transaction.atomic
def scheme_update(*, actor: User, scheme: Scheme, params: dict, cap: dict | None = None) -> Scheme:
    """HQ changes a scheme's numbers; the old ones stay in the scheme's history, and
    snapshots keep the parameters they were computed with."""
    require(policies.may_edit_scheme(actor, scheme), _("Only headquarters change the tiering schemes."))
    scheme = Scheme.objects.select_for_update().get(pk=scheme.pk)
    _check_parameters(scheme, params)
    scheme.params = params
    if cap is not None:
        scheme.cap = cap or None
    scheme._history_user = actor  # type: ignore[attr-defined]  # django-simple-history's author of the record
    scheme.save()
    return scheme


@transaction.atomic
def snapshot_freeze(*, actor: User, snapshot: Snapshot, year: int) -> Snapshot:
    """Make `snapshot` the official key-account list of `year` for its scheme."""
    require(policies.may_freeze_snapshot(actor, snapshot), _("Only headquarters fix the annual key-account list."))
    snapshot = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
    if snapshot.state != SnapshotState.DONE:
        raise Conflict(_("Only a finished snapshot can become the annual list."))
    if snapshot.frozen_year is not None:
        raise Conflict(_("This snapshot already is the annual list of %(year)d.") % {"year": snapshot.frozen_year})
    if Snapshot.objects.filter(scheme=snapshot.scheme, frozen_year=year).exists():
        raise Conflict(_("The %(year)d list of this scheme is already fixed.") % {"year": year})
    snapshot.frozen_year, snapshot.frozen_by, snapshot.frozen_at = year, actor, timezone.now()
    snapshot.save(update_fields=["frozen_year", "frozen_by", "frozen_at"])
    summaries.invalidate("tiers")
    return snapshot


def tiers_of(snapshot: Snapshot) -> dict[int, str]:
    """Account id → tier in the snapshot, with HQ-approved moves applied to an annual list."""
    tiers = dict(snapshot.entries.values_list("account_id", "tier"))
    if snapshot.frozen_year is not None:
        for account_id, to_tier in snapshot.moves.filter(decision=MoveDecision.APPROVED).values_list(
            "account_id", "to_tier"
        ):
            tiers[account_id] = to_tier
    return tiers


def tiers_of_account(snapshot: Snapshot, account_id: int) -> str | None:
    move = snapshot.moves.filter(account_id=account_id, decision=MoveDecision.APPROVED).first()
    if move is not None:
        return move.to_tier
    return snapshot.entries.filter(account_id=account_id).values_list("tier", flat=True).first()


@dataclass
class Migration:
    codes: list[str]
    counts: dict[tuple[str, str], int]
    revenue: dict[tuple[str, str], Decimal]
    moved: list[tuple[int, str, str]]  # (account id, from, to) for accounts whose tier changed


def migration_matrix(before: dict[int, str], after: dict[int, str], revenue: dict[int, Decimal],
                     codes: list[str]) -> Migration:
    """From-tier × to-tier counts and revenue (revenue as of `after`). New accounts come from "-"."""
    counts: Counter = Counter()
    amounts: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    moved = []
    for account_id in before.keys() | after.keys():
        pair = (before.get(account_id, rules.NO_TIER), after.get(account_id, rules.NO_TIER))
        counts[pair] += 1
        amounts[pair] += revenue.get(account_id, Decimal(0))
        if pair[0] != pair[1]:
            moved.append((account_id, *pair))
    ordered = list(dict.fromkeys([*codes, *sorted({c for pair in counts for c in pair} - set(codes))]))
    return Migration(ordered, dict(counts), dict(amounts), sorted(moved))


def snapshot_migration(annual_list: Snapshot, fresh: Snapshot) -> Migration:
    revenue = dict(fresh.entries.values_list("account_id", "revenue"))
    return migration_matrix(tiers_of(annual_list), tiers_of(fresh), revenue, annual_list.scheme.tier_codes)


@transaction.atomic
def tier_move_decide(*, actor: User, annual_list: Snapshot, fresh: Snapshot, account: Account, decision: str,
                     reason: str) -> TierMove:
    """HQ approves (the account takes its new tier in the annual list) or rejects a move."""
    require(policies.may_decide_move(actor, fresh), _("Only headquarters decide on moves in the annual list."))
    if annual_list.frozen_year is None or fresh.scheme_id != annual_list.scheme_id:
        raise ValidationFailed(_("Compare an annual list with a snapshot of the same scheme."))
    if decision not in MoveDecision.values:
        raise ValidationFailed(_("Approve or reject."), errors={"decision": [_("Unknown decision.")]})
    if not reason.strip():
        raise ValidationFailed(_("Give the reason for the decision."), errors={"reason": [_("Required.")]})
    before = annual_list.entries.filter(account=account).values_list("tier", flat=True).first() or rules.NO_TIER
    after = fresh.entries.filter(account=account).values_list("tier", flat=True).first()
    if after is None:
        raise NotVisible(_("Not found."))
    if before == after:
        raise ValidationFailed(_("This account does not move."))
    summaries.touch("tiers", [account.pk])
    move, _created = TierMove.objects.update_or_create(
        annual_list=annual_list, account=account,
        defaults={"compared_with": fresh, "from_tier": before, "to_tier": after, "decision": decision,
                  "reason": reason.strip(), "decided_by": actor},
    )
    return move


@dataclass
class WhatIf:
    summary: dict[str, dict]
    migration: Migration
    owners: list[tuple[str, int, int]]  # (owner, gained into top tier, lost from it)
    flags: list[dict]


def what_if(*, actor: User, scheme: Scheme, as_of: date, params: dict, cap: dict | None = None,
            compare_with: Snapshot | None = None) -> WhatIf:
    """The tiers `params` would give, against `compare_with` (default: the scheme's current
    parameters), without saving anything."""
    require(policies.may_run_what_if(actor, scheme))
    new = compute(scheme, as_of, params=params, cap=cap)
    if compare_with is not None:
        before = tiers_of(compare_with)
    else:
        current = compute(scheme, as_of)
        before = dict(zip(current.facts.ids.tolist(), current.result.tiers.tolist(), strict=True))
    after = dict(zip(new.facts.ids.tolist(), new.result.tiers.tolist(), strict=True))
    revenue = {i: Decimal(r) / 100 for i, r in zip(new.facts.ids.tolist(), new.facts.revenue.tolist(), strict=True)}
    migration = migration_matrix(before, after, revenue, scheme.tier_codes)
    top = scheme.tier_codes[0] if scheme.tier_codes else None
    changes: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    moved_ids = [m[0] for m in migration.moved if top in (m[1], m[2])]
    owners = dict(Account.objects.filter(pk__in=moved_ids).values_list("pk", "owner_id"))
    for account_id, _old, new_tier in migration.moved:
        if account_id in owners:
            changes[owners[account_id]][0 if new_tier == top else 1] += 1
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _

    names: dict[int | None, str] = {u.pk: str(u) for u in get_user_model().objects.filter(pk__in=[k for k in changes if k is not None])}
    names[None] = _("in the pool")  # accounts without an owner
    per_owner = sorted(((names.get(k, "?"), v[0], v[1]) for k, v in changes.items()), key=lambda r: -(r[1] + r[2]))
    return WhatIf(summary=summarise(new.facts, new.result.tiers), migration=migration, owners=per_owner,
                  flags=new.result.flags)



@transaction.atomic
def assessment_save(*, actor: User, account: Account, values: dict[str, Any]) -> Assessment:
    """Rate the account on the scorecard's attractiveness indicators (1–5 each, None: not
    rated); the old ratings stay in its history. Refused for an account the actor may not see
    or edit, and for a rating outside 1–5, naming the indicator."""
    found = Account.objects.visible_to(actor).filter(pk=account.pk).first()
    if found is None:
        raise NotVisible(_("Not found."))
    require(policies.may_rate_account(actor, found), _("You may not change this account."))
    unknown = sorted(set(values) - set(rules.INDICATORS))
    if unknown:
        raise refused(unknown[0], _("Not an indicator of the scorecard."))
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5):
            raise refused(name, _("Rate from 1 to 5."))
    assessment, _created = Assessment.objects.select_for_update().get_or_create(account=found)
    for name, value in values.items():
        setattr(assessment, name, value)
    assessment.updated_by = actor
    assessment._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    assessment.save()
    return assessment
