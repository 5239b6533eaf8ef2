"""The public pool's reads: who sees which pool, its rows, what a user holds from it, an account's pool events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np
from django.db.models import F, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.compliance import measure as compliance
from kam.activities.models import Activity
from kam.core.conf import config
from kam.core.errors import NotVisible
from kam.core.models import OrgUnit, User
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool import policies
from kam.sales.pool.filters import PoolFilter
from kam.tiering.models import Scheme

LEAVING = (PoolEventKind.RETURNED, PoolEventKind.RELEASED)
TAKING = (PoolEventKind.CLAIMED, PoolEventKind.ASSIGNED)


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def cadence_scheme() -> Scheme | None:
    return Scheme.objects.filter(code=config().CADENCE_SCHEME).first()


def cadence_tiers(ids: np.ndarray, day: date, scheme: Scheme | None = None) -> np.ndarray:
    """The tier of each account (ids ascending) on `day` in the cadence scheme (read unless
    given), "" for none."""
    scheme = scheme or cadence_scheme()
    if scheme is None or not len(ids):
        return np.full(len(ids), "", dtype=object)
    return compliance.tiers_of(scheme=scheme, day=day, ids=ids)


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


def pool_events(*, user: User, account: Account) -> list[PoolEvent]:
    """The pool events of `account`, for whoever sees it as an account or as a pool account."""
    visible = Account.objects.visible_to(user).filter(pk=account.pk).exists() or pool_scope(user).filter(
        pk=account.pk, owner__isnull=True).exists()
    if not visible:
        raise NotVisible(_("Not found."))
    return list(PoolEvent.objects.filter(account=account).select_related("user", "former_owner").order_by("-at", "-pk"))
