"""Early warning: the nightly (and on-demand) sweep that opens, keeps and closes warnings,
their tasks, and the retention actions that close them by hand.

**Sweep.** Every switched-on rule is evaluated over all live accounts (or the accounts
given) as of one day (`warning_rules`). Then, per (account, rule):

- firing, no open warning → a warning opens with one task for the account's owner, due in
  WARNING_TASK_DUE_DAYS days; an account in the public pool has no owner, so its task goes
  to the manager of its unit (the nearest manager or director up the unit tree), and
  there is none when no such person exists (the warning still opens; a later sweep gives
  it a task once someone is found). Not when the same rule was closed on that account by
  a retention action less than WARNING_QUIET_DAYS days before: the owner has acted and
  the condition often takes a while to change.
- firing, open warning → the warning keeps its task; its evidence and `checked_at` are
  refreshed (no new task: one per warning, not one per night);
- not firing, open warning → closed as cleared, its open task cancelled (with history);
- rule switched off → its open warnings close as switched off, their tasks cancelled.

**Concurrency.** A warning is inserted with ON CONFLICT DO NOTHING against the partial
unique index (one open warning per account and rule); the tasks are then created, in the
same transaction, for the open warnings still without one, read under lock. A second sweep
running at once waits on the index entry, skips the pair, and finds the task there.
Writes go in batches, each its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core import summaries
from kam.core.arrays import integer_rows
from kam.core.bulk import (
    chunks,
    copy_fast,
    insert_history,
    insert_values,
    reserve_ids,
    update_rows,
    update_values,
)
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, PermissionDenied, refused
from kam.core.models import OrgUnit, Role, User
from kam.core.policies import require
from kam.insight.models import (
    RetentionAction,
    RetentionOutcome,
    Severity,
    Warning,
    WarningRule,
    WarningState,
)
from kam.insight.warnings import policies, writes
from kam.insight.warnings.rules import RULES, Context, account_scope, clean_params

MANAGERS = (Role.MANAGER, Role.DIRECTOR)
BATCH = 2000
OPEN_BATCH = 20000  # pairs opened per transaction


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _assignees(accounts: dict[int, tuple[int | None, int]]) -> dict[int, int | None]:
    """Who gets each account's warning task: its owner (when active), else the nearest
    active manager or director up its unit's chain, else nobody."""
    owners = {o for o, _u in accounts.values() if o}
    active = set(User.objects.filter(pk__in=owners, is_active=True).values_list("pk", flat=True)) if owners else set()
    out: dict[int, int | None] = {}
    orphan_units = {u for o, u in accounts.values() if not (o and o in active)}
    manager_of_unit: dict[int, int | None] = {}
    if orphan_units:
        paths = dict(OrgUnit.objects.filter(pk__in=orphan_units).values_list("pk", "path"))
        chains = {u: [int(x) for x in p.strip("/").split("/") if x] for u, p in paths.items()}
        wanted = {x for chain in chains.values() for x in chain}
        by_unit: dict[int, int] = {}
        for pk, unit in User.objects.filter(is_active=True, role__in=MANAGERS, unit_id__in=wanted).order_by(
                "-id").values_list("pk", "unit_id"):
            by_unit[unit] = pk  # the lowest id wins
        for unit, chain in chains.items():
            manager_of_unit[unit] = next((by_unit[x] for x in reversed(chain) if x in by_unit), None)
    for pk, (owner, unit) in accounts.items():
        out[pk] = owner if owner and owner in active else manager_of_unit.get(unit)
    return out


def _cancel_tasks(task_ids: list[int], now: datetime, reason: str) -> int:
    """Cancel the open tasks of `task_ids`, one history row each (one UPDATE, one INSERT)."""
    tasks = list(Task.objects.select_for_update().filter(pk__in=task_ids, status=TaskStatus.OPEN))
    for task in tasks:
        task.status = TaskStatus.CANCELLED
    if tasks:
        Task.objects.filter(pk__in=[t.pk for t in tasks]).update(status=TaskStatus.CANCELLED)
        insert_history(Task, tasks, reason=reason, when=now)
    return len(tasks)


def _close(warning_ids: list[int], state: str, now: datetime, reason: str) -> int:
    """Close the open warnings `warning_ids` with `state` and cancel their open tasks, in batches."""
    closed = 0
    for at in range(0, len(warning_ids), BATCH):
        with transaction.atomic():
            rows = list(Warning.objects.select_for_update().filter(pk__in=warning_ids[at:at + BATCH],
                                                                   state=WarningState.OPEN)
                        .values_list("pk", "task_id", "account_id"))
            if not rows:
                continue
            Warning.objects.filter(pk__in=[r[0] for r in rows]).update(state=state, closed_at=now, checked_at=now)
            summaries.touch("warnings", (r[2] for r in rows))
            _cancel_tasks([r[1] for r in rows if r[1]], now, reason)
            closed += len(rows)
    return closed


def _open(pairs: list[tuple[int, int, dict]], rules: dict[int, WarningRule], as_of: date, now: datetime) -> tuple[int, int]:
    """Open warnings for (account, rule, evidence) and give each open warning of those
    accounts that has no task one. Returns (warnings opened, tasks created)."""
    opened = tasks_made = 0
    due = as_of + timedelta(days=config().WARNING_TASK_DUE_DAYS)
    for at in range(0, len(pairs), OPEN_BATCH):
        chunk = pairs[at:at + OPEN_BATCH]
        with transaction.atomic():
            if copy_fast(Warning):
                opened += writes.insert_warnings([(a, r, rules[r].severity, e) for a, r, e in chunk], now)
            else:  # one prepared INSERT … ON CONFLICT DO NOTHING for the batch
                insert_values(Warning, ("account_id", "rule_id", "severity", "evidence", "state", "opened_at",
                                        "checked_at"),
                              ((a, r, rules[r].severity, e, WarningState.OPEN, now, now) for a, r, e in chunk),
                              on_conflict=())
            accounts = sorted({a for a, _r, _e in chunk})
            summaries.touch("warnings", accounts)
            needing = list(Warning.objects.select_for_update().filter(
                account_id__in=accounts, state=WarningState.OPEN, task__isnull=True).order_by("pk")
                .values_list("pk", "account_id", "rule_id", "opened_at"))
            if not copy_fast(Warning):  # the rows just inserted (no conflict count from the ORM)
                opened += sum(1 for w in needing if w[3] == now)
            if not needing:
                continue
            info, names = {}, {}
            for pk, owner, unit, name in Account.objects.filter(pk__in={w[1] for w in needing}).values_list(
                    "pk", "owner_id", "unit_id", "name"):
                info[pk], names[pk] = (owner, unit), name
            who = _assignees(info)
            tasks = []
            for pk, account_id, rule_id, _opened in needing:
                person = who.get(account_id)
                if person is None:
                    continue
                title = _("Early warning: %(rule)s — %(account)s") % {"rule": rules[rule_id].name,
                                                                    "account": names[account_id]}
                tasks.append((person, account_id, title[:200], due, pk))
            if not tasks:
                continue
            if copy_fast(Warning):
                tasks_made += writes.insert_tasks(tasks, now)
                continue
            _insert_tasks(tasks, now)
            # Each task names its warning (source_id): link them back in one statement.
            task_of = Task.objects.filter(source_kind=TaskSource.WARNING, source_id=OuterRef("pk"),
                                          status=TaskStatus.OPEN).order_by("-pk").values("pk")[:1]
            Warning.objects.filter(pk__in=[t[4] for t in tasks]).update(task_id=Subquery(task_of))
            tasks_made += len(tasks)
    return opened, tasks_made


def _insert_tasks(tasks: list[tuple[int, int, str, date, int]], now: datetime) -> None:
    """(owner, account, title, due on, warning id) as open warning tasks, each with its history
    row, through prepared INSERTs with the ids reserved beforehand (the databases without
    COPY; the ORM's bulk_create compiles its SQL for every few hundred rows)."""
    ids = reserve_ids(Task, len(tasks))
    rows = [{"id": pk, "owner_id": o, "account_id": a, "title": t, "due_on": d, "status": TaskStatus.OPEN,
             "source_kind": TaskSource.WARNING, "source_id": w, "created_by_id": o, "created_at": now, "done_at": None}
            for pk, (o, a, t, d, w) in zip(ids, tasks, strict=True)]
    fields = list(rows[0])
    insert_values(Task, fields, (tuple(r.values()) for r in rows))
    history = Task.history.model
    kept = [f.attname for f in history._meta.concrete_fields if f.attname in rows[0]]
    insert_values(history, [*kept, "history_date", "history_type", "history_user_id"],
                  ((*(r[k] for k in kept), now, "+", None) for r in rows))


def _refresh(rows: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
    """New evidence for the open warnings whose evidence changed (pk, evidence), a batch a
    transaction."""
    for at in range(0, len(rows), BATCH):
        with transaction.atomic():
            if copy_fast(Warning):
                update_rows(Warning, rows[at:at + BATCH], ["evidence"], extra={"checked_at": now})
            else:
                update_values(Warning, rows[at:at + BATCH], ["evidence"], extra={"checked_at": now})


def warning_sweep(as_of: date | None = None, account_ids: Iterable[int] | None = None, *,
                  now: datetime | None = None, accounts: QuerySet[Account] | None = None) -> dict[str, int]:
    """Evaluate the rules as of `as_of` (today in the local time zone when None) for every
    live account, or only `account_ids` (or the queryset `accounts`), and bring the warnings
    in line (see the module docstring). Returns counts: fired, opened, tasks, kept, cleared,
    switched_off, quiet."""
    if now is None:
        # A sweep for a given day (a catch-up, a test's clock) stamps its changes at its start.
        now = timezone.now() if as_of is None else _local_start(as_of)
    as_of = as_of or timezone.localdate(now)
    only = account_scope(account_ids, accounts)
    counts = {"fired": 0, "opened": 0, "tasks": 0, "kept": 0, "cleared": 0, "switched_off": 0, "quiet": 0}
    if account_ids is not None and not account_ids:
        return counts
    alive = Account.objects.alive() if only is None else Account.objects.alive().filter(pk__in=only.values("pk"))
    table = integer_rows(alive.values_list("pk", Coalesce("owner_id", Value(0))), 2)
    ids = np.sort(table[:, 0])
    ctx = Context(as_of=as_of, ids=ids, only=only)
    live = set(ids.tolist())

    rules = {r.pk: r for r in WarningRule.objects.all()}
    existing = ctx.scoped(Warning.objects.open())
    open_now: dict[tuple[int, int], tuple[int, dict]] = {
        (a, r): (pk, e) for pk, a, r, e in existing.values_list("pk", "account_id", "rule_id", "evidence")}

    # Switched-off rules close their open warnings.
    off = {pk for pk, r in rules.items() if not r.is_enabled}
    counts["switched_off"] = _close([pk for (a, r), (pk, _e) in open_now.items() if r in off], WarningState.SWITCHED_OFF,
                                    now, _("Early-warning rule switched off"))

    quiet_days = config().WARNING_QUIET_DAYS
    quiet_from = _local_start(as_of - timedelta(days=quiet_days - 1)) if quiet_days > 0 else None
    quiet = set()
    if quiet_from is not None:
        retained = ctx.scoped(Warning.objects.filter(state=WarningState.RETAINED, closed_at__gte=quiet_from))
        quiet = set(retained.values_list("account_id", "rule_id"))

    to_open, to_refresh, to_clear = [], [], []
    for pk, rule in rules.items():
        if not rule.is_enabled or rule.code not in RULES:
            continue
        if Warning.objects.open().filter(rule=rule).exclude(severity=rule.severity).update(severity=rule.severity):
            summaries.invalidate("warnings")
        fired = {a: e for a, e in RULES[rule.code](ctx, rule.params or {}).items() if a in live}
        counts["fired"] += len(fired)
        for account_id, evidence in fired.items():
            found = open_now.get((account_id, pk))
            if found is not None:
                counts["kept"] += 1
                if found[1] != evidence:
                    to_refresh.append((found[0], evidence))
            elif (account_id, pk) in quiet:
                counts["quiet"] += 1
            else:
                to_open.append((account_id, pk, evidence))
        to_clear += [w for (a, r), (w, _e) in open_now.items() if r == pk and a not in fired]

    counts["cleared"] = _close(to_clear, WarningState.CLEARED, now, _("Early warning cleared"))
    _refresh(to_refresh, now)
    # The open warnings kept as they were were checked too.
    enabled = [pk for pk, r in rules.items() if r.is_enabled and r.code in RULES]
    ctx.scoped(Warning.objects.open()).filter(rule_id__in=enabled).exclude(checked_at=now).update(checked_at=now)
    to_open.sort()
    counts["opened"], counts["tasks"] = _open(to_open, rules, as_of, now)
    return counts


# --- by hand -----------------------------------------------------------------------------------------------


@transaction.atomic
def retention_record(*, actor: User, warning: Warning, action: str, outcome: str, now: datetime | None = None) -> RetentionAction:
    """Record what was done about an open warning and how it ended: the warning closes as
    retained and its open task is done. The same rule does not reopen on the account for
    WARNING_QUIET_DAYS days."""
    return retention_record_many(actor=actor, records=[(warning, action, outcome)], now=now)[0]


@transaction.atomic
def retention_record_many(*, actor: User, records: Sequence[tuple[Warning | int, str, str]],
                          now: datetime | None = None) -> list[RetentionAction]:
    """retention_record for several open warnings (warning, action, outcome) of `actor` at once,
    all or none: a warning not visible, a bad action or outcome or a warning already closed
    refuses the lot. A few statements per batch of warnings instead of a handful per warning."""
    now = now or timezone.now()
    wanted = [w.pk if isinstance(w, Warning) else int(w) for w, _action, _outcome in records]
    locked: dict[int, Warning] = {}
    for part in chunks(sorted(set(wanted))):
        locked.update((w.pk, w) for w in Warning.objects.visible_to(actor).select_for_update(of=("self",))
                      .filter(pk__in=part))
    if any(pk not in locked for pk in wanted):
        raise NotVisible(_("Not found."))
    require(policies.may_record_accounts(actor, {w.account_id for w in locked.values()}),
            _("Only the account's owner and their managers record retention actions."))
    cleaned = []
    for pk, (_warning, action, outcome) in zip(wanted, records, strict=True):
        action = (action or "").strip()
        if not action:
            raise refused("action", _("Say what was done to keep the account."))
        if len(action) > 2000:
            raise refused("action", _("At most 2,000 characters."))
        if outcome not in RetentionOutcome.values:
            raise refused("outcome", _("Choose an outcome."))
        if locked[pk].state != WarningState.OPEN:
            raise Conflict(_("This warning is already closed."), errors={"state": [locked[pk].get_state_display()]})
        cleaned.append((pk, action, outcome))
    if len(set(wanted)) != len(wanted):
        raise Conflict(_("This warning is already closed."), errors={"state": [str(WarningState.RETAINED.label)]})
    made = RetentionAction.objects.bulk_create(
        [RetentionAction(warning_id=pk, action=action, outcome=outcome, recorded_by=actor)
         for pk, action, outcome in cleaned], batch_size=BATCH)
    for part in chunks(wanted):
        Warning.objects.filter(pk__in=part).update(state=WarningState.RETAINED, closed_at=now)
    summaries.touch("warnings", (w.account_id for w in locked.values()))
    task_ids = sorted({w.task_id for w in locked.values() if w.task_id})
    for part in chunks(task_ids):
        tasks = list(Task.objects.select_for_update().filter(pk__in=part, status=TaskStatus.OPEN))
        if not tasks:
            continue
        Task.objects.filter(pk__in=[t.pk for t in tasks]).update(status=TaskStatus.DONE, done_at=now)
        for task in tasks:
            task.status, task.done_at = TaskStatus.DONE, now
        insert_history(Task, tasks, user=actor, when=now)
    for record, pk in zip(made, wanted, strict=True):
        record.warning = locked[pk]
    return made


@transaction.atomic
def rule_update(*, actor: User, rule: WarningRule, is_enabled: bool, severity: str,
                params: dict[str, Any]) -> WarningRule:
    """HQ switches a rule, sets its severity and thresholds; a bad value is refused naming its field."""
    require(policies.may_edit_rules(actor), _("Only headquarters change the early-warning rules."))
    rule = WarningRule.objects.select_for_update().get(pk=rule.pk)
    if severity not in Severity.values:
        raise refused("severity", _("Choose a severity."))
    cleaned = clean_params(rule.code, params or {})
    rule.is_enabled, rule.severity, rule.params = bool(is_enabled), severity, {**(rule.params or {}), **cleaned}
    rule.save()
    return rule


def sweep_visible(*, actor: User, account_ids: Iterable[int] | None = None,
                  as_of: date | None = None) -> dict[str, int]:
    """"Evaluate now": the sweep for the accounts `actor` sees (managers and HQ; a specialist
    for their own account), or those of `account_ids` among them."""
    visible = Account.objects.visible_to(actor)
    if account_ids is not None:
        visible = visible.filter(pk__in=list(account_ids))
    elif not policies.may_evaluate_many(actor):
        raise PermissionDenied(_("Only managers and headquarters evaluate the warnings of many accounts."))
    elif actor.sees_everything:
        return warning_sweep(as_of=as_of)
    return warning_sweep(as_of=as_of, accounts=visible)
