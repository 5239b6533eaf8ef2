"""Contact pages: add, edit, delete, export. Thin views over the contact services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.card.views import account_or_404
from kam.accounts.contacts import exports, selectors, services
from kam.accounts.contacts.forms import ContactForm
from kam.accounts.models import Account, Contact
from kam.core.exports import list_export
from kam.core.web import form_errors, is_htmx


def _contact_or_404(request: HttpRequest, account: Account, contact_id: int) -> Contact:
    contact = selectors.contact_get(user=request.user, pk=contact_id)
    if contact is None or contact.account_id != account.pk:
        raise Http404
    return contact


def contacts_tab(account: Account) -> str:
    return f"{reverse('accounts:detail', args=[account.pk])}?tab=contacts"


@login_required
def contact_export(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    account = account_or_404(request, pk) if pk is not None else None
    queryset = selectors.contact_list(user=request.user, account=account)
    name = f"{account.code}-{_('contacts')}" if account else _("contacts")
    return list_export(request, what="contacts", queryset=queryset, columns=exports.contact_columns(), filename=name)


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    form = ContactForm(request.POST or None, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.contact_create(actor=request.user, account=account, data=form.service_data())
            messages.success(request, _("Contact added."))
            return redirect(contacts_tab(account))
    return render(request, "accounts/contacts/form.html", {"form": form, "account": account})


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    account = account_or_404(request, pk)
    contact = _contact_or_404(request, account, contact_id)
    form = ContactForm(request.POST or None, instance=contact, user=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.contact_update(actor=request.user, contact=contact, data=form.service_data(),
                                    version=form.cleaned_data.get("version"))
            messages.success(request, _("Changes saved."))
            return redirect(contacts_tab(account))
    return render(request, "accounts/contacts/form.html", {"form": form, "account": account, "contact": contact})


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    account = account_or_404(request, pk)
    contact = _contact_or_404(request, account, contact_id)
    services.contact_delete(actor=request.user, contact=contact)
    messages.success(request, _("Contact moved to the recycle bin."))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = contacts_tab(account)
        return response
    return redirect(contacts_tab(account))
