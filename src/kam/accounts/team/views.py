"""Adding and removing members of an account's team (buttons on the card)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.card.views import account_or_404
from kam.accounts.team import services
from kam.accounts.team.forms import TeamMemberForm
from kam.core.web import message_errors


@login_required
@require_POST
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    account = account_or_404(request, pk)
    form = TeamMemberForm(request.POST, user=request.user)
    if form.is_valid():
        with message_errors(request):
            services.team_member_add(actor=request.user, account=account, user=form.cleaned_data["user"],
                                     team_role=form.cleaned_data["team_role"])
    else:
        messages.error(request, _("Choose a colleague and a team role."))
    return redirect(f"{account.get_absolute_url()}?tab=card")


@login_required
@require_POST
def team_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    account = account_or_404(request, pk)
    services.team_member_remove(actor=request.user, account=account, member_id=member_id)
    return redirect(f"{account.get_absolute_url()}?tab=card")
