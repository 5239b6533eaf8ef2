"""What the apps above accounts add to the account list and the account card.

Tiering knows the tiers and insight the health score, but both sit above accounts in the
layers; each registers what it adds here in its AppConfig.ready(), so the list and the card
show it without importing them. Without a registration the list has no tier filter and no
health column, and the card no tier box and no pool buttons (sales registers those, asking the
pool's policies)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from kam.accounts.models import Account


@dataclass(frozen=True)
class TierFilter:
    """The list's tier filter: the values it offers and how one narrows the list."""

    choices: Callable[[], list[tuple[str, str]]]  # ("scheme:tier", label)
    narrow: Callable[[QuerySet[Account], str], QuerySet[Account]]


@dataclass(frozen=True)
class ListColumn:
    """A column of the account list and its export: `annotate` adds it to the queryset,
    `decorate` (optional) sets what the page shows on each account of a page."""

    annotate: Callable[[QuerySet[Account]], QuerySet[Account]]
    decorate: Callable[[Account], None] | None = None


# name -> read(account): what the card tab shows under that name in its context
CardBox = Callable[[Account], Any]
# name -> offer(user, account): the buttons the card's header offers the user under that name
CardActions = Callable[[Any, Account], Any]

_tier_filter: list[TierFilter] = []
_columns: dict[str, ListColumn] = {}
_boxes: dict[str, CardBox] = {}
_actions: dict[str, CardActions] = {}


def register_tier_filter(entry: TierFilter) -> None:
    _tier_filter[:] = [entry]


def register_column(name: str, column: ListColumn) -> None:
    _columns[name] = column


def register_card_box(name: str, read: CardBox) -> None:
    _boxes[name] = read


def register_card_actions(name: str, offer: CardActions) -> None:
    _actions[name] = offer


def tier_choices() -> list[tuple[str, str]]:
    return _tier_filter[0].choices() if _tier_filter else []


def in_tier(queryset: QuerySet[Account], value: str) -> QuerySet[Account]:
    """The accounts of `queryset` in tier `value` ("scheme:tier"); none without a tier filter."""
    return _tier_filter[0].narrow(queryset, value) if _tier_filter else queryset.none()


def with_columns(queryset: QuerySet[Account]) -> QuerySet[Account]:
    for column in _columns.values():
        queryset = column.annotate(queryset)
    return queryset


def decorate(accounts: Iterable[Account]) -> None:
    decorators = [c.decorate for c in _columns.values() if c.decorate is not None]
    for account in accounts:
        for apply in decorators:
            apply(account)


def card_boxes(account: Account) -> dict[str, Any]:
    return {name: read(account) for name, read in _boxes.items()}


def card_actions(user: Any, account: Account) -> dict[str, Any]:
    return {name: offer(user, account) for name, offer in _actions.items()}
