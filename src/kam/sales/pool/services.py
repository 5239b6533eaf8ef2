"""The public pool (公海): accounts without an owner, which others may claim.

An account returns to the pool when its owner has not followed it up for the days its tier
allows (POOL_IDLE_DAYS, per tier POOL_IDLE_DAYS_BY_TIER; the tiers of POOL_EXCLUDED_TIERS
never return). Its tier is the one the cadence reads (CADENCE_SCHEME: the annual list of
the year, else the latest snapshot). "Followed up" is the latest of: the last activity on
the account, the day its current owner got it from the pool (claim or assignment), the day
it was created. The owner gets a notice — a task and a NOTICE event — POOL_NOTICE_DAYS
before; an account never returns without that notice, once per idle spell, so on the first
night an idle account is noticed and returns POOL_NOTICE_DAYS later.

Who sees the pool: the pool accounts of the branch the user works in (the nearest branch
above or at their unit), everything for HQ. Specialists, managers and directors may claim,
up to POOL_CLAIM_LIMIT accounts held from the pool at a time; managers hand pool accounts
to people of their units; an owner or their manager puts an account back by hand. Every
notice, return, release, claim and assignment is a PoolEvent and a row of the account's
history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Case, F, Max, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts import ownership
from kam.accounts.models import Account
from kam.accounts.services import assignable_owners
from kam.activities.models import Activity, TaskSource, TaskStatus
from kam.activities.services import NewTask, tasks_close_for, tasks_open_many
from kam.core.arrays import integer_rows
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, ValidationFailed
from kam.core.models import User
from kam.core.policies import require
from kam.core.sql import LocalDayNumber
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool import policies
from kam.sales.pool.selectors import (
    LEAVING,
    TAKING,
    _followed_up,
    _local_start,
    cadence_tiers,
    held_from_pool,
    pool_scope,
)


def _refused(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field_name: [message]})


# --- the rules ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolRules:
    """The pool's numbers, from settings."""

    idle_days: int
    by_tier: dict[str, int] = field(default_factory=dict)
    excluded: frozenset[str] = frozenset()
    notice_days: int = 3
    claim_limit: int = 20

    @classmethod
    def from_settings(cls) -> PoolRules:
        settings = config()
        return cls(idle_days=settings.POOL_IDLE_DAYS, by_tier=dict(settings.POOL_IDLE_DAYS_BY_TIER),
                   excluded=frozenset(settings.POOL_EXCLUDED_TIERS), notice_days=settings.POOL_NOTICE_DAYS,
                   claim_limit=settings.POOL_CLAIM_LIMIT)

    def limit_for(self, tier: str) -> int:
        """Days without follow-up an account of `tier` ("" for none) may stay with its owner;
        0 when it never returns."""
        if tier in self.excluded:
            return 0
        return max(0, self.by_tier.get(tier, self.idle_days))

    @property
    def longest(self) -> int:
        return max([self.idle_days, *self.by_tier.values()])


def _limits(tiers: np.ndarray, rules: PoolRules) -> np.ndarray:
    codes, inverse = np.unique(np.asarray(tiers, dtype=object).astype(str), return_inverse=True)
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.array([rules.limit_for(code) for code in codes], dtype=np.int64)[inverse]


# --- the nightly sweep ------------------------------------------------------------------------


def _latest_days(queryset: QuerySet[Any], key: str, at: str, ids: np.ndarray, window: date, today: date) -> np.ndarray:
    """Per account of `ids`, the local day number of the latest `at` in window…today of the
    rows of `queryset` (grouped by `key`); 0 where there is none."""
    zone = timezone.get_current_timezone()
    rows = integer_rows(
        queryset.filter(**{f"{at}__gte": _local_start(window), f"{at}__lt": _local_start(today + timedelta(days=1))})
        .values(key).order_by()
        .annotate(day=LocalDayNumber(Max(at), zone=zone, during=(window, today)))
        .values_list(key, "day"), 2)
    days = np.zeros(len(ids), dtype=np.int64)
    at_ = np.searchsorted(ids, rows[:, 0])
    known = at_ < len(ids)
    known[known] = ids[at_[known]] == rows[known, 0]
    days[at_[known]] = rows[known, 1]
    return days


def _idle_accounts(today: date, rules: PoolRules) -> tuple[np.ndarray, np.ndarray]:
    """The owned accounts that have been idle long enough for a notice or a return, and the
    days each may stay idle. Set-based: the owned accounts, the latest activity and the latest
    claim per account each one grouped query, looking back only as far as the longest limit
    (anything older is idle past every limit)."""
    window = today - timedelta(days=rules.longest + 1)
    zone = timezone.get_current_timezone()
    owned = Account.objects.alive().filter(owner__isnull=False)
    older = window.toordinal() - 1
    created = Case(When(created_at__gte=_local_start(window),
                        then=LocalDayNumber(F("created_at"), zone=zone, during=(window, today))),
                   default=Value(older))
    table = integer_rows(owned.values_list("pk", created), 2)
    table = table[np.argsort(table[:, 0], kind="stable")]
    ids = table[:, 0]
    clock = table[:, 1]
    clock = np.maximum(clock, _latest_days(Activity.objects.all(), "account_id", "occurred_at", ids, window, today))
    clock = np.maximum(clock, _latest_days(PoolEvent.objects.filter(kind__in=TAKING), "account_id", "at", ids,
                                           window, today))
    limits = _limits(cadence_tiers(ids, today), rules)
    idle = today.toordinal() - clock
    due = (limits > 0) & (idle >= limits - rules.notice_days)
    return ids[due], limits[due]


def _close_tasks(accounts: list[Account], owners: dict[int, int | None], *, status: str,
                 kinds: list[str] | None = None) -> None:
    """Open tasks of the former owners on `accounts` end with `status` (the accounts left them)."""
    tasks_close_for(actor=None, accounts=accounts, owners=owners, status=status, kinds=kinds)


def _sweep_batch(ids: list[int], limits: dict[int, int], *, today: date, now: datetime,
                 rules: PoolRules) -> tuple[int, int]:
    """Notices and returns for one batch of candidates, in one transaction, after reading
    them again under lock (someone may have logged an activity or claimed meanwhile)."""
    with transaction.atomic():
        accounts = list(Account.objects.alive().filter(pk__in=ids, owner__isnull=False)
                        .select_for_update(of=("self",)).order_by("pk"))
        if not accounts:
            return 0, 0
        followed = _followed_up([a.pk for a in accounts], today)
        notices: dict[int, PoolEvent] = {}
        for event in PoolEvent.objects.filter(account__in=[a.pk for a in accounts], kind=PoolEventKind.NOTICE).order_by("at", "pk"):
            notices[event.account_id] = event  # the latest wins
        noticed, returned, events, tasks = [], [], [], []
        for account in accounts:
            limit = limits[account.pk]
            since = followed[account.pk]
            idle = (today - timezone.localdate(since)).days
            if limit <= 0 or idle < limit - rules.notice_days:
                continue
            notice = notices.get(account.pk)
            has_notice = notice is not None and notice.at > since and notice.former_owner_id == account.owner_id
            if rules.notice_days > 0 and not has_notice:
                returns_on = max(timezone.localdate(since) + timedelta(days=limit),
                                 today + timedelta(days=rules.notice_days))
                tasks.append(NewTask(
                    owner_id=account.owner_id, account_id=account.pk, due_on=returns_on - timedelta(days=1),
                    title=(_("Follow up %(account)s, or it returns to the public pool on %(day)s")
                           % {"account": account.name, "day": returns_on.isoformat()})[:200],
                    source_kind=TaskSource.POOL, source_id=account.pk, created_by_id=account.owner_id))
                events.append(PoolEvent(account=account, kind=PoolEventKind.NOTICE, at=now,
                                        former_owner_id=account.owner_id, idle_days=idle, limit_days=limit))
                noticed.append(account)
            elif idle >= limit and (rules.notice_days == 0  # else has_notice held: a notice exists
                                    or (notice is not None
                                        and timezone.localdate(notice.at) <= today - timedelta(days=rules.notice_days))):
                events.append(PoolEvent(account=account, kind=PoolEventKind.RETURNED, at=now,
                                        former_owner_id=account.owner_id, idle_days=idle, limit_days=limit))
                returned.append(account)
        tasks_open_many(actor=None, tasks=tasks)
        if returned:
            owners = {a.pk: a.owner_id for a in returned}
            _close_tasks(returned, owners, status=TaskStatus.CANCELLED)
            ownership.return_to_pool(
                returned, now=now, reason=_("Returned to the public pool: not followed up within the allowed days"))
        PoolEvent.objects.bulk_create(events)
        return len(noticed), len(returned)


def pool_sweep(*, today: date | None = None, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """The nightly run: notices to the owners of accounts about to return, then the returns.
    Batches of `batch` accounts, each its own transaction; running it again the same day
    changes nothing."""
    if now is None:
        # A run for a given day (a catch-up, a test's frozen clock) stamps its events at its start.
        now = timezone.now() if today is None else _local_start(today)
    today = today or timezone.localdate(now)
    rules = PoolRules.from_settings()
    ids, limits = _idle_accounts(today, rules)
    counts = {"candidates": len(ids), "noticed": 0, "returned": 0}
    allowed = dict(zip(ids.tolist(), limits.tolist(), strict=True))
    for start in range(0, len(ids), batch):
        noticed, returned = _sweep_batch(ids[start:start + batch].tolist(), allowed, today=today, now=now, rules=rules)
        counts["noticed"] += noticed
        counts["returned"] += returned
    return counts


# --- who sees the pool ------------------------------------------------------------------------


# --- by hand: release, claim, assign ---------------------------------------------------------


def _pool_account_locked(actor: User, account: Account | int) -> Account:
    """The pool account `account` (or its id) inside the actor's part of the pool, locked;
    Conflict when someone took it meanwhile, NotVisible outside the actor's part."""
    pk = account.pk if isinstance(account, Account) else int(account)
    found = pool_scope(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    # An owned account that never came from the pool is not the actor's business: 404.
    if found is None or (found.owner_id is not None
                         and not PoolEvent.objects.filter(account_id=pk, kind__in=TAKING).exists()):
        raise NotVisible(_("Not found."))
    if found.owner_id is not None:
        raise Conflict(_("This account is no longer in the public pool: someone took it meanwhile."),
                       errors={"account": [_("No longer in the public pool.")]})
    return found


def _former_owner(account: Account) -> int | None:
    return (PoolEvent.objects.filter(account=account, kind__in=LEAVING).order_by("-at", "-pk")
            .values_list("former_owner_id", flat=True).first())


def _take(account: Account, *, owner: User, actor: User, kind: str, reason: str) -> PoolEvent:
    now = timezone.now()
    former = _former_owner(account)
    assert owner.unit is not None, "who claims or is assigned an account works in a unit (the policies)"
    ownership.give_owner(actor=actor, account=account, owner=owner, unit=owner.unit, reason=reason)
    return PoolEvent.objects.create(account=account, kind=kind, at=now, user=actor, former_owner_id=former,
                                    note=("" if kind == PoolEventKind.CLAIMED else str(owner))[:300])


@transaction.atomic
def pool_claim(*, actor: User, account: Account | int) -> PoolEvent:
    """`actor` takes `account` from the pool and becomes its owner. Refused beyond
    POOL_CLAIM_LIMIT accounts held from the pool; of two claiming at once, the second gets
    a Conflict."""
    require(policies.may_claim(actor), _("Only key-account specialists, managers and directors claim accounts from the pool."))
    # One claim at a time per person, so two at once cannot both slip under the limit.
    User.objects.select_for_update().filter(pk=actor.pk).first()
    account = _pool_account_locked(actor, account)
    limit = PoolRules.from_settings().claim_limit
    held = held_from_pool(actor).count()
    if held >= limit:
        raise _refused("account", _("You already hold %(held)d accounts from the public pool; the limit is "
                                    "%(limit)d. Follow them up or release one first.") % {"held": held, "limit": limit})
    return _take(account, owner=actor, actor=actor, kind=PoolEventKind.CLAIMED,
                 reason=_("Claimed from the public pool"))


@transaction.atomic
def pool_assign(*, actor: User, account: Account | int, owner: User | int) -> PoolEvent:
    """A manager (or HQ) hands a pool account to someone of the units they manage. An account
    outside the actor's part of the pool is NotVisible before any other refusal, so its id leaks
    nothing."""
    account = _pool_account_locked(actor, account)
    require(policies.may_assign(actor), _("Only managers, directors and the general manager assign accounts from the pool."))
    if owner is None:
        raise _refused("owner", _("Choose who gets the account."))
    owner_id = owner.pk if hasattr(owner, "pk") else owner
    found = assignable_owners(actor).select_related("unit").filter(pk=owner_id).first()
    if found is None or found.role not in policies.CLAIMING_ROLES:
        raise _refused("owner", _("Choose an active specialist, manager or director of your units."))
    return _take(account, owner=found, actor=actor, kind=PoolEventKind.ASSIGNED,
                 reason=_("Assigned from the public pool"))


@transaction.atomic
def pool_release(*, actor: User, account: Account | int, note: str) -> PoolEvent:
    """The owner or their manager puts `account` in the pool by hand, saying why."""
    pk = account.pk if isinstance(account, Account) else int(account)
    locked: Account | None = Account.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if locked is None:
        raise NotVisible(_("Not found."))
    account = locked
    if account.owner_id is None:
        raise Conflict(_("This account is already in the public pool."),
                       errors={"account": [_("Already in the public pool.")]})
    require(policies.may_release(actor, account), _("Only the owner of this account or their managers may put it in the pool."))
    note = (note or "").strip()
    if not note:
        raise _refused("note", _("Say why the account goes to the pool."))
    if len(note) > 300:
        raise _refused("note", _("Keep the reason under 300 characters."))
    now = timezone.now()
    former = account.owner_id
    _close_tasks([account], {account.pk: former}, status=TaskStatus.CANCELLED)
    ownership.release_to_pool(actor=actor, account=account, now=now,
                              reason=_("Released to the public pool: %(note)s") % {"note": note})
    return PoolEvent.objects.create(account=account, kind=PoolEventKind.RELEASED, at=now, user=actor,
                                    former_owner_id=former, note=note)


