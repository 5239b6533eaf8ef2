"""Deal reviews (大客户开发研讨会): submit an opportunity with its tracking sheet, put it on a
meeting, the manager and then the director recommend, the general manager decides.

The order is the rule of the meeting and lives here only: the pages and the API ask the same
`may_*` questions before they show a form, and the services ask them again before they write.
A decision creates the follow-up tasks it is tracked by; items at or above the senior amount
left without a decision escalate to a senior review (the nightly sweep).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.activities.models import TaskSource, TaskStatus
from kam.activities.services import NewTask, task_create, tasks_close_from, tasks_open_many
from kam.core.conf import config
from kam.core.errors import NotVisible, PermissionDenied, ValidationFailed
from kam.core.models import OrgUnit, Role, User
from kam.core.money import parse_yuan
from kam.sales.models import DealReview, Opportunity, ReviewMeeting, ReviewStatus
from kam.sales.reviews import policies
from kam.sales.reviews.selectors import meeting_units

SHEET_FIELDS = ("brief", "core_needs", "main_problems", "proposed_strategy")

def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def _save(obj: models.Model, actor: User | None) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # django-simple-history's author of the record
    obj.save()


def _aware(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    return timezone.make_aware(at) if timezone.is_naive(at) else at


# --- reading -----------------------------------------------------------------------------------


# --- writing -----------------------------------------------------------------------------------


def _review_to_change(actor: User, review: DealReview | int) -> DealReview:
    pk = review.pk if isinstance(review, DealReview) else int(review)
    locked = DealReview.objects.visible_to(actor).select_for_update(of=("self",)).filter(pk=pk).first()
    if locked is None:
        raise NotVisible(_("Not found."))
    # Related rows read after the lock, so the checks see what was just locked.
    return (DealReview.objects.select_related("opportunity__account__unit", "opportunity__owner__unit")
            .get(pk=locked.pk))


def _text(value: Any, field: str, *, label: str) -> str:
    text = str(value or "").strip()
    if not text:
        raise _refused(field, _("Write the %(what)s.") % {"what": label})
    return text


@transaction.atomic
def review_submit(
    *,
    actor: User,
    opportunity: Opportunity,
    brief: str,
    core_needs: str,
    main_problems: str,
    proposed_strategy: str,
    project: str | None = None,
    amount: Any = None,
    at: datetime | None = None,
) -> DealReview:
    """Submit an open opportunity of at least REVIEW_MIN_AMOUNT for review with its tracking
    sheet. Its owner or a manager above the owner may; one open review per opportunity."""
    locked = (Opportunity.objects.visible_to(actor).select_for_update(of=("self",))
              .filter(pk=opportunity.pk).first())
    if locked is None:
        raise NotVisible(_("Not found."))
    opportunity = Opportunity.objects.select_related("account", "owner__unit").get(pk=locked.pk)
    if not policies.may_submit(actor, opportunity):
        raise PermissionDenied(_("Only the opportunity's owner or a manager above them may submit it for review."))
    if not opportunity.is_open:
        raise _refused("opportunity", _("Only an open opportunity can be submitted for review."))
    if DealReview.objects.open().filter(opportunity=opportunity).exists():
        raise _refused("opportunity", _("This opportunity is already under review."))
    amount = opportunity.amount if amount in (None, "") else parse_yuan(amount, field="amount")
    minimum = config().REVIEW_MIN_AMOUNT
    if amount < minimum:
        raise _refused("amount", _("Only deals of at least %(minimum)s yuan are reviewed.") % {
            "minimum": f"{minimum:,.0f}"})
    errors: dict[str, list[str]] = {}
    labels = {"brief": _("account brief"), "core_needs": _("core needs"), "main_problems": _("main problems"),
              "proposed_strategy": _("proposed strategy")}
    values = {"brief": brief, "core_needs": core_needs, "main_problems": main_problems,
              "proposed_strategy": proposed_strategy}
    sheet = {}
    for field in SHEET_FIELDS:
        try:
            sheet[field] = _text(values[field], field, label=labels[field])
        except ValidationFailed as exc:
            errors.update(exc.errors)
    project = (project or "").strip() or opportunity.name
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    review = DealReview(opportunity=opportunity, project=project[:200], amount=amount, submitted_by=actor,
                        submitted_at=_aware(at), **sheet)
    _save(review, actor)
    return review


@transaction.atomic
def review_recommend_as_manager(*, actor: User, review: DealReview, recommendation: str,
                                at: datetime | None = None) -> DealReview:
    """The manager's recommendation (经理意见): a manager of the account's unit, first."""
    review = _review_to_change(actor, review)
    policies.check_recommend_as_manager(actor, review)
    review.manager_recommendation = _text(recommendation, "recommendation", label=_("recommendation"))
    review.manager = actor
    review.manager_at = _aware(at)
    review.status = ReviewStatus.MANAGER
    _save(review, actor)
    return review


@transaction.atomic
def review_recommend_as_director(*, actor: User, review: DealReview, recommendation: str,
                                 at: datetime | None = None) -> DealReview:
    """The director's recommendation (总监意见): only after the manager's."""
    review = _review_to_change(actor, review)
    policies.check_recommend_as_director(actor, review)
    review.director_recommendation = _text(recommendation, "recommendation", label=_("recommendation"))
    review.director = actor
    review.director_at = _aware(at)
    review.status = ReviewStatus.DIRECTOR
    _save(review, actor)
    return review


@transaction.atomic
def review_recommend(*, actor: User, review: DealReview, recommendation: str, at: datetime | None = None) -> DealReview:
    """The recommendation the actor's role gives: a manager's or a director's."""
    review = _review_to_change(actor, review)
    if actor.role == Role.DIRECTOR:
        return review_recommend_as_director(actor=actor, review=review, recommendation=recommendation, at=at)
    if actor.role == Role.MANAGER:
        return review_recommend_as_manager(actor=actor, review=review, recommendation=recommendation, at=at)
    if actor.role == Role.GENERAL_MANAGER:
        raise PermissionDenied(_("The general manager records the decision, not a recommendation."))
    raise PermissionDenied(_("Only the manager and then the director recommend."))


def _follow_up_owner(review: DealReview) -> User | None:
    """The opportunity's owner follows up; if they have left, who submitted the review."""
    owner = review.opportunity.owner
    if owner.is_active:
        return owner
    return review.submitted_by if review.submitted_by.is_active else None


@transaction.atomic
def review_decide(*, actor: User, review: DealReview, decision: str, follow_ups: Iterable[str] | None = None,
                  at: datetime | None = None) -> DealReview:
    """The general manager's decision (开发决议), after both recommendations. Each follow-up
    (one task per line; the decision itself when none is given) becomes a task of the
    opportunity's owner due REVIEW_FOLLOW_UP_DAYS later."""
    review = _review_to_change(actor, review)
    policies.check_decide(actor, review)
    decision = _text(decision, "decision", label=_("decision"))
    at = _aware(at)
    owner = _follow_up_owner(review)
    if owner is None:
        raise _refused("decision", _("The opportunity's owner has left: give the opportunity a new owner first."))
    titles = [line.strip() for line in (follow_ups or []) if line and line.strip()]
    if not titles:
        titles = [_("Follow up the review decision: %(project)s") % {"project": review.project}]
    due_on = timezone.localdate(at) + timedelta(days=config().REVIEW_FOLLOW_UP_DAYS)
    review.decision = decision
    review.decided_by = actor
    review.decided_at = at
    review.status = ReviewStatus.DECIDED
    _save(review, actor)
    _close_senior_tasks(review, TaskStatus.DONE, actor, at)
    for title in titles:
        task_create(actor=actor, owner=owner, account=review.opportunity.account, title=title[:200],
                    due_on=due_on, source_kind=TaskSource.REVIEW, source_id=review.pk)
    return review


@transaction.atomic
def review_withdraw(*, actor: User, review: DealReview) -> DealReview:
    """Take an open item off review (the deal moved on); it may be submitted again later."""
    review = _review_to_change(actor, review)
    policies.check_withdraw(actor, review)
    review.status = ReviewStatus.WITHDRAWN
    _save(review, actor)
    _close_senior_tasks(review, TaskStatus.CANCELLED, actor, timezone.now())
    return review


def _close_senior_tasks(review: DealReview, status: str, actor: User, at: datetime) -> None:
    tasks_close_from(actor=actor, source_kind=TaskSource.SENIOR_REVIEW, source_id=review.pk, status=status, at=at)


def senior_reviewer(owner: User | None) -> User | None:
    """Who holds the senior review of an item: the director nearest above the opportunity's
    owner in the org tree, else the general manager."""
    directors: list[User] = []
    if owner is not None and owner.unit is not None:
        chain = [int(part) for part in owner.unit.path.strip("/").split("/") if part]
        directors = list(User.objects.filter(is_active=True, role=Role.DIRECTOR, unit_id__in=chain).order_by("id"))
        directors.sort(key=lambda u: -chain.index(u.unit_id or 0))
    return (directors[0] if directors
            else User.objects.filter(is_active=True, role=Role.GENERAL_MANAGER).order_by("id").first())


@transaction.atomic
def meeting_create(*, actor: User, title: str, held_on: date, unit: OrgUnit | None = None, is_senior: bool = False,
                   notes: str = "") -> ReviewMeeting:
    """A review meeting of a unit the actor manages (their own by default). Senior reviews
    are held by the head of key accounts or the general manager."""
    if not policies.may_hold_meetings(actor):
        raise PermissionDenied(_("Only managers, directors and the general manager hold review meetings."))
    if is_senior and not policies.may_hold_senior_review(actor):
        raise PermissionDenied(_("Only the head of key accounts or the general manager holds a senior review."))
    unit = unit or actor.unit
    if unit is None or not meeting_units(user=actor).filter(pk=unit.pk).exists():
        raise _refused("unit", _("Hold meetings only for the units you manage."))
    title = (title or "").strip()
    if not title:
        raise _refused("title", _("Give the meeting a title."))
    if not isinstance(held_on, date):
        raise _refused("held_on", _("Enter the date of the meeting."))
    meeting = ReviewMeeting(title=title[:200], held_on=held_on, unit=unit, is_senior=bool(is_senior),
                            notes=(notes or "").strip(), created_by=actor)
    meeting.save()
    return meeting


@transaction.atomic
def meeting_update_notes(*, actor: User, meeting: ReviewMeeting, notes: str) -> ReviewMeeting:
    """The minutes of a meeting, kept by those who may hold it."""
    meeting = ReviewMeeting.objects.visible_to(actor).filter(pk=meeting.pk).first()
    if meeting is None:
        raise NotVisible(_("Not found."))
    if not policies.may_hold_meetings(actor) or not meeting_units(user=actor).filter(pk=meeting.unit_id).exists():
        raise PermissionDenied(_("Only managers of the meeting's unit keep its minutes."))
    meeting.notes = (notes or "").strip()
    meeting.save(update_fields=["notes"])
    return meeting


@transaction.atomic
def review_schedule(*, actor: User, review: DealReview, meeting: ReviewMeeting | None) -> DealReview:
    """Put an open item on a meeting (None takes it off). A unit's meeting takes the items
    of its subtree; a senior review takes escalated items."""
    review = _review_to_change(actor, review)
    if meeting is not None:
        meeting = ReviewMeeting.objects.visible_to(actor).select_related("unit").filter(pk=meeting.pk).first()
        if meeting is None:
            raise NotVisible(_("Not found."))
    policies.check_schedule(actor, review, meeting)
    review.meeting = meeting
    _save(review, actor)
    return review


def _senior_task(review: DealReview, now: datetime) -> None:
    """The senior reviewer gets the item on their list, once."""
    if (person := senior_reviewer(review.opportunity.owner)) is not None:
        tasks_open_many(actor=None, tasks=[NewTask(
            owner_id=person.pk, account_id=review.opportunity.account_id, due_on=timezone.localdate(now),
            title=_("Senior review: %(project)s (%(amount)s yuan)")
            % {"project": review.project, "amount": f"{review.amount:,.2f}"},
            source_kind=TaskSource.SENIOR_REVIEW, source_id=review.pk, created_by_id=person.pk)])


@transaction.atomic
def review_send_to_senior(*, actor: User, review: DealReview, reason: str, at: datetime | None = None) -> DealReview:
    """The general manager sends a hard item of at least REVIEW_SENIOR_AMOUNT to a senior
    review (高层评审), saying why; the senior reviewer gets it on their list."""
    review = _review_to_change(actor, review)
    policies.check_send_to_senior(actor, review)
    reason = _text(reason, "reason", label=_("why a senior review"))
    at = _aware(at)
    review.escalated_at, review.escalated_by, review.escalation_reason = at, actor, reason
    _save(review, actor)
    _senior_task(review, at)
    return review


@transaction.atomic
def review_escalation_sweep(*, now: datetime | None = None) -> int:
    """With REVIEW_SENIOR_AFTER_DAYS above 0, open items of at least REVIEW_SENIOR_AMOUNT
    submitted that many days or more before `now` escalate to the senior review by themselves
    (escalated_at is set once). Off (0) by default: the general manager sends items there.
    Returns how many escalated."""
    if not config().REVIEW_SENIOR_AFTER_DAYS:
        return 0
    now = _aware(now)
    cutoff = now - timedelta(days=config().REVIEW_SENIOR_AFTER_DAYS)
    due = (DealReview.objects.alive().open().select_for_update(of=("self",))
           .filter(escalated_at__isnull=True, amount__gte=config().REVIEW_SENIOR_AMOUNT,
                   submitted_at__lte=cutoff))
    count = 0
    for review in due.select_related("opportunity__account", "opportunity__owner__unit"):
        review.escalated_at = now
        _save(review, None)
        _senior_task(review, now)  # once: the sweep never escalates twice
        count += 1
    return count
