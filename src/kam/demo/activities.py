"""A year of demo activities and the tasks their next steps left, for the demo accounts.

More important accounts (key channel, higher revenue) get more visits and calls; each
owner has their own diligence, so some meet the cadence and some fall behind. The
activities of a few thousand accounts are drawn at once (numpy), get their ids before they
are written, and go in with the people and contacts who took part and the tasks, a batch a
transaction. The year ends on the day the demo is built, so cadence and overdue figures
describe the present; the shape of the data depends on the seed alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
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
from kam.core.bulk import insert_values, instants, reserve_ids
from kam.core.models import OrgUnit, User
from kam.demo import batches
from kam.demo.clock import Midnights, office_hours, weekday_of
from kam.demo.progress import Progress
from kam.demo.revenue import account_batches

ACCOUNTS_PER_BATCH = 5000
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
MINUTES = (0, 10, 15, 20, 30, 40, 45, 50)
ACTIVITY_FIELDS = ("id", "account_id", "kind", "occurred_at", "decision_maker_met", "summary", "next_step",
                   "next_step_due", "location", "created_by_id", "created_at")
TASK_FIELDS = ("owner_id", "account_id", "title", "due_on", "status", "source_kind", "source_id", "created_by_id",
               "created_at", "done_at")


class Moments:
    """When work on a day happened: on weekdays in office hours (a weekend draw mostly moves
    to the Friday), and never ahead of the clock (today's later hours become the past hour)."""

    def __init__(self, first: date, last: date, now_seconds: int) -> None:
        self.midnight = Midnights(first - timedelta(days=7), last)
        self.now = now_seconds

    def __call__(self, gen: np.random.Generator, ordinals: np.ndarray) -> np.ndarray:
        n = len(ordinals)
        weekday = weekday_of(ordinals)
        moved = (weekday >= 5) & (gen.random(n) < 0.9)
        day = np.where(moved, ordinals - (weekday - 4), ordinals)
        at = self.midnight(day) + office_hours(gen, n, MINUTES)
        return np.minimum(at, self.now - gen.integers(5, 61, size=n) * 60)


def build_activities(*, seed: int, managers_by_branch: dict[int, object], end: date | None = None,
                     progress: bool = False) -> tuple[int, int]:
    """Activities over the year up to `end` for every live account; returns (activities, open
    tasks). Each batch of accounts draws from its own generator; each owner's diligence is
    drawn once, by username."""
    end = end or timezone.localdate()
    start = end - timedelta(days=364)
    now = timezone.now()
    today = timezone.localdate(now)
    moments = Moments(start, max(end, today) + timedelta(days=22), int(now.timestamp()))
    created = instants(Activity, [int(now.timestamp())])[0]
    manager_of_unit = _managers(managers_by_branch)
    people = list(User.objects.order_by("username").values_list("pk", flat=True))
    diligence = dict(zip(people, np.random.default_rng([seed, 0]).uniform(0.45, 1.25, size=len(people)).tolist(),
                         strict=True))
    fields = ("owner_id", "unit_id", "channel", "annual_revenue", "lifecycle_status", "address")
    context = Context(start=start, today=today, diligence=diligence, managers=manager_of_unit, moments=moments,
                      created=created)

    with Progress(progress, "activities", Account.objects.alive().count(), "accounts") as bar:
        made = batches.run(enumerate(account_batches(ACCOUNTS_PER_BATCH, *fields)),
                           prepare=lambda batch: _prepare(seed, batch, context), make=_make, write=_write,
                           done=lambda batch, _counts: bar.advance(len(batch[1])))
    return sum(m[0] for m in made), sum(m[1] for m in made)


@dataclass(frozen=True)
class Context:
    """What every batch of a build shares."""

    start: date
    today: date
    diligence: dict[int, float]
    managers: dict[int, int]
    moments: Moments
    created: str


def _managers(managers_by_branch: dict[int, object]) -> dict[int, int]:
    """The branch manager's id for each org unit under a branch."""
    out = {}
    for unit in OrgUnit.objects.all():
        parts = [int(p) for p in unit.path.strip("/").split("/") if p]
        branch = next((p for p in parts if p in managers_by_branch), None)
        if branch is not None:
            out[unit.pk] = managers_by_branch[branch].pk
    return out


def _prepare(seed: int, batch: tuple[int, list[tuple]], context: Context) -> dict:
    """The batch's accounts with their contacts in post, how many activities each has (so
    their ids can be reserved) and the generator the rest is drawn from."""
    k, rows = batch
    gen = np.random.default_rng([seed, k])
    ids = [r[0] for r in rows]
    contacts = [c for c in Contact.objects.alive().filter(
        account_id__gte=ids[0], account_id__lte=ids[-1], status=ContactStatus.ACTIVE)
        .order_by("account_id", "id").values_list("account_id", "id", "name", "decision_role")]
    place = {pk: i for i, pk in enumerate(ids)}
    contacts = [c for c in contacts if c[0] in place]
    known = np.bincount([place[c[0]] for c in contacts], minlength=len(rows)).astype(np.int64)
    pace = np.array([context.diligence.get(r[1], 1.0) for r in rows])
    revenue = np.array([float(r[4]) if r[4] else 100_000.0 for r in rows])
    weight = np.clip(np.log10(revenue) / 6.5, 0.5, 1.6)
    expected = np.array([PER_YEAR.get(r[3], 2) * QUIET_STATUSES.get(r[5], 1.0) for r in rows]) * pace * weight
    count = np.maximum(0, np.rint(gen.normal(expected, expected / 3))).astype(np.int64)
    with transaction.atomic():
        activity_ids = reserve_ids(Activity, int(count.sum()))
    return {"rows": rows, "gen": gen, "contacts": contacts, "known": known, "count": count, "ids": activity_ids,
            "context": context}


def _make(prepared: dict) -> tuple[list, list, list, list, int]:
    """The batch's activities, who took part (ours and theirs) and the tasks their next steps left."""
    rows, gen, contacts, known, count = (prepared[k] for k in ("rows", "gen", "contacts", "known", "count"))
    activity_ids, context = prepared["ids"], prepared["context"]
    n, total = len(rows), int(count.sum())
    if not total:
        return [], [], [], [], 0
    offset = np.concatenate([[0], np.cumsum(known)[:-1]])
    at = np.repeat(np.arange(n), count)  # each activity's account, by place in the batch
    kinds = list(KIND_WEIGHTS)
    p = np.array(list(KIND_WEIGHTS.values()), dtype=np.float64)
    kind = gen.choice(len(kinds), size=total, p=p / p.sum())
    f2f = np.isin(kind, [kinds.index(k) for k in FACE_TO_FACE])
    day = context.start.toordinal() + gen.integers(365, size=total)
    # The contacts met: one, or two for a meeting in person half the time, from those in post.
    c = known[at]
    wanted = np.minimum(c, np.where(f2f & (gen.random(total) >= 0.5), 2, 1))
    first = (gen.random(total) * c).astype(np.int64)
    second = (gen.random(total) * np.maximum(c - 1, 1)).astype(np.int64)
    second = second + (second >= first)
    base = offset[at]
    manager_joins = f2f & (gen.random(total) < np.where(
        np.array([r[3] == Channel.KEY for r in rows])[at], 0.3, 0.1))
    steps = gen.random(total) < 0.3
    step = gen.integers(len(NEXT_STEPS), size=total)
    due = day + gen.integers(3, 22, size=total)
    topic = gen.integers(len(TOPICS), size=total)
    located = gen.random(total) < 0.6
    occurred = instants(Activity, context.moments(gen, day))

    activities, people, met = [], [], []
    visit = kinds.index(ActivityKind.VISIT)
    for k, (a, kd, w, i1, i2, b, joins, has_step, s, d, t, loc) in enumerate(zip(
            at.tolist(), kind.tolist(), wanted.tolist(), first.tolist(), second.tolist(), base.tolist(),
            manager_joins.tolist(), steps.tolist(), step.tolist(), due.tolist(), topic.tolist(), located.tolist(),
            strict=True)):
        account_id, owner_id, unit_id, _channel, _revenue, _status, address = rows[a]
        chosen = [contacts[b + i1]] if w >= 1 else []
        if w == 2:
            chosen.append(contacts[b + i2])
        activity_id = activity_ids[k]
        kind_value = kinds[kd]
        activities.append((
            activity_id, account_id, kind_value, occurred[k],
            any(role == DecisionRole.DECISION_MAKER for *_x, role in chosen),
            SUMMARIES[kind_value].format(who="、".join(ct[2] for ct in chosen) or "客户", topic=TOPICS[t]),
            NEXT_STEPS[s] if has_step else "", date.fromordinal(d).isoformat() if has_step else None,
            address if kd == visit and loc else "", owner_id, context.created,
        ))
        people.append((activity_id, owner_id))
        manager = context.managers.get(unit_id)
        if joins and manager is not None and manager != owner_id:
            people.append((activity_id, manager))
        met.extend((activity_id, ct[1]) for ct in chosen)

    # Past next steps were mostly done on time; some are overdue, the recent ones are open.
    with_step = np.flatnonzero(steps)
    due_steps = due[with_step]
    done = (due_steps < context.today.toordinal()) & (gen.random(len(with_step)) < 0.93)
    done_at = instants(Task, context.moments(gen, due_steps))
    tasks = []
    for j, (k, d, finished) in enumerate(zip(with_step.tolist(), due_steps.tolist(), done.tolist(), strict=True)):
        row = activities[k]
        tasks.append((row[9], row[1], row[6], date.fromordinal(d).isoformat(),
                      TaskStatus.DONE if finished else TaskStatus.OPEN, TaskSource.ACTIVITY, row[0], row[9],
                      context.created, done_at[j] if finished else None))
    return activities, people, met, tasks, int(len(tasks) - done.sum())


def _write(made: tuple[list, list, list, list, int]) -> tuple[int, int]:
    activities, people, met, tasks, opened = made
    insert_values(Activity, ACTIVITY_FIELDS, activities, prepared=True, batch_size=5000)
    insert_values(Activity.participants.through, ("activity_id", "user_id"), people, prepared=True, batch_size=5000)
    insert_values(Activity.contacts.through, ("activity_id", "contact_id"), met, prepared=True, batch_size=5000)
    insert_values(Task, TASK_FIELDS, tasks, prepared=True, batch_size=5000)
    return len(activities), opened
