"""The account page's health card: the score, its parts and trend, the account's warnings with
the retention-action form, its satisfaction surveys, and "evaluate now" for the account.
Thin views: they parse, call kam.insight.health / warnings services and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import account_get
from kam.core.errors import DomainError
from kam.core.web import form_errors, is_htmx
from kam.insight.health import selectors, services
from kam.insight.health.forms import SurveyForm
from kam.insight.warnings import selectors as warning_selectors
from kam.insight.warnings import services as warning_services
from kam.insight.warnings.forms import RetentionForm
from kam.insight.warnings.views import decorate


def _account_or_404(request: HttpRequest, pk: int) -> Account:
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


def _health_context(request: HttpRequest, account: Account, *, survey_form: SurveyForm | None = None,
                    note: str = "") -> dict[str, Any]:
    trend = selectors.health_trend(user=request.user, account=account)
    current = trend[-1] if trend else None
    weight = services.weights()
    total = sum(weight.values()) or 1
    labels = services.part_labels()
    parts = []
    if current is not None:
        for name in services.PARTS:
            value = (current.parts or {}).get(name)
            parts.append({"name": name, "label": labels[name], "value": value, "weight": weight.get(name, 0),
                          "share": round(100 * weight.get(name, 0) / total), "band": services.band(
                              None if value is None else round(value))})
    open_warnings, closed = warning_selectors.account_warnings(user=request.user, account=account)
    chart = {"months": [r.month.strftime("%Y-%m") for r in trend], "scores": [r.score for r in trend],
             "label": _("Health")}
    return {
        "account": account, "current": current, "band": services.band(current.score if current else None),
        "parts": parts, "open_warnings": decorate(open_warnings), "closed_warnings": decorate(closed),
        "retention_form": RetentionForm(), "surveys": selectors.account_surveys(user=request.user, account=account),
        "survey_form": survey_form or SurveyForm(initial={"surveyed_on": timezone.localdate()}),
        # Read by kam.js from a json_script (the card's trend chart); no inline script.
        "chart": {"trend": chart}, "chart_id": f"health-chart-{account.pk}", "note": note,
    }


@login_required
def account_health(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    return render(request, "insight/health/card.html", _health_context(request, account))


@login_required
@require_POST
def account_health_evaluate(request: HttpRequest, pk: int) -> HttpResponse:
    """Evaluate now for one account: its warnings, then its health this month."""
    account = _account_or_404(request, pk)
    counts = warning_services.sweep_visible(actor=request.user, account_ids=[account.pk])
    services.health_sweep(account_ids=[account.pk])
    note = _("Evaluated: %(opened)d opened, %(kept)d still open, %(cleared)d cleared.") % counts
    if is_htmx(request):
        return render(request, "insight/health/card.html", _health_context(request, account, note=note))
    messages.success(request, note)
    return redirect(account.get_absolute_url())


@login_required
@require_POST
def account_survey_add(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    form = SurveyForm(request.POST)
    status = 422
    if form.is_valid():
        with form_errors(form):
            try:
                services.survey_add(actor=request.user, account=account, score=form.cleaned_data["score"],
                                    surveyed_on=form.cleaned_data["surveyed_on"], note=form.cleaned_data["note"])
            except DomainError as exc:
                status = exc.status
                raise
            status = 200
    if is_htmx(request):
        return render(request, "insight/health/card.html",
                      _health_context(request, account, survey_form=form if status != 200 else None), status=status)
    if status != 200:
        messages.error(request, "; ".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect(account.get_absolute_url())
