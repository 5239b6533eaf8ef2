"""The merge page: pick the duplicate, choose the values, merge."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kam.accounts.card.views import account_or_404
from kam.accounts.merge import services
from kam.accounts.merge.forms import MergeForm, MergePickForm
from kam.core.web import form_errors


@login_required
def account_merge(request: HttpRequest, pk: int) -> HttpResponse:
    survivor = account_or_404(request, pk)
    pick = MergePickForm(request.GET or None, user=request.user, survivor=survivor)
    merged = pick.cleaned_data["other"] if pick.is_valid() else None
    if merged is None:
        return render(request, "accounts/merge/form.html", {"account": survivor, "pick": pick})
    form = MergeForm(request.POST or None, survivor=survivor, merged=merged)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.account_merge(
                actor=request.user, survivor=survivor, merged=merged, take=form.fields_to_take(),
                survivor_version=form.cleaned_data["survivor_version"],
                merged_version=form.cleaned_data["merged_version"],
            )
            messages.success(request, _("%(merged)s was merged into %(name)s.") % {"merged": merged.name, "name": survivor.name})
            return redirect(survivor)
    return render(request, "accounts/merge/form.html", {"account": survivor, "merged": merged, "form": form, "pick": pick})
