"""Account pages: list, card, create/edit/delete, contacts and the account team. Thin views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts import exports, merge, selectors, services
from kam.accounts.forms import (
    AccountFilterForm,
    AccountForm,
    ContactForm,
    MergeForm,
    MergePickForm,
    TeamMemberForm,
)
from kam.core.audit import audit_record
from kam.core.conf import kam_setting
from kam.core.errors import DomainError, NotVisible
from kam.core.exports import FORMATS, export_response, list_export
from kam.core.models import AuditEvent
from kam.core.web import attach_domain_error, is_htmx, paginate
from kam.insight.health import band as health_band
from kam.insight.health import with_health
from kam.tiering import selectors as tiering

TABS = ("card", "contacts", "history")


def _account_or_404(request, pk: int):
    account = selectors.account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


def _contact_or_404(request, account, contact_id: int):
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    if contact is None or contact.account_id != account.pk:
        raise Http404
    return contact


def _filters(request) -> tuple[AccountFilterForm, selectors.AccountFilters]:
    form = AccountFilterForm(request.GET or None, user=request.user)
    cleaned = form.cleaned_data if form.is_valid() else {}
    return form, selectors.AccountFilters(
        q=cleaned.get("q") or "",
        industry=getattr(cleaned.get("industry"), "pk", None),
        region=getattr(cleaned.get("region"), "pk", None),
        owner=getattr(cleaned.get("owner"), "pk", None),
        unit=getattr(cleaned.get("unit"), "pk", None),
        lifecycle_status=cleaned.get("lifecycle_status") or "",
        channel=cleaned.get("channel") or "",
        tier=cleaned.get("tier") or "",
        in_pool=bool(cleaned.get("in_pool")),
        sort=cleaned.get("sort") or selectors.DEFAULT_ACCOUNT_SORT,
    )


@login_required
def account_list(request):
    form, filters = _filters(request)
    page = paginate(request, with_health(selectors.account_list(user=request.user, filters=filters)),
                    kam_setting("PAGE_SIZE"))
    for account in page.object_list:
        account.health_band = health_band(account.health_score)
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
    template = "accounts/list.html#results" if is_htmx(request) else "accounts/list.html"
    return render(request, template, context)


@login_required
def account_export(request):
    _form, filters = _filters(request)
    queryset = with_health(selectors.account_list(user=request.user, filters=filters).select_related("parent"))
    return list_export(request, what="accounts", queryset=queryset, columns=exports.account_columns(),
                   filename=_("accounts"))


def _bin_kind(request) -> str:
    kind = request.GET.get("kind", "")
    return kind if kind in selectors.BIN_KINDS else ""


@login_required
def recycle_bin_export(request):
    return list_export(request, what="recycle_bin", queryset=selectors.recycle_bin(user=request.user,
                                                                                  kind=_bin_kind(request)),
                       columns=exports.recycle_bin_columns(), filename=_("recycle-bin"), lines=lambda rows: rows)


@login_required
def contact_export(request, pk: int | None = None):
    account = _account_or_404(request, pk) if pk is not None else None
    queryset = selectors.contact_list(user=request.user, account=account)
    name = f"{account.code}-{_('contacts')}" if account else _("contacts")
    return list_export(request, what="contacts", queryset=queryset, columns=exports.contact_columns(), filename=name)


@login_required
def history_export(request, pk: int):
    account = _account_or_404(request, pk)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="history", account=account.pk,
                 format=fmt)
    lines = exports.history_lines(selectors.account_history(account=account, limit=kam_setting("EXPORT_MAX_ROWS")))
    return export_response(columns=exports.history_columns(), rows=lines, filename=f"{account.code}-{_('history')}",
                           fmt=fmt)


@login_required
def account_merge(request, pk: int):
    survivor = _account_or_404(request, pk)
    pick = MergePickForm(request.GET or None, user=request.user, survivor=survivor)
    merged = None
    if pick.is_valid():
        merged = pick.cleaned_data["other"]
    if merged is None:
        return render(request, "accounts/merge.html", {"account": survivor, "pick": pick})
    form = MergeForm(request.POST or None, survivor=survivor, merged=merged)
    if request.method == "POST" and form.is_valid():
        try:
            merge.account_merge(
                actor=request.user, survivor=survivor, merged=merged, take=form.fields_to_take(),
                survivor_version=form.cleaned_data["survivor_version"],
                merged_version=form.cleaned_data["merged_version"],
            )
        except NotVisible:
            raise Http404 from None
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("%(merged)s was merged into %(name)s.") % {"merged": merged.name, "name": survivor.name})
            return redirect(survivor)
    return render(request, "accounts/merge.html", {"account": survivor, "merged": merged, "form": form, "pick": pick})


@login_required
def account_detail(request, pk: int):
    account = _account_or_404(request, pk)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "card"
    audit_record(kind=AuditEvent.Kind.ACCOUNT_VIEW, user=request.user, request=request,
                 target=f"{account.code} {account.name}", account=account.pk, tab=tab)
    context = {"account": account, "tab": tab}
    if tab == "card":
        context["subsidiaries"] = selectors.account_subsidiaries(user=request.user, account=account)
        context["team"] = account.team_members.select_related("user", "user__unit").order_by("id")
        context["team_form"] = TeamMemberForm(user=request.user)
        context["groups"] = AccountForm(instance=account, user=request.user).groups()
        context["tiers"] = tiering.account_tiers(account=account)
        context["tier_history"] = tiering.account_tier_history(account=account)
    elif tab == "contacts":
        context["contacts"] = selectors.account_contacts(user=request.user, account=account)
        context["chain"] = selectors.account_decision_chain(user=request.user, account=account)
    else:
        context["history"] = selectors.account_history(account=account)
    template = f"accounts/detail.html#tab-{tab}" if is_htmx(request) else "accounts/detail.html"
    return render(request, template, context)


@login_required
def account_create(request):
    form = AccountForm(request.POST or None, user=request.user)
    duplicate = similar = None
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(
                actor=request.user, data=form.service_data(),
                confirm_similar=form.cleaned_data.get("confirm_similar", False),
            )
        except services.SimilarAccounts as exc:
            similar = exc.extra["similar"]
            attach_domain_error(form, exc)
        except services.DuplicateAccount as exc:
            duplicate = exc.extra
            attach_domain_error(form, exc)
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("Account %(name)s created.") % {"name": account.name})
            return redirect(account)
    return render(request, "accounts/form.html", {"form": form, "similar": similar, "duplicate": duplicate})


@login_required
def account_edit(request, pk: int):
    account = _account_or_404(request, pk)
    form = AccountForm(request.POST or None, instance=account, user=request.user)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(
                actor=request.user, account=account, data=form.service_data(),
                version=form.cleaned_data.get("version"),
            )
        except services.DuplicateAccount as exc:
            duplicate = exc.extra
            attach_domain_error(form, exc)
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(account)
    return render(request, "accounts/form.html", {"form": form, "account": account, "duplicate": duplicate})


@login_required
def account_delete(request, pk: int):
    account = _account_or_404(request, pk)
    if request.method == "POST":
        try:
            services.account_delete(actor=request.user, account=account)
        except NotVisible:
            raise Http404 from None
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(account)
        messages.success(request, _("%(name)s moved to the recycle bin.") % {"name": account.name})
        return redirect("accounts:list")
    return render(request, "accounts/confirm_delete.html",
                  {"account": account, "days": kam_setting("RECYCLE_BIN_DAYS")})


@login_required
@require_POST
def team_add(request, pk: int):
    account = _account_or_404(request, pk)
    form = TeamMemberForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.team_member_add(actor=request.user, account=account, user=form.cleaned_data["user"],
                                     team_role=form.cleaned_data["team_role"])
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a colleague and a team role."))
    return redirect(f"{account.get_absolute_url()}?tab=card")


@login_required
@require_POST
def team_remove(request, pk: int, member_id: int):
    account = _account_or_404(request, pk)
    try:
        services.team_member_remove(actor=request.user, account=account, member_id=member_id)
    except NotVisible:
        raise Http404 from None
    return redirect(f"{account.get_absolute_url()}?tab=card")


def _contacts_tab(account) -> str:
    return f"{reverse('accounts:detail', args=[account.pk])}?tab=contacts"


@login_required
def contact_create(request, pk: int):
    account = _account_or_404(request, pk)
    form = ContactForm(request.POST or None, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, account=account, data=form.service_data())
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("Contact added."))
            return redirect(_contacts_tab(account))
    return render(request, "accounts/contact_form.html", {"form": form, "account": account})


@login_required
def contact_edit(request, pk: int, contact_id: int):
    account = _account_or_404(request, pk)
    contact = _contact_or_404(request, account, contact_id)
    form = ContactForm(request.POST or None, instance=contact, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_update(actor=request.user, contact=contact, data=form.service_data(),
                                    version=form.cleaned_data.get("version"))
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(_contacts_tab(account))
    return render(request, "accounts/contact_form.html", {"form": form, "account": account, "contact": contact})


@login_required
@require_POST
def contact_delete(request, pk: int, contact_id: int):
    account = _account_or_404(request, pk)
    contact = _contact_or_404(request, account, contact_id)
    services.contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("Contact moved to the recycle bin."))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _contacts_tab(account)
        return response
    return redirect(_contacts_tab(account))


@login_required
def recycle_bin(request):
    kind = _bin_kind(request)
    page = Paginator(selectors.recycle_bin(user=request.user, kind=kind), kam_setting("PAGE_SIZE")).get_page(
        request.GET.get("page"))
    kinds = [("", _("Everything")), ("account", _("Accounts")), ("contact", _("Contacts")),
             ("opportunity", _("Opportunities"))]
    return render(request, "accounts/recycle_bin.html", {"page": page, "days": kam_setting("RECYCLE_BIN_DAYS"),
                                                         "kind": kind, "kinds": kinds})


def _restored(request, restore, pk: int):
    """Run a restore service; a domain refusal (the account still in the bin, a USCC taken
    meanwhile) is a message on the bin page, an item out of reach is 404."""
    try:
        item = restore(actor=request.user, **pk)
    except NotVisible:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    messages.success(request, _("%(name)s restored.") % {"name": item.name})
    return item


@login_required
@require_POST
def account_restore(request, pk: int):
    account = _restored(request, services.account_restore, {"account_id": pk})
    return redirect(account) if account is not None else redirect("accounts:recycle_bin")


@login_required
@require_POST
def contact_restore(request, contact_id: int):
    contact = _restored(request, services.contact_restore, {"contact_id": contact_id})
    return redirect(_contacts_tab(contact.account)) if contact is not None else redirect("accounts:recycle_bin")


@login_required
@require_POST
def opportunity_restore(request, opportunity_id: int):
    from kam.sales.opportunities.services import opportunity_restore as restore

    opportunity = _restored(request, restore, {"opportunity_id": opportunity_id})
    if opportunity is None:
        return redirect("accounts:recycle_bin")
    return redirect("sales:opportunity", pk=opportunity.pk)
