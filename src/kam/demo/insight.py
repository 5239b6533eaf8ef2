"""Demo insight: satisfaction surveys, a year of nightly churn detection, two model fits a month
apart, warnings with their tasks and a few retention actions, and the health trend.

The revenue demo already makes some accounts churn in the last year (they stop buying or
spend a fraction); here their satisfaction falls before they go, their churn events get
reasons in about the proportions the sources report (对手长话 32 %, 对手数据 8.5 %, 自身经营
40 %, the rest other reasons), and a few are marked as moved to a named competitor.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kam.accounts.models import Channel
from kam.core.bulk import chunks, insert_values
from kam.core.models import User
from kam.demo import batches
from kam.demo.progress import Progress
from kam.demo.revenue import account_batches
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

ACCOUNTS_PER_BATCH = 5000
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


def _surveys(rng: random.Random, today: date, falling: set[int], now: datetime) -> int:
    """Quarterly surveys for most key accounts and some others over two years; falling
    accounts score lower in their last surveys, and a few others have one bad quarter."""
    quarters = [month_start(today, back) + timedelta(days=9) for back in range(22, 0, -3)]
    made = 0
    for batch in account_batches(ACCOUNTS_PER_BATCH, "channel"):
        rows = []
        for account_id, channel in batch:
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
                rows.append((account_id, day, Decimal(f"{min(10.0, max(0.0, score)):.1f}"), now))
        made += insert_values(SatisfactionSurvey, ("account_id", "surveyed_on", "score", "created_at"), rows)
    return made


def _reasons(rng: random.Random) -> None:
    """Reasons on about three quarters of the detected events; the rest stay unclassified."""
    reasons = dict(ChurnReason.objects.values_list("code", "pk"))
    codes = [c for c in REASON_WEIGHTS if c in reasons]
    weights = [REASON_WEIGHTS[c] for c in codes]
    given: dict[int, list[int]] = {}
    for pk in ChurnEvent.objects.filter(reason__isnull=True).order_by("id").values_list("pk", flat=True):
        if rng.random() < 0.75:
            given.setdefault(reasons[rng.choices(codes, weights)[0]], []).append(pk)
    for reason, events in given.items():
        for part in chunks(events):
            ChurnEvent.objects.filter(pk__in=part).update(reason_id=reason)


def _competitor_marks(rng: random.Random, actor, today: date, falling: set[int]) -> int:
    """A few of the falling accounts marked as moved to a named competitor."""
    rivals = list(Competitor.objects.filter(code__in=["cmcc", "cucc", "ctcc", "cbn"]))
    reasons = {r.code: r for r in ChurnReason.objects.filter(code__in=["rival_voice", "rival_data"])}
    if not rivals or not reasons:
        return 0
    marks = []
    for account_id in sorted(falling)[: max(3, len(falling) // 8)]:
        code = "rival_voice" if rng.random() < 0.8 else "rival_data"
        marks.append((account_id, rng.choice(rivals), reasons[code], today - timedelta(days=rng.randint(5, 150))))

    def mark(piece: tuple) -> int:
        account_id, rival, reason, on = piece
        churn.churn_mark(actor=actor, account=account_id, competitor=rival, reason=reason,
                         note="客户已将主要业务转至竞争对手", on=on)
        return 1

    return sum(batches.each(marks, mark))


def _retention(rng: random.Random) -> int:
    """Retention actions on some open warnings, recorded by the account's owner."""
    by_owner: dict[int, list[tuple[int, str, str]]] = {}
    for pk, owner_id in Warning.objects.filter(state=WarningState.OPEN, account__owner__isnull=False).order_by(
            "id").values_list("pk", "account__owner_id"):
        if rng.random() < 0.12:
            action, outcome = rng.choice(RETENTION_ACTIONS)
            by_owner.setdefault(owner_id, []).append((pk, action, outcome))
    owners = User.objects.in_bulk(list(by_owner))
    for owner_id, records in by_owner.items():
        warnings.retention_record_many(actor=owners[owner_id], records=records)
    return sum(len(r) for r in by_owner.values())


def build_insight(*, seed: int, today: date, progress: bool = False) -> dict[str, int]:
    rng = random.Random(seed)
    director = User.objects.get(username="director")
    months = 12
    health_months = 6
    with Progress(progress, "insight", 1 + months + 2 + 4 + 1 + health_months, "steps") as bar:
        falling = _falling(today)
        with transaction.atomic():
            surveys = _surveys(rng, today, falling, timezone.now())
        bar.advance()
        # A year of nightly churn detection, one run a month, so events carry their month.
        for back in range(months - 1, -1, -1):
            churn.churn_sweep(as_of=month_start(today, back) + timedelta(days=1))
            bar.advance()
        _reasons(rng)
        bar.advance()
        marks = _competitor_marks(rng, director, today, falling)
        bar.advance()
        # Two fits a month apart: the second keeps the first one's P(alive) to compare with.
        scoring.refit_and_score(as_of=today - timedelta(days=30))
        bar.advance()
        warnings.warning_sweep(as_of=today - timedelta(days=30))
        bar.advance()
        scored = scoring.refit_and_score(as_of=today)
        bar.advance()
        warnings.warning_sweep(as_of=today)
        bar.advance()
        retained = _retention(rng)
        bar.advance()
        # The trend: the end of each of the months before and today, each month its own rows.
        days = [today if back == 0 else month_start(today, back - 1) - timedelta(days=1)
                for back in range(health_months - 1, -1, -1)]
        now = timezone.now()
        batches.read_ahead(days, health.health_rows, lambda day, rows: health.health_store(rows, month_start(day), now),
                           done=lambda _day, _r: bar.advance())
    return {"surveys": surveys, "churn_events": ChurnEvent.objects.count(), "marked": marks,
            "scored": scored.get("scored", 0) if isinstance(scored, dict) else 0,
            "warnings": Warning.objects.filter(state=WarningState.OPEN).count(), "retained": retained}
