"""Visit plans kept as tasks."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kam.accounts.models import Account
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.activities.planning import policies
from kam.activities.planning.planner import VisitPlan, plan_visits
from kam.activities.planning.selectors import plan_key, visit_plan_inputs
from kam.core.calendar import month_days, working_days
from kam.core.conf import config
from kam.core.errors import NotVisible, refused

User = get_user_model()


@transaction.atomic
def visit_plan_create(*, actor: Any, user: Any, month: date, today: date | None = None) -> VisitPlan:
    """Plan `user`'s visits for `month` (any day of it) and keep them as tasks (source plan,
    source id YYYYMM). Planning a month again replaces its open plan tasks: those the new plan
    keeps stay, the others go, the missing ones are added; done tasks are left alone. In the
    current month only the days from today on are planned. Returns the plan. Someone the actor
    may not plan for reads as not found: the plan does not say who exists elsewhere."""
    today = today or timezone.localdate()
    month = month.replace(day=1)
    if user is None or not policies.may_plan_for(actor, user):
        raise NotVisible(_("Not found."))
    # One plan at a time per person: two runs at once must not both add the month's tasks.
    User.objects.select_for_update().filter(pk=user.pk).first()
    last_day = month_days(month.year, month.month)[-1]
    if last_day < today:
        raise refused("month", _("This month is over; plan this month or a later one."))
    days = [d for d in working_days(month.year, month.month) if d >= today]
    inputs = visit_plan_inputs(actor=actor, user=user, month=month, as_of=max(month, min(today, last_day)))
    settings = config()
    plan = plan_visits(inputs, days=days, daily_max=settings.PLAN_DAILY_MAX_VISITS,
                       min_gap_days=settings.PLAN_MIN_GAP_DAYS)
    key = plan_key(month)
    names = dict(Account.objects.filter(pk__in=[a.account_id for a in inputs]).values_list("pk", "name"))
    wanted = {(v.account_id, v.day) for v in plan.visits}
    existing = list(Task.objects.filter(owner=user, source_kind=TaskSource.PLAN, source_id=key,
                                        status=TaskStatus.OPEN).order_by("pk"))
    kept = set()
    for task in existing:
        slot = (task.account_id, task.due_on)
        if slot in wanted and slot not in kept:
            kept.add(slot)
        else:
            task._history_user = actor  # read by simple_history
            task.delete()
    new = [
        Task(owner=user, account_id=account_id, title=_("Visit %(account)s") % {"account": names[account_id]},
             due_on=day, source_kind=TaskSource.PLAN, source_id=key, created_by=actor)
        for account_id, day in sorted(wanted - kept, key=lambda s: (s[1], s[0]))
    ]
    bulk_create_with_history(new, Task, default_user=actor)
    plan.names = names
    plan.kept, plan.created, plan.removed = len(kept), len(new), len(existing) - len(kept)
    return plan
