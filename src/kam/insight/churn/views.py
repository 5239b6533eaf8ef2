"""The churn page (rates per period, breakdowns, the events list and its exports), an event's
reason edited in place, the churn definitions (HQ), and the account page's churn card with
the mark "moved to a competitor". Thin: parse, call kam.insight.churn.services / churn_rates, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.selectors import account_get
from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.errors import DomainError
from kam.core.exports import list_export, workbook_response
from kam.core.models import AuditEvent
from kam.core.web import form_errors, is_htmx, paginate
from kam.insight.churn import policies, selectors, services
from kam.insight.churn.exports import event_columns, percent, sheets
from kam.insight.churn.filters import ChurnEventFilter
from kam.insight.churn.forms import ChurnFilterForm, DefinitionForm, EventForm, MarkForm
from kam.insight.churn.rates import ChurnRates, Rate, churn_rates
from kam.insight.models import ChurnDefinition, ChurnEvent


def _form(request) -> ChurnFilterForm:
    form = ChurnFilterForm(request.GET or None, user=request.user)
    if form.is_bound:
        form.is_valid()
        code = request.GET.get("unit", "")
        if code and not any(u.code == code for u in form.units):
            raise Http404  # a unit outside the user's reach: as if it did not exist
    return form


def _rates(request, form: ChurnFilterForm) -> tuple[dict, ChurnRates]:
    c = form.chosen()
    result = churn_rates(user=request.user, start=c["start"], end=c["end"], by=c["by"], unit=c["unit"],
                         industry=c["industry"].pk if c["industry"] else None,
                         definitions=(c["definition"].pk,) if c["definition"] else ())
    return c, result


def _bars(rates: list[Rate]) -> dict:
    return {"x": [r.label for r in rates], "series": [
        {"name": _("By count %"), "data": [percent(r.count_rate) for r in rates]},
        {"name": _("By amount %"), "data": [percent(r.amount_rate) for r in rates]}]}


def _charts(result: ChurnRates) -> dict:
    b = result.breakdowns
    return {"periods": _bars(result.periods),
            "reasons": [{"name": r.label, "value": float(r.lost)} for r in b.reasons],
            "industries": _bars(b.industries), "tiers": _bars(b.tiers), "units": _bars(b.units)}


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", "format", *drop):
        query.pop(key, None)
    return query.urlencode()


def _events_page(request, form: ChurnFilterForm):
    events = selectors.churn_events(user=request.user, filters=form.event_filters())
    return paginate(request, events)


@login_required
def churn(request):
    """Rates per period, breakdowns by reason, industry, tier and unit, and the events."""
    form = _form(request)
    page = _events_page(request, form)
    context = {"form": form, "page": page, "query": _query(request), "export_query": _query(request),
               "export_url": reverse("insight:churn_export"), "may_edit_definitions": policies.may_edit_definitions(request.user)}
    if is_htmx(request) and request.GET.get("page"):
        return render(request, "insight/churn/page.html#results", context)
    chosen, result = _rates(request, form)
    b = result.breakdowns
    context.update({"chosen": chosen, "result": result, "charts": _charts(result),
                     "active_months": config().CHURN_ACTIVE_MONTHS,
                     "breakdown_cards": [(_("By industry"), "industries", b.industries), (_("By tier"), "tiers", b.tiers),
                                         (_("By org unit"), "units", b.units)]})
    return render(request, "insight/churn/page.html", context)


@login_required
def churn_export(request):
    """The events list, filtered as on the page, as Excel or CSV."""
    form = _form(request)
    events = selectors.churn_events(user=request.user, filters=form.event_filters())
    return list_export(request, what="churn-events", queryset=events, columns=event_columns(), filename="churn-events")


@login_required
def churn_tables(request):
    """The page's rate and breakdown tables as one workbook, a sheet per table."""
    form = _form(request)
    chosen, result = _rates(request, form)
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="churn-rates", format="xlsx",
                 query=request.GET.urlencode()[:500])
    return workbook_response(sheets(result, chosen), filename=f"churn-rates-{result.start:%Y%m}-{result.end:%Y%m}.xlsx")


# --- an event's reason, in place ------------------------------------------------------------------


def _event_or_404(request, pk: int) -> ChurnEvent:
    event = selectors.churn_event_get(user=request.user, pk=pk)
    if event is None:
        raise Http404
    return event


@login_required
def event_row(request, pk: int):
    return render(request, "insight/churn/event_row.html", {"e": _event_or_404(request, pk)})


@login_required
def event_edit(request, pk: int):
    """GET: the row as a form; POST: save the reason, competitor and note, answer the row."""
    event = _event_or_404(request, pk)
    status = 200
    if request.method == "POST":
        form = EventForm(request.POST)
        status = 422
        if form.is_valid():
            with form_errors(form):
                try:
                    services.churn_event_update(actor=request.user, event=event, **form.cleaned_data)
                except DomainError as exc:
                    status = exc.status
                    raise
                return render(request, "insight/churn/event_row.html", {"e": _event_or_404(request, pk)})
    else:
        form = EventForm(initial={"reason": event.reason_id, "competitor": event.competitor_id, "note": event.note})
    return render(request, "insight/churn/event_form.html", {"e": event, "form": form}, status=status)


# --- definitions (HQ) -----------------------------------------------------------------------------


@login_required
def definitions(request):
    """The churn definitions with their parameters; HQ changes them here."""
    if not policies.may_edit_definitions(request.user):
        raise Http404
    forms_ = [DefinitionForm(definition=d) for d in ChurnDefinition.objects.all()]
    return render(request, "insight/churn/definitions.html", {"forms": forms_})


@login_required
@require_POST
def definition_save(request, pk: int):
    if not policies.may_edit_definitions(request.user):
        raise Http404
    definition = ChurnDefinition.objects.filter(pk=pk).first()
    if definition is None:
        raise Http404
    form = DefinitionForm(request.POST, definition=definition)
    status, saved = 422, False
    if form.is_valid():
        with form_errors(form):
            try:
                definition = services.churn_definition_update(
                    actor=request.user, definition=definition, name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"], params=form.params())
            except DomainError as exc:
                # The form's fields are the parameters' names without the "params." of the API.
                status = exc.status
                exc.errors = {key.removeprefix("params."): messages for key, messages in (exc.errors or {}).items()}
                raise
            if not is_htmx(request):
                return redirect(f"{reverse('insight:churn_definitions')}#definition-{definition.pk}")
            status, saved = 200, True
            form = DefinitionForm(definition=definition)
    return render(request, "insight/churn/definitions.html#definition", {"form": form, "saved": saved}, status=status)


# --- the account page's card ----------------------------------------------------------------------


def _account_card(request, account, *, form: MarkForm | None = None, status: int = 200, marked: bool = False):
    events = list(selectors.churn_events(user=request.user, filters=ChurnEventFilter(account=account.pk)))
    may_mark = policies.may_mark(request.user, account)
    if form is None and may_mark:
        form = MarkForm(initial={"on": timezone.localdate()})
    return render(request, "insight/churn/account.html", {
        "account": account, "events": events, "may_mark": may_mark, "form": form, "marked": marked,
        "show_form": status != 200}, status=status)


@login_required
def account_churn(request, pk: int):
    """The account's churn events with reason and competitor, and the mark form (htmx)."""
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return _account_card(request, account)


@login_required
@require_POST
def account_churn_mark(request, pk: int):
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    form = MarkForm(request.POST)
    status = 422
    if form.is_valid():
        with form_errors(form):
            try:
                services.churn_mark(actor=request.user, account=account, **form.cleaned_data)
            except DomainError as exc:
                status = exc.status
                raise
            return _account_card(request, account, marked=True)
    return _account_card(request, account, form=form, status=status)
