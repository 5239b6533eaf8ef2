"""Demo sales data: leads with their follow-ups, opportunities with stage histories,
competitors and buying centres, the account-state history behind the conversion figures,
a few accounts in the public pool, and deal reviews at every step up to the decision.

Rows get their ids before they are written (kam.core.bulk.reserve_ids), so stage changes,
buying centres, rivals, follow-ups and tasks name their opportunity or lead without reading
it back; accounts are read a batch at a time. Everything depends on the seed alone; dates
run up to the day the demo is built, so SLA clocks, the board and the review queue describe
the present.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from kam.accounts.models import Account, Channel, Contact, ContactStatus, LifecycleStatus
from kam.activities.models import Activity, Task, TaskSource, TaskStatus
from kam.core.bulk import chunks, insert_values, reserve_ids, update_rows
from kam.core.conf import config
from kam.core.models import OrgUnit, Role, User
from kam.demo import batches
from kam.demo.progress import Progress
from kam.demo.revenue import account_batches
from kam.sales.leads.routing import lead_sla_sweep, manager_of
from kam.sales.models import (
    OPEN_STAGES,
    BuyingCentreMember,
    BuyingRole,
    Competitor,
    DealReview,
    Lead,
    LeadAssignmentRule,
    LeadFollowUp,
    LeadSource,
    LeadStatus,
    Opportunity,
    OutcomeReason,
    PoolEvent,
    PoolEventKind,
    ReviewMeeting,
    ReviewStatus,
    Rival,
    RivalStatus,
    Stage,
    StageChange,
)
from kam.sales.pool.selectors import cadence_tiers
from kam.sales.pool.services import PoolRules

ACCOUNTS_PER_BATCH = 5000
PROJECTS = ["专线扩容", "SD-WAN组网", "云专线迁移", "视频会议系统", "数据中心托管", "物联网平台试点", "安全运营服务",
            "智慧园区网络", "5G专网", "呼叫中心升级", "分支机构互联", "算力租用", "企业宽带提速", "综合信息化改造"]
NEEDS = ["分支机构组网，要求稳定低时延", "降低通信成本", "数据上云，需合规审计", "新园区开业前完成网络建设",
         "视频会议覆盖全省分支", "生产设备联网，实时监控"]
COMPANIES = ["华南精工", "粤海供应链", "鹏程医疗", "珠江新材料", "南方教育科技", "岭南物流", "湾区智造", "羊城餐饮管理",
             "白云电子", "东江能源", "海珠会展", "松山湖数据"]
RIVAL_PRODUCTS = ["企业专线", "云专线", "SD-WAN", "视频会议", "IDC托管"]
STAGE_DAYS = {Stage.CONTACT: 18, Stage.DESIGN: 25, Stage.REVIEW: 20, Stage.TENDER: 30}
# Share of opportunities that move on from each stage (the rest are lost there or still open).
ADVANCE = {Stage.CONTACT: 0.8, Stage.DESIGN: 0.78, Stage.REVIEW: 0.74, Stage.TENDER: 0.6}
NEXT = {Stage.CONTACT: Stage.DESIGN, Stage.DESIGN: Stage.REVIEW, Stage.REVIEW: Stage.TENDER, Stage.TENDER: Stage.WON}
STATE_PATH = [LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY,
              LifecycleStatus.ORDERED, LifecycleStatus.ACTIVE]
# Opportunities opened this many days before the build can have come from a lead.
FRESH_DAYS = 90
OPPORTUNITY_FIELDS = ("id", "account_id", "owner_id", "name", "stage", "stage_entered_at", "amount", "our_quote",
                      "expected_close", "created_by_id", "created_at", "updated_at", "closed_on", "outcome_reason_id",
                      "outcome_note")
LEAD_FIELDS = ("id", "source_id", "company", "contact_name", "phone", "need", "estimated_amount", "unit_id",
               "assignee_id", "assigned_at", "follow_up_due_at", "followed_up_at", "status", "closed_at",
               "close_note", "account_id", "opportunity_id", "created_at")


class Clock:
    """Moments on a day in office hours, never later than a little before `now`."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._midnight: dict[date, datetime] = {}

    def at(self, rng: random.Random, day: date) -> datetime:
        midnight = self._midnight.get(day)
        if midnight is None:
            midnight = self._midnight[day] = timezone.make_aware(datetime.combine(day, time.min))
        moment = midnight + timedelta(hours=rng.randint(9, 17), minutes=rng.choice((0, 15, 30, 45)))
        return min(moment, self.now - timedelta(minutes=rng.randint(5, 600)))


def build_sales(*, seed: int, now: datetime | None = None, progress: bool = False) -> dict[str, int]:
    rng = random.Random(seed)
    now = now or timezone.now()
    today = timezone.localdate(now)
    clock = Clock(now)
    accounts = Account.objects.alive().count()
    deals = Deals(clock=clock, today=today, seed=seed,
                  competitors=list(Competitor.objects.filter(is_active=True).exclude(code="other")
                                   .values_list("pk", flat=True)),
                  reasons={outcome: list(OutcomeReason.objects.filter(applies_to__in=[outcome, "both"])
                                         .values_list("pk", flat=True)) for outcome in (Stage.WON, Stage.LOST)})
    counts: dict[str, int] = {}
    with Progress(progress, "sales", 2 * accounts + 3, "steps") as bar:
        made = batches.run(enumerate(account_batches(ACCOUNTS_PER_BATCH, "owner_id", "annual_revenue", "channel")),
                           prepare=deals.prepare, make=deals.make, write=deals.write,
                           done=lambda batch, _r: bar.advance(len(batch[1])))
        counts["opportunities"] = sum(n for n, _fresh in made)
        fresh = sorted(f for _n, recent in made for f in recent)
        fields = _history_fields()
        counts["state changes"] = sum(batches.run(
            enumerate(_full_batches(fields)), make=lambda batch: _state_history(seed, batch, fields, now),
            write=_write_history(fields), done=lambda batch, _r: bar.advance(len(batch[1]))))
        with transaction.atomic():
            counts["leads"] = _leads(rng, now, accounts, fresh)
            bar.advance()
            counts["pool"] = _pool(rng, now)
            bar.advance()
            counts["reviews"] = _reviews(rng, now, today)
            bar.advance()
    return counts


@dataclass
class Deals:
    """The opportunities of a batch of accounts: which accounts have deals and how many
    (`prepare`, which reserves their ids), the deals with their moves, buying centres and
    rivals (`make`), and the rows with the accounts' states lifted by their deals (`write`)."""

    clock: Clock
    today: date
    seed: int
    competitors: list[int]
    reasons: dict[str, list[int]]

    def prepare(self, batch: tuple[int, list[tuple]]) -> dict:
        k, rows = batch
        rng = random.Random(f"{self.seed}:deals:{k}")
        accounts = [(pk, owner, revenue) for pk, owner, revenue, channel in rows
                    if owner is not None and channel in (Channel.KEY, Channel.COMMERCIAL)]
        chosen = rng.sample(accounts, k=len(accounts) * 2 // 5)
        deals = [(account_id, owner_id, revenue) for account_id, owner_id, revenue in chosen
                 for _ in range(rng.choices([1, 2, 3], weights=[70, 22, 8])[0])]
        contacts: dict[int, list[int]] = {}
        if deals:
            for contact_id, account_id in Contact.objects.filter(
                    account_id__gte=rows[0][0], account_id__lte=rows[-1][0], status=ContactStatus.ACTIVE).order_by(
                    "id").values_list("pk", "account_id"):
                contacts.setdefault(account_id, []).append(contact_id)
        with transaction.atomic():
            ids = reserve_ids(Opportunity, len(deals))
        return {"rng": rng, "deals": deals, "ids": ids, "contacts": contacts}

    def make(self, prepared: dict) -> dict:
        rng, deals, ids, contacts = prepared["rng"], prepared["deals"], prepared["ids"], prepared["contacts"]
        clock, today, competitors, reasons = self.clock, self.today, self.competitors, self.reasons
        opportunities, changes, members, rivals, fresh = [], [], [], [], []
        open_accounts, won_accounts = set(), set()
        fresh_from = clock.now - timedelta(days=FRESH_DAYS)
        for opportunity_id, (account_id, owner_id, revenue) in zip(ids, deals, strict=True):
            scale = float(revenue or 500000) ** 0.5
            amount = Decimal(max(8000.0, rng.lognormvariate(0, 0.9) * scale * 120)).quantize(Decimal("100"))
            start = today - timedelta(days=rng.randint(3, 540))
            moves = [(Stage.CONTACT, start)]
            stage, day = Stage.CONTACT, start
            while stage in NEXT:
                leave = day + timedelta(days=max(2, int(rng.expovariate(1 / STAGE_DAYS[stage]))))
                if leave >= today:
                    break
                if rng.random() < ADVANCE[stage]:
                    stage = NEXT[stage]
                elif rng.random() < 0.6:
                    stage = Stage.LOST
                else:
                    break  # stalled: still in this stage today
                day = leave
                moves.append((stage, day))
                if stage in (Stage.WON, Stage.LOST):
                    break
            closed = stage in (Stage.WON, Stage.LOST)
            quote = (amount * Decimal(rng.uniform(0.85, 1.1))).quantize(Decimal("100"))
            our_quote = quote if len(moves) >= 3 or closed else None
            created = clock.at(rng, start)
            opportunities.append((
                opportunity_id, account_id, owner_id, rng.choice(PROJECTS) + "项目", stage, clock.at(rng, day), amount,
                our_quote, day if closed else today + timedelta(days=rng.randint(-20, 150)), owner_id, created,
                clock.now, day if closed else None, rng.choice(reasons[stage]) if closed else None,
                ("报价与方案均获认可，决策人支持" if stage == Stage.WON else "竞争对手低价中标，我方方案评分第二")
                if closed else "",
            ))
            if created >= fresh_from:
                fresh.append((created, opportunity_id, account_id))
            if stage == Stage.WON:
                won_accounts.add(account_id)
            elif stage in OPEN_STAGES:
                open_accounts.add(account_id)
            previous = ""
            for to_stage, moved_on in moves:
                changes.append((opportunity_id, previous, to_stage,
                                clock.at(rng, moved_on) if moved_on != start else created, owner_id))
                previous = to_stage
            people = contacts.get(account_id, [])
            for contact_id, role in zip(rng.sample(people, k=min(len(people), rng.randint(1, 4))),
                                        rng.sample(list(BuyingRole.values), k=4), strict=False):
                members.append((opportunity_id, contact_id, role))
            winner = False
            for competitor in rng.sample(competitors, k=min(len(competitors), rng.choices([0, 1, 2, 3],
                                                                                        weights=[25, 40, 25, 10])[0])):
                if stage == Stage.LOST and not winner:
                    status, winner = RivalStatus.WON, True
                elif stage == Stage.WON:
                    status = RivalStatus.LOST
                else:
                    status = rng.choice([RivalStatus.ACTIVE, RivalStatus.ACTIVE, RivalStatus.LEADING,
                                         RivalStatus.DROPPED])
                rivals.append((opportunity_id, competitor, rng.choice(RIVAL_PRODUCTS),
                               ((our_quote or amount) * Decimal(rng.uniform(0.8, 1.15))).quantize(Decimal("100")),
                               status, clock.now))
        return {"opportunities": opportunities, "changes": changes, "members": members, "rivals": rivals,
                "fresh": fresh, "won": won_accounts, "open": open_accounts - won_accounts}

    def write(self, made: dict) -> tuple[int, list[tuple[datetime, int, int]]]:
        insert_values(Opportunity, OPPORTUNITY_FIELDS, made["opportunities"])
        insert_values(StageChange, ("opportunity_id", "from_stage", "to_stage", "at", "by_id"), made["changes"])
        insert_values(BuyingCentreMember, ("opportunity_id", "contact_id", "role"), made["members"])
        insert_values(Rival, ("opportunity_id", "competitor_id", "product", "quote", "status", "updated_at"),
                      made["rivals"])
        # An account with a deal in hand is at least an opportunity, one that won a deal at least ordered.
        for part in chunks(sorted(made["won"])):
            Account.objects.filter(pk__in=part, lifecycle_status__in=[
                LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY]).update(
                lifecycle_status=LifecycleStatus.ORDERED)
        for part in chunks(sorted(made["open"])):
            Account.objects.filter(pk__in=part, lifecycle_status__in=[
                LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT]).update(
                lifecycle_status=LifecycleStatus.OPPORTUNITY)
        return len(made["opportunities"]), made["fresh"]


def _history_fields() -> list[str]:
    historical = Account.history.model
    return [f.attname for f in Account._meta.concrete_fields if hasattr(historical, f.attname)]


def _full_batches(fields: list[str]):
    """The live accounts with every field their history rows copy, a batch at a time."""
    last = 0
    while rows := list(Account.objects.alive().filter(pk__gt=last).order_by("pk").values_list(*fields)[
            :ACCOUNTS_PER_BATCH]):
        yield rows
        last = rows[-1][0]


def _state_history(seed: int, batch: tuple[int, list[tuple]], fields: list[str], now: datetime) -> list[tuple]:
    """History rows of each account's way along 待识别 → 潜在 → 机会 → 订单 → 用户 (→ 流失), the
    last of them its present state, from the day it entered our books (its created_at), so
    conversion between states has something to count."""
    k, rows = batch
    rng = random.Random(f"{seed}:states:{k}")
    status_at, created_at, owner_at = (fields.index(name) for name in ("lifecycle_status", "created_at", "owner_id"))
    history = []
    for values in rows:
        final = values[status_at]
        path = STATE_PATH[: STATE_PATH.index(final) + 1] if final in STATE_PATH else [*STATE_PATH, final]
        start = rng.randint(1, len(path))  # where the account entered our books
        steps = path[-start:] if start < len(path) else path
        day = values[created_at]
        for state in steps:
            row = list(values)
            row[status_at] = state
            history.append((*row, day, "+" if state == steps[0] else "~", values[owner_at]))
            day = min(now - timedelta(hours=1), day + timedelta(days=rng.randint(10, 120)))
    return history


def _write_history(fields: list[str]):
    columns = [*fields, "history_date", "history_type", "history_user_id"]
    return lambda rows: insert_values(Account.history.model, columns, rows)


def _leads(rng: random.Random, now: datetime, accounts: int, fresh: list[tuple[datetime, int, int]]) -> int:
    sources = list(LeadSource.objects.filter(is_active=True).values_list("pk", flat=True))
    branches = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).order_by("code"))
    specialists = {b.pk: list(User.objects.filter(role=Role.SPECIALIST, unit__path__startswith=b.path, is_active=True)
                              .order_by("id").values_list("pk", "unit_id")) for b in branches}
    for order, branch in enumerate(branches):
        region = Account.objects.filter(unit__path__startswith=branch.path).values_list("region", flat=True).first()
        offices = list(OrgUnit.objects.filter(parent=branch).order_by("code"))
        LeadAssignmentRule.objects.create(name=f"{branch.name}线索轮转", sort_order=order * 10, region_id=region,
                                          unit=offices[0] if offices else branch)
    count = max(40, accounts // 10)
    ids = reserve_ids(Lead, count)
    leads, follow_ups, links = [], [], []
    # A qualified lead became the first opportunity opened after it, on its account.
    waiting = [created for created, _pk, _account in fresh]
    for lead_id in ids:
        branch = rng.choice(branches)
        people = specialists[branch.pk]
        assignee, unit = rng.choice(people) if people else (None, branch.pk)
        created = now - timedelta(hours=rng.randint(1, 24 * 90))
        status = rng.choices(list(LeadStatus.values), weights=[14, 30, 6, 20, 18, 12])[0]
        followed = status not in (LeadStatus.NEW, LeadStatus.ESCALATED)
        if not followed:
            # Waiting for a first follow-up: the clock and the nightly sweep decide what became of it.
            status = LeadStatus.NEW
            created = now - timedelta(hours=rng.randint(1, 100))
        followed_up = min(now, created + timedelta(hours=rng.randint(1, 20))) if followed else None
        closed = created + timedelta(days=rng.randint(2, 20)) if status in (
            LeadStatus.QUALIFIED, LeadStatus.NURTURE, LeadStatus.DISQUALIFIED) else None
        company = rng.choice(COMPANIES) + rng.choice(["科技", "实业", "贸易"]) + "有限公司"
        contact_name = rng.choice("王李张刘陈杨黄赵") + rng.choice(["经理", "总", "主任", "工"])
        phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        need, amount = rng.choice(NEEDS), Decimal(rng.randint(2, 300) * 5000)
        account_id = opportunity_id = None
        if status == LeadStatus.QUALIFIED:
            at = bisect.bisect_left(waiting, created)
            if at < len(waiting):
                waiting.pop(at)
                _created, opportunity_id, account_id = fresh.pop(at)
                links.append((opportunity_id, lead_id))
        leads.append([
            lead_id, rng.choice(sources), company, contact_name, phone, need, amount, unit, assignee, created,
            created + timedelta(hours=24), followed_up, status, min(closed, now) if closed else None,
            "需求不明确" if status == LeadStatus.DISQUALIFIED else "", account_id, opportunity_id, created,
        ])
        if followed and assignee:
            follow_ups.append((lead_id, followed_up, assignee, "电话联系客户，了解需求与预算", "一周内上门拜访"))
    names = {}
    for part in chunks(sorted({row[15] for row in leads if row[15]})):
        names.update(Account.objects.filter(pk__in=part).values_list("pk", "name"))
    for row in leads:
        if row[15]:
            row[2] = names[row[15]]
    insert_values(Lead, LEAD_FIELDS, leads)
    insert_values(LeadFollowUp, ("lead_id", "at", "by_id", "note", "plan"), follow_ups)
    for part in chunks(links, 2000):
        update_rows(Opportunity, part, ["lead_id"])
    # Leads still waiting for their first follow-up are a task for the assignee; the nights'
    # sweeps since then escalated or reassigned those past their time.
    insert_values(Task, ("owner_id", "title", "source_kind", "source_id", "due_on", "created_by_id", "created_at"), [
        (row[8], f"跟进线索：{row[2]}", TaskSource.LEAD, row[0], timezone.localdate(row[10]), row[8], now)
        for row in leads if row[8] and row[11] is None
    ])
    for days_ago in range(5, -1, -1):
        night = timezone.make_aware(datetime.combine(timezone.localdate(now) - timedelta(days=days_ago), time(2)))
        if night < now:
            lead_sla_sweep(now=night)
    return len(leads)


def _pool(rng: random.Random, now: datetime) -> int:
    """A few commercial and public accounts nobody followed up now wait in the pool."""
    candidates = list(Account.objects.alive().filter(channel__in=[Channel.PUBLIC, Channel.TRANSIENT])
                      .order_by("pk").values_list("pk", "owner_id"))
    # Key tiers never return to the pool (POOL_EXCLUDED_TIERS).
    rules = PoolRules.from_settings()
    ids = np.array([pk for pk, _owner in candidates], dtype=np.int64)
    tiers = cadence_tiers(ids, timezone.localdate(now)).tolist()
    candidates = [c for c, tier in zip(candidates, tiers, strict=True) if tier not in rules.excluded]
    chosen = rng.sample(candidates, k=min(len(candidates), max(3, len(candidates) // 12)))
    events, returned = [], {}
    for account_id, owner_id in chosen:
        at = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 12))
        returned[account_id] = at
        events.append((account_id, PoolEventKind.NOTICE, at - timedelta(days=3), owner_id, 27, 30))
        events.append((account_id, PoolEventKind.RETURNED, at, owner_id, 30 + rng.randint(0, 3), 30))
    for part in chunks(sorted(returned), 2000):
        update_rows(Account, [(pk, None, returned[pk]) for pk in part], ["owner_id", "pooled_at"])
        # Nobody followed it up in the days before it returned, and its open tasks went with its owner.
        recent = [pk for pk, account_id, at in Activity.objects.filter(
            account_id__in=part, occurred_at__gt=now - timedelta(days=90)).values_list("pk", "account_id", "occurred_at")
            if at > returned[account_id] - timedelta(days=30)]
        for gone in chunks(recent):
            Activity.objects.filter(pk__in=gone).delete()
        Task.objects.filter(account_id__in=part, status=TaskStatus.OPEN).delete()
    insert_values(PoolEvent, ("account_id", "kind", "at", "former_owner_id", "idle_days", "limit_days"), events)
    return len(chosen)


def _reviews(rng: random.Random, now: datetime, today: date) -> int:
    gm = User.objects.filter(role=Role.GENERAL_MANAGER, is_active=True).order_by("id").first()
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("id").first()
    hq = OrgUnit.objects.filter(parent__isnull=True).first()
    if gm is None or director is None or hq is None:
        return 0
    meetings = [ReviewMeeting.objects.create(title=f"{d:%Y年%m月}大客户开发研讨会", held_on=d, unit=hq, created_by=director)
                for d in (today - timedelta(days=48), today - timedelta(days=20), today + timedelta(days=5))]
    candidates = list(Opportunity.objects.filter(stage__in=[Stage.REVIEW, Stage.TENDER], amount__gte=10000)
                      .order_by("id").values_list("pk", flat=True))
    chosen = rng.sample(candidates, k=min(len(candidates), 24))
    picked = {o.pk: o for o in Opportunity.objects.filter(pk__in=chosen).select_related("account__industry", "owner__unit")}
    reviews, tasks = [], []
    for i, opportunity in enumerate(picked[pk] for pk in chosen):
        submitted = now - timedelta(days=rng.randint(2, 55))
        # An item goes to the first meeting after it was submitted; the opinions are given
        # there, and a general manager away leaves a few without a decision.
        meeting = next((m for m in meetings if timezone.localdate(submitted) < m.held_on), meetings[-1])
        held = meeting.held_on <= today
        status = (ReviewStatus.SUBMITTED if not held
                  else [ReviewStatus.DECIDED, ReviewStatus.DECIDED, ReviewStatus.DIRECTOR, ReviewStatus.MANAGER][i % 4])
        at = timezone.make_aware(datetime.combine(meeting.held_on, time(14)))
        review = DealReview(
            opportunity=opportunity, meeting=meeting,
            status=status, brief=f"{opportunity.account.name}，{opportunity.account.industry or ''}行业重点客户，合作关系稳定。",
            core_needs=rng.choice(NEEDS), project=opportunity.name, amount=opportunity.amount,
            main_problems=rng.choice(["决策链覆盖不足，采购部门倾向竞争对手", "客户预算有限，对价格敏感", "技术方案需通过专家评审"]),
            proposed_strategy=rng.choice(["高层拜访，争取分管领导支持", "联合厂商做方案演示", "分期付款降低首年投入"]),
            submitted_by=opportunity.owner, submitted_at=submitted,
        )
        if status in (ReviewStatus.MANAGER, ReviewStatus.DIRECTOR, ReviewStatus.DECIDED):
            review.manager, review.manager_at = manager_of(opportunity.owner) or director, at
            review.manager_recommendation = "建议优先投入，安排技术团队支持"
        if status in (ReviewStatus.DIRECTOR, ReviewStatus.DECIDED):
            review.director, review.director_at = director, at + timedelta(minutes=30)
            review.director_recommendation = "同意，价格底线按九折执行"
        if status == ReviewStatus.DECIDED:
            review.decided_by, review.decided_at = gm, at + timedelta(hours=1)
            review.decision = "同意开发，两周内完成方案交流，总经理参加高层会谈"
        # The general manager sends some of the large open items to a senior review.
        if (review.amount >= config().REVIEW_SENIOR_AMOUNT and status != ReviewStatus.DECIDED
                and rng.random() < 0.4):
            review.escalated_at = min(now, submitted + timedelta(days=rng.randint(1, 10)))
            review.escalated_by = gm
            review.escalation_reason = rng.choice(["金额大、竞争激烈，需高层出面", "客户要求高层对接，涉及价格底线",
                                                   "跨分公司资源协调，提交高层评审"])
        reviews.append(review)
    DealReview.objects.bulk_create(reviews)
    for review in reviews:
        if review.status == ReviewStatus.DECIDED:
            due = timezone.localdate(review.decided_at) + timedelta(days=7)
            tasks.append(Task(owner_id=review.opportunity.owner_id, account_id=review.opportunity.account_id,
                              title=f"落实开发决议：{review.project}", due_on=due,
                              status=TaskStatus.DONE if due < today and rng.random() < 0.6 else TaskStatus.OPEN,
                              source_kind=TaskSource.REVIEW, source_id=review.pk, created_by=gm))
    for task in tasks:
        task.done_at = now if task.status == TaskStatus.DONE else None
    Task.objects.bulk_create(tasks)
    return len(reviews)
