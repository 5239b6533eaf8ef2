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

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.db.models import Case, F, Max, OuterRef, QuerySet, Subquery, Value, When
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
from kam.core.models import OrgUnit, User
from kam.core.policies import require
from kam.core.sql import LocalDayNumber
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool import policies
from kam.sales.pool.filters import PoolFilter

if TYPE_CHECKING:
    from kam.tiering.models import Scheme


# Who may take accounts from the pool, and who may hand them out or put them back.
# The events that end an owner's hold (or start one).
LEAVING = (PoolEventKind.RETURNED, PoolEventKind.RELEASED)
TAKING = (PoolEventKind.CLAIMED, PoolEventKind.ASSIGNED)


def _refused(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field_name: [message]})


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


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


def cadence_scheme() -> Scheme | None:
    from kam.tiering.models import Scheme

    return Scheme.objects.filter(code=config().CADENCE_SCHEME).first()


def cadence_tiers(ids: np.ndarray, day: date, scheme: Scheme | None = None) -> np.ndarray:
    """The tier of each account (ids ascending) on `day` in the cadence scheme (read unless
    given), "" for none."""
    from kam.activities.compliance import measure as compliance

    scheme = scheme or cadence_scheme()
    if scheme is None or not len(ids):
        return np.full(len(ids), "", dtype=object)
    return compliance.tiers_of(scheme=scheme, day=day, ids=ids)


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


def _followed_up(ids: list[int], today: date) -> dict[int, datetime]:
    """For accounts `ids`, when they were last followed up (exactly, however long ago)."""
    accounts = dict(Account.objects.filter(pk__in=ids).values_list("pk", "created_at"))
    before = _local_start(today + timedelta(days=1))
    for model, key, at, extra in ((Activity, "account_id", "occurred_at", {}),
                                  (PoolEvent, "account_id", "at", {"kind__in": TAKING})):
        for pk, last in (model.objects.filter(**{f"{key}__in": ids, f"{at}__lt": before}, **extra)
                         .values(key).order_by().annotate(last=Max(at)).values_list(key, "last")):
            accounts[pk] = max(accounts[pk], last)
    return accounts


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


def pool_branch(user: User) -> OrgUnit | None:
    """The unit whose subtree's pool `user` sees: the nearest branch at or above their unit
    (their own unit when none is a branch); None for HQ, who see every pool account."""
    if user.sees_everything:
        return None
    assert user.unit is not None, "everyone outside head office works in a unit"
    ids = [int(part) for part in user.unit.path.strip("/").split("/") if part]
    branches = {u.pk: u for u in OrgUnit.objects.filter(pk__in=ids, kind=OrgUnit.Kind.BRANCH)}
    for pk in reversed(ids):
        if pk in branches:
            return branches[pk]
    return user.unit


def pool_scope(user: User) -> QuerySet[Account]:
    """Live accounts inside the part of the org whose pool `user` sees (with or without owner)."""
    if not policies.may_see_pool(user):
        return Account.objects.none()
    branch = pool_branch(user)
    accounts = Account.objects.alive()
    return accounts if branch is None else accounts.filter(unit__path__startswith=branch.path)


def _last_leaving() -> QuerySet:
    return PoolEvent.objects.filter(account=OuterRef("pk"), kind__in=LEAVING).order_by("-at", "-pk")


def pool_accounts(user: User, filters: PoolFilter | None = None) -> QuerySet[Account]:
    """The pool accounts `user` sees, longest in the pool first, with the former owner, the
    idle days and the allowed days of the return that put each there."""
    from kam.accounts.selectors import _search

    filters = filters or PoolFilter()
    qs = pool_scope(user).filter(owner__isnull=True)
    qs = _search(qs, filters.q)
    if filters.industry:
        qs = qs.filter(industry_id=filters.industry)
    if filters.region:
        qs = qs.filter(region_id=filters.region)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        qs = qs.filter(unit__path__startswith=unit.path) if unit else qs.none()
    qs = qs.annotate(
        former_owner_id=Subquery(_last_leaving().values("former_owner_id")[:1]),
        returned_idle_days=Subquery(_last_leaving().values("idle_days")[:1]),
        returned_limit_days=Subquery(_last_leaving().values("limit_days")[:1]),
    )
    if filters.mine:
        qs = qs.filter(former_owner_id=user.pk)
    return qs.select_related("unit", "industry", "region").order_by(F("pooled_at").asc(nulls_first=True), "pk")


@dataclass
class PoolRow:
    account: Account
    tier: str
    former_owner: User | None
    days_in_pool: int | None
    idle_days: int | None  # days since the last follow-up, as of today
    returned_idle_days: int | None
    limit_days: int | None


def pool_rows(accounts: Iterable[Account], *, today: date | None = None) -> list[PoolRow]:
    """The pool list's lines for a page of `pool_accounts`: a fixed number of queries."""

    today = today or timezone.localdate()
    # former_owner_id, returned_idle_days and returned_limit_days: annotated by pool_accounts
    annotated: list[Any] = list(accounts)
    if not annotated:
        return []
    ids = np.array(sorted(a.pk for a in annotated), dtype=np.int64)
    scheme = cadence_scheme()
    tiers = dict(zip(ids.tolist(), cadence_tiers(ids, today, scheme).tolist(), strict=True))
    followed = _followed_up(ids.tolist(), today)
    people = User.objects.in_bulk([a.former_owner_id for a in annotated if a.former_owner_id])
    return [PoolRow(
        account=a, tier=scheme.tier_label(tiers[a.pk]) if scheme and tiers[a.pk] else "",
        former_owner=people.get(a.former_owner_id),
        days_in_pool=(today - timezone.localdate(a.pooled_at)).days if a.pooled_at else None,
        idle_days=(today - timezone.localdate(followed[a.pk])).days if a.pk in followed else None,
        returned_idle_days=a.returned_idle_days, limit_days=a.returned_limit_days,
    ) for a in annotated]


def pool_rows_iter(accounts: QuerySet[Account], *, chunk: int = 2000,
                   today: date | None = None) -> Iterator[PoolRow]:
    """`pool_rows` for a whole list (the export), a chunk of accounts at a time."""
    today = today or timezone.localdate()
    batch: list[Account] = []
    for account in accounts.iterator(chunk_size=chunk):
        batch.append(account)
        if len(batch) == chunk:
            yield from pool_rows(batch, today=today)
            batch = []
    yield from pool_rows(batch, today=today)


def held_from_pool(user: User) -> QuerySet[Account]:
    """Accounts `user` holds from the pool: owned by them, and their own claim is the latest
    pool event that gave the account an owner or took it away."""
    latest = PoolEvent.objects.filter(account=OuterRef("pk")).exclude(kind=PoolEventKind.NOTICE).order_by("-at", "-pk")
    return (Account.objects.alive().filter(owner_id=user.pk)
            .annotate(latest_pool_event=Subquery(latest.values("pk")[:1]))
            .filter(latest_pool_event__in=PoolEvent.objects.filter(kind=PoolEventKind.CLAIMED, user_id=user.pk)
                    .values("pk")))


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


def pool_events(*, user: User, account: Account) -> list[PoolEvent]:
    """The pool events of `account`, for whoever sees it as an account or as a pool account."""
    visible = Account.objects.visible_to(user).filter(pk=account.pk).exists() or pool_scope(user).filter(
        pk=account.pk, owner__isnull=True).exists()
    if not visible:
        raise NotVisible(_("Not found."))
    return list(PoolEvent.objects.filter(account=account).select_related("user", "former_owner").order_by("-at", "-pk"))
