"""Managers required vs present per unit, and next year's gap with the expected growth. Thin."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kam.activities.staffing import policies
from kam.activities.staffing.exports import staffing_columns
from kam.activities.staffing.selectors import UnitStaffing, default_factors, staffing_for
from kam.activities.staffing.workload import Factors
from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.exports import FORMATS, export_response
from kam.core.models import AuditEvent, OrgUnit
from kam.core.policies import require
from kam.tiering.models import Scheme

# The factors the page lets one change: (query parameter, Factors field, lowest, highest).
FACTOR_FIELDS = (("grade", Decimal("0.1"), Decimal(5)), ("support_share", Decimal(0), Decimal(1)),
                 ("peak", Decimal(0), Decimal(5)), ("churn", Decimal(0), Decimal(1)))


def _factors(request: HttpRequest) -> Factors:
    """The factors of the query string, each within its range; the settings' where left out or wrong."""
    values = {}
    for name, low, high in FACTOR_FIELDS:
        try:
            value = Decimal(request.GET.get(name, "").strip())
        except InvalidOperation:
            continue
        if value.is_finite() and low <= value <= high:
            values[name] = value
    return replace(default_factors(), **values)


def _staffing_request(request: HttpRequest) -> tuple[list[UnitStaffing], Scheme, OrgUnit, int | None]:
    """(rows, scheme, unit, growth) for the query string; 403 for a role without staffing,
    404 when the unit is not the user's to see."""
    require(policies.may_view_staffing(request.user), _("Staffing is for managers and headquarters."))
    scheme = Scheme.objects.filter(code=request.GET.get("scheme") or config().CADENCE_SCHEME).first()
    code = request.GET.get("unit", "")
    user: Any = request.user
    unit = OrgUnit.objects.filter(code=code).first() if code else user.unit
    growth_text = request.GET.get("growth", "").strip()
    growth = int(growth_text) if growth_text.lstrip("-").isdigit() and abs(int(growth_text)) < 10**7 else None
    rows = (staffing_for(user=request.user, unit=unit, scheme=scheme, growth=growth, factors=_factors(request))
            if scheme and unit else [])
    if not rows or scheme is None or unit is None:
        raise Http404
    return rows, scheme, unit, growth


@login_required
def staffing(request: HttpRequest) -> HttpResponse:
    rows, scheme, unit, growth = _staffing_request(request)
    chart = {"staffing": {"x": [r.unit.name for r in rows], "series": [
        {"name": _("required by tier counts"), "data": [float(r.now.required) for r in rows]},
        {"name": _("required, all factors"), "data": [float(r.weighed.required) if r.weighed else 0 for r in rows]},
        {"name": _("present"), "data": [r.now.present for r in rows]},
    ]}}
    top_tiers = [(scheme.tier_label(t.tier), t) for t in rows[0].now.tiers]
    context = {"rows": rows, "top": rows[0], "top_tiers": top_tiers, "scheme": scheme, "unit": unit, "growth": growth,
               "factors": _factors(request),
               "chart": chart,
               "schemes": Scheme.objects.filter(is_active=True, service_standards__isnull=False).distinct(),
               "query": request.GET.urlencode()}
    return render(request, "activities/staffing/staffing.html", context)


@login_required
def staffing_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    rows, scheme, unit, growth = _staffing_request(request)
    lines = [(row, scheme.tier_label(tier.tier), tier) for row in rows for tier in row.now.tiers]
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="staffing", format=fmt,
                 query=request.GET.urlencode()[:500])
    return export_response(columns=staffing_columns(), rows=iter(lines), filename=_("staffing"), fmt=fmt)
