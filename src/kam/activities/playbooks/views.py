"""The four stages' playbooks and their steps; HQ changes them here. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from kam.activities.models import Playbook, PlaybookStep
from kam.activities.playbooks import policies, services
from kam.activities.playbooks.forms import PlaybookStepForm
from kam.core.policies import require
from kam.core.web import form_errors, is_htmx


def _playbook_context(playbook: Playbook, form: PlaybookStepForm | None = None, saved: bool = False) -> dict[str, Any]:
    return {"playbook": playbook, "steps": list(playbook.steps.all()), "form": form or PlaybookStepForm(),
            "saved": saved, "kinds": dict(PlaybookStep._meta.get_field("kind").choices or [])}


@login_required
def playbook_list(request: HttpRequest) -> HttpResponse:
    require(policies.may_view_playbooks(request.user), _("Only headquarters change the playbooks."))
    cards = [_playbook_context(p) for p in Playbook.objects.prefetch_related("steps").order_by("id")]
    return render(request, "activities/playbooks/playbooks.html", {"cards": cards})


@login_required
def playbook_step_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a step (no `step`) or change one; returns the playbook's card."""
    if request.method != "POST":
        raise Http404
    playbook = Playbook.objects.filter(pk=pk).first()
    if playbook is None:
        raise Http404
    step_id = request.POST.get("step", "")
    step = playbook.steps.filter(pk=int(step_id)).first() if step_id.isdigit() else None
    if step_id and step is None:
        raise Http404
    form: PlaybookStepForm | None = PlaybookStepForm(request.POST, instance=step)
    saved = False
    if form is not None and form.is_valid():
        with form_errors(form):
            services.playbook_step_save(actor=request.user, playbook=playbook, step=step, data=form.service_data())
            saved, form = True, None
    context = _playbook_context(playbook, form, saved)
    if is_htmx(request):
        return render(request, "activities/playbooks/playbooks.html#playbook-card", context)
    return render(request, "activities/playbooks/playbooks.html", {"cards": [context]})
