"""Demo sales data: leads with their follow-ups, opportunities with stage histories,
competitors and buying centres, the account-state history behind the conversion figures,
a few accounts in the public pool, and deal reviews at every step up to the decision.

Everything is bulk-inserted and depends on the seed alone; dates run up to the day the
demo is built, so SLA clocks, the board and the review queue describe the present.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from kam.accounts.models import Account, Channel, Contact, LifecycleStatus
from kam.activities.models import Activity, Task, TaskSource, TaskStatus
from kam.core.conf import config
from kam.core.models import OrgUnit, Role, User
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

PROJECTS = ["专线扩容", "SD-WAN组网", "云专线迁移", "视频会议系统", "数据中心托管", "物联网平台试点", "安全运营服务",
            "智慧园区网络", "5G专网", "呼叫中心升级", "分支机构互联", "算力租用", "企业宽带提速", "综合信息化改造"]
NEEDS = ["分支机构组网，要求稳定低时延", "降低通信成本", "数据上云，需合规审计", "新园区开业前完成网络建设",
         "视频会议覆盖全省分支", "生产设备联网，实时监控"]
COMPANIES = ["华南精工", "粤海供应链", "鹏程医疗", "珠江新材料", "南方教育科技", "岭南物流", "湾区智造", "羊城餐饮管理",
             "白云电子", "东江能源", "海珠会展", "松山湖数据"]
STAGE_DAYS = {Stage.CONTACT: 18, Stage.DESIGN: 25, Stage.REVIEW: 20, Stage.TENDER: 30}
# Share of opportunities that move on from each stage (the rest are lost there or still open).
ADVANCE = {Stage.CONTACT: 0.8, Stage.DESIGN: 0.78, Stage.REVIEW: 0.74, Stage.TENDER: 0.6}
NEXT = {Stage.CONTACT: Stage.DESIGN, Stage.DESIGN: Stage.REVIEW, Stage.REVIEW: Stage.TENDER, Stage.TENDER: Stage.WON}
STATE_PATH = [LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY,
              LifecycleStatus.ORDERED, LifecycleStatus.ACTIVE]


def _at(rng: random.Random, day: date, now: datetime) -> datetime:
    moment = timezone.make_aware(datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 15, 30, 45)))))
    return min(moment, now - timedelta(minutes=rng.randint(5, 600)))


def build_sales(*, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        counts = {"opportunities": _opportunities(rng, now, today)}
        counts["state changes"] = _state_history(rng, now)
        counts["leads"] = _leads(rng, now)
        counts["pool"] = _pool(rng, now)
        counts["reviews"] = _reviews(rng, now, today)
    return counts


def _opportunities(rng: random.Random, now: datetime, today: date) -> int:
    accounts = list(Account.objects.alive().filter(owner__isnull=False, channel__in=[Channel.KEY, Channel.COMMERCIAL])
                    .values_list("pk", "owner_id", "annual_revenue"))
    contacts: dict[int, list[int]] = {}
    for contact_id, account_id in Contact.objects.filter(status="active").values_list("pk", "account_id"):
        contacts.setdefault(account_id, []).append(contact_id)
    competitors = list(Competitor.objects.filter(is_active=True).exclude(code="other"))
    reasons = {outcome: list(OutcomeReason.objects.filter(applies_to__in=[outcome, "both"]))
               for outcome in (Stage.WON, Stage.LOST)}
    rows, histories = [], []
    for account_id, owner_id, revenue in rng.sample(accounts, k=min(len(accounts), max(1, len(accounts) * 2 // 5))):
        for _ in range(rng.choices([1, 2, 3], weights=[70, 22, 8])[0]):
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
            opportunity = Opportunity(
                account_id=account_id, owner_id=owner_id, name=rng.choice(PROJECTS) + "项目", stage=stage,
                stage_entered_at=_at(rng, day, now), amount=amount,
                our_quote=quote if len(moves) >= 3 or closed else None,
                expected_close=(day if closed else today + timedelta(days=rng.randint(-20, 150))),
                created_by_id=owner_id, created_at=_at(rng, start, now),
                closed_on=day if closed else None,
                outcome_reason=rng.choice(reasons[stage]) if closed else None,
                outcome_note=("报价与方案均获认可，决策人支持" if stage == Stage.WON else "竞争对手低价中标，我方方案评分第二")
                if closed else "",
            )
            rows.append(opportunity)
            histories.append(moves)
    Opportunity.objects.bulk_create(rows, batch_size=2000)
    changes, members, rivals = [], [], []
    for opportunity, moves in zip(rows, histories, strict=True):
        previous = ""
        for stage, day in moves:
            changes.append(StageChange(opportunity=opportunity, from_stage=previous, to_stage=stage,
                                       at=_at(rng, day, now) if day != moves[0][1] else opportunity.created_at,
                                       by_id=opportunity.owner_id))
            previous = stage
        people = contacts.get(opportunity.account_id, [])
        for contact_id, role in zip(rng.sample(people, k=min(len(people), rng.randint(1, 4))),
                                    rng.sample(list(BuyingRole.values), k=4), strict=False):
            members.append(BuyingCentreMember(opportunity=opportunity, contact_id=contact_id, role=role))
        for competitor in rng.sample(competitors, k=rng.choices([0, 1, 2, 3], weights=[25, 40, 25, 10])[0]):
            base = opportunity.our_quote or opportunity.amount
            status = (RivalStatus.WON if opportunity.stage == Stage.LOST and not any(
                r.status == RivalStatus.WON for r in rivals if r.opportunity is opportunity)
                else RivalStatus.LOST if opportunity.stage == Stage.WON
                else rng.choice([RivalStatus.ACTIVE, RivalStatus.ACTIVE, RivalStatus.LEADING, RivalStatus.DROPPED]))
            rivals.append(Rival(opportunity=opportunity, competitor=competitor,
                                product=rng.choice(["企业专线", "云专线", "SD-WAN", "视频会议", "IDC托管"]),
                                quote=(base * Decimal(rng.uniform(0.8, 1.15))).quantize(Decimal("100")),
                                status=status))
    # An account with a deal in hand is at least an opportunity, one that won a deal at least ordered.
    open_accounts = {o.account_id for o in rows if o.stage in OPEN_STAGES}
    won_accounts = {o.account_id for o in rows if o.stage == Stage.WON}
    Account.objects.filter(pk__in=won_accounts, lifecycle_status__in=[
        LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY]).update(
        lifecycle_status=LifecycleStatus.ORDERED)
    Account.objects.filter(pk__in=open_accounts - won_accounts, lifecycle_status__in=[
        LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT]).update(lifecycle_status=LifecycleStatus.OPPORTUNITY)
    StageChange.objects.bulk_create(changes, batch_size=5000)
    BuyingCentreMember.objects.bulk_create(members, batch_size=5000)
    Rival.objects.bulk_create(rivals, batch_size=5000)
    return len(rows)


def _state_history(rng: random.Random, now: datetime) -> int:
    """History rows of each account's way along 待识别 → 潜在 → 机会 → 订单 → 用户 (→ 流失), the
    last of them its present state, so conversion between states has something to count."""
    historical = Account.history.model
    fields = [f.attname for f in Account._meta.concrete_fields if hasattr(historical, f.attname)]
    rows, entered = [], []
    for account in Account.objects.alive().only(*fields).iterator(chunk_size=2000):
        final = account.lifecycle_status
        path = STATE_PATH[: STATE_PATH.index(final) + 1] if final in STATE_PATH else [*STATE_PATH, final]
        start = rng.randint(1, len(path))  # where the account entered our books
        steps = path[-start:] if start < len(path) else path
        day = now - timedelta(days=rng.randint(60, 700))
        account.created_at = day  # the account entered our books with its first state
        entered.append(account)
        for state in steps:
            row = historical(**{name: getattr(account, name) for name in fields})
            row.lifecycle_status = state
            row.history_date = day
            row.history_type = "+" if state == steps[0] else "~"
            row.history_user_id = account.owner_id
            rows.append(row)
            day = min(now - timedelta(hours=1), day + timedelta(days=rng.randint(10, 120)))
    historical.objects.bulk_create(rows, batch_size=2000)
    Account.objects.bulk_update(entered, ["created_at"], batch_size=2000)
    return len(rows)


def _leads(rng: random.Random, now: datetime) -> int:
    sources = list(LeadSource.objects.filter(is_active=True))
    branches = list(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).order_by("code"))
    specialists = {b.pk: list(User.objects.filter(role=Role.SPECIALIST, unit__path__startswith=b.path, is_active=True)
                              .order_by("id")) for b in branches}
    for order, branch in enumerate(branches):
        region = Account.objects.filter(unit__path__startswith=branch.path).values_list("region", flat=True).first()
        offices = list(OrgUnit.objects.filter(parent=branch).order_by("code"))
        LeadAssignmentRule.objects.create(name=f"{branch.name}线索轮转", sort_order=order * 10, region_id=region,
                                          unit=offices[0] if offices else branch)
    leads, follow_ups = [], []
    for _ in range(max(40, Account.objects.count() // 10)):
        branch = rng.choice(branches)
        people = specialists[branch.pk]
        assignee = rng.choice(people) if people else None
        created = now - timedelta(hours=rng.randint(1, 24 * 90))
        status = rng.choices(list(LeadStatus.values), weights=[14, 30, 6, 20, 18, 12])[0]
        followed = status not in (LeadStatus.NEW, LeadStatus.ESCALATED)
        if not followed:
            # Waiting for a first follow-up: the clock and the nightly sweep decide what became of it.
            status = LeadStatus.NEW
            created = now - timedelta(hours=rng.randint(1, 100))
        lead = Lead(
            source=rng.choice(sources), company=rng.choice(COMPANIES) + rng.choice(["科技", "实业", "贸易"]) + "有限公司",
            contact_name=rng.choice("王李张刘陈杨黄赵") + rng.choice(["经理", "总", "主任", "工"]),
            phone=f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}", need=rng.choice(NEEDS),
            estimated_amount=Decimal(rng.randint(2, 300) * 5000), unit=assignee.unit if assignee else branch,
            assignee=assignee, assigned_at=created, follow_up_due_at=created + timedelta(hours=24),
            followed_up_at=min(now, created + timedelta(hours=rng.randint(1, 20))) if followed else None,
            status=status,
            closed_at=created + timedelta(days=rng.randint(2, 20)) if status in (
                LeadStatus.QUALIFIED, LeadStatus.NURTURE, LeadStatus.DISQUALIFIED) else None,
            close_note="需求不明确" if status == LeadStatus.DISQUALIFIED else "",
        )
        if lead.closed_at and lead.closed_at > now:
            lead.closed_at = now
        lead.created_at_demo = created  # created_at is set on insert; the demo backdates it below
        leads.append(lead)
        if followed and assignee:
            follow_ups.append(LeadFollowUp(lead=lead, at=lead.followed_up_at, by=assignee,
                                           note="电话联系客户，了解需求与预算", plan="一周内上门拜访"))
    Lead.objects.bulk_create(leads)
    for lead in leads:
        Lead.objects.filter(pk=lead.pk).update(created_at=lead.created_at_demo)
    LeadFollowUp.objects.bulk_create(follow_ups)
    # A qualified lead became one of the opportunities opened after it, on its account.
    fresh = list(Opportunity.objects.filter(lead__isnull=True, created_at__gte=now - timedelta(days=90))
                 .select_related("account").order_by("created_at", "id"))
    for lead in (lead for lead in leads if lead.status == LeadStatus.QUALIFIED):
        opportunity = next((o for o in fresh if o.created_at >= lead.created_at_demo), None)
        if opportunity is None:
            continue
        fresh.remove(opportunity)
        Lead.objects.filter(pk=lead.pk).update(account=opportunity.account, opportunity=opportunity,
                                               company=opportunity.account.name)
        Opportunity.objects.filter(pk=opportunity.pk).update(lead=lead)
    # Leads still waiting for their first follow-up are a task for the assignee; the nights'
    # sweeps since then escalated or reassigned those past their time.
    Task.objects.bulk_create([
        Task(owner=lead.assignee, title=f"跟进线索：{lead.company}", source_kind=TaskSource.LEAD, source_id=lead.pk,
             due_on=timezone.localdate(lead.follow_up_due_at), created_by=lead.assignee)
        for lead in leads if lead.assignee and lead.followed_up_at is None
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
    tiers = dict(zip(ids.tolist(), cadence_tiers(ids, timezone.localdate(now)).tolist(), strict=True))
    candidates = [(pk, owner) for pk, owner in candidates if tiers[pk] not in rules.excluded]
    chosen = rng.sample(candidates, k=min(len(candidates), max(3, len(candidates) // 12)))
    events = []
    for account_id, owner_id in chosen:
        at = now - timedelta(days=rng.randint(1, 60), hours=rng.randint(0, 12))
        Account.objects.filter(pk=account_id).update(owner=None, pooled_at=at)
        # Nobody followed it up in the days before it returned, and its open tasks went with its owner.
        Activity.objects.filter(account_id=account_id, occurred_at__gt=at - timedelta(days=30)).delete()
        Task.objects.filter(account_id=account_id, status=TaskStatus.OPEN).delete()
        events.append(PoolEvent(account_id=account_id, kind=PoolEventKind.NOTICE, at=at - timedelta(days=3),
                                former_owner_id=owner_id, idle_days=27, limit_days=30))
        events.append(PoolEvent(account_id=account_id, kind=PoolEventKind.RETURNED, at=at, former_owner_id=owner_id,
                                idle_days=30 + rng.randint(0, 3), limit_days=30))
    PoolEvent.objects.bulk_create(events)
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
                      .select_related("account", "owner__unit").order_by("id"))
    reviews, tasks = [], []
    for i, opportunity in enumerate(rng.sample(candidates, k=min(len(candidates), 24))):
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
