"""The deal reviews' reads: the review list and its follow-ups, the meetings and what they may schedule."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core.models import OrgUnit, User
from kam.sales.models import DealReview, Opportunity, ReviewMeeting, ReviewStatus
from kam.sales.reviews.filters import ReviewFilter


def _follow_ups(status: str | None = None, *, overdue_on: date | None = None) -> QuerySet[Task]:
    tasks = Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=OuterRef("pk"))
    if status:
        tasks = tasks.filter(status=status)
    if overdue_on is not None:
        tasks = tasks.filter(due_on__lt=overdue_on)
    return tasks

def _follow_up_count(tasks: QuerySet[Task]) -> Coalesce:
    counted = tasks.order_by().values("source_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

def review_list(*, user: User, filters: ReviewFilter | None = None, today: date | None = None) -> QuerySet[DealReview]:
    """The reviews `user` sees, newest first, with their follow-up counts, filtered."""
    filters = filters or ReviewFilter()
    qs = DealReview.objects.visible_to(user)
    if filters.status == "open":
        qs = qs.open()
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.meeting:
        qs = qs.filter(meeting_id=filters.meeting)
    if filters.escalated is not None:
        qs = qs.filter(escalated_at__isnull=not filters.escalated)
    if filters.opportunity:
        qs = qs.filter(opportunity_id=filters.opportunity)
    if filters.follow_up:
        qs = qs.filter(status=ReviewStatus.DECIDED)
        if filters.follow_up == "open":
            qs = qs.filter(Exists(_follow_ups(TaskStatus.OPEN)))
        elif filters.follow_up == "overdue":
            qs = qs.filter(Exists(_follow_ups(TaskStatus.OPEN, overdue_on=today or timezone.localdate())))
        elif filters.follow_up == "done":
            qs = qs.filter(Exists(_follow_ups())).exclude(Exists(_follow_ups(TaskStatus.OPEN)))
    qs = qs.annotate(
        follow_ups_total=_follow_up_count(_follow_ups()),
        follow_ups_open=_follow_up_count(_follow_ups(TaskStatus.OPEN)),
        follow_ups_overdue=_follow_up_count(_follow_ups(TaskStatus.OPEN, overdue_on=today or timezone.localdate())),
    )
    return qs.select_related("opportunity__account", "opportunity__owner", "meeting", "submitted_by")

def review_get(*, user: User, pk: int) -> DealReview | None:
    return (DealReview.objects.visible_to(user)
            .select_related("opportunity__account__unit", "opportunity__owner__unit", "meeting__unit",
                            "submitted_by", "manager", "director", "decided_by")
            .filter(pk=pk).first())

def review_follow_ups(review: DealReview) -> list[Task]:
    """The tasks the decision created, with their status: how the decision is tracked."""
    return list(Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=review.pk)
                .select_related("owner").order_by("due_on", "id"))

def open_review_of(*, user: User, opportunity: Opportunity) -> DealReview | None:
    return DealReview.objects.visible_to(user).open().filter(opportunity=opportunity).first()

def meeting_list(*, user: User) -> QuerySet[ReviewMeeting]:
    counted = (DealReview.objects.alive().filter(meeting=OuterRef("pk")).order_by().values("meeting")
               .annotate(n=Count("pk")).values("n"))
    return (ReviewMeeting.objects.visible_to(user).select_related("unit", "created_by")
            .annotate(item_count=Coalesce(Subquery(counted, output_field=IntegerField()), 0))
            .order_by("-held_on", "-id"))

def meeting_get(*, user: User, pk: int) -> ReviewMeeting | None:
    return ReviewMeeting.objects.visible_to(user).select_related("unit", "created_by").filter(pk=pk).first()

def meeting_items(*, user: User, meeting: ReviewMeeting) -> QuerySet[DealReview]:
    """The meeting's items `user` sees, in the order they were submitted."""
    return (review_list(user=user, filters=ReviewFilter(meeting=meeting.pk))
            .select_related("manager", "director", "decided_by", "escalated_by", "opportunity__account__unit")
            .order_by("submitted_at", "id"))

def schedulable_reviews(*, user: User, meeting: ReviewMeeting) -> QuerySet[DealReview]:
    """Open items `user` sees that may go on `meeting` and are not on it yet."""
    qs = DealReview.objects.visible_to(user).open().exclude(meeting=meeting)
    if meeting.is_senior:
        qs = qs.filter(escalated_at__isnull=False)
    else:
        qs = qs.filter(opportunity__account__unit__path__startswith=meeting.unit.path)
    return qs.select_related("opportunity__account").order_by("submitted_at", "id")

def meeting_units(*, user: User) -> QuerySet[OrgUnit]:
    """The units `user` may hold a meeting for: their own and those below."""
    if user.sees_everything:
        return OrgUnit.objects.filter(is_active=True)
    return OrgUnit.objects.filter(is_active=True, pk__in=user.visible_unit_ids or [])
