"""ABC care: the C accounts (档案管理, 定期寄送资料, 随机电话联系) get a monthly random sample of
calls (抽样回访) as tasks of their owners.

Each month every owner gets SAMPLE_CALLS_PER_OWNER calls to accounts drawn at random among
theirs in the SAMPLE_CALL_TIERS of SAMPLE_CALL_SCHEME (from its annual list, else its latest
snapshot, as compliance reads tiers). The draw is seeded by the month and the owner, so the
nightly run may repeat: it tops each owner up to the number and never draws twice."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.compliance import measure as compliance
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.activities.services import NewTask, tasks_open_many
from kam.core.calendar import next_working_day
from kam.core.conf import config
from kam.tiering.models import Scheme


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@transaction.atomic
def sample_calls_create(*, today: date | None = None) -> int:
    """Top up this month's sample calls (see the module); returns the number of tasks opened."""
    today = today or timezone.localdate()
    per_owner = config().SAMPLE_CALLS_PER_OWNER
    scheme = Scheme.objects.filter(code=config().SAMPLE_CALL_SCHEME).first()
    if not per_owner or scheme is None:
        return 0
    first, last = _month(today)
    # Serialise runs: two at once must not both find the month's quota missing.
    list(Task.objects.select_for_update().filter(source_kind=TaskSource.SAMPLE).values_list("pk")[:1])
    rows = list(Account.objects.alive().filter(owner__isnull=False, owner__is_active=True)
                .order_by("pk").values_list("pk", "owner_id", "name"))
    if not rows:
        return 0
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    tiers = compliance.tiers_of(scheme=scheme, day=today, ids=ids)
    wanted_tiers = set(config().SAMPLE_CALL_TIERS)
    by_owner: dict[int, list[tuple[int, str]]] = {}
    for (pk, owner, name), tier in zip(rows, tiers.tolist(), strict=True):
        if tier in wanted_tiers:
            by_owner.setdefault(owner, []).append((pk, name))
    month_tasks = Task.objects.filter(source_kind=TaskSource.SAMPLE, due_on__gte=first, due_on__lte=last)
    had = dict(month_tasks.values_list("owner_id").annotate(n=Count("id")).order_by())
    drawn = set(month_tasks.values_list("account_id", flat=True))
    open_elsewhere = set(Task.objects.filter(source_kind=TaskSource.SAMPLE, status=TaskStatus.OPEN)
                         .values_list("account_id", flat=True))
    due_on = next_working_day(max(today, first), include_today=True)
    tasks = []
    for owner, accounts in sorted(by_owner.items()):
        missing = per_owner - had.get(owner, 0)
        if missing <= 0:
            continue
        pool = [a for a in accounts if a[0] not in drawn and a[0] not in open_elsewhere]
        rng = random.Random(f"{first:%Y-%m}:{owner}")
        for pk, name in rng.sample(pool, min(missing, len(pool))):
            tasks.append(NewTask(owner_id=owner, account_id=pk, due_on=min(due_on, last),
                                 title=_("Sample call: %(account)s") % {"account": name},
                                 source_kind=TaskSource.SAMPLE, created_by_id=owner))
    return tasks_open_many(actor=None, tasks=tasks)
