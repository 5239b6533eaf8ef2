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
    return render(request, "activities/playbooks/playbooks.html", {"cards": cards})


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
        return render(request, "activities/playbooks/playbooks.html#playbook-card", context)
    return render(request, "activities/playbooks/playbooks.html", {"cards": [context]})


# --- visit plans -------------------------------------------------------------------------------


def _month(text: str | None):
    from datetime import date

    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


@login_required
def visit_plan(request):
    """A person's visit plan for a month: GET shows the plan tasks, POST (re)plans."""
    from collections import defaultdict

    from django.utils import timezone

    from kam.activities.models import Task, TaskSource
    from kam.activities.selectors import plannable_people

    today = timezone.localdate()
    data = request.POST if request.method == "POST" else request.GET
    people = plannable_people(user=request.user)
    person_id = data.get("user", "")
    person = people.filter(pk=int(person_id)).first() if person_id.isdigit() else request.user
    if person is None:
        raise Http404
    month = _month(data.get("month")) or today.replace(day=1)
    plan, error = None, ""
    if request.method == "POST":
        try:
            plan = services.visit_plan_create(actor=request.user, user=person, month=month)
        except DomainError as exc:
            error = exc.message
    tasks = (Task.objects.visible_to(request.user)
             .filter(owner=person, source_kind=TaskSource.PLAN, source_id=month.year * 100 + month.month)
             .select_related("account", "account__region").order_by("due_on", "account__region__name", "id"))
    days = defaultdict(list)
    for task in tasks:
        days[task.due_on].append(task)
    unplaced = [(plan.names.get(pk, pk), n) for pk, n in plan.unplaced.items()] if plan else []
    context = {"people": people, "person": person, "month": month, "month_text": f"{month:%Y-%m}",
               "days": sorted(days.items()), "plan": plan, "unplaced": unplaced, "error": error}
    template = "activities/planning/plan.html#plan-result" if is_htmx(request) else "activities/planning/plan.html"
    return render(request, template, context)


# --- staffing ----------------------------------------------------------------------------------


def _staffing_request(request):
    """(rows, scheme, unit, growth) for the query string; 404 when the unit is not the user's to see."""
    from kam.activities.selectors import staffing_for
    from kam.core.conf import kam_setting
    from kam.core.models import OrgUnit
    from kam.tiering.models import Scheme

    scheme = Scheme.objects.filter(code=request.GET.get("scheme") or kam_setting("CADENCE_SCHEME")).first()
    code = request.GET.get("unit", "")
    unit = OrgUnit.objects.filter(code=code).first() if code else request.user.unit
    growth_text = request.GET.get("growth", "").strip()
    growth = int(growth_text) if growth_text.lstrip("-").isdigit() and abs(int(growth_text)) < 10**7 else None
    rows = staffing_for(user=request.user, unit=unit, scheme=scheme, growth=growth) if scheme and unit else []
    if not rows:
        raise Http404
    return rows, scheme, unit, growth


@login_required
def staffing(request):
    """Managers required vs present per unit, and next year's gap with the expected growth."""
    from kam.tiering.models import Scheme

    rows, scheme, unit, growth = _staffing_request(request)
    chart = {"staffing": {"x": [r.unit.name for r in rows], "series": [
        {"name": _("required"), "data": [float(r.now.required) for r in rows]},
        {"name": _("present"), "data": [r.now.present for r in rows]},
    ]}}
    top_tiers = [(scheme.tier_label(t.tier), t) for t in rows[0].now.tiers]
    context = {"rows": rows, "top": rows[0], "top_tiers": top_tiers, "scheme": scheme, "unit": unit, "growth": growth, "chart": chart,
               "schemes": Scheme.objects.filter(is_active=True, service_standards__isnull=False).distinct(),
               "query": request.GET.urlencode()}
    return render(request, "activities/staffing/staffing.html", context)


@login_required
def staffing_export(request):
    from kam.core.audit import audit_record
    from kam.core.exports import FORMATS, ExportColumn, export_response
    from kam.core.models import AuditEvent

    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    rows, scheme, unit, growth = _staffing_request(request)
    lines = []
    for row in rows:
        for tier in row.now.tiers:
            lines.append((row, scheme.tier_label(tier.tier), tier))
    columns = [
        ExportColumn(gettext_lazy("org unit"), lambda line: line[0].unit.name),
        ExportColumn(gettext_lazy("tier"), lambda line: line[1]),
        ExportColumn(gettext_lazy("accounts"), lambda line: line[2].accounts),
        ExportColumn(gettext_lazy("hours per account a year"), lambda line: line[2].hours_per_account),
        ExportColumn(gettext_lazy("hours a year"), lambda line: line[2].hours),
        ExportColumn(gettext_lazy("managers required (unit)"), lambda line: line[0].now.required),
        ExportColumn(gettext_lazy("managers present (unit)"), lambda line: line[0].now.present),
        ExportColumn(gettext_lazy("gap (unit)"), lambda line: line[0].now.gap),
    ]
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="staffing", format=fmt,
                 query=request.GET.urlencode()[:500])
    return export_response(columns=columns, rows=iter(lines), filename=_("staffing"), fmt=fmt)
