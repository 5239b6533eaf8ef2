"""The churn page's read model: the rates per period and the range's breakdowns summed from
ChurnFigure rows instead of every account's revenue of 13 to 72 months on each request.

Each span the page asks for (a month or quarter of the rates, or a whole range with its tier
day) is registered once (ChurnSpan) and computed for every account: per account the formulas
of kam.insight.churn.rates (its revenue in the 12 months before the span, its counting event
in the span, the loss capped at that revenue), then summed per unit, owner, industry, tier,
definition and reason. Sums of these rows are the rates' numerators and denominators, so
the page's figures equal those computed from the raw facts (tests/insight/test_churn_summary.py).
Revenue, churn events and tiers changing mark their accounts (kam.core.summaries). Spans not
used for SPAN_KEEP_DAYS are dropped at the nightly rebuild.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.core import summaries
from kam.core.arrays import integer_rows
from kam.core.bulk import insert_rows
from kam.core.models import Industry, OrgUnit
from kam.insight.churn import rates
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnFigure, ChurnReason, ChurnSpan
from kam.sales.pool.selectors import cadence_scheme, cadence_tiers

CHURN_FIGURES = "churn-figures"
PERIOD, RANGE = "period", "range"
ALL_DEFINITIONS = 0
NOT_CHURNED = -1
SPAN_KEEP_DAYS = 7


def churn_figures(accounts, spans: list[ChurnSpan] | None = None,
                  definitions: list[int] | None = None) -> list[ChurnFigure]:
    """The rows of `accounts` for `spans` (every registered span without) and `definitions`
    (ALL_DEFINITIONS and every definition without)."""
    spans = list(ChurnSpan.objects.all()) if spans is None else spans
    table = integer_rows(accounts.annotate(own=Coalesce("owner_id", Value(summaries.NO_OWNER)),
                                           ind=Coalesce("industry_id", Value(0)))
                         .values_list("id", "unit_id", "own", "ind"), 4)
    if not spans or not len(table):
        return []
    table = table[np.argsort(table[:, 0])]
    ids = table[:, 0]
    windows = dict(rates._windows(rates.Scope(user=None, base=accounts), ids, sorted({s.start for s in spans})))
    scheme = cadence_scheme()
    tier_days = sorted({s.tier_day for s in spans if s.kind == RANGE and s.tier_day})
    tier_codes = [""]
    tier_index = {}
    for day in tier_days:
        tiers = cadence_tiers(ids, day, scheme).astype(str)
        codes = sorted(set(tiers.tolist()) - set(tier_codes))
        tier_codes += codes
        where = {c: i for i, c in enumerate(tier_codes)}
        tier_index[day] = np.array([where[t] for t in tiers.tolist()], dtype=np.int64)
    blank = np.zeros(len(ids), dtype=np.int64)
    out: list[ChurnFigure] = []
    if definitions is None:
        definitions = [ALL_DEFINITIONS, *ChurnDefinition.objects.order_by("pk").values_list("pk", flat=True)]
    for definition in definitions:
        scope = rates.Scope(user=None, base=accounts, definitions=(definition,) if definition else ())
        for span in spans:
            window = windows[span.start]
            churned, lost, reason = rates._members(ids, rates._counted(scope, span.start, span.end))
            in_base = window > 0
            churned &= in_base
            lost = np.minimum(lost, window)
            tier = tier_index[span.tier_day] if span.kind == RANGE and span.tier_day else blank
            keys = np.column_stack([table[in_base, 1:], tier[in_base], np.where(churned, reason, NOT_CHURNED)[in_base]])
            if not len(keys):
                continue
            groups, inverse = np.unique(keys, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            counted = len(groups)
            base = np.bincount(inverse, minlength=counted)
            base_fen = np.bincount(inverse, weights=window[in_base], minlength=counted)
            gone = np.bincount(inverse, weights=churned[in_base], minlength=counted)
            lost_fen = np.bincount(inverse, weights=np.where(churned, lost, 0)[in_base], minlength=counted)
            for g, (unit, owner, industry, t, why) in enumerate(groups.tolist()):
                out.append(ChurnFigure(span_id=span.pk, unit_id=unit, owner_id=owner, industry_id=industry,
                                       tier=tier_codes[t], definition_id=definition, reason_id=why, base=int(base[g]),
                                       base_fen=int(round(base_fen[g])), churned=int(gone[g]),
                                       lost_fen=int(round(lost_fen[g]))))
    return out


def register() -> None:
    summaries.register(summaries.Summary(
        code=CHURN_FIGURES, model=ChurnFigure, facts=frozenset({"accounts", "revenue", "churn", "tiers"}),
        compute=churn_figures, accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team, measures=("base", "base_fen", "churned", "lost_fen"),
        prune=spans_prune, compute_where=_figures_where))
    summaries.watch(ChurnEvent, "churn")


def _figures_where(accounts, where: dict) -> list[ChurnFigure]:
    """churn_figures for the spans and the definition a read names (span_id / span_id__in,
    definition_id), not every registered one."""
    ids = where.get("span_id__in", [where["span_id"]] if "span_id" in where else None)
    definition = where.get("definition_id")
    return churn_figures(accounts, None if ids is None else list(ChurnSpan.objects.filter(pk__in=ids)),
                         None if definition is None else [definition])


def spans_prune(today: date | None = None) -> int:
    """Spans nobody asked for in SPAN_KEEP_DAYS go, with their rows (the nightly rebuild calls it)."""
    cutoff = (today or timezone.localdate()) - timedelta(days=SPAN_KEEP_DAYS)
    old = list(ChurnSpan.objects.filter(last_used_on__lt=cutoff).values_list("pk", flat=True))
    ChurnFigure.objects.filter(span_id__in=old).delete()
    return ChurnSpan.objects.filter(pk__in=old).delete()[0]


def _spans(wanted: list[tuple[str, date, date, date | None]]) -> dict[tuple, ChurnSpan]:
    """The spans for `wanted`, registering and computing (for every account) those not yet kept."""
    today = timezone.localdate()
    found = {(s.kind, s.start, s.end, s.tier_day): s for s in ChurnSpan.objects.filter(
        start__in={w[1] for w in wanted}, end__in={w[2] for w in wanted})}
    missing = [w for w in wanted if w not in found]
    if missing:
        summaries.refresh(CHURN_FIGURES)  # marked changes first: the new spans are computed from today's facts
        with transaction.atomic():
            fresh = []
            for kind, start, end, tier_day in missing:
                span, created = ChurnSpan.objects.get_or_create(kind=kind, start=start, end=end, tier_day=tier_day,
                                                                defaults={"last_used_on": today})
                found[(kind, start, end, tier_day)] = span
                if created:
                    fresh.append(span)
            if fresh:
                insert_rows(ChurnFigure, churn_figures(Account.objects.alive(), fresh))
    stale = [s.pk for s in found.values() if s.last_used_on != today]
    if stale:
        ChurnSpan.objects.filter(pk__in=stale).update(last_used_on=today)
    return found


def _sum(rows, field: str) -> int:
    return sum(getattr(r, field) for r in rows)


def _rate(key, label: str, rows, all_lost: int | None = None) -> rates.Rate:
    lost = _sum(rows, "lost_fen")
    return rates.Rate(key, label, _sum(rows, "base"), rates._yuan(_sum(rows, "base_fen")), _sum(rows, "churned"),
                      rates._yuan(lost), None if all_lost is None else rates._share(lost, all_lost))


def _grouped(rows, key_of, keys: list[tuple[object, str]], all_lost: int) -> list[rates.Rate]:
    """Per group the Rate of its rows, in `keys` order; groups without an active base left out."""
    members: dict[object, list] = {}
    for row in rows:
        members.setdefault(key_of(row), []).append(row)
    return [_rate(key, label, members[key], all_lost) for key, label in keys
            if key in members and _sum(members[key], "base") > 0]


def churn_rates_read(*, user, start: date, end: date, by: str = "month", unit: OrgUnit | None = None,
                     industry: int | None = None, definition: int | None = None,
                     tier_day: date | None = None) -> rates.ChurnRates:
    """What kam.insight.churn.rates.churn_rates computes, summed from the read model."""
    spans = rates.periods(start, end, by) or rates.periods(start, start, by)
    first, last = spans[0].start, spans[-1].end
    day = min(tier_day or last, timezone.localdate())
    wanted = [(PERIOD, p.start, p.end, None) for p in spans] + [(RANGE, first, last, day)]
    kept = _spans(wanted)
    ids = {w: kept[w].pk for w in wanted}
    range_id = ids[(RANGE, first, last, day)]
    where: dict[str, object] = {"definition_id": definition or ALL_DEFINITIONS}
    if unit is not None:
        where["unit_id__in"] = sorted(unit.subtree_ids())
    if industry:
        where["industry_id"] = industry
    # Each breakdown summed by the database over the stored rows: a few rows each, rather than
    # every unit × industry × tier × reason row of the range summed here.
    team = summaries.team_rows(CHURN_FIGURES, user, span_id__in=sorted(set(ids.values())), **where)

    def read(keys: tuple[str, ...], **span: object) -> summaries.Figures:
        return summaries.figures(CHURN_FIGURES, user, by_owner=False, keys=keys, team=team, **where, **span)

    totals = read(("span_id",), span_id__in=sorted({ids[w] for w in wanted if w[0] == PERIOD}))
    period_rows, as_of = totals.rows, totals.as_of
    reason_rows, industry_rows, tier_rows, unit_rows = (
        read((key,), span_id=range_id).rows for key in ("reason_id", "industry_id", "tier", "unit_id"))
    per_span: dict[int, list] = {}
    for row in period_rows:
        per_span.setdefault(row.span_id, []).append(row)
    periods = [_rate(p.label, p.label, per_span.get(ids[(PERIOD, p.start, p.end, None)], [])) for p in spans]
    all_lost = _sum(industry_rows, "lost_fen")
    total = _rate("total", str(_("All")), industry_rows)
    total.lost_share = 1.0 if all_lost else None
    result = rates.Breakdowns(total=total)

    names = {r.pk: r.name for r in ChurnReason.objects.all()}
    order = list(ChurnReason.objects.order_by("sort_order", "code").values_list("pk", flat=True))
    churned = [r for r in reason_rows if r.reason_id != NOT_CHURNED and r.churned]
    for key in [*order, rates.UNCLASSIFIED]:
        mine = [r for r in churned if r.reason_id == key]
        if mine:
            label = names.get(key) if key else str(_("Unclassified"))
            lost = _sum(mine, "lost_fen")
            result.reasons.append(rates.Rate(key, label, 0, Decimal(0), _sum(mine, "churned"), rates._yuan(lost),
                                             rates._share(lost, all_lost)))
    result.reasons.sort(key=lambda r: -r.lost)

    industries = {i.pk: i.name for i in Industry.objects.all()}
    codes = sorted({r.industry_id for r in industry_rows}, key=lambda k: (k == 0, industries.get(k, "")))
    keys = [(k, industries.get(k) or str(_("No industry"))) for k in codes]
    result.industries = sorted(_grouped(industry_rows, lambda r: r.industry_id, keys, all_lost), key=lambda r: -r.lost)

    scheme = cadence_scheme()
    present = {r.tier for r in tier_rows}
    tier_codes = [c for c in (scheme.tier_codes if scheme else []) if c in present]
    tier_codes += sorted(present - set(tier_codes) - {""}) + ([""] if "" in present else [])
    tier_keys = [(c, (scheme.tier_label(c) if scheme and c else str(_("Not tiered")))) for c in tier_codes]
    result.tiers = _grouped(tier_rows, lambda r: r.tier, tier_keys, all_lost)

    scope = rates.Scope(user=user, unit=unit, industry=industry)
    unit_ids = np.array([r.unit_id for r in unit_rows], dtype=np.int64)
    groups, unit_keys = rates._unit_groups(scope, unit_ids)
    place = {id(r): int(g) for r, g in zip(unit_rows, groups.tolist(), strict=True)}
    result.units = _grouped(unit_rows, lambda r: place[id(r)], [(i, label) for i, (_k, label) in enumerate(unit_keys)],
                            all_lost)
    for rate in result.units:
        rate.key = unit_keys[rate.key][0]
    return rates.ChurnRates(start=first, end=last, by=by, periods=periods, breakdowns=result, as_of=as_of)
