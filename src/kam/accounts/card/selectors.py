"""Read side of the account list and card. Every query here starts from `visible_to(user)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, Model, OuterRef, Q, QuerySet
from django.db.models.lookups import Exact

from kam.accounts import search
from kam.accounts.card import extras
from kam.accounts.card.filters import ACCOUNT_SORTS, DEFAULT_ACCOUNT_SORT, AccountFilter
from kam.accounts.models import Account, Contact
from kam.core.conf import config
from kam.core.models import OrgUnit, User
from kam.core.sql import ScannedInOrder
from kam.core.text import normalise_query


def _search(qs: QuerySet[Account], q: str) -> QuerySet[Account]:
    """Match name, short name, code, USCC, full pinyin or pinyin initials (zgyd → 中国移动)."""
    term = normalise_query(q)
    if not term:
        return qs
    if len(term) == 18 and term.isalnum():
        return qs.filter(Q(uscc=term.upper()) | Q(search_text__contains=term))
    return qs.filter(search.matching(term))


# The sorts an index of Account keeps (name; code and updated with id, of the live accounts).
INDEXED_SORTS = {"name", "code", "updated_at"}


def account_list(*, user: User, filters: AccountFilter | None = None) -> QuerySet[Account]:
    filters = filters or AccountFilter()
    order = ACCOUNT_SORTS.get(filters.sort, ACCOUNT_SORTS[DEFAULT_ACCOUNT_SORT])
    # A status or channel holds a large share of the accounts: the list is read in its order's
    # index with them compared row by row (core.sql.ScannedInOrder), not gathered by their own
    # index and sorted whole (the health column's subquery computed for every one of them).
    in_order = order.lstrip("-") in INDEXED_SORTS
    qs = _filtered(Account.objects.visible_in_order(user), filters, _unit_path(filters), in_order=in_order)
    return qs.select_related("owner", "unit", "industry", "region").order_by(order, "-id")


def account_count(*, user: User, filters: AccountFilter | None = None, limit: int | None = None) -> int:
    """How many accounts `account_list` holds, summed over the disjoint parts of the user's view
    (Account.objects.visible_parts), each counted from its own index; with `limit`, each part
    counts at most limit + 1 rows (enough to tell "more than the limit")."""
    filters = filters or AccountFilter()
    total, unit_path = 0, _unit_path(filters)
    for part in Account.objects.visible_parts(user):
        rows = _filtered(part, filters, unit_path, in_order=False).order_by().values("pk")
        total += (rows[: limit + 1] if limit is not None else rows).count()
    return total


def _unit_path(filters: AccountFilter) -> str | None:
    """The path of the unit the list is filtered to ("" for a unit that does not exist)."""
    if not filters.unit:
        return None
    return OrgUnit.objects.filter(pk=filters.unit).values_list("path", flat=True).first() or ""


def _filtered(qs: QuerySet[Account], filters: AccountFilter, unit_path: str | None, *,
              in_order: bool) -> QuerySet[Account]:
    qs = _search(qs, filters.q)
    if filters.industry:
        qs = qs.filter(industry_id=filters.industry)
    if filters.region:
        qs = qs.filter(region_id=filters.region)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.in_pool:
        qs = qs.filter(owner__isnull=True)
    if unit_path is not None:
        qs = qs.filter(unit__path__startswith=unit_path) if unit_path else qs.none()
    for name, value in (("lifecycle_status", filters.lifecycle_status), ("channel", filters.channel)):
        if value:
            qs = qs.filter(Exact(ScannedInOrder(F(name)), value) if in_order else Q(**{name: value}))
    if filters.tier:
        qs = extras.in_tier(qs, filters.tier)
    return qs


def account_get(*, user: User, pk: int) -> Account | None:
    """The account if the user sees it; `has_subsidiaries` says whether any live account names
    it as its group head (most do not, and their card reads no subsidiary list)."""
    return (
        Account.objects.visible_to(user)
        .select_related("owner", "unit", "industry", "region", "parent", "created_by")
        .annotate(has_subsidiaries=Exists(Account.objects.alive().filter(parent_id=OuterRef("pk"))))
        .filter(pk=pk)
        .first()
    )


def account_autocomplete(*, user: User, q: str, limit: int | None = None) -> QuerySet[Account]:
    limit = limit or config().AUTOCOMPLETE_LIMIT
    return _search(Account.objects.visible_to(user), q).only("id", "code", "name").order_by("name")[:limit]


@dataclass
class FieldChange:
    field: str
    label: str
    old: object
    new: object


@dataclass
class HistoryRow:
    record: Any  # a django-simple-history record of the account or a contact
    subject: str
    changes: list[FieldChange]


def _display(model: type[Model], name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    if value is not None and getattr(field, "choices", None):
        return dict(getattr(field, "flatchoices", ())).get(value, value)
    return value


def merged_lineage(account: Account) -> list[int]:
    """The account's id and those of every account merged into it, however indirectly."""
    ids, frontier = [account.pk], [account.pk]
    while frontier:
        frontier = list(Account.objects.filter(merged_into__in=frontier).values_list("pk", flat=True))
        ids += frontier
    return ids


def account_history(*, account: Account, limit: int = 200) -> list[HistoryRow]:
    """Field changes of the account and its contacts, newest first, with field labels.

    Records are read oldest first and diffed against the previous record of the same
    object in memory, so the whole tab costs two queries.
    """
    rows: list[HistoryRow] = []
    ids = merged_lineage(account)
    for model, records in (
        (Account, Account.history.filter(id__in=ids).select_related("history_user").order_by("history_date", "history_id")),
        (
            Contact,
            Contact.history.filter(account_id__in=ids)
            .select_related("history_user")
            .order_by("id", "history_date", "history_id"),
        ),
    ):
        previous: dict[int, object] = {}
        for record in records:
            prev = previous.get(record.id)
            changes = record.diff_against(prev).changes if prev is not None else []
            own = model is Account and record.id == account.pk
            subject = str(model._meta.verbose_name) + ("" if own else f" {record.name}")
            rows.append(HistoryRow(record=record, subject=subject, changes=[
                FieldChange(
                    field=c.field, label=str(getattr(model._meta.get_field(c.field), "verbose_name", c.field)),
                    old=_display(model, c.field, c.old), new=_display(model, c.field, c.new),
                )
                for c in changes
            ]))
            previous[record.id] = record
    rows.sort(key=lambda r: r.record.history_date, reverse=True)
    return rows[:limit]


def account_subsidiaries(*, user: User, account: Account) -> QuerySet[Account] | list[Account]:
    if getattr(account, "has_subsidiaries", True) is False:
        return []
    return Account.objects.visible_to(user).filter(parent=account).select_related("owner").order_by("name")[:50]

