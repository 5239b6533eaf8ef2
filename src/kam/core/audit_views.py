"""The audit page for administrators: search the audit log, export what was found, lift login locks."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kam.core.audit import AuditFilters, audit_event_list
from kam.core.conf import config
from kam.core.exports import ExportColumn, list_export
from kam.core.login_throttle import counters
from kam.core.models import AuditEvent
from kam.core.policies import may_read_audit
from kam.core.services import login_locks, login_unlock
from kam.core.web import is_htmx, paginate

INPUT = {"class": "form-control", "autocomplete": "off"}
LOCKS_SHOWN = 20


class AuditFilterForm(forms.Form):
    person = forms.CharField(required=False, max_length=150, label=gettext_lazy("person"),
                             widget=forms.TextInput(attrs={**INPUT, "placeholder": gettext_lazy("username")}))
    kind = forms.ChoiceField(required=False, label=gettext_lazy("event"),
                             choices=[("", gettext_lazy("all events")), *AuditEvent.Kind.choices],
                             widget=forms.Select(attrs={"class": "form-select"}))
    since = forms.DateField(required=False, label=gettext_lazy("start date"),
                            widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}))
    until = forms.DateField(required=False, label=gettext_lazy("end date"),
                            widget=forms.DateInput(attrs={"class": "form-control", "type": "date"}))
    ip = forms.CharField(required=False, max_length=45, label=gettext_lazy("IP address"),
                         widget=forms.TextInput(attrs={**INPUT, "placeholder": "10.1.2."}))
    q = forms.CharField(required=False, max_length=100, label=gettext_lazy("account or text"),
                        widget=forms.TextInput(attrs={**INPUT, "placeholder": gettext_lazy("account code or name, file, path…")}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.add_error("until", _("The end date is before the start date."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return AuditFilters(person=(data.get("person") or "").strip(), kind=data.get("kind") or "",
                            since=data.get("since"), until=data.get("until"), ip=(data.get("ip") or "").strip(),
                            text=(data.get("q") or "").strip())


def _admin_only(request) -> None:
    # Like every page a role may not open: as if it did not exist.
    if not may_read_audit(request.user):
        raise Http404


def _events(request):
    form = AuditFilterForm(request.GET or None)
    return form, audit_event_list(user=request.user, filters=form.filters()).select_related(None)


def detail_text(detail: dict) -> str:
    return "; ".join(f"{key}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}"
                     for key, value in (detail or {}).items())


def _locks() -> list[dict]:
    rows = []
    for attempt in login_locks()[:LOCKS_SHOWN]:
        found = counters(attempt.username, attempt.ip_address)
        rows.append({"attempt": attempt, "locked": any(c.failures >= c.limit for c in found),
                     "counters": found})
    return rows


@login_required
def audit_list(request):
    _admin_only(request)
    form, events = _events(request)
    page = paginate(request, events, config().PAGE_SIZE)
    for event in page.object_list:
        event.detail_text = detail_text(event.detail)
    query = request.GET.copy()
    query.pop("page", None)
    export_query = request.GET.copy()
    for name in ("page", "format"):
        export_query.pop(name, None)
    context = {"form": form, "page": page, "query": query.urlencode(), "export_query": export_query.urlencode()}
    if is_htmx(request):
        return render(request, "core/audit.html#results", context)
    context.update(locks=_locks(), retention_days=config().AUDIT_RETENTION_DAYS)
    return render(request, "core/audit.html", context)


@login_required
def audit_export(request):
    _admin_only(request)
    _form, events = _events(request)
    columns = [
        ExportColumn(gettext_lazy("when"), lambda e: e.at),
        ExportColumn(gettext_lazy("event"), lambda e: e.get_kind_display()),
        ExportColumn(gettext_lazy("person"), lambda e: e.username),
        ExportColumn(gettext_lazy("IP address"), lambda e: e.ip_address),
        ExportColumn(gettext_lazy("concerning"), lambda e: e.target),
        ExportColumn(gettext_lazy("detail"), lambda e: detail_text(e.detail)),
    ]
    return list_export(request, what="audit", queryset=events, columns=columns, filename=_("audit-log"))


@login_required
@require_POST
def audit_unlock(request, pk: int):
    _admin_only(request)
    login_unlock(actor=request.user, attempt_id=pk)  # a lock gone meanwhile: NotVisible, the 404 page
    messages.success(request, _("The login is unlocked."))
    return redirect("audit")
