"""Pages for planning the work: relationship playbooks (HQ), a person's visit plan for a
month, and staffing per unit. Thin: parse, call a service or selector, render."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.activities import services
from kam.activities.models import Playbook, PlaybookStep
from kam.core.errors import DomainError, PermissionDenied
from kam.core.web import attach_domain_error, is_htmx

# --- playbooks ---------------------------------------------------------------------------------


class PlaybookStepForm(forms.ModelForm):
    step = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = PlaybookStep
        fields = ["title", "kind", "offset_days", "repeat_days", "until_days", "sort_order", "is_active"]
        help_texts = {
            "repeat_days": gettext_lazy("Empty: once."),
            "until_days": gettext_lazy("Empty: until the stage ends."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif name != "step":
                css = "form-select form-select-sm" if isinstance(field.widget, forms.Select) else "form-control form-control-sm"
                field.widget.attrs.setdefault("class", css)

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


def _playbook_context(playbook, form=None, saved=False) -> dict:
    return {"playbook": playbook, "steps": list(playbook.steps.all()), "form": form or PlaybookStepForm(),
            "saved": saved, "kinds": dict(PlaybookStep._meta.get_field("kind").choices)}


@login_required
def playbook_list(request):
    """The four stages' playbooks and their steps; HQ changes them here."""
    if not request.user.sees_everything:
        return HttpResponseForbidden(_("Only headquarters change the playbooks."))
    cards = [_playbook_context(p) for p in Playbook.objects.prefetch_related("steps").order_by("id")]
    return render(request, "activities/playbooks.html", {"cards": cards})


@login_required
def playbook_step_save(request, pk: int):
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
    form = PlaybookStepForm(request.POST, instance=step)
    saved = False
    if form.is_valid():
        try:
            services.playbook_step_save(actor=request.user, playbook=playbook, step=step, data=form.service_data())
            saved, form = True, None
        except PermissionDenied as exc:
            return HttpResponseForbidden(exc.message)
        except DomainError as exc:
            attach_domain_error(form, exc)
    context = _playbook_context(playbook, form, saved)
    if is_htmx(request):
        return render(request, "activities/playbooks.html#playbook-card", context)
    return render(request, "activities/playbooks.html", {"cards": [context]})
