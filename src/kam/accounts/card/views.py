"""Account pages: the list, the card, create and edit, the history export. Thin views."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kam.accounts.card import exports, extras, selectors, services
from kam.accounts.card.filters import AccountFilter
from kam.accounts.card.forms import AccountForm, card_groups
from kam.accounts.card.policies import may_edit_account
from kam.accounts.contacts.policies import may_add_contact, may_edit_contact
from kam.accounts.contacts.selectors import account_contacts
from kam.accounts.decision_chain.selectors import account_decision_chain
from kam.accounts.merge.policies import may_merge_accounts
from kam.accounts.models import Account
from kam.accounts.recycle.policies import may_delete_account
from kam.accounts.team.forms import TeamMemberForm
from kam.accounts.team.policies import may_manage_team
from kam.accounts.team.selectors import colleagues
from kam.core.audit import audit_record
from kam.core.conf import config
from kam.core.errors import DomainError
from kam.core.exports import FORMATS, export_response, list_export
from kam.core.models import AuditEvent, Industry, Region
from kam.core.web import attach_domain_error, form_errors, is_htmx, paginate

TABS = ("card", "contacts", "history")


def account_or_404(request: HttpRequest, pk: int) -> Account:
    account = selectors.account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


def _filters(request: HttpRequest, tiers: list[tuple[str, str]]) -> AccountFilter:
    """The list's filter from the query string; a tier the list does not offer (`tiers`) is left out."""
    filters = AccountFilter.from_request(request)
    if filters.tier and filters.tier not in dict(tiers):
        filters = filters.model_copy(update={"tier": ""})
    return filters


def _filter_bar(request: HttpRequest, filters: AccountFilter, tiers: list[tuple[str, str]]) -> forms.Form:
    return filters.form(choices={
        "industry": Industry.objects.filter(is_active=True), "region": Region.objects.filter(is_active=True),
        "unit": request.user.filter_units(), "owner": colleagues(user=request.user), "tier": tiers,
    })


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    tiers = extras.tier_choices()
    filters = _filters(request, tiers)
    form = _filter_bar(request, filters, tiers)
    count = selectors.account_count(user=request.user, filters=filters, limit=config().PAGE_COUNT_LIMIT)
    page = paginate(request, extras.with_columns(selectors.account_list(user=request.user, filters=filters)),
                    count=count)
    extras.decorate(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    export_query = request.GET.copy()
    for name in ("page", "format"):
        export_query.pop(name, None)
    context = {
        "form": form, "page": page, "sort": filters.sort, "export_query": export_query.urlencode(),
        "query": query.urlencode(), "sort_query": sort_query.urlencode(),
    }
    template = "accounts/card/list.html#results" if is_htmx(request) else "accounts/card/list.html"
    return render(request, template, context)


@login_required
def account_export(request: HttpRequest) -> HttpResponse:
    filters = _filters(request, extras.tier_choices())
    queryset = extras.with_columns(selectors.account_list(user=request.user, filters=filters).select_related("parent"))
    return list_export(request, what="accounts", queryset=queryset, columns=exports.account_columns(),
                       filename=_("accounts"))


@login_required
def history_export(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="history", account=account.pk,
                 format=fmt)
    lines = exports.history_lines(selectors.account_history(account=account, limit=config().EXPORT_MAX_ROWS))
    history = _("history")
    return export_response(columns=exports.history_columns(), rows=lines, filename=f"{account.code}-{history}",
                           fmt=fmt)


def _card_may(user: Any, account: Account) -> dict[str, bool]:
    """What the card offers the user: each button only where its policy lets them use it."""
    return {"edit": may_edit_account(user, account), "merge": may_merge_accounts(user, account),
            "delete": may_delete_account(user, account), "team": may_manage_team(user, account),
            "add_contact": may_add_contact(user, account), "edit_contacts": may_edit_contact(user)}


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "card"
    audit_record(kind=AuditEvent.Kind.ACCOUNT_VIEW, user=request.user, request=request,
                 target=f"{account.code} {account.name}", account=account.pk, tab=tab)
    context = {"account": account, "tab": tab, "may": _card_may(request.user, account),
               **extras.card_actions(request.user, account)}
    if tab == "card":
        context["subsidiaries"] = selectors.account_subsidiaries(user=request.user, account=account)
        context["team"] = account.team_members.select_related("user", "user__unit").order_by("id")
        context["team_form"] = TeamMemberForm(user=request.user)
        context["groups"] = card_groups()
        context.update(extras.card_boxes(account))
    elif tab == "contacts":
        context["contacts"] = account_contacts(user=request.user, account=account)
        context["chain"] = account_decision_chain(user=request.user, account=account)
    else:
        context["history"] = selectors.account_history(account=account)
    template = f"accounts/card/detail.html#tab-{tab}" if is_htmx(request) else "accounts/card/detail.html"
    return render(request, template, context)


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None, user=request.user)
    duplicate = similar = None
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            try:
                account = services.account_create(
                    actor=request.user, data=form.service_data(),
                    confirm_similar=form.cleaned_data.get("confirm_similar", False),
                )
            except (services.SimilarAccounts, services.DuplicateAccount) as exc:
                # The page lists the similar accounts / names the existing one beside the form.
                similar, duplicate = _clash(form, exc)
            else:
                messages.success(request, _("Account %(name)s created.") % {"name": account.name})
                return redirect(account)
    return render(request, "accounts/card/form.html", {"form": form, "similar": similar, "duplicate": duplicate})


def _clash(form: AccountForm, exc: DomainError) -> tuple[object, object]:
    attach_domain_error(form, exc)
    if isinstance(exc, services.SimilarAccounts):
        return exc.extra["similar"], None
    return None, exc.extra


@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            try:
                services.account_update(
                    actor=request.user, account=account, data=form.service_data(),
                    version=form.cleaned_data.get("version"), reason=form.cleaned_data.get("lifecycle_reason", ""),
                )
            except services.DuplicateAccount as exc:
                _similar, duplicate = _clash(form, exc)
            else:
                messages.success(request, _("Changes saved."))
                return redirect(account)
    return render(request, "accounts/card/form.html", {"form": form, "account": account, "duplicate": duplicate})


@login_required
def accounts_autocomplete(request):
    accounts = selectors.account_autocomplete(user=request.user, q=request.GET.get("q", ""))
    items = [{"id": a.pk, "label": a.name, "hint": a.code} for a in accounts]
    return render(request, "widgets/autocomplete_results.html", {"items": items})
