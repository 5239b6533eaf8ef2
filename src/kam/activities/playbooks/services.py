"""Relationship stages and their playbooks: entering a stage, the nightly run, HQ's steps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.accounts.services import _validation_failed
from kam.accounts.stages import StageBoundaries, set_relationship_stages, stage_on, stage_span
from kam.activities.models import Playbook, PlaybookStep, Task, TaskSource, TaskStatus
from kam.activities.playbooks import policies
from kam.activities.playbooks.schedule import step_due_dates
from kam.activities.services import NewTask, tasks_open_many
from kam.core.conf import config
from kam.core.errors import NotVisible, refused
from kam.core.policies import require

PLAYBOOK_STEP_FIELDS = ("title", "kind", "offset_days", "repeat_days", "until_days", "sort_order", "is_active")


def _playbook_steps() -> dict[str, list[PlaybookStep]]:
    """Active steps of the active playbooks, by stage."""
    steps: dict[str, list[PlaybookStep]] = {}
    for step in PlaybookStep.objects.filter(is_active=True, playbook__is_active=True).select_related("playbook"):
        steps.setdefault(step.playbook.stage, []).append(step)
    return steps


def _playbook_tasks_due(accounts: Sequence[Account], *, today: date,
                        steps_by_stage: dict[str, list[PlaybookStep]]) -> list[NewTask]:
    """The playbook tasks `accounts` (in their stored stage) should have and do not: one per step
    and due date, never a second one, whatever became of the first (done, cancelled)."""
    boundaries = StageBoundaries.from_settings()
    settings = config()
    earliest = today - timedelta(days=settings.PLAYBOOK_PAST_DAYS)
    latest = today + timedelta(days=settings.PLAYBOOK_HORIZON_DAYS)
    wanted: list[tuple[Account, PlaybookStep, date]] = []
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
        NewTask(owner_id=account.owner_id, account_id=account.pk, title=step.title, due_on=due,
                source_kind=TaskSource.PLAYBOOK, source_id=step.pk, created_by_id=account.owner_id)
        for account, step, due in wanted
        if account.owner_id is not None and (account.pk, step.pk, due) not in have
    ]


def _enter(account: Account, stage: str, *, actor: Any, today: date) -> int:
    """Move `account` (locked) into `stage`: open playbook tasks of its earlier stage that
    fall due from today on are cancelled, the new stage's are created."""
    if account.relationship_stage != stage:
        other_steps = PlaybookStep.objects.exclude(playbook__stage=stage).values("pk")
        for task in Task.objects.filter(account=account, source_kind=TaskSource.PLAYBOOK, status=TaskStatus.OPEN,
                                        source_id__in=other_steps, due_on__gte=today):
            task.status = TaskStatus.CANCELLED
            task._history_user = actor  # read by simple_history
            task.save()
        set_relationship_stages({account.pk: stage}, actor=actor)
        account.relationship_stage = stage  # the locked copy follows the row
    tasks = _playbook_tasks_due([account], today=today, steps_by_stage=_playbook_steps())
    return tasks_open_many(actor=actor, tasks=tasks)


@transaction.atomic
def stage_enter(*, actor: Any, account: Account, today: date | None = None) -> int:
    """Bring `account` into the stage its signing date gives today and create that stage's
    playbook tasks for its owner. Running it again creates nothing new. Returns the tasks created."""
    today = today or timezone.localdate()
    locked = Account.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=account.pk).first()
    if locked is None:
        raise NotVisible(_("Not found."))
    return _enter(locked, stage_on(locked.signed_on, today, StageBoundaries.from_settings()),
                  actor=actor, today=today)


def playbook_apply(*, actor: Any = None, today: date | None = None, batch: int = 2000) -> dict[str, int]:
    """The nightly run over every signed account: accounts whose stage changed enter the new
    one; the others get their repeating playbook tasks that came within the horizon. Each
    batch is one transaction, so a crash leaves whole batches and a re-run completes the rest."""
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
            counts["tasks"] += tasks_open_many(
                actor=actor, tasks=_playbook_tasks_due(staying, today=today, steps_by_stage=steps))
            counts["accounts"] += len(accounts)


@transaction.atomic
def playbook_step_save(*, actor: Any, playbook: Playbook, step: PlaybookStep | None = None,
                       data: dict[str, Any]) -> PlaybookStep:
    """HQ adds a step to `playbook` or changes `step`. A step is switched off, never deleted,
    so the tasks it created keep their source."""
    require(policies.may_change_playbooks(actor, playbook), _("Only headquarters change the playbooks."))
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
    step._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    step.save()
    return step
