"""A year of demo activities and the tasks their next steps left, for the demo accounts.

More important accounts (key channel, higher revenue) get more visits and calls; each
owner has their own diligence, so some meet the cadence and some fall behind. Rows are
bulk-inserted a few thousand accounts at a time. The year ends on the day the demo is
built, so cadence and overdue figures describe the present; the shape of the data
depends on the seed alone.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from kam.accounts.models import (
    Account,
    Channel,
    Contact,
    ContactStatus,
    DecisionRole,
    LifecycleStatus,
)
from kam.activities.models import Activity, ActivityKind, Task, TaskSource, TaskStatus
from kam.core.models import OrgUnit

ACCOUNTS_PER_BATCH = 2000
# Activities a year by channel before the revenue and diligence factors, and the kinds' mix.
PER_YEAR = {Channel.KEY: 22, Channel.COMMERCIAL: 11, Channel.PUBLIC: 4, Channel.TRANSIENT: 1.2}
KIND_WEIGHTS = {
    ActivityKind.VISIT: 30, ActivityKind.CALL: 42, ActivityKind.LETTER: 6, ActivityKind.MEETING: 8,
    ActivityKind.DEMO: 3, ActivityKind.QUOTE: 5, ActivityKind.BID: 2, ActivityKind.EVENT: 4,
    ActivityKind.VALUE_REPORT: 3, ActivityKind.EXECUTIVE: 1,
}
QUIET_STATUSES = {LifecycleStatus.CHURNED: 0.3, LifecycleStatus.UNIDENTIFIED: 0.2}
TOPICS = ["专线扩容需求", "年度续约", "数字化转型规划", "新园区网络建设", "云服务迁移", "价格调整意见",
          "服务满意度", "竞争对手报价", "分支机构互联", "安全合规要求", "视频会议系统", "物联网试点"]
SUMMARIES = {
    ActivityKind.VISIT: "上门拜访{who}，沟通{topic}，客户希望下月给出初步方案。",
    ActivityKind.CALL: "电话联系{who}，跟进{topic}进展。",
    ActivityKind.LETTER: "邮件发送{topic}相关资料给{who}。",
    ActivityKind.MEETING: "与{who}召开{topic}专题会议，明确双方分工。",
    ActivityKind.DEMO: "为{who}演示{topic}解决方案，反馈积极。",
    ActivityKind.QUOTE: "向{who}提交{topic}报价。",
    ActivityKind.BID: "参加{topic}项目投标，{who}出席开标。",
    ActivityKind.EVENT: "邀请{who}参加客户答谢活动，交流{topic}。",
    ActivityKind.VALUE_REPORT: "向{who}送达《客户价值报告》，回顾{topic}成效。",
    ActivityKind.EXECUTIVE: "公司领导与{who}高层会晤，商定{topic}合作方向。",
}
NEXT_STEPS = ["提交正式方案", "安排技术交流", "确认报价", "约见决策人", "回访使用情况", "准备合同文本",
              "发送价值报告", "邀请参观展厅"]
FACE_TO_FACE = {ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.DEMO, ActivityKind.EVENT, ActivityKind.BID,
                ActivityKind.EXECUTIVE}


def _moment(rng: random.Random, day: date) -> datetime:
    # Work happens on weekdays in office hours; a weekend draw mostly moves to the Friday.
    if day.weekday() >= 5 and rng.random() < 0.9:
        day -= timedelta(days=day.weekday() - 4)
    at = time(rng.randint(9, 17), rng.choice((0, 10, 15, 20, 30, 40, 45, 50)))
    # Nothing is logged ahead of the clock: today's later hours become the past hour.
    return min(timezone.make_aware(datetime.combine(day, at)), timezone.now() - timedelta(minutes=rng.randint(5, 60)))


def build_activities(*, seed: int, managers_by_branch: dict[int, object], end: date | None = None) -> tuple[int, int]:
    """Activities over the year up to `end` for every live account; returns (activities, open tasks)."""
    rng = random.Random(seed)
    end = end or timezone.localdate()
    start = end - timedelta(days=364)
    branch_of_unit = _branches(managers_by_branch)
    diligence: dict[int, float] = {}
    total = open_tasks = 0
    ids = list(Account.objects.alive().order_by("id").values_list("id", flat=True))
    for offset in range(0, len(ids), ACCOUNTS_PER_BATCH):
        chunk = ids[offset : offset + ACCOUNTS_PER_BATCH]
        with transaction.atomic():
            made, opened = _batch(rng, chunk, start, end, diligence, branch_of_unit, managers_by_branch)
        total += made
        open_tasks += opened
    return total, open_tasks


def _branches(managers_by_branch: dict[int, object]) -> dict[int, int]:
    branch_of_unit = {}
    for unit in OrgUnit.objects.all():
        parts = [int(p) for p in unit.path.strip("/").split("/") if p]
        branch_of_unit[unit.pk] = next((p for p in parts if p in managers_by_branch), None)
    return branch_of_unit


def _batch(rng, chunk, start, end, diligence, branch_of_unit, managers_by_branch) -> tuple[int, int]:
    accounts = Account.objects.filter(pk__in=chunk).order_by("id").values_list(
        "id", "owner_id", "unit_id", "channel", "annual_revenue", "lifecycle_status", "address"
    )
    contacts: dict[int, list[tuple[int, str, str]]] = {}
    for pk, account_id, name, role in (
        Contact.objects.alive().filter(account_id__in=chunk, status=ContactStatus.ACTIVE)
        .order_by("id").values_list("id", "account_id", "name", "decision_role")
    ):
        contacts.setdefault(account_id, []).append((pk, name, role))
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    rows: list[Activity] = []
    people: list[list[int]] = []
    met: list[list[int]] = []
    for account_id, owner_id, unit_id, channel, revenue, status, address in accounts:
        pace = diligence.setdefault(owner_id, rng.uniform(0.45, 1.25))
        weight = min(1.6, max(0.5, math.log10(float(revenue or Decimal(100_000))) / 6.5))
        expected = PER_YEAR.get(channel, 2) * pace * weight * QUIET_STATUSES.get(status, 1.0)
        count = max(0, round(rng.gauss(expected, expected / 3)))
        known = contacts.get(account_id, [])
        manager = managers_by_branch.get(branch_of_unit.get(unit_id))
        for _n in range(count):
            kind = rng.choices(kinds, weights)[0]
            day = start + timedelta(days=rng.randrange(365))
            chosen = rng.sample(known, k=min(len(known), 2 if kind in FACE_TO_FACE else 1)) if known else []
            if chosen and kind in FACE_TO_FACE and rng.random() < 0.5:
                chosen = chosen[:1]
            who = "、".join(name for _pk, name, _role in chosen) or "客户"
            ours = [owner_id]
            if manager is not None and manager.pk != owner_id and kind in FACE_TO_FACE and rng.random() < (
                0.3 if channel == Channel.KEY else 0.1
            ):
                ours.append(manager.pk)
            next_step, due = "", None
            if rng.random() < 0.3:
                next_step = rng.choice(NEXT_STEPS)
                due = day + timedelta(days=rng.randint(3, 21))
            rows.append(Activity(
                account_id=account_id, kind=kind, occurred_at=_moment(rng, day),
                summary=SUMMARIES[kind].format(who=who, topic=rng.choice(TOPICS)),
                decision_maker_met=any(role == DecisionRole.DECISION_MAKER for _pk, _name, role in chosen),
                next_step=next_step, next_step_due=due,
                location=address if kind == ActivityKind.VISIT and rng.random() < 0.6 else "",
                created_by_id=owner_id,
            ))
            people.append(ours)
            met.append([pk for pk, _name, _role in chosen])
    if not rows:
        return 0, 0
    saved = Activity.objects.bulk_create(rows, batch_size=2000)
    if saved[0].pk is None:  # databases that do not return ids from a bulk insert
        saved = list(Activity.objects.filter(account_id__in=chunk).order_by("id"))
    ours_rows = Activity.participants.through
    ours_rows.objects.bulk_create(
        [ours_rows(activity_id=a.pk, user_id=u) for a, ours in zip(saved, people, strict=True) for u in ours],
        batch_size=5000,
    )
    met_rows = Activity.contacts.through
    met_rows.objects.bulk_create(
        [met_rows(activity_id=a.pk, contact_id=c) for a, theirs in zip(saved, met, strict=True) for c in theirs],
        batch_size=5000,
    )
    tasks = []
    today = timezone.localdate()
    for activity in saved:
        if not activity.next_step_due:
            continue
        # Past next steps were mostly done on time; some are overdue, the recent ones are open.
        done = activity.next_step_due < today and rng.random() < 0.93
        tasks.append(Task(
            owner_id=activity.created_by_id, account_id=activity.account_id, title=activity.next_step,
            due_on=activity.next_step_due, status=TaskStatus.DONE if done else TaskStatus.OPEN,
            source_kind=TaskSource.ACTIVITY, source_id=activity.pk, created_by_id=activity.created_by_id,
            done_at=_moment(rng, activity.next_step_due) if done else None,
        ))
    Task.objects.bulk_create(tasks, batch_size=2000)
    return len(saved), sum(1 for t in tasks if t.status == TaskStatus.OPEN)
