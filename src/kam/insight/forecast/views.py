"""The customer-base model pages: the account page's forecast card, and the models page with
the fits, the current fit's charts, the list of scored accounts and its export, and
headquarters' button to refit now. Thin views: they parse, call kam.insight.forecast.services and render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.selectors import account_get
from kam.core.conf import config
from kam.core.exports import list_export
from kam.core.web import is_htmx, message_errors, paginate
from kam.insight.forecast import policies, selectors, services
from kam.insight.forecast import summary as score_summary
from kam.insight.forecast.exports import score_columns
from kam.insight.forecast.filters import SCORE_ORDERS
from kam.insight.forecast.forms import ScoreFilterForm
from kam.insight.models import WarningRule

# The count model's parameters, named as the papers name them.
PARAMETER_NAMES = {"r": "r", "alpha": "α", "a": "a", "b": "b", "s": "s", "beta": "β", "p": "p", "q": "q",
                   "gamma": "γ"}


def p_alive_band(p_alive: float) -> str:
    """red below the p_alive_low warning rule's threshold (so the badge and the warning agree),
    amber up to half-way from there to 1, green above."""
    rule = WarningRule.objects.filter(code="p_alive_low").values_list("params", flat=True).first() or {}
    low = float(rule.get("threshold", 0.3))
    if p_alive < low:
        return "red"
    return "yellow" if p_alive < (1 + low) / 2 else "green"


# --- the account page's card ---------------------------------------------------------------------


@login_required
def account_forecast(request, pk: int):
    """P(alive), expected purchases and value, lifetime value, for the account page (htmx)."""
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    score = selectors.score_get(user=request.user, account_id=account.pk)
    context = {"account": account, "score": score, "fit": score.fit if score else selectors.current_fit(),
               "horizon": config().INSIGHT_HORIZON_MONTHS, "clv_months": config().INSIGHT_CLV_MONTHS,
               "details": policies.may_see_model_details(request.user)}
    if score:
        context.update(band=p_alive_band(score.p_alive), since=max(0.0, score.age - score.recency),
                       unit=_("weeks") if score.fit.period == "week" else _("months"))
    return render(request, "insight/forecast/account.html", context)


# --- the models page -------------------------------------------------------------------------------


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _charts(histogram: list[int], scores, fit) -> dict:
    """The histogram of P(alive) (from its read model) and the ten visible accounts of highest
    expected value."""
    if fit is None:
        return {}
    top = list(scores.exclude(expected_value__isnull=True).order_by(*SCORE_ORDERS["value"])[:10])
    return {
        "histogram": {"x": [f"{n / 10:.1f}–{(n + 1) / 10:.1f}" for n in range(10)],
                      "series": [{"name": _("accounts"), "data": histogram}]},
        "top": [{"name": s.account.name, "value": float(s.expected_value)} for s in top],
    }


def _parameters(params: dict | None) -> str:
    if not params:
        return "—"
    return ", ".join(f"{PARAMETER_NAMES.get(k, k)} = {v:.4g}" for k, v in services.ordered_parameters(params).items())


@login_required
def models(request):
    form = ScoreFilterForm(request.GET or None)
    filters = form.filters()
    visible = selectors.score_list(user=request.user)
    rows = selectors.score_list(user=request.user, filters=filters)
    # The histogram counts every visible score once: the whole list's count.
    histogram = score_summary.visible_histogram(request.user)
    unfiltered = filters.p_alive_below is None and filters.min_value is None
    page = paginate(request, rows, count=sum(histogram) if unfiltered else None,
                    count_from=selectors.score_list(user=request.user, filters=filters, in_order=False))
    context = {"form": form, "page": page, "query": _query(request), "export_query": _query(request, "format"),
               "horizon": config().INSIGHT_HORIZON_MONTHS, "clv_months": config().INSIGHT_CLV_MONTHS}
    if is_htmx(request):
        return render(request, "insight/forecast/models.html#results", context)
    fit = selectors.current_fit()
    fits = list(selectors.fit_list()[: config().PAGE_SIZE])
    for f in fits:
        f.count_text, f.spend_text = _parameters(f.count_params), _parameters(f.spend_params)
        f.spend_used = services.spend_usable(f.spend_params)
    latest = fits[0] if fits else None
    charts = _charts(histogram, visible, fit)
    context.update(fit=fit, fits=fits, charts=charts, can_refit=policies.may_refit(request.user),
                   details=policies.may_see_model_details(request.user),
                   visible_count=sum(histogram), unconverged=latest if latest and latest != fit
                   and not latest.converged else None)
    return render(request, "insight/forecast/models.html", context)


@login_required
def models_export(request):
    rows = selectors.score_list(user=request.user, filters=ScoreFilterForm(request.GET or None).filters(), in_order=False)
    return list_export(request, what="account scores", queryset=rows, columns=score_columns(),
                       filename=_("account-forecasts"))


@login_required
@require_POST
def models_refit(request):
    """Refit now: synchronous (a fit on 100,000 accounts takes seconds); refusals become messages."""
    with message_errors(request):
        fitted = services.refit_now(actor=request.user)
        messages.success(request, _("Fitted on %(customers)s accounts up to %(end)s; %(scored)s accounts scored.")
                         % {"customers": fitted.fit.customers, "end": fitted.fit.calibration_end,
                            "scored": fitted.scored})
        for note in fitted.notes:
            messages.info(request, note)
    return redirect(reverse("insight:models"))
