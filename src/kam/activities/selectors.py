"""Read side for activities and tasks. Every query starts from `visible_to(user)`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from kam.accounts.models import Account, Contact
from kam.accounts.selectors import colleagues
from kam.activities.filters import ActivityFilter
from kam.activities.models import Activity, Task, TaskStatus

User = get_user_model()


# Filter dates are clamped to days whose local midnight converts to UTC without overflowing.
EARLIEST, LATEST = date(1900, 1, 1), date(9999, 12, 30)


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(max(day, EARLIEST), time.min))


def day_end(day: date) -> datetime:
    return day_start(min(day, LATEST) + timedelta(days=1))


def _with_people(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    # Only what a name and the decision-maker badge need: lists and exports hold thousands.
    return qs.select_related("account", "created_by").prefetch_related(
        Prefetch("participants", queryset=User.objects.only(
            "id", "username", "display_name", "first_name", "last_name").order_by("id")),
        Prefetch("contacts", queryset=Contact.objects.only("id", "account_id", "name", "decision_role")
                 .order_by("name", "id")),
    )


def activity_list(*, user: Any, filters: ActivityFilter | None = None) -> QuerySet[Activity]:
    filters = filters if filters is not None else ActivityFilter.model_validate({})
    qs = Activity.objects.visible_to(user)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(occurred_at__lt=day_end(filters.date_to))
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    if filters.person:
        qs = qs.filter(participants__id=filters.person)
    return _with_people(qs).order_by("-occurred_at", "-id")


def activity_get(*, user: Any, pk: int) -> Activity | None:
    return _with_people(Activity.objects.visible_to(user)).filter(pk=pk).first()


def activity_timeline(*, user: Any, account: Account) -> QuerySet[Activity]:
    """The account's activities, newest first."""
    return _with_people(Activity.objects.visible_to(user).filter(account=account)).order_by("-occurred_at", "-id")


def participant_choices(*, user: Any, account: Account) -> QuerySet[Any]:
    """Who may be named among our participants: colleagues of the user's branch and the
    account's owner and team, who may sit in other branches or at HQ."""
    return User.objects.filter(is_active=True).filter(
        Q(pk__in=colleagues(user=user).values("pk"))
        | Q(pk=account.owner_id)
        | Q(account_teams__account=account)
    ).distinct().select_related("unit").order_by("username")


def my_tasks(*, user: Any, status: str = TaskStatus.OPEN) -> QuerySet[Task]:
    qs = Task.objects.visible_to(user, joined=True).filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    order = ("due_on", "id") if status == TaskStatus.OPEN else ("-due_on", "-id")
    return qs.select_related("account").order_by(*order)


def task_get(*, user: Any, pk: int) -> Task | None:
    return Task.objects.visible_to(user).select_related("account", "owner").filter(pk=pk).first()
