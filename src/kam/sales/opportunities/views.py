"""Opportunity pages: the board by stage, the list and its export, the project page with its
stage history, buying centre, competitors and close form, and the account page's card.
Thin views: they parse, call a service from kam.sales.opportunities and render."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import account_get, colleagues
from kam.core.conf import config
from kam.core.errors import Conflict, ValidationFailed
from kam.core.exports import list_export
from kam.core.web import attach_domain_error, is_htmx, paginate
from kam.sales.models import CLOSED_STAGES
from kam.sales.opportunities import selectors, services
from kam.sales.opportunities.exports import opportunity_columns
from kam.sales.opportunities.filters import OpportunityFilter
from kam.sales.opportunities.forms import (
    BuyingCentreForm,
    CloseForm,
    MoveForm,
    OpportunityForm,
    ReopenForm,
    RivalForm,
)
from kam.sales.opportunities.stages import STAGE_ORDER

# Longest window of recently closed deals the board may be asked for.
MAX_CLOSED_DAYS = 3660


def _opportunity_or_404(request, pk: int):
    opportunity = selectors.opportunity_get(user=request.user, pk=pk)
    if opportunity is None:
        raise Http404
    return opportunity


def _next_or(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


# --- the board ----------------------------------------------------------------------------------


def _filter_bar(request, filters: OpportunityFilter) -> forms.Form:
    return filters.form(choices={"owner": colleagues(user=request.user), "unit": request.user.filter_units(),
                                 "account": Account.objects.visible_to(request.user)})


def _closed_days(request) -> int:
    """?closed_days=N (default 90): how far back the won and lost columns reach."""
    raw = request.GET.get("closed_days", "")
    if raw.isdigit() and len(raw) <= 5:
        return min(int(raw), MAX_CLOSED_DAYS)
    return selectors.DEFAULT_CLOSED_DAYS


def _more_url(request, stage: str, cursor: str | None) -> str:
    """Where a column's next cards come from: the board's filters, the column and its cursor."""
    if not cursor:
        return ""
    query = request.GET.copy()
    for key in ("page", "cursor"):
        query.pop(key, None)
    query["cursor"] = cursor
    return f"{reverse('sales:board_column', args=[stage])}?{query.urlencode()}"


def _board_context(request, *, error: str = "", moved=None) -> dict:
    filters = OpportunityFilter.from_request(request)
    form = _filter_bar(request, filters)
    closed_days = _closed_days(request)
    columns = selectors.board(user=request.user, filters=filters, closed_days=closed_days)
    for column in columns:
        column.more_url = _more_url(request, column.stage, column.next_cursor)
    open_columns = [c for c in columns if not c.is_closed]
    return {
        "form": form, "columns": columns, "closed_days": closed_days, "query": _query(request),
        "error": error, "moved": moved, "close_form": CloseForm(), "today": timezone.localdate(),
        "weighted": sum((c.total.weighted for c in open_columns), selectors.ZERO),
        "open_amount": sum((c.total.amount for c in open_columns), selectors.ZERO),
        "open_count": sum(c.total.count for c in open_columns),
        "board_url": request.get_full_path() if request.method == "GET" else
        f"{reverse('sales:board')}?{_query(request)}",
    }


@login_required
def board_page(request):
    context = _board_context(request)
    template = "sales/opportunities/board.html#board" if is_htmx(request) else "sales/opportunities/board.html"
    return render(request, template, context)


@login_required
def board_column(request, stage: str):
    """A column's next cards, asked for as the user scrolls to its end (htmx), followed by the
    marker that asks for the ones after them."""
    if stage not in STAGE_ORDER:
        raise Http404
    page = selectors.board_column(user=request.user, stage=stage, cursor=request.GET.get("cursor", ""),
                                  filters=OpportunityFilter.from_request(request), closed_days=_closed_days(request))
    column = {"stage": stage, "is_closed": stage in CLOSED_STAGES, "cards": page.rows,
              "more_url": _more_url(request, stage, page.next_cursor)}
    return render(request, "sales/opportunities/board.html#column_cards",
                  {"column": column, "today": timezone.localdate(), "moved": None, "query": _query(request, "cursor")})


@login_required
@require_POST
def opportunity_move(request, pk: int):
    """Move to another open stage (the board's drag, or the project page's form). From the
    board (htmx) the answer is the board again, with a message when the move was refused."""
    opportunity = _opportunity_or_404(request, pk)
    form = MoveForm(request.POST)
    status, error = 200, ""
    if not form.is_valid():
        status = 422
        error = "; ".join(str(m) for messages_ in form.errors.values() for m in messages_)
    else:
        try:
            services.opportunity_move(actor=request.user, opportunity=opportunity, stage=form.cleaned_data["stage"],
                                      version=form.cleaned_data.get("version"))
        except (Conflict, ValidationFailed) as exc:
            status, error = exc.status, exc.message
            if exc.errors:
                error = "; ".join(str(m) for messages_ in exc.errors.values() for m in messages_)
    if is_htmx(request):
        context = _board_context(request, error=error, moved=None if error else pk)
        return render(request, "sales/opportunities/board.html#board", context, status=status)
    if error:
        messages.error(request, error)
    return redirect(_next_or(request, reverse("sales:opportunity", args=[pk])))


# --- the list and its export ------------------------------------------------------------------------


@login_required
def opportunity_list(request):
    filters = OpportunityFilter.from_request(request)
    form = _filter_bar(request, filters)
    qs = selectors.opportunity_list(user=request.user, filters=filters)
    pipeline = selectors.list_totals(user=request.user, filters=filters, qs=qs)
    page = paginate(request, qs, count=sum(s.count for s in pipeline.stages))
    context = {"form": form, "page": page, "pipeline": pipeline, "query": _query(request),
               "export_query": _query(request, "format")}
    template = "sales/opportunities/opportunity_list.html#results" if is_htmx(request) else "sales/opportunities/opportunity_list.html"
    return render(request, template, context)


@login_required
def opportunity_export(request):
    filters = OpportunityFilter.from_request(request)
    queryset = selectors.opportunity_list(user=request.user, filters=filters)
    return list_export(request, what="opportunities", queryset=queryset,
                       columns=opportunity_columns(), filename=_("opportunities"))


# --- one opportunity ---------------------------------------------------------------------------------


@login_required
def opportunity_new(request):
    if request.method == "POST":
        form = OpportunityForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                opportunity = services.opportunity_create(
                    actor=request.user, account=form.cleaned_data["account"], stage=form.cleaned_data["stage"],
                    **form.fields_data())
            except (Conflict, ValidationFailed) as exc:
                attach_domain_error(form, exc)
            else:
                return redirect("sales:opportunity", opportunity.pk)
        return render(request, "sales/opportunities/opportunity_form.html", {"form": form}, status=422)
    initial = {}
    account_id = request.GET.get("account", "")
    if account_id.isdigit() and len(account_id) <= 18 and account_get(user=request.user, pk=int(account_id)):
        initial["account"] = int(account_id)
    initial["owner"] = request.user.pk
    return render(request, "sales/opportunities/opportunity_form.html",
                  {"form": OpportunityForm(user=request.user, initial=initial)})


@login_required
def opportunity_edit(request, pk: int):
    opportunity = _opportunity_or_404(request, pk)
    if request.method == "POST":
        form = OpportunityForm(request.POST, user=request.user, opportunity=opportunity)
        status = 422
        if form.is_valid():
            try:
                services.opportunity_update(actor=request.user, opportunity=opportunity,
                                            version=form.cleaned_data.get("version"), **form.fields_data())
            except (Conflict, ValidationFailed) as exc:
                status = exc.status
                attach_domain_error(form, exc)
            else:
                return redirect("sales:opportunity", pk)
        return render(request, "sales/opportunities/opportunity_form.html", {"form": form, "opportunity": opportunity},
                      status=status)
    initial = {"name": opportunity.name, "amount": opportunity.amount, "our_quote": opportunity.our_quote,
               "expected_close": opportunity.expected_close, "owner": opportunity.owner_id,
               "description": opportunity.description, "version": opportunity.version}
    form = OpportunityForm(user=request.user, opportunity=opportunity, initial=initial)
    return render(request, "sales/opportunities/opportunity_form.html", {"form": form, "opportunity": opportunity})


@login_required
def opportunity_delete(request, pk: int):
    """GET asks to confirm; POST moves the opportunity to the recycle bin."""
    opportunity = _opportunity_or_404(request, pk)
    if request.method == "POST":
        try:
            services.opportunity_delete(actor=request.user, opportunity=opportunity)
        except (Conflict, ValidationFailed) as exc:
            messages.error(request, exc.message)
            return redirect("sales:opportunity", pk)
        messages.success(request, _("%(name)s moved to the recycle bin.") % {"name": opportunity.name})
        return redirect("sales:opportunities")
    return render(request, "sales/opportunities/opportunity_delete.html",
                  {"opportunity": opportunity, "days": config().RECYCLE_BIN_DAYS})


def _rivals_against_our_quote(opportunity) -> list:
    """The competitors with how far their quote is above (+) or below (−) ours, when both are known:
    price is compared, not assumed decisive."""
    rivals = list(opportunity.rivals.select_related("competitor").order_by("id"))
    for rival in rivals:
        both = rival.quote is not None and opportunity.our_quote is not None
        rival.against_ours = rival.quote - opportunity.our_quote if both else None
    return rivals


def _detail(request, opportunity, *, status: int = 200, **forms):
    from kam.sales.opportunities.stages import stage_probabilities, weighted

    probabilities = stage_probabilities()
    context = {
        "opportunity": opportunity,
        "probability": probabilities[opportunity.stage] * 100,
        "weighted": weighted(opportunity.amount, opportunity.stage, probabilities),
        "history": selectors.stage_history(opportunity),
        "members": opportunity.buying_centre.select_related("contact").order_by("role", "id"),
        "rivals": _rivals_against_our_quote(opportunity),
        "today": timezone.localdate(),
        "move_form": forms.get("move_form") or MoveForm(initial={"stage": opportunity.stage,
                                                                 "version": opportunity.version}),
        "close_form": forms.get("close_form") or CloseForm(initial={"version": opportunity.version}),
        "reopen_form": ReopenForm(),
        "member_form": forms.get("member_form") or BuyingCentreForm(user=request.user, account=opportunity.account),
        "rival_form": forms.get("rival_form") or RivalForm(),
    }
    return render(request, "sales/opportunities/opportunity_detail.html", context, status=status)


@login_required
def opportunity_detail(request, pk: int):
    return _detail(request, _opportunity_or_404(request, pk))


@login_required
def opportunity_close(request, pk: int):
    """Win or lose: the reason from the list and a note are required. GET shows the form on a
    page of its own (from the board's won/lost columns without JavaScript)."""
    opportunity = _opportunity_or_404(request, pk)
    if request.method != "POST":
        outcome = request.GET.get("outcome", "")
        form = CloseForm(initial={"version": opportunity.version,
                                  "outcome": outcome if outcome in CLOSED_STAGES else ""})
        return render(request, "sales/opportunities/opportunity_close.html", {"opportunity": opportunity, "close_form": form,
                                                                "next": _next_or(request, "")})
    form = CloseForm(request.POST)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.opportunity_close(actor=request.user, opportunity=opportunity, outcome=data["outcome"],
                                       reason=data.get("reason"), note=data.get("note") or "",
                                       our_quote=data.get("our_quote"), version=data.get("version"))
        except (Conflict, ValidationFailed) as exc:
            status = exc.status
            attach_domain_error(form, exc)
        else:
            return redirect(_next_or(request, reverse("sales:opportunity", args=[pk])))
    opportunity.refresh_from_db()
    return render(request, "sales/opportunities/opportunity_close.html",
                  {"opportunity": opportunity, "close_form": form, "next": _next_or(request, "")}, status=status)


@login_required
@require_POST
def opportunity_reopen(request, pk: int):
    opportunity = _opportunity_or_404(request, pk)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            services.opportunity_reopen(actor=request.user, opportunity=opportunity, stage=form.cleaned_data["stage"])
        except (Conflict, ValidationFailed) as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose the stage to reopen into."))
    return redirect("sales:opportunity", pk)


# --- buying centre and competitors ------------------------------------------------------------------


def _sub_action(request, opportunity, form_name: str, form, action):
    """Run a buying-centre or competitor change; on success back to the project page's section,
    otherwise the page again with the form's errors (422)."""
    if form is not None and not form.is_valid():
        return _detail(request, opportunity, status=422, **{form_name: form})
    try:
        action()
    except (Conflict, ValidationFailed) as exc:
        if form is None:
            messages.error(request, exc.message)
        else:
            attach_domain_error(form, exc)
            return _detail(request, opportunity, status=exc.status, **{form_name: form})
    anchor = "buying-centre" if form_name == "member_form" else "rivals"
    return redirect(f"{reverse('sales:opportunity', args=[opportunity.pk])}#{anchor}")


@login_required
@require_POST
def buying_centre_add(request, pk: int):
    opportunity = _opportunity_or_404(request, pk)
    form = BuyingCentreForm(request.POST, user=request.user, account=opportunity.account)
    return _sub_action(request, opportunity, "member_form", form, lambda: services.buying_centre_add(
        actor=request.user, opportunity=opportunity, contact=form.cleaned_data["contact"],
        role=form.cleaned_data["role"], note=form.cleaned_data.get("note") or ""))


@login_required
@require_POST
def buying_centre_remove(request, pk: int, member: int):
    opportunity = _opportunity_or_404(request, pk)
    return _sub_action(request, opportunity, "member_form", None, lambda: services.buying_centre_remove(
        actor=request.user, opportunity=opportunity, member_id=member))


@login_required
@require_POST
def rival_add(request, pk: int):
    opportunity = _opportunity_or_404(request, pk)
    form = RivalForm(request.POST)
    return _sub_action(request, opportunity, "rival_form", form, lambda: services.rival_add(
        actor=request.user, opportunity=opportunity, **form.cleaned_data))


@login_required
def rival_edit(request, pk: int, rival: int):
    opportunity = _opportunity_or_404(request, pk)
    current = opportunity.rivals.select_related("competitor").filter(pk=rival).first()
    if current is None:
        raise Http404
    status = 200
    if request.method == "POST":
        form = RivalForm(request.POST, editing=True)
        status = 422
        if form.is_valid():
            try:
                services.rival_update(actor=request.user, opportunity=opportunity, rival_id=rival,
                                      **form.cleaned_data)
            except (Conflict, ValidationFailed) as exc:
                status = exc.status
                attach_domain_error(form, exc)
            else:
                return redirect(f"{reverse('sales:opportunity', args=[pk])}#rivals")
    else:
        form = RivalForm(editing=True, initial={"product": current.product, "quote": current.quote,
                                                "status": current.status, "note": current.note})
    return render(request, "sales/opportunities/opportunity_rival.html",
                  {"opportunity": opportunity, "rival": current, "form": form}, status=status)


@login_required
@require_POST
def rival_remove(request, pk: int, rival: int):
    opportunity = _opportunity_or_404(request, pk)
    return _sub_action(request, opportunity, "rival_form", None, lambda: services.rival_remove(
        actor=request.user, opportunity=opportunity, rival_id=rival))


# --- the account page's card ---------------------------------------------------------------------


@login_required
def account_opportunities(request, pk: int):
    """The account's opportunities with stage and amount, for the account page (htmx)."""
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    rows = list(selectors.account_opportunities(user=request.user, account=account)[: config().PAGE_SIZE_MAX])
    return render(request, "sales/opportunities/opportunity_account.html", {"account": account, "opportunities": rows})
