"""The one way the API pages a list: `?page=` and `?page_size=` (PAGE_SIZE by default, at most
PAGE_SIZE_MAX), or `?cursor=` — answered as `{"items", "count", "page", "page_size",
"next_cursor", "previous_cursor"}`.

Numbered pages cost more the deeper they go (the database reads and drops every row before the
page); a cursor (kam.core.paging) names the row a page starts after, so every page costs the
same and rows added between two requests are neither repeated nor skipped. Every answer carries
`next_cursor` (null on the last page): a client reads page 1, then follows the cursors. A page
read by cursor has `page` and `count` null (counting would read the whole list); a cursor this
API did not make is a 422 naming `cursor`.

A handler takes `paging: Query[CursorQuery]` beside its filter (or a query schema inherits
CursorQuery, or PageQuery for a list that pages by number only) and returns
`page_of(queryset, paging, item)`; its answer schema inherits `PageFields`. The count query is
skipped when the page itself shows where the list ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from ninja import Field, Schema

from kam.core.conf import config
from kam.core.filters import CountParam
from kam.core.paging import MAX_CURSOR_LENGTH, Keyset, keyset_or_none

# Pages past this are refused as out of range rather than scanned.
MAX_PAGE = 1_000_000

Row = TypeVar("Row")


class Paging(Protocol):
    page: int
    page_size: int | None


class PageQuery(Schema):
    page: CountParam = Field(1, description="the page, from 1 (ignored with `cursor`)")
    page_size: CountParam | None = Field(None, description="rows a page (PAGE_SIZE by default, at most PAGE_SIZE_MAX)")


class CursorQuery(PageQuery):
    cursor: str | None = Field(None, min_length=1, max_length=MAX_CURSOR_LENGTH,
                               description="`next_cursor` or `previous_cursor` of an earlier answer: "
                                           "the page after (before) it, in the same order")


class PageFields(Schema):
    """What every list answer says besides its items."""

    count: int | None = Field(..., description="rows in the whole list; null for a page read by cursor")
    page: int | None = Field(..., description="this page's number; null for a page read by cursor")
    page_size: int
    next_cursor: str | None = Field(None, description="the cursor of the next page; null on the last page")
    previous_cursor: str | None = Field(None, description="the cursor of the page before; null on the first")


def page_size_of(paging: Paging) -> int:
    settings = config()
    return max(1, min(paging.page_size or settings.PAGE_SIZE, settings.PAGE_SIZE_MAX))


def page_of(queryset: Any, paging: Paging, item: Callable[[Any], Any] = lambda row: row,
            *, rows: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
            count: Callable[[], int] | None = None) -> dict[str, Any]:
    """One page of `queryset` as the API answers it; `item` turns a row into its schema's
    dict, `rows` (optional) prepares the page's rows together (e.g. one query for them all),
    `count` (optional) counts the list more cheaply than `queryset.count()`."""
    page_size = page_size_of(paging)
    keyset = keyset_or_none(queryset)
    cursor = getattr(paging, "cursor", None)
    if cursor and keyset is not None:
        found = keyset.page(cursor, page_size)
        answer: dict[str, Any] = {"count": None, "page": None, "next_cursor": found.next_cursor,
                                  "previous_cursor": found.previous_cursor}
        listed: list[Any] = found.rows
    else:
        answer, listed = _numbered(queryset, keyset, paging, page_size, count or queryset.count)
    prepared = rows(listed) if rows is not None else listed
    return {"items": [item(row) for row in prepared], "page_size": page_size, **answer}


def _numbered(queryset: Any, keyset: Keyset | None, paging: Paging, page_size: int,
              count_all: Callable[[], int]) -> tuple[dict[str, Any], list[Any]]:
    page = max(1, min(paging.page, MAX_PAGE))
    start = (page - 1) * page_size
    source = keyset.queryset if keyset is not None else queryset
    found = list(source[start : start + page_size])
    count = start + len(found) if 0 < len(found) < page_size else count_all()
    answer: dict[str, Any] = {"count": count, "page": page, "next_cursor": None, "previous_cursor": None}
    if keyset is not None and found:
        if start + len(found) < count:
            answer["next_cursor"] = keyset.cursor(found[-1])
        if start > 0:
            answer["previous_cursor"] = keyset.cursor(found[0], before=True)
    return answer, found
