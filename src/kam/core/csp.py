"""The Content-Security-Policy: the header on every response and the endpoint browsers report
violations to.

The policy itself is `CONTENT_SECURITY_POLICY` in settings (django-csp builds the header);
`CSPMiddleware` adds the `Reporting-Endpoints` header that the policy's `report-to` names
(under HTTPS only: see settings).
`csp_report` takes both report formats a browser sends — `application/csp-report` (the
`report-uri` form, one report) and `application/reports+json` (the Reporting API, a list) —
and logs each violation to the `kam.security` logger. It never trusts the body: a size limit
before reading, a clear 400 for anything that is not a report, and a cap on how many reports
one address gets logged per minute, so that nobody can flood the log through it.
"""

from __future__ import annotations

import json
import logging

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kam.core.conf import config

logger = logging.getLogger("kam.security")

REPORT_GROUP = "csp-endpoint"
CONTENT_TYPES = {"application/csp-report", "application/reports+json", "application/json"}
# The fields worth a line in the log, in either format (report-uri's names, then the
# Reporting API's); each value is cut to FIELD_CHARS.
FIELDS = {
    "document": ("document-uri", "documentURL"),
    "directive": ("effective-directive", "effectiveDirective", "violated-directive"),
    "blocked": ("blocked-uri", "blockedURL"),
    "source": ("source-file", "sourceFile"),
    "line": ("line-number", "lineNumber"),
    "sample": ("script-sample", "sample"),
    "disposition": ("disposition",),
}
FIELD_CHARS = 300


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, plus the Reporting-Endpoints header for `report-to`."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = super().process_response(request, response)
        if "report-to" in response.get("Content-Security-Policy", "") and "Reporting-Endpoints" not in response:
            response["Reporting-Endpoints"] = f'{REPORT_GROUP}="{reverse("csp_report")}"'
        return response


def _violations(payload) -> list[dict]:
    """The report bodies in `payload`, or ValueError when it is not a CSP report."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        return [payload["csp-report"]]
    if isinstance(payload, list) and payload:
        bodies = [r.get("body") for r in payload if isinstance(r, dict) and r.get("type") == "csp-violation"]
        if bodies and all(isinstance(b, dict) for b in bodies):
            return bodies
    raise ValueError("not a CSP violation report")


def _summary(body: dict) -> dict[str, str]:
    out = {}
    for name, keys in FIELDS.items():
        value = next((body[k] for k in keys if body.get(k) not in (None, "")), "")
        out[name] = str(value)[:FIELD_CHARS]
    return out


def _within_rate(address: str) -> bool:
    """True while `address` has sent at most CSP_REPORTS_PER_MINUTE reports this minute."""
    key = f"kam:csp-report:{address}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count <= config().CSP_REPORTS_PER_MINUTE


@csrf_exempt
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    """Log the violations a browser reports; 204, or 400/413/415 for what is not a report."""
    limit = config().CSP_REPORT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse("bad Content-Length", status=400, content_type="text/plain")
    if declared > limit:
        return HttpResponse("report too large", status=413, content_type="text/plain")
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return HttpResponse("report too large", status=413, content_type="text/plain")
    if not raw.strip():
        return HttpResponse("empty report", status=400, content_type="text/plain")
    if (request.content_type or "").lower() not in CONTENT_TYPES:
        return HttpResponse("not a CSP report content type", status=415, content_type="text/plain")
    try:
        violations = _violations(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return HttpResponse("not a CSP violation report", status=400, content_type="text/plain")
    address = request.META.get("REMOTE_ADDR", "")
    for body in violations:
        if not _within_rate(address):
            break
        # JSON-encoded values: a report cannot write a line break (a fake log line) into the log.
        logger.warning("csp violation from %s: %s", address, json.dumps(_summary(body), ensure_ascii=False),
                       extra={"csp_violation": _summary(body)})
    return HttpResponse(status=204)
