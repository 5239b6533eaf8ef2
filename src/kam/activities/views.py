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
from kam.core.exports import FORMATS, export_response
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
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404
    filters = ActivityFilterForm(request.GET or None, user=request.user).filters()
    rows = selectors.activity_list(user=request.user, filters=filters)[: kam_setting("EXPORT_MAX_ROWS")]
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="activities", format=fmt,
                 query=request.GET.urlencode()[:500])
    return export_response(columns=exports.activity_columns(), rows=rows.iterator(chunk_size=2000),
                           filename=_("activities"), fmt=fmt)


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
