"""Read side of the recycle bin: what a user may restore."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Model, Q
from django.utils import timezone

from kam.accounts.models import Account, Contact
from kam.accounts.recycle.clock import days_left
from kam.accounts.recycle.filters import RecycleBinFilter
from kam.accounts.recycle.registry import binned_with_account
from kam.core.conf import config
from kam.core.models import OrgUnit, User


@dataclass
class BinEntry:
    """One row of the recycle bin page, its export and the API: an account (with the contacts
    and opportunities that went with it), or a contact or opportunity deleted on its own."""

    kind: str
    pk: int
    name: str
    code: str  # the account's code (of the item's account for a contact or opportunity)
    account_id: int
    account_name: str
    owner: User | None  # the account's owner (None in the public pool)
    unit: OrgUnit
    deleted_by: User | None
    deleted_at: datetime
    days_left: int
    contacts: int = 0  # binned with the account
    opportunities: int = 0
    kind_label: str = ""


class BinEntries:
    """The bin's rows, counted and sliced like a queryset so that the paging helpers take them."""

    def __init__(self, rows: list[BinEntry]) -> None:
        self.rows = rows

    def __getitem__(self, index: slice) -> list[BinEntry]:
        return self.rows[index]

    def __iter__(self) -> Iterator[BinEntry]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def count(self) -> int:
        return len(self.rows)


def recycle_bin(*, user: User, filters: RecycleBinFilter | None = None) -> BinEntries:
    """What the user may restore: deleted accounts, contacts and opportunities of accounts they
    would see, newest deletion first, while within RECYCLE_BIN_DAYS. The bin holds what was
    deleted in the last few days, so the three reads are small; at most EXPORT_MAX_ROWS of each."""
    kind = (filters or RecycleBinFilter()).kind or ""
    cap = config().EXPORT_MAX_ROWS
    now = timezone.now()
    entries: list[BinEntry] = []
    if kind in ("", "account"):
        accounts = (Account.objects.in_recycle_bin_of(user).select_related("owner", "unit", "deleted_by")
                    .annotate(n_contacts=Count("contacts", filter=Q(contacts__deleted_with_account=True),
                                               distinct=True),
                              n_opportunities=Count("opportunities",
                                                    filter=Q(opportunities__deleted_with_account=True),
                                                    distinct=True))
                    .order_by("-deleted_at", "-id")[:cap])
        entries += [BinEntry("account", a.pk, a.name, a.code, a.pk, a.name, a.owner, a.unit, a.deleted_by,
                             a.deleted_at, days_left(a.deleted_at, now), a.n_contacts, a.n_opportunities,
                             str(Account._meta.verbose_name)) for a in accounts]
    others: list[tuple[str, type[Model]]] = [("contact", Contact),
                                             *((e.kind, e.model) for e in binned_with_account())]
    for name, model in others:
        if kind not in ("", name):
            continue
        manager: Any = model._default_manager  # each has in_recycle_bin_of(user) (see the registry)
        rows = (manager.in_recycle_bin_of(user)
                .select_related("account__owner", "account__unit", "deleted_by").order_by("-deleted_at", "-id")[:cap])
        entries += [BinEntry(name, r.pk, r.name, r.account.code, r.account_id, r.account.name, r.account.owner,
                             r.account.unit, r.deleted_by, r.deleted_at, days_left(r.deleted_at, now),
                             kind_label=str(model._meta.verbose_name)) for r in rows]
    entries.sort(key=lambda e: (e.deleted_at, e.pk), reverse=True)
    return BinEntries(entries)

