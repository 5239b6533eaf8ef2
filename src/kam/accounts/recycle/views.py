"""The recycle bin page, its export, deleting an account into it and restoring from it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.card.views import account_or_404
from kam.accounts.contacts.views import contacts_tab
from kam.accounts.recycle import exports, selectors, services
from kam.accounts.recycle.filters import RecycleBinFilter
from kam.accounts.recycle.registry import binned_kind, binned_with_account
from kam.core.conf import config
from kam.core.exports import list_export
from kam.core.web import message_errors, paginate


@login_required
def recycle_bin(request: HttpRequest) -> HttpResponse:
    filters = RecycleBinFilter.from_request(request)
    kind = filters.kind or ""
    # The bin is a short list built in memory (three small reads).
    page = paginate(request, selectors.recycle_bin(user=request.user, filters=filters))
    kinds = [("", _("Everything")), ("account", _("Accounts")), ("contact", _("Contacts")),
             *((entry.kind, entry.label) for entry in binned_with_account())]
    return render(request, "accounts/recycle/bin.html", {"page": page, "days": config().RECYCLE_BIN_DAYS,
                                                         "kind": kind, "kinds": kinds})


@login_required
def recycle_bin_export(request: HttpRequest) -> HttpResponse:
    filters = RecycleBinFilter.from_request(request)
    return list_export(request, what="recycle_bin", queryset=selectors.recycle_bin(user=request.user,
                                                                                  filters=filters),
                       columns=exports.recycle_bin_columns(), filename=_("recycle-bin"), lines=lambda rows: rows)


@login_required
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    if request.method == "POST":
        with message_errors(request):
            services.account_delete(actor=request.user, account=account)
            messages.success(request, _("%(name)s moved to the recycle bin.") % {"name": account.name})
            return redirect("accounts:list")
        return redirect(account)
    return render(request, "accounts/card/confirm_delete.html",
                  {"account": account, "days": config().RECYCLE_BIN_DAYS})


def _restored(request: HttpRequest, restore: Callable[..., Any], **ids: int) -> Any:
    """Run a restore service; a domain refusal (the account still in the bin, a USCC taken
    meanwhile) is a message on the bin page (an item out of reach is the middleware's 404)."""
    with message_errors(request):
        item = restore(actor=request.user, **ids)
        messages.success(request, _("%(name)s restored.") % {"name": item.name})
        return item
    return None


@login_required
@require_POST
def account_restore(request: HttpRequest, pk: int) -> HttpResponse:
    account = _restored(request, services.account_restore, account_id=pk)
    return redirect(account) if account is not None else redirect("accounts:recycle_bin")


@login_required
@require_POST
def contact_restore(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = _restored(request, services.contact_restore, contact_id=contact_id)
    return redirect(contacts_tab(contact.account)) if contact is not None else redirect("accounts:recycle_bin")


@login_required
@require_POST
def opportunity_restore(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    entry = binned_kind("opportunity")
    if entry is None:
        raise Http404
    opportunity = _restored(request, entry.restore, pk=opportunity_id)
    return redirect(entry.restored_url(opportunity)) if opportunity is not None else redirect("accounts:recycle_bin")
