"""The customer-base model pages: the account page's forecast card, and the models page with
the fits, the current fit's charts, the list of scored accounts and its export, and
headquarters' button to refit now. Thin views: they parse, call kam.insight.forecast.services and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.accounts.selectors import account_get
from kam.core.conf import config
from kam.core.errors import DomainError
from kam.core.exports import ExportColumn, list_export
from kam.core.web import is_htmx, paginate
from kam.insight.forecast import services as scoring
from kam.insight.models import ModelFit, WarningRule

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
    score = scoring.score_get(user=request.user, account_id=account.pk)
    context = {"account": account, "score": score, "fit": score.fit if score else scoring.current_fit(),
               "horizon": config().INSIGHT_HORIZON_MONTHS, "clv_months": config().INSIGHT_CLV_MONTHS}
    if score:
        context.update(band=p_alive_band(score.p_alive), since=max(0.0, score.age - score.recency),
                       unit=_("weeks") if score.fit.period == "week" else _("months"))
    return render(request, "insight/forecast/account.html", context)


# --- the models page -------------------------------------------------------------------------------


class ScoreFilterForm(forms.Form):
    p_alive_below = forms.DecimalField(label=gettext_lazy("P(alive) below"), required=False, min_value=0, max_value=1,
                                       decimal_places=3, widget=forms.NumberInput(attrs={"step": "0.05"}))
    min_value = forms.DecimalField(label=gettext_lazy("expected value at least (yuan)"), required=False, min_value=0,
                                   max_digits=16, decimal_places=2)
    order = forms.ChoiceField(label=gettext_lazy("order by"), required=False, choices=[
        ("value", gettext_lazy("expected value, highest first")),
        ("p_alive", gettext_lazy("P(alive), lowest first")),
        ("clv", gettext_lazy("lifetime value, highest first")),
    ])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select" if isinstance(field, forms.ChoiceField)
                                          else "form-control")

    def filters(self) -> scoring.ScoreFilters:
        """The valid filters; a field with a bad value is left out (its message shows on the form)."""
        if not self.is_bound:
            return scoring.ScoreFilters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        below = data.get("p_alive_below")
        return scoring.ScoreFilters(p_alive_below=float(below) if below is not None else None,
                                    min_value=data.get("min_value"), order=data.get("order") or "value")


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _charts(scores, fit) -> dict:
    """The histogram of P(alive) and the ten visible accounts of highest expected value."""
    if fit is None:
        return {}
    top = list(scores.exclude(expected_value__isnull=True).order_by("-expected_value", "account__code")[:10])
    return {
        "histogram": {"x": [f"{n / 10:.1f}–{(n + 1) / 10:.1f}" for n in range(10)],
                      "series": [{"name": _("accounts"), "data": scoring.p_alive_histogram(scores)}]},
        "top": [{"name": s.account.name, "value": float(s.expected_value)} for s in top],
    }


def _parameters(params: dict | None) -> str:
    if not params:
        return "—"
    return ", ".join(f"{PARAMETER_NAMES.get(k, k)} = {v:.4g}" for k, v in scoring.ordered_parameters(params).items())


@login_required
def models(request):
    form = ScoreFilterForm(request.GET or None)
    visible = scoring.score_list(user=request.user)
    rows = scoring.score_list(user=request.user, filters=form.filters())
    page = paginate(request, rows)
    context = {"form": form, "page": page, "query": _query(request), "export_query": _query(request, "format"),
               "horizon": config().INSIGHT_HORIZON_MONTHS, "clv_months": config().INSIGHT_CLV_MONTHS}
    if is_htmx(request):
        return render(request, "insight/forecast/models.html#results", context)
    fit = scoring.current_fit()
    fits = list(ModelFit.objects.select_related("created_by")[: config().PAGE_SIZE])
    for f in fits:
        f.count_text, f.spend_text = _parameters(f.count_params), _parameters(f.spend_params)
        f.spend_used = scoring.spend_usable(f.spend_params)
    context.update(fit=fit, fits=fits, charts=_charts(visible, fit), can_refit=request.user.sees_everything,
                   visible_count=visible.count())
    return render(request, "insight/forecast/models.html", context)


def score_columns() -> list[ExportColumn]:
    return [
        ExportColumn(gettext_lazy("account code"), lambda s: s.account.code),
        ExportColumn(gettext_lazy("account"), lambda s: s.account.name),
        ExportColumn(gettext_lazy("owner"), lambda s: s.account.owner or ""),
        ExportColumn(gettext_lazy("probability still active"), lambda s: round(s.p_alive, 4)),
        ExportColumn(gettext_lazy("previous fit"), lambda s: None if s.p_alive_before is None
                     else round(s.p_alive_before, 4)),
        ExportColumn(gettext_lazy("repeat purchases"), lambda s: s.frequency),
        ExportColumn(gettext_lazy("recency (periods)"), lambda s: round(s.recency, 2)),
        ExportColumn(gettext_lazy("age (periods)"), lambda s: round(s.age, 2)),
        ExportColumn(gettext_lazy("expected purchases"), lambda s: round(s.expected_purchases, 3)),
        ExportColumn(gettext_lazy("expected spend per purchase (yuan)"), lambda s: s.expected_spend),
        ExportColumn(gettext_lazy("expected value (yuan)"), lambda s: s.expected_value),
        ExportColumn(gettext_lazy("lifetime value (yuan)"), lambda s: s.clv),
        ExportColumn(gettext_lazy("data up to"), lambda s: s.fit.calibration_end),
    ]


@login_required
def models_export(request):
    rows = scoring.score_list(user=request.user, filters=ScoreFilterForm(request.GET or None).filters())
    return list_export(request, what="account scores", queryset=rows, columns=score_columns(),
                       filename=_("account-forecasts"))


@login_required
@require_POST
def models_refit(request):
    """Refit now: synchronous (a fit on 100,000 accounts takes seconds); refusals become messages."""
    try:
        fitted = scoring.refit_now(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Fitted on %(customers)s accounts up to %(end)s; %(scored)s accounts scored.")
                         % {"customers": fitted.fit.customers, "end": fitted.fit.calibration_end,
                            "scored": fitted.scored})
        for note in fitted.notes:
            messages.info(request, note)
    return redirect(reverse("insight:models"))
