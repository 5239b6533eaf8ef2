"""Activity pages: the list and its export, the account's timeline card, my tasks. Thin views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.accounts.selectors import account_get, colleagues
from kam.activities import exports, selectors, services
from kam.activities.filters import ActivityFilter, TaskFilter
from kam.activities.forms import ActivityForm
from kam.activities.models import Task, TaskStatus
from kam.core.conf import config
from kam.core.errors import Conflict, ValidationFailed
from kam.core.exports import list_export
from kam.core.web import form_errors, is_htmx, message_errors, paginate


def _account_or_404(request: HttpRequest, pk: int) -> Account:
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return account


def _filter_bar(request: HttpRequest, filters: ActivityFilter) -> forms.Form:
    return filters.form(choices={"account": Account.objects.visible_to(request.user),
                                 "person": colleagues(user=request.user)})


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    filters = ActivityFilter.from_request(request)
    form = _filter_bar(request, filters)
    page = paginate(request, selectors.activity_list(user=request.user, filters=filters))
    query = request.GET.copy()
    query.pop("page", None)
    export_query = query.copy()
    export_query.pop("format", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "export_query": export_query.urlencode()}
    template = "activities/list.html#results" if is_htmx(request) else "activities/list.html"
    return render(request, template, context)


@login_required
def activity_export(request: HttpRequest) -> HttpResponse:
    filters = ActivityFilter.from_request(request)
    queryset = selectors.activity_list(user=request.user, filters=filters)
    return list_export(request, what="activities", queryset=queryset,
                       columns=exports.activity_columns(), filename=_("activities"))


def _log(request: HttpRequest, account: Account, form: ActivityForm) -> bool:
    """Log the activity the form describes; False leaves the errors on the form."""
    if not form.is_valid():
        return False
    with form_errors(form):
        services.activity_log(actor=request.user, account=account, **form.service_data())
        return True
    return False


def _preselected(request: HttpRequest, account: Account) -> dict[str, Any]:
    contact = request.GET.get("contact", "")
    if contact.isdigit() and account.contacts.alive().filter(pk=int(contact)).exists():
        return {"contacts": [int(contact)]}
    return {}


@login_required
def account_activities(request: HttpRequest, pk: int) -> HttpResponse:
    """The account page's timeline card; a POST logs an activity and returns the card again."""
    account = _account_or_404(request, pk)
    logged = False
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, account=account)
        if logged := _log(request, account, form):
            form = ActivityForm(user=request.user, account=account)
    else:
        form = ActivityForm(user=request.user, account=account, initial=_preselected(request, account))
    length = config().TIMELINE_LENGTH
    timeline = list(selectors.activity_timeline(user=request.user, account=account)[: length + 1])
    context = {
        "account": account, "form": form, "logged": logged, "timeline": timeline[:length],
        "more": len(timeline) > length, "open_form": request.method == "POST" and not logged,
    }
    return render(request, "activities/account_card.html", context)


@login_required
def activity_log_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Log an activity on a page of its own (from a contact's row, or without JavaScript)."""
    account = _account_or_404(request, pk)
    if request.method == "POST":
        form = ActivityForm(request.POST, user=request.user, account=account)
        if _log(request, account, form):
            return redirect(f"{account.get_absolute_url()}#activities")
    else:
        form = ActivityForm(user=request.user, account=account, initial=_preselected(request, account))
    return render(request, "activities/log.html", {"account": account, "form": form})


def _tasks_context(request: HttpRequest, *, status: str = TaskStatus.OPEN, error: str = "") -> dict[str, Any]:
    """The home page's card (?card=1: the first HOME_TASKS, a link to the rest) or the tasks page
    (a page of PAGE_SIZE, then the next by cursor)."""
    tasks = selectors.my_tasks(user=request.user, status=status)
    card = bool(request.GET.get("card"))
    page = None
    if card:
        limit = config().HOME_TASKS
        rows = list(tasks[: limit + 1])
        shown, more = rows[:limit], len(rows) > limit
    else:
        page = paginate(request, tasks)
        shown, more = list(page), False
    return {"tasks": shown, "page": page, "more": more, "status": status, "statuses": TaskStatus.choices,
            "error": error, "card": card}


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    context = _tasks_context(request, status=TaskFilter.from_request(request).status)
    template = "activities/tasks.html#task-card" if is_htmx(request) else "activities/tasks.html"
    return render(request, template, context)


def _task_action(request: HttpRequest, pk: int, action: Callable[..., Task]) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk)
    if task is None:
        raise Http404
    if not is_htmx(request):
        with message_errors(request):  # e.g. already closed: said on the next page
            action(actor=request.user, task=task)
        return redirect("activities:tasks")
    error = ""
    try:
        action(actor=request.user, task=task)
    except (Conflict, ValidationFailed) as exc:  # e.g. already closed: said on the task card
        error = exc.message
    return render(request, "activities/tasks.html#task-card", _tasks_context(request, error=error))


@login_required
@require_POST
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.task_complete)


@login_required
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _task_action(request, pk, services.task_cancel)
