"""Logging activities and working tasks. The web views, the API and the demo share these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from kam.accounts.models import Account, Contact, DecisionRole
from kam.accounts.services import _validation_failed
from kam.activities import policies
from kam.activities.compliance.measure import contact_kinds
from kam.activities.models import Activity, CadenceKind, Task, TaskSource, TaskStatus
from kam.activities.selectors import participant_choices
from kam.core import summaries
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, refused
from kam.core.policies import require

User = get_user_model()


def _ids(items: Iterable[Any]) -> list[int]:
    return list(dict.fromkeys(item.pk if hasattr(item, "pk") else int(item) for item in items))


def _save_with_history(obj: Any, actor: Any) -> None:
    obj._history_user = actor
    obj.save()


def _check_occurred_at(occurred_at: datetime) -> datetime:
    if not isinstance(occurred_at, datetime):
        raise refused("occurred_at", _("Enter a date and time."))
    if timezone.is_naive(occurred_at):
        # A time without an offset is local time (Asia/Shanghai), as people say it.
        occurred_at = timezone.make_aware(occurred_at)
    now = timezone.now()
    if occurred_at > now + timedelta(minutes=config().ACTIVITY_FUTURE_TOLERANCE_MINUTES):
        raise refused("occurred_at", _("An activity cannot lie in the future. Plan it as a task instead."))
    if occurred_at < now - timedelta(days=config().ACTIVITY_MAX_AGE_DAYS):
        raise refused("occurred_at", _("This date is too far in the past."))
    return occurred_at


def _contacts_of(account: Account, contacts: Iterable[Any]) -> list[Contact]:
    ids = _ids(contacts)
    found = list(Contact.objects.alive().filter(account=account, pk__in=ids))
    if len(found) != len(ids):
        raise refused("contacts", _("Choose contacts of this account."))
    return found


def _participants_of(actor: Any, account: Account, participants: Iterable[Any]) -> list[Any]:
    ids = [pk for pk in _ids(participants) if pk != actor.pk]
    found = list(participant_choices(user=actor, account=account).filter(pk__in=ids))
    if len(found) != len(ids):
        raise refused("participants", _("Choose colleagues of your branch or of the account team."))
    return [actor, *found]


@transaction.atomic
def activity_log(
    *,
    actor: Any,
    account: Account,
    kind: str,
    occurred_at: datetime,
    summary: str,
    participants: Iterable[Any] = (),
    contacts: Iterable[Any] = (),
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


def _pool_notices_close(*, actor: Any, account: Account) -> None:
    """Any activity is the follow-up a public-pool notice to the owner asked for: done."""
    if account.owner_id is None:
        return
    for task in Task.objects.select_for_update().filter(account=account, owner_id=account.owner_id,
                                                        source_kind=TaskSource.POOL, status=TaskStatus.OPEN):
        task.status = TaskStatus.DONE
        task.done_at = timezone.now()
        _save_with_history(task, actor)


def _cadence_reminders_close(*, actor: Any, account: Account, kind: str) -> None:
    """A visit or call just logged is the contact an open cadence reminder for that account
    and kind asked for: its task is done."""
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


def activities_follow_merge(sender: Any, *, survivor: Account, merged: Account, actor: Any, **kwargs: Any) -> None:
    """When two accounts merge, the merged one's activities and tasks move to the survivor."""
    Activity.objects.filter(account=merged).update(account=survivor)
    summaries.touch("activities", [survivor.pk, merged.pk])
    Task.objects.filter(account=merged).update(account=survivor)


# --- tasks ---------------------------------------------------------------------------------


def _task_to_change(actor: Any, task: Task) -> Task:
    locked = (
        Task.objects.visible_to(actor).select_for_update(of=("self",)).select_related("owner")
        .filter(pk=task.pk).first()
    )
    if locked is None:
        raise NotVisible(_("Not found."))
    task = locked
    require(policies.may_change_task(actor, task), _("Only the owner of this task or their managers may change it."))
    if task.status != TaskStatus.OPEN:
        raise Conflict(_("This task is already closed."), errors={"status": [task.get_status_display()]})
    return task


@transaction.atomic
def task_create(
    *,
    actor: Any,
    title: str,
    due_on: date,
    owner: Any = None,
    account: Account | None = None,
    source_kind: str = TaskSource.MANUAL,
    source_id: int | None = None,
) -> Task:
    owner = owner or actor
    if not policies.may_give_task_to(actor, owner):
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
def task_complete(*, actor: Any, task: Task) -> Task:
    task = _task_to_change(actor, task)
    task.status = TaskStatus.DONE
    task.done_at = timezone.now()
    _save_with_history(task, actor)
    return task


@transaction.atomic
def task_cancel(*, actor: Any, task: Task) -> Task:
    task = _task_to_change(actor, task)
    task.status = TaskStatus.CANCELLED
    _save_with_history(task, actor)
    return task


# --- tasks other features open and close in bulk ----------------------------------------------


@dataclass(frozen=True)
class NewTask:
    """A task another feature opens (a playbook step, a pool notice): who, on what, by when."""

    owner_id: int
    title: str
    due_on: date
    source_kind: str
    created_by_id: int
    account_id: int | None = None
    source_id: int | None = None


def tasks_open_many(*, actor: Any, tasks: Iterable[NewTask]) -> int:
    """Open `tasks` in the caller's transaction, each with its history row by `actor` (None:
    the system). For the services of other features, which have decided who gets them. Returns
    the number opened."""
    rows = [Task(owner_id=t.owner_id, account_id=t.account_id, title=t.title[:200], due_on=t.due_on,
                 source_kind=t.source_kind, source_id=t.source_id, created_by_id=t.created_by_id) for t in tasks]
    if rows:
        bulk_create_with_history(rows, Task, batch_size=1000, default_user=actor)
    return len(rows)


def tasks_close_from(*, actor: Any, source_kind: str, source_id: int, status: str,
                     at: datetime | None = None) -> int:
    """The open tasks another feature opened for one of its records (a lead, a review…) end with
    `status` (done or cancelled) at `at` (now), in the caller's transaction, with history rows by
    `actor` (None: the system). Returns the number closed."""
    closing = list(Task.objects.select_for_update().filter(source_kind=source_kind, source_id=source_id,
                                                           status=TaskStatus.OPEN))
    return _close(closing, status=status, at=at or timezone.now(), actor=actor)


def _close(closing: list[Task], *, status: str, at: datetime, actor: Any) -> int:
    for task in closing:
        task.status = status
        task.done_at = at if status == TaskStatus.DONE else None
    if closing:
        bulk_update_with_history(closing, Task, ["status", "done_at"], default_user=actor)
    return len(closing)


def tasks_close_for(*, actor: Any, accounts: Iterable[Any], owners: Mapping[int, int | None], status: str,
                    kinds: Iterable[str] | None = None) -> int:
    """The open tasks on `accounts` (accounts or ids) of each account's owner in `owners`
    (account id → owner id) end with `status` (done or cancelled), in the caller's transaction,
    with history rows by `actor` (None: the system). For the services that take accounts away
    from their owners. Returns the number closed."""
    tasks = Task.objects.filter(account__in=_ids(accounts), status=TaskStatus.OPEN)
    if kinds is not None:
        tasks = tasks.filter(source_kind__in=list(kinds))
    closing = [t for t in tasks if owners.get(t.account_id) == t.owner_id]
    return _close(closing, status=status, at=timezone.now(), actor=actor)
