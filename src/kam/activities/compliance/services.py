"""Service standards (HQ changes them) and the cadence reminders the nightly run creates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from kam.accounts.models import Account
from kam.accounts.services import _validation_failed
from kam.activities.compliance import cadence, policies
from kam.activities.compliance import measure as compliance
from kam.activities.models import (
    CadenceKind,
    Reminder,
    ServiceStandard,
    Task,
    TaskSource,
    TaskStatus,
)
from kam.core.bulk import chunks
from kam.core.conf import config
from kam.core.errors import refused
from kam.core.policies import require
from kam.tiering.models import Scheme

STANDARD_FIELDS = ("visits", "visit_period", "calls", "call_period", "value_report_months",
                   "executive_meeting_months", "response_hours", "support_hours_per_year", "member_benefits")


@transaction.atomic
def service_standard_update(*, actor: Any, standard: ServiceStandard, **values: Any) -> ServiceStandard:
    """HQ changes a tier's service standard; the old numbers stay in its history."""
    require(policies.may_change_standards(actor, standard), _("Only headquarters change the service standards."))
    standard = ServiceStandard.objects.select_for_update().get(pk=standard.pk)
    unknown = set(values) - set(STANDARD_FIELDS)
    if unknown:
        raise refused(sorted(unknown)[0], _("This field cannot be changed."))
    for name, value in values.items():
        setattr(standard, name, value)
    try:
        standard.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    standard._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    standard.save()
    return standard


def cadence_reminders_create(*, actor: Any, scheme: Scheme, as_of: date | None = None) -> int:
    """A task for the owner of each account whose next visit, call, value report or executive
    meeting per the cadence of `scheme` falls due within CADENCE_REMINDER_DAYS (or is
    overdue), unless an open reminder for that account and kind exists. Returns the number of
    tasks created. The cadence is measured before the writing transaction (it only reads; on
    SQLite a write transaction holds the write lock from its start), the tasks, their history
    and the reminders are written in bulk inside it."""
    require(policies.may_create_reminders(actor))
    as_of = as_of or timezone.localdate()
    horizon = as_of + timedelta(days=config().CADENCE_REMINDER_DAYS)
    # Accounts in the public pool have no owner to remind.
    m = compliance.measure(user=actor, scheme=scheme, start=as_of, end=as_of, as_of=as_of,
                           accounts=Account.objects.alive().filter(owner__isnull=False, owner__is_active=True))
    titles = {CadenceKind.VISIT: _("Visit due: %(account)s"), CadenceKind.CALL: _("Call due: %(account)s"),
              CadenceKind.REPORT: _("Value report due: %(account)s"),
              CadenceKind.EXECUTIVE: _("Executive meeting due: %(account)s")}
    due_now = []
    kinds = [(CadenceKind.VISIT, m.last_visit, m.visit_gap, m.visit_since),
             (CadenceKind.CALL, m.last_call, m.call_gap, m.call_since)]
    kinds += [(CadenceKind(name), other.last, other.gap, other.since) for name, other in m.others.items()]
    for kind, last, gap, since in kinds:
        due = cadence.next_due(last, gap, as_of, since)
        for p in np.flatnonzero((due != cadence.NEVER) & (due <= horizon.toordinal())):
            due_now.append((int(m.ids[p]), int(m.owner[p]), kind, max(date.fromordinal(int(due[p])), as_of)))
    if not due_now:
        return 0
    with transaction.atomic():
        # Serialise runs: two at once must not both find no open reminder.
        list(Reminder.objects.select_for_update().filter(task__status=TaskStatus.OPEN).values_list("pk")[:1])
        open_now = set(Reminder.objects.filter(task__status=TaskStatus.OPEN).values_list("account_id", "kind"))
        wanted = [w for w in due_now if (w[0], w[2].value) not in open_now]
        if not wanted:
            return 0
        names: dict[int, str] = {}
        for part in chunks(sorted({w[0] for w in wanted})):
            names.update(Account.objects.filter(pk__in=part).values_list("pk", "name"))
        tasks = [Task(owner_id=owner_id, account_id=account_id, due_on=due_on, source_kind=TaskSource.REMINDER,
                      title=(titles[kind] % {"account": names[account_id]})[:200], created_by=actor)
                 for account_id, owner_id, kind, due_on in wanted]
        tasks = bulk_create_with_history(tasks, Task, batch_size=1000, default_user=actor)
        reminders = Reminder.objects.bulk_create(
            [Reminder(account_id=account_id, kind=kind, due_on=due_on, task=task)
             for (account_id, _owner, kind, due_on), task in zip(wanted, tasks, strict=True)], batch_size=1000)
        for task, reminder in zip(tasks, reminders, strict=True):
            task.source_id = reminder.pk
        Task.objects.bulk_update(tasks, ["source_id"], batch_size=1000)
    return len(wanted)
