"""The one way the API pages a list: `?page=` and `?page_size=` (PAGE_SIZE by default, at most
PAGE_SIZE_MAX), answered as `{"items", "count", "page", "page_size"}`.

A handler takes `paging: Query[PageQuery]` beside its filter (or a query schema inherits
PageQuery) and returns `page_of(queryset, paging, item)`. The count query is skipped when the
page itself shows where the list ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from ninja import Field, Schema

from kam.api.account_schemas import CountParam
from kam.core.conf import config

# Pages past this are refused as out of range rather than scanned.
MAX_PAGE = 1_000_000

Row = TypeVar("Row")


class Paging(Protocol):
    page: int
    page_size: int | None


class PageQuery(Schema):
    page: CountParam = Field(1, description="the page, from 1")
    page_size: CountParam | None = Field(None, description="rows a page (PAGE_SIZE by default, at most PAGE_SIZE_MAX)")


def page_size_of(paging: Paging) -> int:
    settings = config()
    return max(1, min(paging.page_size or settings.PAGE_SIZE, settings.PAGE_SIZE_MAX))


def page_of(queryset: Any, paging: Paging, item: Callable[[Any], Any] = lambda row: row,
            *, rows: Callable[[Iterable[Any]], Iterable[Any]] | None = None) -> dict[str, Any]:
    """One page of `queryset` as the API answers it; `item` turns a row into its schema's
    dict, `rows` (optional) prepares the page's rows together (e.g. one query for them all)."""
    page_size = page_size_of(paging)
    page = max(1, min(paging.page, MAX_PAGE))
    start = (page - 1) * page_size
    found = list(queryset[start : start + page_size])
    count = start + len(found) if 0 < len(found) < page_size else queryset.count()
    prepared = rows(found) if rows is not None else found
    return {"items": [item(row) for row in prepared], "count": count, "page": page, "page_size": page_size}
