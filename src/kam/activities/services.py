"""Logging activities and working tasks. The web views, the API and the demo share these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, Contact, DecisionRole
from kam.accounts.services import _validation_failed
from kam.activities.models import Activity, Task, TaskSource, TaskStatus
from kam.activities.selectors import participant_choices
from kam.core.conf import kam_setting
from kam.core.errors import Conflict, NotVisible, PermissionDenied, refused
from kam.core.models import Role

User = get_user_model()

# Roles that steer the people below them in the org tree and may act on their tasks.
MANAGING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER})



def _ids(items: Iterable) -> list[int]:
    return list(dict.fromkeys(item.pk if hasattr(item, "pk") else int(item) for item in items))


def _save_with_history(obj, actor) -> None:
    obj._history_user = actor
    obj.save()


def _check_occurred_at(occurred_at: datetime) -> datetime:
    if not isinstance(occurred_at, datetime):
        raise refused("occurred_at", _("Enter a date and time."))
    if timezone.is_naive(occurred_at):
        # A time without an offset is local time (Asia/Shanghai), as people say it.
        occurred_at = timezone.make_aware(occurred_at)
    now = timezone.now()
    if occurred_at > now + timedelta(minutes=kam_setting("ACTIVITY_FUTURE_TOLERANCE_MINUTES")):
        raise refused("occurred_at", _("An activity cannot lie in the future. Plan it as a task instead."))
    if occurred_at < now - timedelta(days=kam_setting("ACTIVITY_MAX_AGE_DAYS")):
        raise refused("occurred_at", _("This date is too far in the past."))
    return occurred_at


def _contacts_of(account: Account, contacts: Iterable) -> list[Contact]:
    ids = _ids(contacts)
    found = list(Contact.objects.alive().filter(account=account, pk__in=ids))
    if len(found) != len(ids):
        raise refused("contacts", _("Choose contacts of this account."))
    return found


def _participants_of(actor, account: Account, participants: Iterable) -> list:
    ids = [pk for pk in _ids(participants) if pk != actor.pk]
    found = list(participant_choices(user=actor, account=account).filter(pk__in=ids))
    if len(found) != len(ids):
        raise refused("participants", _("Choose colleagues of your branch or of the account team."))
    return [actor, *found]


@transaction.atomic
def activity_log(
    *,
    actor,
    account: Account,
    kind: str,
    occurred_at: datetime,
    summary: str,
    participants: Iterable = (),
    contacts: Iterable = (),
    next_step: str = "",
    next_step_due: date | None = None,
    location: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Activity:
    """Record one contact with `account`. The actor is always among our participants;
    a next step with a due date becomes the actor's task."""
    account = Account.objects.visible_to(actor).filter(pk=account.pk).first()
    if account is None:
        raise NotVisible(_("Not found."))
    occurred_at = _check_occurred_at(occurred_at)
    met = _contacts_of(account, contacts)
    people = _participants_of(actor, account, participants)
    next_step = (next_step or "").strip()
    if next_step_due is not None and not next_step:
        raise refused("next_step", _("Say what the next step is."))
    if next_step_due is not None and next_step_due < timezone.localdate(occurred_at):
        raise refused("next_step_due", _("The next step cannot be due before the activity."))
    activity = Activity(
        account=account, kind=kind, occurred_at=occurred_at, summary=(summary or "").strip(),
        next_step=next_step, next_step_due=next_step_due, location=(location or "").strip(),
        latitude=latitude, longitude=longitude, created_by=actor,
        decision_maker_met=any(c.decision_role == DecisionRole.DECISION_MAKER for c in met),
    )
    if (latitude is None) != (longitude is None):
        raise refused("latitude", _("Give both latitude and longitude, or neither."))
    try:
        activity.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _save_with_history(activity, actor)
    activity.participants.set(people)
    activity.contacts.set(met)
    if next_step and next_step_due is not None:
        task = Task(
            owner=actor, account=account, title=next_step, due_on=next_step_due,
            source_kind=TaskSource.ACTIVITY, source_id=activity.pk, created_by=actor,
        )
        task.full_clean()
        _save_with_history(task, actor)
    _cadence_reminders_close(actor=actor, account=account, kind=kind)
    _pool_notices_close(actor=actor, account=account)
    return activity


def _pool_notices_close(*, actor, account: Account) -> None:
    """Any activity is the follow-up a public-pool notice to the owner asked for: done."""
    if account.owner_id is None:
        return
    for task in Task.objects.select_for_update().filter(account=account, owner_id=account.owner_id,
                                                        source_kind=TaskSource.POOL, status=TaskStatus.OPEN):
        task.status = TaskStatus.DONE
        task.done_at = timezone.now()
        _save_with_history(task, actor)


def _cadence_reminders_close(*, actor, account: Account, kind: str) -> None:
    """A visit or call just logged is the contact an open cadence reminder for that account
    and kind asked for: its task is done."""
    from kam.activities.compliance.measure import contact_kinds
    from kam.activities.models import CadenceKind

    visit_kinds, call_kinds = contact_kinds()
    contact = CadenceKind.VISIT if kind in visit_kinds else CadenceKind.CALL if kind in call_kinds else None
    if contact is None:
        return
    reminded = Task.objects.select_for_update().filter(
        account=account, source_kind=TaskSource.REMINDER, status=TaskStatus.OPEN,
        reminder__account=account, reminder__kind=contact,
    )
    for task in reminded:
        task.status = TaskStatus.DONE
        task.done_at = timezone.now()
        _save_with_history(task, actor)


def activities_follow_merge(sender, *, survivor: Account, merged: Account, actor, **kwargs) -> None:
    """When two accounts merge, the merged one's activities and tasks move to the survivor."""
    Activity.objects.filter(account=merged).update(account=survivor)
    Task.objects.filter(account=merged).update(account=survivor)


# --- tasks ---------------------------------------------------------------------------------


def may_change_task(actor, task: Task) -> bool:
    """The owner, managers above the owner in the org tree, and HQ may work a task."""
    if task.owner_id == actor.pk or actor.sees_everything:
        return True
    return actor.role in MANAGING_ROLES and task.owner.unit_id in actor.visible_unit_ids


def _task_to_change(actor, task: Task) -> Task:
    task = (
        Task.objects.visible_to(actor).select_for_update(of=("self",)).select_related("owner")
        .filter(pk=task.pk).first()
    )
    if task is None:
        raise NotVisible(_("Not found."))
    if not may_change_task(actor, task):
        raise PermissionDenied(_("Only the owner of this task or their managers may change it."))
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("This task is already closed."), errors={"status": [task.get_status_display()]})
    return task


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    due_on: date,
    owner=None,
    account: Account | None = None,
    source_kind: str = TaskSource.MANUAL,
    source_id: int | None = None,
) -> Task:
    owner = owner or actor
    if owner.pk != actor.pk:
        probe = Task(owner=owner)
        if not owner.is_active or not may_change_task(actor, probe):
            raise refused("owner", _("You can give tasks only to people in the units you manage."))
    if account is not None:
        if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
            raise refused("account", _("No such account."))
        if not Account.objects.visible_to(owner).filter(pk=account.pk).exists():
            raise refused("owner", _("This person cannot see the account."))
    task = Task(
        owner=owner, account=account, title=(title or "").strip(), due_on=due_on,
        source_kind=source_kind, source_id=source_id, created_by=actor,
    )
    try:
        task.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _save_with_history(task, actor)
    return task


@transaction.atomic
def task_complete(*, actor, task: Task) -> Task:
    task = _task_to_change(actor, task)
    task.status = TaskStatus.DONE
    task.done_at = timezone.now()
    _save_with_history(task, actor)
    return task


@transaction.atomic
def task_cancel(*, actor, task: Task) -> Task:
    task = _task_to_change(actor, task)
    task.status = TaskStatus.CANCELLED
    _save_with_history(task, actor)
    return task


# --- service standards and cadence reminders --------------------------------------------------

STANDARD_FIELDS = ("visits", "visit_period", "calls", "call_period", "value_report_months",
                   "executive_meeting_months", "response_hours", "support_hours_per_year")


@transaction.atomic
def service_standard_update(*, actor, standard, **values):
    """HQ changes a tier's service standard; the old numbers stay in its history."""
    from kam.activities.models import ServiceStandard

    if not actor.sees_everything:
        raise PermissionDenied(_("Only headquarters change the service standards."))
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
    _save_with_history(standard, actor)
    return standard


@transaction.atomic
def cadence_reminders_create(*, actor, scheme, as_of: date | None = None) -> int:
    """A task for the owner of each account whose next visit or call per the cadence of
    `scheme` falls due within CADENCE_REMINDER_DAYS (or is overdue), unless an open reminder
    for that account and kind exists. Returns the number of tasks created."""
    import numpy as np

    from kam.activities.compliance import cadence
    from kam.activities.compliance import measure as compliance
    from kam.activities.models import CadenceKind, Reminder

    as_of = as_of or timezone.localdate()
    horizon = as_of + timedelta(days=kam_setting("CADENCE_REMINDER_DAYS"))
    # Serialise runs: two at once must not both find no open reminder.
    list(Reminder.objects.select_for_update().filter(task__status=TaskStatus.OPEN).values_list("pk")[:1])
    # Accounts in the public pool have no owner to remind.
    m = compliance.measure(user=actor, scheme=scheme, start=as_of, end=as_of, as_of=as_of,
                           accounts=Account.objects.alive().filter(owner__isnull=False, owner__is_active=True))
    open_now = set(Reminder.objects.filter(task__status=TaskStatus.OPEN).values_list("account_id", "kind"))
    titles = {CadenceKind.VISIT: _("Visit due: %(account)s"), CadenceKind.CALL: _("Call due: %(account)s")}
    wanted = []
    for kind, last, gap, since in ((CadenceKind.VISIT, m.last_visit, m.visit_gap, m.visit_since),
                                   (CadenceKind.CALL, m.last_call, m.call_gap, m.call_since)):
        due = cadence.next_due(last, gap, as_of, since)
        for p in np.flatnonzero((due != cadence.NEVER) & (due <= horizon.toordinal())):
            if (int(m.ids[p]), kind.value) not in open_now:
                wanted.append((int(m.ids[p]), int(m.owner[p]), kind, max(date.fromordinal(int(due[p])), as_of)))
    if not wanted:
        return 0
    names = dict(Account.objects.filter(pk__in=[w[0] for w in wanted]).values_list("pk", "name"))
    for account_id, owner_id, kind, due_on in wanted:
        task = Task(owner_id=owner_id, account_id=account_id, title=(titles[kind] % {"account": names[account_id]})[:200],
                    due_on=due_on, source_kind=TaskSource.REMINDER, created_by=actor)
        _save_with_history(task, actor)
        reminder = Reminder.objects.create(account_id=account_id, kind=kind, due_on=due_on, task=task)
        Task.objects.filter(pk=task.pk).update(source_id=reminder.pk)
    return len(wanted)


# --- relationship stages and playbooks --------------------------------------------------------


def _playbook_steps() -> dict[str, list]:
    """Active steps of the active playbooks, by stage."""
    from kam.activities.models import PlaybookStep

    steps: dict[str, list] = {}
    for step in PlaybookStep.objects.filter(is_active=True, playbook__is_active=True).select_related("playbook"):
        steps.setdefault(step.playbook.stage, []).append(step)
    return steps


def _playbook_tasks_due(accounts, *, today: date, steps_by_stage: dict[str, list]) -> list[Task]:
    """The playbook tasks `accounts` (in their stored stage) should have and do not: one per step
    and due date, never a second one, whatever became of the first (done, cancelled)."""
    from kam.accounts.stages import StageBoundaries, stage_span
    from kam.activities.playbooks.schedule import step_due_dates

    boundaries = StageBoundaries.from_settings()
    earliest = today - timedelta(days=kam_setting("PLAYBOOK_PAST_DAYS"))
    latest = today + timedelta(days=kam_setting("PLAYBOOK_HORIZON_DAYS"))
    wanted: list[tuple] = []
    for account in accounts:
        # An account in the public pool has nobody to give its playbook tasks to.
        if not account.signed_on or not account.relationship_stage or account.owner_id is None:
            continue
        entered_on, ends = stage_span(account.signed_on, account.relationship_stage, boundaries)
        for step in steps_by_stage.get(account.relationship_stage, []):
            for due in step_due_dates(entered_on=entered_on, stage_ends=ends, offset=step.offset_days,
                                      repeat=step.repeat_days, until=step.until_days,
                                      earliest=earliest, latest=latest):
                wanted.append((account, step, due))
    if not wanted:
        return []
    have = set(Task.objects.filter(
        source_kind=TaskSource.PLAYBOOK, account__in=[a.pk for a in accounts],
        source_id__in={step.pk for _a, step, _d in wanted},
    ).values_list("account_id", "source_id", "due_on"))
    return [
        Task(owner_id=account.owner_id, account=account, title=step.title, due_on=due,
             source_kind=TaskSource.PLAYBOOK, source_id=step.pk, created_by_id=account.owner_id)
        for account, step, due in wanted if (account.pk, step.pk, due) not in have
    ]


def _create_tasks(tasks: list[Task], actor) -> None:
    from simple_history.utils import bulk_create_with_history

    if tasks:
        bulk_create_with_history(tasks, Task, batch_size=1000, default_user=actor)


def _enter(account: Account, stage: str, *, actor, today: date) -> int:
    """Move `account` (locked) into `stage`: open playbook tasks of its earlier stage that
    fall due from today on are cancelled, the new stage's are created."""
    from kam.activities.models import PlaybookStep

    if account.relationship_stage != stage:
        other_steps = PlaybookStep.objects.exclude(playbook__stage=stage).values("pk")
        for task in Task.objects.filter(account=account, source_kind=TaskSource.PLAYBOOK, status=TaskStatus.OPEN,
                                        source_id__in=other_steps, due_on__gte=today):
            task.status = TaskStatus.CANCELLED
            _save_with_history(task, actor)
        account.relationship_stage = stage
        account._history_user = actor
        account.save(update_fields=["relationship_stage"])
    tasks = _playbook_tasks_due([account], today=today, steps_by_stage=_playbook_steps())
    _create_tasks(tasks, actor)
    return len(tasks)


@transaction.atomic
def stage_enter(*, actor, account: Account, today: date | None = None) -> int:
    """Bring `account` into the stage its signing date gives today and create that stage's
    playbook tasks for its owner. Running it again creates nothing new. Returns the tasks created."""
    today = today or timezone.localdate()
    account = Account.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=account.pk).first()
    if account is None:
        raise NotVisible(_("Not found."))
    from kam.accounts.stages import StageBoundaries, stage_on

    return _enter(account, stage_on(account.signed_on, today, StageBoundaries.from_settings()),
                  actor=actor, today=today)


def playbook_apply(*, actor=None, today: date | None = None, batch: int = 2000) -> dict[str, int]:
    """The nightly run over every signed account: accounts whose stage changed enter the new
    one; the others get their repeating playbook tasks that came within the horizon. Each
    batch is one transaction, so a crash leaves whole batches and a re-run completes the rest."""
    from django.db.models import Q

    from kam.accounts.stages import StageBoundaries, stage_on

    today = today or timezone.localdate()
    boundaries = StageBoundaries.from_settings()
    counts = {"accounts": 0, "entered": 0, "tasks": 0}
    last_pk = 0
    while True:
        with transaction.atomic():
            accounts = list(Account.objects.alive().filter(pk__gt=last_pk)
                            .filter(Q(signed_on__isnull=False) | ~Q(relationship_stage=""))
                            .select_for_update(of=("self",)).order_by("pk")
                            .only("pk", "owner_id", "signed_on", "relationship_stage")[:batch])
            if not accounts:
                return counts
            last_pk = accounts[-1].pk
            steps = _playbook_steps()
            staying = []
            for account in accounts:
                stage = stage_on(account.signed_on, today, boundaries)
                if stage != account.relationship_stage:
                    counts["entered"] += 1
                    counts["tasks"] += _enter(account, stage, actor=actor, today=today)
                else:
                    staying.append(account)
            tasks = _playbook_tasks_due(staying, today=today, steps_by_stage=steps)
            _create_tasks(tasks, actor)
            counts["tasks"] += len(tasks)
            counts["accounts"] += len(accounts)


PLAYBOOK_STEP_FIELDS = ("title", "kind", "offset_days", "repeat_days", "until_days", "sort_order", "is_active")


def _hq_only(actor) -> None:
    if not actor.sees_everything:
        raise PermissionDenied(_("Only headquarters change the playbooks."))


@transaction.atomic
def playbook_step_save(*, actor, playbook, step=None, data: dict) -> object:
    """HQ adds a step to `playbook` or changes `step`. A step is switched off, never deleted,
    so the tasks it created keep their source."""
    from kam.activities.models import PlaybookStep

    _hq_only(actor)
    unknown = set(data) - set(PLAYBOOK_STEP_FIELDS)
    if unknown:
        raise refused(sorted(unknown)[0], _("This field cannot be changed."))
    if step is None:
        step = PlaybookStep(playbook=playbook)
    else:
        step = PlaybookStep.objects.select_for_update().get(pk=step.pk, playbook=playbook)
    for name, value in data.items():
        setattr(step, name, value)
    if step.until_days is not None and step.until_days < step.offset_days:
        raise refused("until_days", _("Repeat until a day after the first one."))
    try:
        step.full_clean()
    except ValidationError as exc:
        raise _validation_failed(exc) from exc
    _save_with_history(step, actor)
    return step


# --- visit plans --------------------------------------------------------------------------------


def may_plan_for(actor, user) -> bool:
    """People plan their own visits; managers and HQ plan for the people of their units."""
    from kam.activities.selectors import plannable_people

    return plannable_people(user=actor).filter(pk=user.pk).exists()


@transaction.atomic
def visit_plan_create(*, actor, user, month: date, today: date | None = None):
    """Plan `user`'s visits for `month` (any day of it) and keep them as tasks (source plan,
    source id YYYYMM). Planning a month again replaces its open plan tasks: those the new plan
    keeps stay, the others go, the missing ones are added; done tasks are left alone. In the
    current month only the days from today on are planned. Returns the plan."""
    from kam.activities.planning.planner import plan_visits
    from kam.activities.selectors import visit_plan_inputs
    from kam.core.calendar import month_days, working_days

    today = today or timezone.localdate()
    month = month.replace(day=1)
    if user is None or not may_plan_for(actor, user):
        raise NotVisible(_("Not found."))
    # One plan at a time per person: two runs at once must not both add the month's tasks.
    User.objects.select_for_update().filter(pk=user.pk).first()
    last_day = month_days(month.year, month.month)[-1]
    if last_day < today:
        raise refused("month", _("This month is over; plan this month or a later one."))
    days = [d for d in working_days(month.year, month.month) if d >= today]
    inputs = visit_plan_inputs(actor=actor, user=user, month=month, as_of=max(month, min(today, last_day)))
    plan = plan_visits(inputs, days=days, daily_max=kam_setting("PLAN_DAILY_MAX_VISITS"),
                       min_gap_days=kam_setting("PLAN_MIN_GAP_DAYS"))
    key = month.year * 100 + month.month
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
            task._history_user = actor
            task.delete()
    new = [
        Task(owner=user, account_id=account_id, title=_("Visit %(account)s") % {"account": names[account_id]},
             due_on=day, source_kind=TaskSource.PLAN, source_id=key, created_by=actor)
        for account_id, day in sorted(wanted - kept, key=lambda s: (s[1], s[0]))
    ]
    from simple_history.utils import bulk_create_with_history

    bulk_create_with_history(new, Task, default_user=actor)
    plan.names = names
    plan.kept, plan.created, plan.removed = len(kept), len(new), len(existing) - len(kept)
    return plan
