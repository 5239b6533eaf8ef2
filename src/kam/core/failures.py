"""When a request fails: a database that cannot be written gets a 503 that says so, anything
else the project's own 500 — a page, or under /api/ a JSON body. Nothing here touches the
database (it may be the very thing that failed): no session, no user, no context processors.

`server_error` is the project's handler500. Django calls it inside the `except` block of
whatever failed — the view or any middleware after it — so the exception is still at hand in
`sys.exc_info()`. A session that cannot be saved reaches Django as SessionInterrupted, a bad
request, so `bad_request` (handler400) looks for the database error behind it too.
"""

from __future__ import annotations

import sqlite3
import sys

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults

# What each database says when it cannot take a write (the one place that knows the words).
SQLITE_MESSAGES = {
    "attempt to write a readonly database": "read_only",
    "database or disk is full": "full",
    "database is locked": "busy",
    "database table is locked": "busy",
}
POSTGRESQL_SQLSTATES = {
    "25006": "read_only",  # read_only_sql_transaction: default_transaction_read_only, a standby
    "53100": "full",  # disk_full
    "53300": "busy",  # too_many_connections
    "55P03": "busy",  # lock_not_available (lock_timeout)
}


def unwritable_reason(exc: BaseException | None) -> str | None:
    """"read_only", "full" or "busy" when `exc` (or what it wraps) says the database cannot be
    written right now; None for any other error."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        # psycopg's own errors (behind Django's) carry the SQLSTATE: psycopg 3 as .sqlstate.
        state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
        if state in POSTGRESQL_SQLSTATES:
            return POSTGRESQL_SQLSTATES[state]
        if isinstance(exc, DatabaseError | sqlite3.Error):
            message = str(exc).lower()
            for words, reason in SQLITE_MESSAGES.items():
                if words in message:
                    return reason
        exc = exc.__cause__ or exc.__context__
    return None


# Lazy, so that the error page can show each in Chinese and in English.
UNWRITABLE_MESSAGES = {
    "read_only": gettext_lazy("The database is read-only at the moment: nothing can be saved."),
    "full": gettext_lazy("The database's disk is full: nothing can be saved."),
    "busy": gettext_lazy("The database is too busy to take the change: nothing was saved."),
}


def unwritable_message(reason: str) -> str:
    return str(UNWRITABLE_MESSAGES[reason])


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def unwritable_response(request, reason: str):
    if _is_api(request):
        return JsonResponse({"detail": unwritable_message(reason), "reason": reason}, status=503)
    return HttpResponse(render_to_string("503.html", {"reason": reason, "message": UNWRITABLE_MESSAGES[reason]}),
                        status=503)


def bad_request(request, exception):
    reason = unwritable_reason(exception)
    if reason is not None:
        return unwritable_response(request, reason)
    if _is_api(request):
        return JsonResponse({"detail": _("Bad request.")}, status=400)
    return defaults.bad_request(request, exception)


def server_error(request):
    reason = unwritable_reason(sys.exc_info()[1])
    if reason is not None:
        return unwritable_response(request, reason)
    if _is_api(request):
        return JsonResponse({"detail": _("Internal server error.")}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: Django's own page carries an inline style the policy blocks."""
    if _is_api(request):
        return JsonResponse({"detail": _("CSRF check failed: send the CSRF token with the session's requests.")},
                            status=403)
    return HttpResponse(render_to_string("403_csrf.html", request=request), status=403)
