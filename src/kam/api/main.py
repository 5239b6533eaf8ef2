"""The HTTP API (django-ninja). One router module per app lives beside this file.

Domain errors become responses here and nowhere else in the API.
"""

import logging

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from kam.api.auth import api_auth
from kam.core.errors import DomainError
from kam.core.failures import unwritable_message, unwritable_reason

logger = logging.getLogger("kam.api")

api = NinjaAPI(
    title="KAM API",
    version="1",
    description="Key-account management: accounts, contacts, account teams, activities and tasks, "
    "leads, the public pool, opportunities and deal reviews; forecasts, churn and early warnings. "
    "Authenticate with `Authorization: Bearer <token>` (`kam token USERNAME`) or a browser session.",
    auth=api_auth,
    urls_namespace="api",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    body = {"detail": exc.message, "errors": exc.errors}
    body.update({k: v for k, v in exc.extra.items() if v is not None})
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(NinjaValidationError)
def invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(location) or "__all__", []).append(error.get("msg", "invalid"))
    return api.create_response(request, {"detail": "Invalid input.", "errors": errors}, status=422)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorised(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


@api.exception_handler(DatabaseError)
def database_error(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    """A database that cannot be written is a 503 the client can retry later. Any other
    database error goes on to the project's handler500, which answers JSON 500 under /api/."""
    reason = unwritable_reason(exc)
    if reason is None:
        raise exc
    logger.warning("%s %s: the database cannot be written (%s): %s", request.method, request.path, reason, exc)
    return api.create_response(request, {"detail": unwritable_message(reason), "reason": reason}, status=503)


from kam.api.accounts import router as accounts_router  # noqa: E402
from kam.api.activities import router as activities_router  # noqa: E402
from kam.api.churn import router as churn_router  # noqa: E402
from kam.api.forecast import router as forecast_router  # noqa: E402
from kam.api.leads import router as leads_router  # noqa: E402
from kam.api.opportunities import router as opportunities_router  # noqa: E402
from kam.api.pool import router as pool_router  # noqa: E402
from kam.api.revenue import router as revenue_router  # noqa: E402
from kam.api.reviews import router as reviews_router  # noqa: E402
from kam.api.warnings import router as warnings_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/", revenue_router)
api.add_router("/", activities_router)
api.add_router("/", leads_router)
api.add_router("/", opportunities_router)
api.add_router("/", reviews_router)
api.add_router("/", pool_router)
api.add_router("/", forecast_router)
api.add_router("/", churn_router)
api.add_router("/", warnings_router)

# Every list read is audited once per request (kam.api.audit).
from kam.api.audit import audit_list_reads  # noqa: E402

api.add_decorator(audit_list_reads)
