"""Service standards and compliance pages: the standards (HQ edits them), required vs done per
unit and person, the heat-map and the overdue accounts, and their exports. Thin."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.activities.compliance import measure as compliance
from kam.activities.compliance import policies, services, summary
from kam.activities.compliance.exports import compliance_columns, overdue_columns
from kam.activities.compliance.filters import ComplianceFilter
from kam.activities.compliance.forms import ServiceStandardForm
from kam.activities.models import ServiceStandard
from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.exports import FORMATS, export_response
from kam.core.models import AuditEvent
from kam.core.web import form_errors, is_htmx
from kam.tiering.models import Scheme
from kam.tiering.selectors import schemes


@login_required
def standard_list(request: HttpRequest) -> HttpResponse:
    """Every scheme's service standards; HQ edits them."""
    rows = list(ServiceStandard.objects.select_related("scheme").order_by("scheme_id", "id"))
    for row in rows:
        row.tier_label = row.scheme.tier_label(row.tier)  # type: ignore[attr-defined]  # for the template
    return render(request, "activities/compliance/standards.html",
                  {"rows": rows, "governs": policies.may_change_standards(request.user)})


@login_required
def standard_edit(request: HttpRequest, pk: int) -> HttpResponse:
    # The edit page is not linked for those who may not change standards: for them it does not exist.
    if not policies.may_change_standards(request.user):
        raise Http404
    standard = ServiceStandard.objects.select_related("scheme").filter(pk=pk).first()
    if standard is None:
        raise Http404
    form = ServiceStandardForm(request.POST or None, instance=standard)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.service_standard_update(actor=request.user, standard=standard,
                                             **{k: form.cleaned_data[k] for k in services.STANDARD_FIELDS})
            return redirect("activities:standards")
    history = standard.history.select_related("history_user").order_by("-history_date")[:20]  # type: ignore[attr-defined]
    return render(request, "activities/compliance/standard_edit.html", {
        "standard": standard, "tier_label": standard.scheme.tier_label(standard.tier), "form": form,
        "history": history})


def _compliance_inputs(filters: ComplianceFilter) -> tuple[Scheme, list[Scheme], str, tuple[date, date], date]:
    today = timezone.localdate()
    choices = list(schemes().filter(service_standards__isnull=False).distinct())
    code = filters.scheme or config().CADENCE_SCHEME
    scheme = next((s for s in choices if s.code == code), choices[0] if choices else None)
    if scheme is None:
        raise Http404
    period = filters.period or compliance.current_quarter(today)
    bounds = compliance.parse_period(period)
    if bounds is None:
        period = compliance.current_quarter(today)
        bounds = compliance.parse_period(period)
    assert bounds is not None  # the current quarter always parses
    return scheme, choices, period, bounds, today


@login_required
def compliance_page(request: HttpRequest) -> HttpResponse:
    """Required vs done per unit and person for a period and scheme, a heat-map and the overdue accounts."""
    filters = ComplianceFilter.from_request(request)
    scheme, choices, period, (start, end), today = _compliance_inputs(filters)
    rep = summary.report(user=request.user, scheme=scheme, start=start, end=end, today=today)
    drill = filters.drill()
    overdue = summary.overdue_accounts(user=request.user, rep=rep, limit=config().COMPLIANCE_OVERDUE_ROWS, **drill)
    query = request.GET.copy()
    for key in ("unit", "person", "format", "what"):
        query.pop(key, None)
    context: dict[str, Any] = {"rep": rep, "scheme": scheme, "period": period, "overdue": overdue, "drill": drill,
                               "query": query.urlencode()}
    if is_htmx(request) and request.GET.get("part") == "overdue":
        return render(request, "activities/compliance/compliance.html#overdue", context)
    units = summary.per_unit(user=request.user, rep=rep)
    context.update(
        schemes=choices, periods=compliance.period_choices(today), units=units,
        people=summary.per_person(rep=rep), total=summary.total_row(units), others=summary.other_totals(rep),
        charts=json.loads(json.dumps({"heat": summary.heatmap(user=request.user, rep=rep)})),
    )
    return render(request, "activities/compliance/compliance.html", context)


@login_required
def compliance_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    what = request.GET.get("what", "table")
    if fmt not in FORMATS or what not in ("table", "overdue"):
        raise Http404
    filters = ComplianceFilter.from_request(request)
    scheme, _choices, period, (start, end), today = _compliance_inputs(filters)
    rep = summary.report(user=request.user, scheme=scheme, start=start, end=end, today=today)
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what=f"compliance-{what}",
                 format=fmt, query=request.GET.urlencode()[:500])
    if what == "overdue":
        rows = summary.overdue_accounts(user=request.user, rep=rep, limit=config().EXPORT_MAX_ROWS, **filters.drill())
        return export_response(columns=overdue_columns(), rows=rows, filename=_("overdue accounts"), fmt=fmt)
    units = [(_("unit"), r) for r in summary.per_unit(user=request.user, rep=rep)]
    people = [(_("person"), r) for r in summary.per_person(rep=rep)]
    return export_response(columns=compliance_columns(), rows=units + people,
                           filename=_("compliance") + f"-{period}", fmt=fmt)
