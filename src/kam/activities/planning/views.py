"""A person's visit plan for a month: GET shows the plan tasks, POST (re)plans. Thin."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from kam.activities.models import Task
from kam.activities.planning import selectors, services
from kam.activities.planning.planner import VisitPlan
from kam.core.errors import ValidationFailed
from kam.core.web import is_htmx


def _month(text: str | None) -> date | None:
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


@login_required
def visit_plan(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else request.GET
    people = selectors.plannable_people(user=request.user)
    person_id = data.get("user", "")
    person = people.filter(pk=int(person_id)).first() if person_id.isdigit() else request.user
    if person is None:
        raise Http404
    month = _month(data.get("month")) or today.replace(day=1)
    plan: VisitPlan | None = None
    error = ""
    if request.method == "POST":
        try:
            plan = services.visit_plan_create(actor=request.user, user=person, month=month)
        except ValidationFailed as exc:  # a month that is over: said above the plan, there is no form
            error = exc.message
    days: dict[date, list[Task]] = defaultdict(list)
    for task in selectors.plan_tasks(user=request.user, person=person, month=month):
        days[task.due_on].append(task)
    unplaced = [(plan.names.get(pk, pk), n) for pk, n in plan.unplaced.items()] if plan else []
    context = {"people": people, "person": person, "month": month, "month_text": f"{month:%Y-%m}",
               "days": sorted(days.items()), "plan": plan, "unplaced": unplaced, "error": error}
    template = "activities/planning/plan.html#plan-result" if is_htmx(request) else "activities/planning/plan.html"
    return render(request, template, context)

