"""Keyset (cursor) paging: a page is "the rows after this one" in the list's own order, not "rows
500 to 525", so a deep page costs what the first one does and rows added or removed between two
requests neither repeat nor drop a row.

`Keyset(queryset)` reads the queryset's ordering (its `order_by`, else the model's
`Meta.ordering`) and adds the primary key as the last key, so every row has one place. Each key
is ascending or descending, with NULLs where the database puts them (first on SQLite for an
ascending key, last on PostgreSQL) or where the ordering says (`F(x).asc(nulls_first=True)`).
A cursor names the row the page starts after (or before, for the previous page): the values of
its keys, signed with django.core.signing so a client can neither forge nor edit one. A bad
cursor raises `InvalidCursor`, a ValidationFailed on the parameter `cursor` (the API answers
422, the pages 400).

The page lists (`ListPage`, behind kam.core.web.paginate) keep the numbered first pages and the
total while counting stays cheap (at most PAGE_COUNT_LIMIT rows are counted), and page by cursor
beyond PAGE_NUMBERED_MAX. A list that is not a keyset-able queryset (a Python list, a queryset
ordered at random or already sliced) pages by number only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import Expression, F, Field, Model, OrderBy, Q, QuerySet
from django.db.models.query import ModelIterable
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from kam.core.conf import config
from kam.core.errors import ValidationFailed

SALT = "kam.core.paging.cursor"
# A cursor holds a few key values; anything longer was not made here.
MAX_CURSOR_LENGTH = 1000
CURSOR_PARAMETER = "cursor"
# The keys added to a queryset that orders by a related field or an expression.
KEY_ALIAS = "kam_cursor_key_{}"


class InvalidCursor(ValidationFailed):
    """The `cursor` parameter was not made by this list (forged, edited, cut short, or made for
    another order of the list). The API answers 422; the pages answer 400."""

    def __init__(self, parameter: str = CURSOR_PARAMETER) -> None:
        message = _("The “%(parameter)s” parameter is not a valid position in this list; "
                    "open the list from its first page.") % {"parameter": parameter}
        super().__init__(message, errors={parameter: [message]})
        self.parameter = parameter


class NotKeysetable(Exception):
    """The queryset cannot be paged by keys (random order, sliced, rows that are not models)."""


@dataclass(frozen=True)
class Key:
    """One ordering key: what to compare (a field, a field path or an annotation) and how."""

    name: str
    descending: bool
    nulls_first: bool  # where NULLs come in this key's order
    nulls_explicit: bool  # the ordering says where NULLs go (NULLS FIRST/LAST in the SQL)
    nullable: bool
    field: Field | None  # turns a cursor's value back into a Python value (None: read once annotated)
    attribute: str  # where a row holds the value
    source: str = ""  # what the list orders by (the path or expression behind an alias)

    @property
    def sign(self) -> str:
        nulls = ("^" if self.nulls_first else "$") if self.nulls_explicit else ""
        return f"{'-' if self.descending else ''}{self.source or self.name}{nulls}"

    def reversed(self) -> Key:
        return replace(self, descending=not self.descending, nulls_first=not self.nulls_first)

    def order(self) -> OrderBy:
        expression = F(self.name)
        if self.nulls_explicit:
            placement = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
            return expression.desc(**placement) if self.descending else expression.asc(**placement)
        return expression.desc() if self.descending else expression.asc()

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.name}__isnull": True}) if value is None else Q(**{self.name: value})

    def after(self, value: Any) -> Q | None:
        """The rows this key alone puts after `value`; None when none can come after it."""
        if value is None:
            return Q(**{f"{self.name}__isnull": False}) if self.nulls_first else None
        step = Q(**{f"{self.name}__{'lt' if self.descending else 'gt'}": value})
        if self.nullable and not self.nulls_first:
            step |= Q(**{f"{self.name}__isnull": True})
        return step

    def at_or_after(self, value: Any) -> Q | None:
        """The rows whose first key does not come before `value` (lets an index range start there)."""
        if value is None:
            return None if self.nulls_first else Q(**{f"{self.name}__isnull": True})
        bound = Q(**{f"{self.name}__{'lte' if self.descending else 'gte'}": value})
        if self.nullable and not self.nulls_first:
            bound |= Q(**{f"{self.name}__isnull": True})
        return bound


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"cannot page by a value of type {type(value).__name__}")


def _path_field(model: type[Model], path: str) -> tuple[Field, bool]:
    """The field at the end of `path` (a__b__c) and whether a row may hold NULL there."""
    nullable = False
    current: Any = model
    parts = path.split("__")
    field: Any = None
    for i, part in enumerate(parts):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist as exc:
            raise NotKeysetable(f"{path}: not a field") from exc
        if field.is_relation:
            if field.many_to_many or field.one_to_many or field.auto_created and not field.concrete:
                raise NotKeysetable(f"{path}: ordering across a to-many relation repeats rows")
            nullable = nullable or bool(field.null)
            if i == len(parts) - 1:
                if part == getattr(field, "attname", None) and part != field.name:
                    return field.target_field, nullable  # the foreign key's column (account_id)
                return field, nullable  # the relation itself, resolved by the caller
            current = field.related_model
        elif i != len(parts) - 1:
            raise NotKeysetable(f"{path}: {part} is not a relation")
        else:
            nullable = nullable or bool(field.null)
    return field, nullable


class Keyset:
    """Pages `queryset` by its ordering keys plus the primary key."""

    def __init__(self, queryset: QuerySet[Any]) -> None:
        if not isinstance(queryset, QuerySet):
            raise NotKeysetable("not a queryset")
        query = queryset.query
        if query.is_sliced:
            raise NotKeysetable("a sliced queryset cannot be filtered")
        if queryset._iterable_class is not ModelIterable or query.extra_order_by or query.combinator:
            raise NotKeysetable("rows that are not model instances, extra() or a combined query")
        self.model = queryset.model
        self.db = queryset.db
        self._largest = connections[self.db].features.nulls_order_largest
        self._annotations: dict[str, Any] = {}
        items = list(query.order_by) or (list(self.model._meta.ordering) if query.default_ordering else [])
        self.keys: list[Key] = []
        pk = self.model._meta.pk
        assert pk is not None
        for item in items:
            key = self._key(queryset, item, len(self.keys))
            if key.name == "pk":
                self.keys.append(key)
                break
            if key.name not in {k.name for k in self.keys}:
                self.keys.append(key)
        if not self.keys or self.keys[-1].name != "pk":
            # The primary key makes the order total; ascending unless the list reads newest first.
            descending = bool(self.keys) and self.keys[-1].descending
            self.keys.append(self._plain("pk", descending, None, pk, False, "pk"))
        # Which order a cursor was made for: one made for another sort of the list is refused.
        self.sign = hashlib.blake2s(",".join(key.sign for key in self.keys).encode(), digest_size=6).hexdigest()
        qs = queryset.annotate(**self._annotations) if self._annotations else queryset
        annotations = qs.query.annotations
        try:
            self.keys = [key if key.field is not None else replace(key, field=annotations[key.name].output_field)
                         for key in self.keys]
        except Exception as exc:  # an expression that cannot say its type (FieldError and the like)
            raise NotKeysetable(f"cannot tell the type of an ordering expression: {exc}") from exc
        self.queryset = qs.order_by(*(key.order() for key in self.keys))
        # Keys that are the model's own columns: a page beyond a cursor is read one key level at a
        # time, each an index range (see _seek).
        columns = {"pk"} | {name for f in self.model._meta.concrete_fields for name in (f.name, f.attname)}
        self._by_level = all(key.name in columns for key in self.keys)

    # --- reading the ordering ---------------------------------------------------------------------

    def _plain(self, name: str, descending: bool, nulls_first: bool | None, field: Field | None, nullable: bool,
               attribute: str) -> Key:
        natural_first = self._largest == descending  # NULLs sort as the largest value, or the smallest
        return Key(name=name, descending=descending,
                   nulls_first=natural_first if nulls_first is None else nulls_first,
                   nulls_explicit=nulls_first is not None, nullable=nullable, field=field, attribute=attribute)

    def _key(self, queryset: QuerySet[Any], item: Any, index: int) -> Key:
        nulls_first: bool | None = None
        if isinstance(item, str):
            if item == "?" or "." in item:
                raise NotKeysetable(f"cannot page by {item!r}")
            descending, name = item.startswith("-"), item.lstrip("-+")
        elif isinstance(item, OrderBy):
            descending = item.descending
            nulls_first = True if item.nulls_first else (False if item.nulls_last else None)
            expression = item.expression
            if isinstance(expression, F):
                name = expression.name
            else:
                return self._expression_key(expression, descending, nulls_first, index)
        elif isinstance(item, F):
            descending, name = False, item.name
        elif isinstance(item, Expression):
            return self._expression_key(item, False, None, index)
        else:
            raise NotKeysetable(f"cannot page by {item!r}")
        pk = self.model._meta.pk
        assert pk is not None
        if name in ("pk", pk.name, pk.attname):
            return self._plain("pk", descending, nulls_first, pk, False, "pk")
        if name in queryset.query.annotation_select:
            annotation = queryset.query.annotations[name]
            return self._plain(name, descending, nulls_first, annotation.output_field, True, name)
        if name in queryset.query.annotations:  # an alias(): not selected, so read through a key of its own
            alias = KEY_ALIAS.format(index)
            self._annotations[alias] = F(name)
            return replace(self._plain(alias, descending, nulls_first, None, True, alias), source=name)
        field, nullable = _path_field(self.model, name)
        if field.is_relation:
            related = field.related_model
            if related is not None and related._meta.ordering:
                raise NotKeysetable(f"{name}: orders by {related.__name__}'s own ordering")
            name, field = f"{name}_id" if "__" in name else field.attname, field.target_field  # type: ignore[attr-defined]
        if "__" not in name:
            attribute = self.model._meta.get_field(name).attname  # type: ignore[union-attr]
            return self._plain(name, descending, nulls_first, field, nullable, attribute)
        alias = KEY_ALIAS.format(index)
        self._annotations[alias] = F(name)
        return replace(self._plain(alias, descending, nulls_first, field, nullable, alias), source=name)

    def _expression_key(self, expression: Any, descending: bool, nulls_first: bool | None, index: int) -> Key:
        alias = KEY_ALIAS.format(index)
        self._annotations[alias] = expression
        return replace(self._plain(alias, descending, nulls_first, None, True, alias), source=repr(expression))

    # --- cursors ------------------------------------------------------------------------------------

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, key.attribute) for key in self.keys]

    def cursor(self, row: Any, *, before: bool = False) -> str:
        """The cursor of the page after `row` (before it, with `before`)."""
        payload = {"o": self.sign, "d": "p" if before else "n", "v": [_encode(v) for v in self.values(row)]}
        return signing.dumps(payload, salt=SALT, compress=True)

    def read(self, cursor: str, *, parameter: str = CURSOR_PARAMETER) -> tuple[bool, list[Any]]:
        """(before, values) of a cursor this list made; InvalidCursor for anything else."""
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor(parameter)
        try:
            payload = signing.loads(cursor, salt=SALT)
        except (signing.BadSignature, ValueError, UnicodeError, OverflowError) as exc:
            raise InvalidCursor(parameter) from exc
        if (not isinstance(payload, dict) or payload.get("o") != self.sign or payload.get("d") not in ("n", "p")
                or not isinstance(payload.get("v"), list) or len(payload["v"]) != len(self.keys)):
            raise InvalidCursor(parameter)
        values = []
        for key, raw in zip(self.keys, payload["v"], strict=True):
            if raw is None:
                if not key.nullable:
                    raise InvalidCursor(parameter)
                values.append(None)
                continue
            try:
                assert key.field is not None
                values.append(key.field.to_python(raw))
            except (ValidationError, TypeError, ValueError, ArithmeticError) as exc:
                raise InvalidCursor(parameter) from exc
        return payload["d"] == "p", values

    # --- pages --------------------------------------------------------------------------------------

    @staticmethod
    def _levels(keys: list[Key], values: list[Any]) -> list[Q]:
        """The rows after `values` in the order of `keys`, level by level and in the list's order:
        those that share all but the last key with `values` and come after it on the last, then
        those that share all but the last two, and so on."""
        levels = []
        for i, key in enumerate(keys):
            step = key.after(values[i])
            if step is None:
                continue
            same = Q()
            for earlier, value in zip(keys[:i], values[:i], strict=True):
                same &= earlier.equal(value)
            levels.append(same & step)
        return levels[::-1]

    @classmethod
    def _beyond(cls, keys: list[Key], values: list[Any]) -> Q:
        """The rows that come after `values` in the order of `keys`, as one condition."""
        either = Q(pk__in=[])
        for level in cls._levels(keys, values):
            either |= level
        bound = keys[0].at_or_after(values[0])
        return either & bound if bound is not None else either

    def _seek(self, queryset: QuerySet[Any], keys: list[Key], values: list[Any], limit: int) -> list[Any]:
        """The first `limit` rows of `queryset` after `values` in the order of `keys`.

        When every key is a column, one query per level of `_levels`, until the page is full:
        each is a range of an index on the keys. One condition with OR (`_beyond`) lets the
        database use the first key only, and the rows that tie on it (accounts a revenue import
        created in one instant) are read and skipped one by one: 50,000 of them in the middle of
        a list of 100,000."""
        if not self._by_level:
            return list(queryset.filter(self._beyond(keys, values))[:limit])
        rows: list[Any] = []
        for level in self._levels(keys, values):
            rows += queryset.filter(level)[: limit - len(rows)]
            if len(rows) >= limit:
                break
        return rows

    def page(self, cursor: str | None, size: int, *, parameter: str = CURSOR_PARAMETER) -> KeysetPage:
        """`size` rows from the start of the list, or after/before the cursor's row."""
        if not cursor:
            rows = list(self.queryset[: size + 1])
            return self._forward(rows, size, came_from_cursor=False)
        before, values = self.read(cursor, parameter=parameter)
        if not before:
            rows = self._seek(self.queryset, self.keys, values, size + 1)
            return self._forward(rows, size, came_from_cursor=True)
        backwards = [key.reversed() for key in self.keys]
        found = self._seek(self.queryset.order_by(*(key.order() for key in backwards)), backwards, values, size + 1)
        more_before = len(found) > size
        rows = list(reversed(found[:size]))
        return KeysetPage(rows=rows, next_cursor=self.cursor(rows[-1]) if rows else None,
                          previous_cursor=self.cursor(rows[0], before=True) if rows and more_before else None)

    def _forward(self, rows: list[Any], size: int, *, came_from_cursor: bool) -> KeysetPage:
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(rows=rows, next_cursor=self.cursor(rows[-1]) if rows and more else None,
                          previous_cursor=self.cursor(rows[0], before=True) if rows and came_from_cursor else None)


@dataclass
class KeysetPage:
    rows: list[Any]
    next_cursor: str | None
    previous_cursor: str | None


def keyset_or_none(queryset: Any) -> Keyset | None:
    """The keyset of `queryset`, or None when it pages by number only."""
    try:
        return Keyset(queryset)
    except NotKeysetable:
        return None


# --- the page lists ---------------------------------------------------------------------------------


def _page_number(raw: str | None, last: int) -> int:
    text = (raw or "").strip()
    if text == "last":
        return last
    number = int(text) if text.isdigit() and len(text) <= 9 else 1
    return max(1, min(number, last))


class ListPage(Sequence[Any]):
    """One page of a list as the templates read it — a Django Page's attributes (`object_list`,
    `number`, `has_next`, `paginator.count` …) plus `next_query`, `previous_query` and
    `first_query`, the query strings of the links, and `count_capped` when the list holds more
    than PAGE_COUNT_LIMIT rows (then `count` is that limit and the number of pages unknown)."""

    def __init__(self, request: HttpRequest, object_list: Any, per_page: int | None = None, *,
                 count: int | None = None, count_from: Any = None) -> None:
        settings = config()
        self.per_page = max(1, per_page or settings.PAGE_SIZE)
        self._get: QueryDict = request.GET
        self.numbered_max = settings.PAGE_NUMBERED_MAX
        self.paginator = self
        keyset = keyset_or_none(object_list)
        limit = settings.PAGE_COUNT_LIMIT
        # At most limit + 1 rows are counted, unordered: enough to tell "more than the limit".
        # Only the keys: an annotation the list shows (a correlated subquery) is not computed to be counted.
        if count is not None:
            counted = count
        elif keyset is not None:
            counted = (object_list if count_from is None else count_from).order_by().values("pk")[: limit + 1].count()
        else:
            counted = self._count(object_list)
        self.count_capped = keyset is not None and counted > limit
        self.count = min(counted, limit) if self.count_capped else counted
        self.num_pages: int | None = None if self.count_capped else max(1, math.ceil(self.count / self.per_page))
        self._next: dict[str, str] | None = None
        self._previous: dict[str, str] | None = None
        cursor = request.GET.get(CURSOR_PARAMETER) or None
        if keyset is not None and cursor:
            self.number: int | None = None
            found = keyset.page(cursor, self.per_page)
            self.object_list: list[Any] = found.rows
            self._next = {CURSOR_PARAMETER: found.next_cursor} if found.next_cursor else None
            self._previous = {CURSOR_PARAMETER: found.previous_cursor} if found.previous_cursor else None
            return
        last = min(self.num_pages or self.numbered_max, self.numbered_max if keyset is not None else 10**9)
        self.number = _page_number(request.GET.get("page"), last)
        start = (self.number - 1) * self.per_page
        source = keyset.queryset if keyset is not None else object_list
        self.object_list = list(source[start : start + self.per_page])
        if self.number > 1:
            self._previous = {"page": str(self.number - 1)}
        if start + len(self.object_list) < self.count or (self.count_capped and len(self.object_list) == self.per_page):
            if self.number < last:
                self._next = {"page": str(self.number + 1)}
            elif keyset is not None and self.object_list:
                self._next = {CURSOR_PARAMETER: keyset.cursor(self.object_list[-1])}

    @staticmethod
    def _count(object_list: Any) -> int:
        counter: Callable[[], int] | None = getattr(object_list, "count", None)
        try:
            return int(counter()) if callable(counter) else len(object_list)
        except TypeError:  # list.count takes an argument
            return len(object_list)

    # --- the links ------------------------------------------------------------------------------

    def _query(self, changes: dict[str, str] | None) -> str:
        query = self._get.copy()
        for key in ("page", CURSOR_PARAMETER):
            query.pop(key, None)
        query.update(changes or {})
        return query.urlencode()

    @property
    def next_query(self) -> str:
        return self._query(self._next) if self._next else ""

    @property
    def previous_query(self) -> str:
        return self._query(self._previous) if self._previous else ""

    @property
    def first_query(self) -> str:
        """The first page's link, shown on a page reached by cursor."""
        return self._query({"page": "1"}) if self.number is None and self._previous else ""

    @property
    def by_cursor(self) -> bool:
        return self.number is None

    # --- a Django Page's interface ---------------------------------------------------------------

    def has_next(self) -> bool:
        return self._next is not None

    def has_previous(self) -> bool:
        return self._previous is not None

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int | None:
        return int(self._next["page"]) if self._next and "page" in self._next else None

    def previous_page_number(self) -> int | None:
        return int(self._previous["page"]) if self._previous and "page" in self._previous else None

    def start_index(self) -> int | None:
        if self.number is None:
            return None
        return 0 if not self.object_list else (self.number - 1) * self.per_page + 1

    def end_index(self) -> int | None:
        start = self.start_index()
        return None if start is None else (start - 1 + len(self.object_list) if self.object_list else 0)

    def __len__(self) -> int:
        return len(self.object_list)

    def __getitem__(self, index: Any) -> Any:
        return self.object_list[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __repr__(self) -> str:
        return f"<ListPage {self.number or 'by cursor'} ({len(self.object_list)} rows)>"
