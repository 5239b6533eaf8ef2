"""Public pool pages: the list with its filters, claim button and export; release, claim and
assignment of one account; the pool events of an account for its history tab. Thin views:
they parse, call kam.sales.pool and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.core.errors import Conflict, ValidationFailed
from kam.core.exports import list_export
from kam.core.models import Industry, OrgUnit, Region
from kam.core.web import attach_domain_error, is_htmx, paginate
from kam.sales.pool import policies, selectors, services
from kam.sales.pool.exports import pool_columns
from kam.sales.pool.filters import PoolFilter
from kam.sales.pool.forms import AssignForm, ReleaseForm


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _pool_account(request, pk: int) -> Account:
    account = selectors.pool_accounts(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


def _bar_choices(request) -> dict[str, Any]:
    """The filter bar's industries, regions and the units of the user's part of the pool."""
    units = OrgUnit.objects.filter(is_active=True)
    branch = selectors.pool_branch(request.user)
    if branch is not None:
        units = units.filter(path__startswith=branch.path)
    return {"industry": Industry.objects.filter(is_active=True), "region": Region.objects.filter(is_active=True),
            "unit": units}


@login_required
def pool_list(request):
    if not policies.may_see_pool(request.user):
        raise Http404
    filters = PoolFilter.from_request(request)
    form = filters.form(choices=_bar_choices(request))
    page = paginate(request, selectors.pool_accounts(request.user, filters))
    rules = services.PoolRules.from_settings()
    context = {
        "form": form, "page": page, "rows": selectors.pool_rows(list(page.object_list)),
        "query": _query(request), "export_query": _query(request, "format"),
        "may_claim": policies.may_claim(request.user), "may_assign": policies.may_assign(request.user),
        "held": selectors.held_from_pool(request.user).count() if policies.may_claim(request.user) else 0,
        "limit": rules.claim_limit,
    }
    template = "sales/pool/pool.html#results" if is_htmx(request) else "sales/pool/pool.html"
    return render(request, template, context)


@login_required
def pool_export(request):
    if not policies.may_see_pool(request.user):
        raise Http404
    filters = PoolFilter.from_request(request)
    return list_export(request, what="pool", queryset=selectors.pool_accounts(request.user, filters),
                       columns=pool_columns(), filename=_("public pool"), lines=selectors.pool_rows_iter)


def _refused(request, exc: Conflict | ValidationFailed, *, fallback: str):
    """A refused claim: for htmx, the message in place of the button's row message; else a
    message on the page it came from."""
    if is_htmx(request):
        return render(request, "sales/pool/pool_message.html", {"error": exc.message}, status=200)
    messages.error(request, exc.message)
    return redirect(fallback)


@login_required
@require_POST
def pool_claim(request, pk: int):
    try:
        services.pool_claim(actor=request.user, account=pk)
    except (Conflict, ValidationFailed) as exc:
        return _refused(request, exc, fallback=reverse("sales:pool"))
    url = reverse("accounts:detail", args=[pk])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    messages.success(request, _("The account is yours now."))
    return redirect(url)


@login_required
def pool_release(request, pk: int):
    account = Account.objects.visible_to(request.user).filter(pk=pk, owner__isnull=False).select_related("owner").first()
    if account is None or not policies.may_release(request.user, account):
        raise Http404
    form = ReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pool_release(actor=request.user, account=account, note=form.cleaned_data["note"])
        except (Conflict, ValidationFailed) as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("%(account)s is in the public pool now.") % {"account": account.name})
            if Account.objects.visible_to(request.user).filter(pk=pk).exists():
                return redirect("accounts:detail", pk)
            return redirect("sales:pool")
    return render(request, "sales/pool/pool_release.html", {"account": account, "form": form})


@login_required
def pool_assign(request, pk: int):
    if not policies.may_assign(request.user):
        raise Http404
    account = _pool_account(request, pk)
    form = AssignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.pool_assign(actor=request.user, account=account, owner=form.cleaned_data["owner"])
        except (Conflict, ValidationFailed) as exc:
            attach_domain_error(form, exc)
        else:
            messages.success(request, _("%(account)s now belongs to %(owner)s.")
                             % {"account": account.name, "owner": form.cleaned_data["owner"]})
            return redirect("accounts:detail", pk)
    return render(request, "sales/pool/pool_assign.html", {"account": account, "form": form})


@login_required
def pool_events(request, pk: int):
    """The account's pool events, for its history tab (htmx)."""
    account = Account.objects.alive().filter(pk=pk).first()
    if account is None:
        raise Http404
    events = selectors.pool_events(user=request.user, account=account)
    return render(request, "sales/pool/pool_events.html", {"account": account, "events": events,
                                                      "today": timezone.localdate()})
