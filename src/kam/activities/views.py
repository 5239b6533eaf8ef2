"""Activity pages: the list and its export, the account's timeline card, my tasks. Thin views."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.selectors import account_get
from kam.activities import exports, selectors, services
from kam.activities.forms import ActivityFilterForm, ActivityForm
from kam.activities.models import TaskStatus
from kam.core.audit import audit_record
from kam.core.conf import kam_setting
from kam.core.errors import DomainError, NotVisible, PermissionDenied
from kam.core.exports import FORMATS, export_response, list_export
from kam.core.models import AuditEvent
from kam.core.web import attach_domain_error, is_htmx, paginate


def _account_or_404(request, pk: int):
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


@login_required
def activity_list(request):
    form = ActivityFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    page = paginate(request, selectors.activity_list(user=request.user, filters=filters), kam_setting("PAGE_SIZE"))
    query = request.GET.copy()
    query.pop("page", None)
    export_query = query.copy()
    export_query.pop("format", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "export_query": export_query.urlencode()}
    template = "activities/list.html#results" if is_htmx(request) else "activities/list.html"
    return render(request, template, context)


@login_required
def activity_export(request):
    filters = ActivityFilterForm(request.GET or None, user=request.user).filters()
    queryset = selectors.activity_list(user=request.user, filters=filters)
    return list_export(request, what="activities", queryset=queryset,
                       columns=exports.activity_columns(), filename=_("activities"))


def _log(request, account, form) -> bool:
    """Log the activity the form describes; False leaves the errors on the form."""
    if not form.is_valid():
        return False
    try:
        services.activity_log(actor=request.user, account=account, **form.service_data())
    except NotVisible:
        raise Http404 from None
    except DomainError as exc:
        attach_domain_error(form, exc)
        return False
    return True


def _preselected(request, account) -> dict:
    contact = request.GET.get("contact", "")
    if contact.isdigit() and account.contacts.alive().filter(pk=int(contact)).exists():
        return {"contacts": [int(contact)]}
    return {}


@login_required
def account_activities(request, pk: int):
    """The account page's timeline card; a POST logs an activity and returns the card again."""
    account = _account_or_404(request, pk)
    logged = False
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, account=account)
        if logged := _log(request, account, form):
            form = ActivityForm(user=request.user, account=account)
    else:
        form = ActivityForm(user=request.user, account=account, initial=_preselected(request, account))
    length = kam_setting("TIMELINE_LENGTH")
    timeline = list(selectors.activity_timeline(user=request.user, account=account)[: length + 1])
    context = {
        "account": account, "form": form, "logged": logged, "timeline": timeline[:length],
        "more": len(timeline) > length, "open_form": request.method == "POST" and not logged,
    }
    return render(request, "activities/account_card.html", context)


@login_required
def activity_log_page(request, pk: int):
    """Log an activity on a page of its own (from a contact's row, or without JavaScript)."""
    account = _account_or_404(request, pk)
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, account=account)
        if _log(request, account, form):
            return redirect(f"{account.get_absolute_url()}#activities")
    else:
        form = ActivityForm(user=request.user, account=account, initial=_preselected(request, account))
    return render(request, "activities/log.html", {"account": account, "form": form})


def _tasks_context(request, *, status: str = TaskStatus.OPEN, error: str = "") -> dict:
    tasks = selectors.my_tasks(user=request.user, status=status)
    limit = kam_setting("HOME_TASKS") if request.GET.get("card") else kam_setting("PAGE_SIZE_MAX")
    rows = list(tasks[: limit + 1])
    return {"tasks": rows[:limit], "more": len(rows) > limit, "status": status, "statuses": TaskStatus.choices,
            "error": error, "card": bool(request.GET.get("card"))}


@login_required
def task_list(request):
    status = request.GET.get("status", TaskStatus.OPEN)
    if status not in TaskStatus.values:
        status = TaskStatus.OPEN
    context = _tasks_context(request, status=status)
    template = "activities/tasks.html#task-card" if is_htmx(request) else "activities/tasks.html"
    return render(request, template, context)


def _task_action(request, pk: int, action):
    task = selectors.task_get(user=request.user, pk=pk)
    if task is None:
        raise Http404
    error = ""
    try:
        action(actor=request.user, task=task)
    except NotVisible:
        raise Http404 from None
    except PermissionDenied as exc:
        return HttpResponseForbidden(exc.message)
    except DomainError as exc:
        error = exc.message
    if is_htmx(request):
        return render(request, "activities/tasks.html#task-card", _tasks_context(request, error=error))
    return redirect("activities:tasks")


@login_required
@require_POST
def task_complete(request, pk: int):
    return _task_action(request, pk, services.task_complete)


@login_required
@require_POST
def task_cancel(request, pk: int):
    return _task_action(request, pk, services.task_cancel)


# --- service standards and compliance ---------------------------------------------------------------


@login_required
def standard_list(request):
    """Every scheme's service standards; HQ edits them."""
    from kam.activities.models import ServiceStandard

    rows = list(ServiceStandard.objects.select_related("scheme").order_by("scheme_id", "id"))
    for row in rows:
        row.tier_label = row.scheme.tier_label(row.tier)
    return render(request, "activities/compliance/standards.html", {"rows": rows, "governs": request.user.sees_everything})


@login_required
def standard_edit(request, pk: int):
    from kam.activities.forms import ServiceStandardForm
    from kam.activities.models import ServiceStandard

    if not request.user.sees_everything:
        raise Http404
    standard = ServiceStandard.objects.select_related("scheme").filter(pk=pk).first()
    if standard is None:
        raise Http404
    form = ServiceStandardForm(request.POST or None, instance=standard)
    if request.method == "POST" and form.is_valid():
        try:
            services.service_standard_update(actor=request.user, standard=standard,
                                             **{k: form.cleaned_data[k] for k in services.STANDARD_FIELDS})
        except DomainError as exc:
            attach_domain_error(form, exc)
        else:
            return redirect("activities:standards")
    history = standard.history.select_related("history_user").order_by("-history_date")[:20]
    return render(request, "activities/compliance/standard_edit.html", {
        "standard": standard, "tier_label": standard.scheme.tier_label(standard.tier), "form": form,
        "history": history})


def _compliance_inputs(request):
    from django.utils import timezone

    from kam.activities.compliance import measure as compliance
    from kam.tiering.selectors import schemes

    today = timezone.localdate()
    choices = list(schemes().filter(service_standards__isnull=False).distinct())
    code = request.GET.get("scheme") or kam_setting("CADENCE_SCHEME")
    scheme = next((s for s in choices if s.code == code), choices[0] if choices else None)
    if scheme is None:
        raise Http404
    period = request.GET.get("period") or compliance.current_quarter(today)
    bounds = compliance.parse_period(period)
    if bounds is None:
        period = compliance.current_quarter(today)
        bounds = compliance.parse_period(period)
    return scheme, choices, period, bounds, today


def _drill(request) -> dict:
    out = {}
    for key in ("unit", "person"):
        value = request.GET.get(key, "")
        if value.isdigit() and len(value) < 18:
            out[key] = int(value)
    return out


@login_required
def compliance_page(request):
    """Required vs done per unit and person for a period and scheme, a heat-map and the overdue accounts."""
    import json

    from kam.activities.compliance import measure as compliance

    scheme, choices, period, (start, end), today = _compliance_inputs(request)
    m = compliance.measure(user=request.user, scheme=scheme, start=start, end=end, as_of=today)
    drill = _drill(request)
    overdue = compliance.overdue_accounts(user=request.user, m=m, limit=kam_setting("COMPLIANCE_OVERDUE_ROWS"),
                                          **drill)
    query = request.GET.copy()
    for key in ("unit", "person", "format", "what"):
        query.pop(key, None)
    context = {"m": m, "scheme": scheme, "period": period, "overdue": overdue, "drill": drill, "query": query.urlencode()}
    if is_htmx(request) and request.GET.get("part") == "overdue":
        return render(request, "activities/compliance/compliance.html#overdue", context)
    units = compliance.per_unit(user=request.user, m=m)
    people = compliance.per_person(m=m)
    total = compliance.Row(0, _("Total"), *(sum(getattr(r, f) for r in units) for f in (
        "accounts", "required_visits", "done_visits", "required_calls", "done_calls", "overdue")))
    context.update(
        schemes=choices, periods=compliance.period_choices(today), units=units, people=people, total=total,
        charts=json.loads(json.dumps({"heat": compliance.heatmap(user=request.user, m=m)})),
    )
    return render(request, "activities/compliance/compliance.html", context)


@login_required
def compliance_export(request):
    from kam.activities.compliance import measure as compliance
    from kam.activities.exports import compliance_columns, overdue_columns

    fmt = request.GET.get("format", "xlsx")
    what = request.GET.get("what", "table")
    if fmt not in FORMATS or what not in ("table", "overdue"):
        raise Http404
    scheme, _choices, period, (start, end), today = _compliance_inputs(request)
    m = compliance.measure(user=request.user, scheme=scheme, start=start, end=end, as_of=today)
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what=f"compliance-{what}",
                 format=fmt, query=request.GET.urlencode()[:500])
    if what == "overdue":
        rows = compliance.overdue_accounts(user=request.user, m=m, limit=kam_setting("EXPORT_MAX_ROWS"),
                                           **_drill(request))
        return export_response(columns=overdue_columns(), rows=rows, filename=_("overdue accounts"), fmt=fmt)
    units = [(_("unit"), r) for r in compliance.per_unit(user=request.user, m=m)]
    people = [(_("person"), r) for r in compliance.per_person(m=m)]
    return export_response(columns=compliance_columns(), rows=units + people,
                           filename=_("compliance") + f"-{period}", fmt=fmt)
