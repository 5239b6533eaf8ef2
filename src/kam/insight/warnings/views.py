"""Early-warning pages: the summary per unit and person with the filtered list, its export,
the retention-action form on each open warning, "evaluate now", the rules; the account
page's health card with its warnings and satisfaction surveys. Thin views: they parse,
call a service from kam.insight.warnings.services / health and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.selectors import account_get
from kam.core.errors import DomainError, NotVisible
from kam.core.exports import list_export
from kam.core.models import Role
from kam.core.web import attach_domain_error, is_htmx, paginate
from kam.insight.health import services as health_service
from kam.insight.models import WarningRule
from kam.insight.warnings import selectors, services
from kam.insight.warnings.exports import warning_columns
from kam.insight.warnings.forms import RetentionForm, RuleForm, SurveyForm, WarningFilterForm
from kam.insight.warnings.rules import PARAMS, describe

EVALUATING_ROLES = (Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER)


def may_evaluate_many(user) -> bool:
    return user.sees_everything or user.role in EVALUATING_ROLES


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _decorate(warnings) -> list:
    for w in warnings:
        w.sentence = describe(w.rule.code, w.evidence)
    return warnings


# --- the page, the list and its export ------------------------------------------------------------


@login_required
def warnings(request):
    form = WarningFilterForm(request.GET or None, user=request.user)
    qs = selectors.warning_list(user=request.user, filters=form.filters())
    page = paginate(request, qs)
    _decorate(page.object_list)
    context = {"form": form, "page": page, "query": _query(request), "export_query": _query(request, "format"),
               "retention_form": RetentionForm(), "may_evaluate": may_evaluate_many(request.user)}
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "insight/warnings/page.html#results", context)
    units, people = selectors.summary(user=request.user)
    context.update({"units": units, "people": people})
    return render(request, "insight/warnings/page.html", context)


@login_required
def warnings_export(request):
    filters = WarningFilterForm(request.GET or None, user=request.user).filters()
    queryset = selectors.warning_list(user=request.user, filters=filters)
    return list_export(request, what="warnings", queryset=queryset, columns=warning_columns(), filename=_("warnings"))


@login_required
@require_POST
def warning_retain(request, pk: int):
    """The retention-action form of one open warning (htmx: the warning's row comes back)."""
    warning = selectors.warning_get(user=request.user, pk=pk)
    if warning is None:
        raise Http404
    form = RetentionForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.retention_record(actor=request.user, warning=warning, action=form.cleaned_data["action"],
                                      outcome=form.cleaned_data["outcome"])
        except NotVisible:
            raise Http404 from None
        except DomainError as exc:
            attach_domain_error(form, exc)
            status = exc.status
    else:
        status = 422
    warning = selectors.warning_get(user=request.user, pk=pk)
    _decorate([warning])
    if is_htmx(request):
        return render(request, "insight/warnings/row.html",
                      {"w": warning, "retention_form": form if status != 200 else RetentionForm(),
                       "compact": request.POST.get("compact") == "1"}, status=status)
    if status != 200:
        messages.error(request, "; ".join(str(m) for errs in form.errors.values() for m in errs))
    else:
        messages.success(request, _("The retention action is recorded and the warning closed."))
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("insight:warnings")
    return redirect(target)


@login_required
@require_POST
def warnings_evaluate(request):
    """Evaluate now: the sweep over the accounts a manager or HQ sees."""
    if not may_evaluate_many(request.user):
        raise Http404
    try:
        counts = services.sweep_visible(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Evaluated: %(opened)d opened, %(kept)d still open, %(cleared)d cleared.") % counts)
    return redirect("insight:warnings")


# --- the rules ------------------------------------------------------------------------------------------


def _rule_rows(user, forms_by_rule=None) -> list:
    forms_by_rule = forms_by_rule or {}
    rows = []
    for rule in WarningRule.objects.all():
        rows.append({"rule": rule, "form": forms_by_rule.get(rule.pk) or RuleForm(rule=rule),
                     "params": [(p.label, (rule.params or {}).get(p.name, "")) for p in PARAMS.get(rule.code, [])]})
    return rows


@login_required
def warning_rules(request):
    editable = request.user.sees_everything
    forms_by_rule, status = {}, 200
    if request.method == "POST":
        if not editable:
            raise Http404
        rule = WarningRule.objects.filter(pk=request.POST.get("rule") or 0).first() if str(
            request.POST.get("rule", "")).isdigit() else None
        if rule is None:
            raise Http404
        form = RuleForm(request.POST, rule=rule)
        if form.is_valid():
            try:
                services.rule_update(actor=request.user, rule=rule, is_enabled=form.cleaned_data["is_enabled"],
                                     severity=form.cleaned_data["severity"], params=form.params())
            except DomainError as exc:
                attach_domain_error(form, exc)
                status = exc.status
        else:
            status = 422
        if status == 200:
            messages.success(request, _("The rule is saved; the next evaluation applies it."))
            return redirect("insight:warning_rules")
        forms_by_rule[rule.pk] = form
    return render(request, "insight/warnings/rules.html", {"rows": _rule_rows(request.user, forms_by_rule),
                                                            "editable": editable}, status=status)


# --- the account page's card ---------------------------------------------------------------------------------


def _account_or_404(request, pk: int):
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


def _health_context(request, account, *, survey_form=None, note: str = "") -> dict:
    trend = selectors.health_trend(user=request.user, account=account)
    current = trend[-1] if trend else None
    weight = health_service.weights()
    total = sum(weight.values()) or 1
    labels = health_service.part_labels()
    parts = []
    if current is not None:
        for name in health_service.PARTS:
            value = (current.parts or {}).get(name)
            parts.append({"name": name, "label": labels[name], "value": value, "weight": weight.get(name, 0),
                          "share": round(100 * weight.get(name, 0) / total), "band": health_service.band(
                              None if value is None else round(value))})
    open_warnings, closed = selectors.account_warnings(user=request.user, account=account)
    chart = {"months": [r.month.strftime("%Y-%m") for r in trend], "scores": [r.score for r in trend],
             "label": _("Health")}
    return {
        "account": account, "current": current, "band": health_service.band(current.score if current else None),
        "parts": parts, "open_warnings": _decorate(open_warnings), "closed_warnings": _decorate(closed),
        "retention_form": RetentionForm(), "surveys": selectors.account_surveys(user=request.user, account=account),
        "survey_form": survey_form or SurveyForm(initial={"surveyed_on": timezone.localdate()}),
        # Read by kam.js from a json_script (the card's trend chart); no inline script.
        "chart": {"trend": chart}, "chart_id": f"health-chart-{account.pk}", "note": note,
    }


@login_required
def account_health(request, pk=None):
    account = _account_or_404(request, pk)
    return render(request, "insight/health/card.html", _health_context(request, account))


@login_required
@require_POST
def account_health_evaluate(request, pk: int):
    """Evaluate now for one account: its warnings, then its health this month."""
    account = _account_or_404(request, pk)
    counts = services.sweep_visible(actor=request.user, account_ids=[account.pk])
    health_service.health_sweep(account_ids=[account.pk])
    note = _("Evaluated: %(opened)d opened, %(kept)d still open, %(cleared)d cleared.") % counts
    if is_htmx(request):
        return render(request, "insight/health/card.html", _health_context(request, account, note=note))
    messages.success(request, note)
    return redirect(account.get_absolute_url())


@login_required
@require_POST
def account_survey_add(request, pk: int):
    account = _account_or_404(request, pk)
    form = SurveyForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            health_service.survey_add(actor=request.user, account=account, score=form.cleaned_data["score"],
                                      surveyed_on=form.cleaned_data["surveyed_on"], note=form.cleaned_data["note"])
        except NotVisible:
            raise Http404 from None
        except DomainError as exc:
            attach_domain_error(form, exc)
            status = exc.status
    else:
        status = 422
    if is_htmx(request):
        return render(request, "insight/health/card.html",
                      _health_context(request, account, survey_form=form if status != 200 else None), status=status)
    if status != 200:
        messages.error(request, "; ".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect(account.get_absolute_url())
