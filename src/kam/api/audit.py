"""One audit event per API list read: who, from where, the path, the filters, the page and the
rows returned — not one per row. Applied to every operation (NinjaAPI.add_decorator), so a new
list endpoint is audited without anyone remembering to."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from kam.core.audit import audit_record
from kam.core.models import AuditEvent

PAGING = ("page", "page_size", "cursor")


def _rows(result: Any) -> tuple[int | None, Any]:
    """(rows, result): the rows a list answer returns, None for an answer that is not a list."""
    if isinstance(result, QuerySet):
        result = list(result)
    if isinstance(result, list | tuple):
        return len(result), result
    if isinstance(result, dict) and isinstance(result.get("items"), list | tuple):
        return len(result["items"]), result
    return None, result


def audit_list_reads(view_func: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view_func)
    def audited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        result = view_func(request, *args, **kwargs)
        if request.method != "GET":
            return result
        rows, result = _rows(result)
        if rows is not None:
            query = request.GET
            # Bounded, so a hostile query string cannot make the audit row heavy.
            filters = {key[:50]: ",".join(query.getlist(key))[:200] for key in list(query)[:20] if key not in PAGING}
            detail: dict[str, Any] = {"path": request.path[:255], "filters": filters, "rows": rows}
            if isinstance(result, dict):
                detail.update({key: result[key] for key in ("page", "page_size", "count") if key in result})
            user = request.user if getattr(request.user, "is_authenticated", False) else None
            audit_record(kind=AuditEvent.Kind.API_LIST, user=user, request=request, target=request.path, **detail)
        return result

    return audited
