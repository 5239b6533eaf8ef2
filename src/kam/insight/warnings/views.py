"""Early-warning pages: the summary per unit and person with the filtered list, its export,
the retention-action form on each open warning, "evaluate now", the rules. Thin views: they
parse, call a service from kam.insight.warnings and render."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import colleagues
from kam.core.errors import DomainError
from kam.core.exports import list_export
from kam.core.web import form_errors, is_htmx, message_errors, paginate
from kam.insight.models import Warning, WarningRule, WarningState
from kam.insight.warnings import policies, selectors, services
from kam.insight.warnings.exports import warning_columns
from kam.insight.warnings.filters import WarningFilter
from kam.insight.warnings.forms import RetentionForm, RuleForm, style
from kam.insight.warnings.rules import PARAMS, describe


def _query(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def decorate(warnings: Iterable[Warning]) -> Any:
    """Each warning with its evidence as a sentence (`sentence`)."""
    for w in warnings:
        w.sentence = describe(w.rule.code, w.evidence)  # type: ignore[attr-defined]  # shown by the templates
    return warnings


# --- the page, the list and its export ------------------------------------------------------------


def _filter_form(request: HttpRequest, filters: WarningFilter) -> Any:
    form = filters.form(choices={
        "rule": WarningRule.objects.all(), "unit": request.user.filter_units(),
        "state": [*WarningState.choices, ("all", _("All"))],
        "owner": colleagues(user=request.user), "account": Account.objects.visible_to(request.user)})
    style(form)
    return form


@login_required
def warnings(request: HttpRequest) -> HttpResponse:
    filters = WarningFilter.from_request(request)
    qs = selectors.warning_list(user=request.user, filters=filters)
    page = paginate(request, qs)
    decorate(page.object_list)
    context = {"form": _filter_form(request, filters), "page": page, "query": _query(request),
               "export_query": _query(request, "format"), "retention_form": RetentionForm(),
               "may_evaluate": policies.may_evaluate_many(request.user)}
    if is_htmx(request) and request.headers.get("HX-Target") == "results":
        return render(request, "insight/warnings/page.html#results", context)
    units, people, as_of = selectors.summary(user=request.user)
    context.update({"units": units, "people": people, "as_of": as_of})
    return render(request, "insight/warnings/page.html", context)


@login_required
def warnings_export(request: HttpRequest) -> HttpResponse:
    queryset = selectors.warning_list(user=request.user, filters=WarningFilter.from_request(request))
    return list_export(request, what="warnings", queryset=queryset, columns=warning_columns(), filename=_("warnings"))


@login_required
@require_POST
def warning_retain(request: HttpRequest, pk: int) -> HttpResponse:
    """The retention-action form of one open warning (htmx: the warning's row comes back)."""
    warning = selectors.warning_get(user=request.user, pk=pk)
    if warning is None:
        raise Http404
    form = RetentionForm(request.POST)
    status = 422
    if form.is_valid():
        with form_errors(form):
            try:
                services.retention_record(actor=request.user, warning=warning, action=form.cleaned_data["action"],
                                          outcome=form.cleaned_data["outcome"])
            except DomainError as exc:
                status = exc.status
                raise
            status = 200
    warning = selectors.warning_get(user=request.user, pk=pk)
    decorate([warning])
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
def warnings_evaluate(request: HttpRequest) -> HttpResponse:
    """Evaluate now: the sweep over the accounts a manager or HQ sees."""
    if not policies.may_evaluate_many(request.user):
        raise Http404
    with message_errors(request):
        counts = services.sweep_visible(actor=request.user)
        messages.success(request, _("Evaluated: %(opened)d opened, %(kept)d still open, %(cleared)d cleared.") % counts)
    return redirect("insight:warnings")


# --- the rules ------------------------------------------------------------------------------------------


def _rule_rows(forms_by_rule: dict[int, RuleForm] | None = None) -> list[dict[str, Any]]:
    forms_by_rule = forms_by_rule or {}
    rows = []
    for rule in WarningRule.objects.all():
        rows.append({"rule": rule, "form": forms_by_rule.get(rule.pk) or RuleForm(rule=rule),
                     "params": [(p.label, (rule.params or {}).get(p.name, "")) for p in PARAMS.get(rule.code, [])]})
    return rows


@login_required
def warning_rules(request: HttpRequest) -> HttpResponse:
    editable = policies.may_edit_rules(request.user)
    forms_by_rule: dict[int, RuleForm] = {}
    status = 200
    if request.method == "POST":
        if not editable:
            raise Http404
        rule = WarningRule.objects.filter(pk=request.POST.get("rule") or 0).first() if str(
            request.POST.get("rule", "")).isdigit() else None
        if rule is None:
            raise Http404
        form = RuleForm(request.POST, rule=rule)
        status = 422
        if form.is_valid():
            with form_errors(form):
                try:
                    services.rule_update(actor=request.user, rule=rule, is_enabled=form.cleaned_data["is_enabled"],
                                         severity=form.cleaned_data["severity"], params=form.params())
                except DomainError as exc:
                    status = exc.status
                    raise
                messages.success(request, _("The rule is saved; the next evaluation applies it."))
                return redirect("insight:warning_rules")
        forms_by_rule[rule.pk] = form
    return render(request, "insight/warnings/rules.html", {"rows": _rule_rows(forms_by_rule),
                                                            "editable": editable}, status=status)
