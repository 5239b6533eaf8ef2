"""Account health: a 0–100 score per account and month, from parts each 0–100 (None when the
account gives nothing to judge that part by). Set-based over whole tables, like the rules.

The parts:

- cadence: the days since the clock of the most overdue contact kind started (the later of
  the last visit or call and the day the tier began asking for it) against the gap its
  service standard allows: 100 within the gap, then down in a straight line to 0 at twice
  the gap (never contacted: 0). None when the account's tier asks for no contact.
- chain: decision-chain coverage — the share of the roles the decision chain names as
  ones to cover (decision maker, expert, gatekeeper, influencer, procurement) held by a
  contact in post. None when the account has no contacts at all.
- trend: the recent monthly average spend against the baseline's (the windows of the
  spend_drop warning rule): 100 × recent ÷ baseline, at most 100. None without baseline spend.
- alive: 100 × P(alive) of the latest fit. None when the account has no score.
- payment: the amount overdue (the larger of overdue and over-90-day receivables) against
  the credit limit (or the receivables when there is no limit): 100 × (1 − overdue ÷ that),
  100 when nothing is overdue, 0 when something is overdue and there is nothing to compare
  it with. None when the account has no credit figures.
- warnings: 100 less HEALTH_WARNING_PENALTY points per open warning by severity, at least 0.

The score is the weighted mean of the parts that are not None, weights from HEALTH_WEIGHTS;
a None part is left out and the others share its weight. Rounded half up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.decision_chain import ROLE_ORDER
from kam.accounts.models import Account, Contact, ContactStatus, DecisionRole
from kam.activities.compliance import cadence
from kam.core.arrays import integer_rows
from kam.core.bulk import copy_fast, insert_values
from kam.core.conf import config
from kam.core.errors import NotVisible, refused
from kam.core.models import User
from kam.core.policies import require
from kam.insight.health import policies
from kam.insight.models import AccountScore, HealthScore, SatisfactionSurvey, Warning, WarningRule
from kam.insight.warnings import writes
from kam.insight.warnings.rules import (
    Context,
    account_scope,
    contact_clock,
    month_start,
    overdue_amounts,
    spend_averages,
)

PARTS = ("cadence", "chain", "trend", "alive", "payment", "warnings")
# Points an open warning takes off the warnings part, by severity.
CHAIN_ROLES = [r.value for r in ROLE_ORDER[:-1] if r != DecisionRole.USER]
BATCH = 20000
# Where each of a part's account ids sits in the sweep's ids, and which of them are there.
Index = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def part_labels() -> dict[str, str]:
    return {"cadence": _("Contact cadence"), "chain": _("Decision chain"), "trend": _("Revenue trend"),
            "alive": _("Probability still active"), "payment": _("Payment behaviour"), "warnings": _("Open warnings")}


def weights() -> dict[str, float]:
    """HEALTH_WEIGHTS ("cadence:20,chain:15,…") as {part: weight}; parts not named weigh 0."""
    given = config().HEALTH_WEIGHTS
    return {part: float(max(0, given.get(part, 0))) for part in PARTS}


def combine(parts: dict[str, float | None], weight: dict[str, float] | None = None) -> int:
    """The weighted mean of the parts that are not None (0–100), rounded half up; 0 when no
    part can be judged."""
    weight = weight or weights()
    total = sum(weight.get(k, 0) for k, v in parts.items() if v is not None)
    if total <= 0:
        return 0
    value = sum(weight.get(k, 0) * v for k, v in parts.items() if v is not None) / total
    return int(min(100, max(0, np.floor(value + 0.5 + 1e-9))))


def penalties() -> dict[str, float]:
    """Points per open warning by severity, from HEALTH_WARNING_PENALTY ("high:40,…")."""
    return {severity: float(points) for severity, points in config().HEALTH_WARNING_PENALTY.items()}


def band(score: int | None) -> str:
    """A colour for a score: green from the first of HEALTH_BANDS (70), yellow from the second
    (40), red below; secondary for none."""
    if score is None:
        return "secondary"
    green, yellow = config().HEALTH_BANDS
    return "green" if score >= green else "yellow" if score >= yellow else "red"


def _cadence(ctx: Context, n: int, index: Index) -> np.ndarray:
    out = np.full(n, np.nan)
    # Look back twice the longest gap: beyond that the part is 0 whatever the date.
    m = contact_clock(ctx, twice=True)
    if m is None or not len(m.ids):
        return out
    today = ctx.as_of.toordinal()
    worst = np.full(len(m.ids), np.nan)
    for last, gap, since in ((m.last_visit, m.visit_gap, m.visit_since), (m.last_call, m.call_gap, m.call_since)):
        clock = np.maximum(last, since)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(clock == cadence.NEVER, np.inf, (today - clock) / np.where(gap > 0, gap, 1))
        score = np.where(ratio <= 1, 100.0, np.clip(100.0 * (2 - ratio), 0, 100))
        score = np.where(gap > 0, score, np.nan)
        worst = np.where(np.isnan(worst), score, np.where(np.isnan(score), worst, np.minimum(worst, score)))
    at, known = index(m.ids)
    out[at[known]] = worst[known]
    return out


def _chain(ctx: Context, n: int, index: Index) -> np.ndarray:
    out = np.full(n, np.nan)
    contacts = ctx.scoped(Contact.objects.alive())
    # Integers straight into arrays: a row object per account costs more than the query.
    having = np.unique(integer_rows(contacts.values_list("account_id").order_by().distinct(), 1)[:, 0])
    at, known = index(having)
    out[at[known]] = 0.0
    rows = integer_rows(contacts.filter(status=ContactStatus.ACTIVE, decision_role__in=CHAIN_ROLES)
                        .values("account_id").order_by().annotate(roles=Count("decision_role", distinct=True))
                        .values_list("account_id", "roles"), 2)
    at, known = index(rows[:, 0])
    out[at[known]] = 100.0 * rows[known, 1] / len(CHAIN_ROLES)
    return out


def _put(out: np.ndarray, index: Index, pairs: list[tuple[int, float]]) -> None:
    """out[place of account] = value for each (account id, value)."""
    if pairs:
        keys = np.array([p[0] for p in pairs], dtype=np.int64)
        values = np.array([p[1] for p in pairs], dtype=np.float64)
        at, known = index(keys)
        out[at[known]] = values[known]


def _trend(ctx: Context, n: int, index: Index) -> np.ndarray:
    out = np.full(n, np.nan)
    rule = WarningRule.objects.filter(code="spend_drop").first()
    params = (rule.params if rule else None) or {"baseline_months": 6, "recent_months": 3}
    averages = spend_averages(ctx, int(params["baseline_months"]), int(params["recent_months"]))
    _put(out, index, [(pk, float(min(Decimal(100), 100 * recent / base)))
                      for pk, (base, recent) in averages.items() if base > 0])
    return out


def _alive(ctx: Context, n: int, index: Index) -> np.ndarray:
    out = np.full(n, np.nan)
    rows = list(ctx.scoped(AccountScore.objects.all()).values_list("account_id", "p_alive"))
    if rows:
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        at, known = index(ids)
        out[at[known]] = 100.0 * np.clip(np.array([r[1] for r in rows], dtype=np.float64)[known], 0, 1)
    return out


def payment_score(overdue: Decimal | None, over_90: Decimal | None, limit: Decimal | None,
                  receivables: Decimal | None, prepaid: Any) -> float | None:
    if overdue is None and over_90 is None:
        return 100.0 if prepaid else None
    amount = max(overdue or Decimal(0), over_90 or Decimal(0))
    if amount <= 0:
        return 100.0
    base = limit if limit and limit > 0 else receivables if receivables and receivables > 0 else None
    if base is None:
        return 0.0
    return float(max(Decimal(0), 100 * (1 - amount / base)))


def _payment(ctx: Context, n: int, index: Index) -> np.ndarray:
    out = np.full(n, np.nan)
    scored = [(row[0], payment_score(*row[1:])) for row in overdue_amounts(ctx)]
    _put(out, index, [(pk, value) for pk, value in scored if value is not None])
    return out


def _warnings(ctx: Context, n: int, index: Index) -> np.ndarray:
    penalty = np.zeros(n)
    rows = (ctx.scoped(Warning.objects.open()).values("account_id", "severity").order_by()
            .annotate(count=Count("id")).values_list("account_id", "severity", "count"))
    points = penalties()
    pairs = [(pk, points.get(severity, 0) * count) for pk, severity, count in rows]
    if pairs:
        keys = np.array([p[0] for p in pairs], dtype=np.int64)
        at, known = index(keys)
        np.add.at(penalty, at[known], np.array([p[1] for p in pairs], dtype=np.float64)[known])
    return np.clip(100.0 - penalty, 0, 100)


def compute(as_of: date, account_ids: Iterable[int] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(account ids ascending, {part: float array with NaN for None}, scores) as of `as_of`."""
    only = account_scope(account_ids)
    alive = Account.objects.alive() if only is None else Account.objects.alive().filter(pk__in=only.values("pk"))
    ids = np.array(sorted(alive.values_list("pk", flat=True)), dtype=np.int64)
    ctx = Context(as_of=as_of, ids=ids, only=only)
    n = len(ids)

    def index(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.searchsorted(ids, keys)
        known = at < n
        known[known] = ids[at[known]] == keys[known]
        return at, known

    parts = {"cadence": _cadence(ctx, n, index), "chain": _chain(ctx, n, index), "trend": _trend(ctx, n, index),
             "alive": _alive(ctx, n, index), "payment": _payment(ctx, n, index), "warnings": _warnings(ctx, n, index)}
    w = weights()
    num, den = np.zeros(n), np.zeros(n)
    for name, values in parts.items():
        have = ~np.isnan(values)
        num += np.where(have, values * w[name], 0)
        den += np.where(have, w[name], 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(den > 0, np.floor(num / np.where(den > 0, den, 1) + 0.5 + 1e-9), 0)
    return ids, parts, np.clip(scores, 0, 100).astype(np.int64)


def health_sweep(as_of: date | None = None, account_ids: Iterable[int] | None = None, *,
                 now: datetime | None = None) -> dict[str, Any]:
    """Upsert the HealthScore row of `as_of`'s month for every live account (or `account_ids`),
    with its parts; the rows of earlier months stay as the trend."""
    now = now or timezone.now()
    as_of = as_of or timezone.localdate(now)
    return health_store(health_rows(as_of, account_ids), month_start(as_of), now)


def health_rows(as_of: date, account_ids: Iterable[int] | None = None) -> list[tuple[int, int, dict[str, Any]]]:
    """(account, score, parts) of every live account (or `account_ids`) as of `as_of`: the
    sweep's reading, which writes nothing (a demo reads one month while it stores another)."""
    ids, parts, scores = compute(as_of, account_ids)
    names = list(parts)
    # A column at a time as Python floats (NaN → None, one decimal), then one dict per account.
    columns = [[None if v != v else round(v, 1) for v in parts[k].tolist()] for k in names]
    return [(pk, score, dict(zip(names, values, strict=True)))
            for pk, score, *values in zip(ids.tolist(), scores.tolist(), *columns, strict=True)]


def health_store(rows: list[tuple[int, int, dict[str, Any]]], month: date, now: datetime) -> dict[str, Any]:
    """Upsert the month's HealthScore rows from health_rows, in batches."""
    for at in range(0, len(rows), BATCH):
        with transaction.atomic():
            if copy_fast(HealthScore):
                writes.upsert_health(rows[at:at + BATCH], month, now)
            else:  # one prepared upsert for the batch, not the ORM's SQL compiled per few hundred rows
                insert_values(HealthScore, ("account_id", "month", "score", "parts", "computed_at"),
                              ((pk, month, score, p, now) for pk, score, p in rows[at:at + BATCH]),
                              on_conflict=("account", "month"), update=("score", "parts", "computed_at"))
    return {"accounts": len(rows), "month": month.isoformat()}


# --- satisfaction surveys ---------------------------------------------------------------------------


def survey_add(*, actor: User, account: Account, score: Any, surveyed_on: date | None, note: str = "",
               today: date | None = None) -> SatisfactionSurvey:
    """A satisfaction score (0–10, one decimal) the account gave on a day (not in the future);
    a bad value is refused naming its field."""
    today = today or timezone.localdate()
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotVisible(_("Not found."))
    require(policies.may_add_survey(actor, account), _("Only the account's owner and their managers record surveys."))
    try:
        value = Decimal(str(score).strip())
    except (InvalidOperation, ValueError):
        raise refused("score", _("Give a score from 0 to 10.")) from None
    if not value.is_finite() or value < 0 or value > 10:
        raise refused("score", _("Give a score from 0 to 10."))
    if value != value.quantize(Decimal("0.1")):
        raise refused("score", _("At most one decimal place."))
    if surveyed_on is None:
        raise refused("surveyed_on", _("Give the day of the survey."))
    if surveyed_on > today:
        raise refused("surveyed_on", _("The day of the survey cannot be in the future."))
    note = (note or "").strip()
    if len(note) > 200:
        raise refused("note", _("At most 200 characters."))
    return SatisfactionSurvey.objects.create(account=account, surveyed_on=surveyed_on, score=value, note=note,
                                             recorded_by=actor)
