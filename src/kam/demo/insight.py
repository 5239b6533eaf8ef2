"""Demo insight: satisfaction surveys, a year of nightly churn detection, two model fits a month
apart, warnings with their tasks and a few retention actions, and the health trend.

The revenue demo already makes some accounts churn in the last year (they stop buying or
spend a fraction); here their satisfaction falls before they go, their churn events get
reasons in about the proportions the sources report (对手长话 32 %, 对手数据 8.5 %, 自身经营
40 %, the rest other reasons), and a few are marked as moved to a named competitor.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from kam.accounts.models import Account, Channel
from kam.core.models import User
from kam.insight.churn import services as churn
from kam.insight.forecast import services as scoring
from kam.insight.health import services as health
from kam.insight.models import (
    ChurnEvent,
    ChurnReason,
    RetentionOutcome,
    SatisfactionSurvey,
    Warning,
    WarningState,
)
from kam.insight.warnings import services as warnings
from kam.revenue.models import MonthlyRevenue
from kam.sales.models import Competitor
from kam.tiering.services import month_start

REASON_WEIGHTS = {"rival_voice": 32, "rival_data": 8.5, "own_business": 40, "price": 7, "service": 6,
                  "relocation": 3, "other": 3.5}
RETENTION_ACTIONS = [
    ("免费升级专线带宽并锁定三年资费", RetentionOutcome.RETAINED),
    ("总经理拜访，签订补充协议", RetentionOutcome.RETAINED),
    ("调整账期为 60 天，分期结清欠费", RetentionOutcome.PARTLY),
    ("推荐新的对接人并安排高层会谈", RetentionOutcome.RETAINED),
    ("给予阶梯折扣，客户仍将数据业务转走", RetentionOutcome.PARTLY),
    ("多次沟通未果，客户已迁移至竞争对手", RetentionOutcome.LOST),
]


def _falling(today: date) -> set[int]:
    """Accounts whose last three months' spend is under half of the six months before."""
    recent_start, base_start = month_start(today, 3), month_start(today, 9)
    this_month = month_start(today)

    def sums(start, end):
        rows = (MonthlyRevenue.objects.filter(month__gte=start, month__lt=end)
                .values("account_id").annotate(total=Sum("amount")).values_list("account_id", "total"))
        return dict(rows)

    recent, base = sums(recent_start, this_month), sums(base_start, recent_start)
    return {a for a, b in base.items() if b > 0 and recent.get(a, Decimal(0)) / 3 < b / 6 / 2}


def _surveys(rng: random.Random, today: date, falling: set[int]) -> int:
    """Quarterly surveys for most key accounts and some others over two years; falling
    accounts score lower in their last surveys, and a few others have one bad quarter."""
    rows = []
    quarters = [month_start(today, back) + timedelta(days=9) for back in range(22, 0, -3)]
    for account_id, channel in Account.objects.alive().order_by("id").values_list("pk", "channel"):
        if rng.random() > (0.6 if channel == Channel.KEY else 0.12):
            continue
        level = rng.uniform(7.0, 9.5)
        dip = len(quarters) - 1 if rng.random() < 0.05 else -1
        for k, day in enumerate(quarters):
            score = level + rng.uniform(-0.6, 0.6)
            if account_id in falling and k >= len(quarters) - 2:
                score -= rng.uniform(2.0, 4.0) * (k - len(quarters) + 3) / 2
            if k == dip:
                score -= rng.uniform(2.0, 3.5)
            rows.append(SatisfactionSurvey(account_id=account_id, surveyed_on=day,
                                           score=Decimal(f"{min(10.0, max(0.0, score)):.1f}")))
    SatisfactionSurvey.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _reasons(rng: random.Random) -> None:
    """Reasons on about three quarters of the detected events; the rest stay unclassified."""
    reasons = {r.code: r for r in ChurnReason.objects.all()}
    codes = [c for c in REASON_WEIGHTS if c in reasons]
    weights = [REASON_WEIGHTS[c] for c in codes]
    for event in ChurnEvent.objects.filter(reason__isnull=True).order_by("id"):
        if rng.random() < 0.75:
            event.reason = reasons[rng.choices(codes, weights)[0]]
            event.save(update_fields=["reason"])


def _competitor_marks(rng: random.Random, actor, today: date, falling: set[int]) -> int:
    """A few of the falling accounts marked as moved to a named competitor."""
    rivals = list(Competitor.objects.filter(code__in=["cmcc", "cucc", "ctcc", "cbn"]))
    reasons = {r.code: r for r in ChurnReason.objects.filter(code__in=["rival_voice", "rival_data"])}
    if not rivals or not reasons:
        return 0
    marked = 0
    for account in Account.objects.filter(pk__in=sorted(falling)[: max(3, len(falling) // 8)]).order_by("id"):
        code = "rival_voice" if rng.random() < 0.8 else "rival_data"
        churn.churn_mark(actor=actor, account=account, competitor=rng.choice(rivals), reason=reasons[code],
                         note="客户已将主要业务转至竞争对手", on=today - timedelta(days=rng.randint(5, 150)))
        marked += 1
    return marked


def _retention(rng: random.Random) -> int:
    """Retention actions on some open warnings, recorded by the account's owner."""
    recorded = 0
    for warning in Warning.objects.filter(state=WarningState.OPEN, account__owner__isnull=False).select_related(
            "account__owner").order_by("id"):
        if rng.random() < 0.12:
            action, outcome = rng.choice(RETENTION_ACTIONS)
            warnings.retention_record(actor=warning.account.owner, warning=warning, action=action, outcome=outcome)
            recorded += 1
    return recorded


def build_insight(*, seed: int, today: date) -> dict[str, int]:
    rng = random.Random(seed)
    director = User.objects.get(username="director")
    falling = _falling(today)
    with transaction.atomic():
        surveys = _surveys(rng, today, falling)
    # A year of nightly churn detection, one run a month, so events carry their month.
    for back in range(11, -1, -1):
        churn.churn_sweep(as_of=month_start(today, back) + timedelta(days=1))
    _reasons(rng)
    marks = _competitor_marks(rng, director, today, falling)
    # Two fits a month apart: the second keeps the first one's P(alive) to compare with.
    scoring.refit_and_score(as_of=today - timedelta(days=30))
    warnings.warning_sweep(as_of=today - timedelta(days=30))
    health.health_sweep(as_of=today - timedelta(days=30))
    scored = scoring.refit_and_score(as_of=today)
    warnings.warning_sweep(as_of=today)
    retained = _retention(rng)
    for back in range(5, -1, -1):
        day = today if back == 0 else month_start(today, back - 1) - timedelta(days=1)
        health.health_sweep(as_of=day)
    return {"surveys": surveys, "churn_events": ChurnEvent.objects.count(), "marked": marks,
            "scored": scored.get("scored", 0) if isinstance(scored, dict) else 0,
            "warnings": Warning.objects.filter(state=WarningState.OPEN).count(), "retained": retained}
