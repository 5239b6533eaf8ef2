"""Who may submit, recommend, decide, withdraw and schedule a deal review, and hold meetings.

The `check_*` functions say why not (PermissionDenied for the wrong person, ValidationFailed
for the wrong moment); the services call them before they write. The `may_*` answers are
the same checks as a yes or no, for the pages, the API and the templates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from kam.activities.policies import MANAGING_ROLES
from kam.core.conf import config
from kam.core.errors import PermissionDenied, ValidationFailed
from kam.core.models import Role
from kam.sales.models import DealReview, Opportunity, ReviewMeeting, ReviewStatus


def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def _manages(actor: Any, user: Any) -> bool:
    """`actor` holds a managing role above `user` in the org tree (or at HQ)."""
    if actor.role not in MANAGING_ROLES:
        return False
    return actor.sees_everything or (user.unit_id is not None and user.unit_id in actor.visible_unit_ids)


def _in_unit_of(actor: Any, unit_id: int | None) -> bool:
    return actor.sees_everything or (unit_id is not None and unit_id in actor.visible_unit_ids)


# --- who may act now: one answer for the services, the pages and the API ----------------------


def _closed_message(review: DealReview) -> str | None:
    if review.status == ReviewStatus.DECIDED:
        return _("This review is already decided.")
    if review.status == ReviewStatus.WITHDRAWN:
        return _("This review was withdrawn.")
    return None


def check_recommend_as_manager(actor: Any, review: DealReview) -> None:
    if actor.role != Role.MANAGER:
        raise PermissionDenied(_("Only a key-account manager gives the manager's recommendation."))
    if not _in_unit_of(actor, review.opportunity.account.unit_id):
        raise PermissionDenied(_("Only a manager of the account's unit gives the manager's recommendation."))
    if closed := _closed_message(review):
        raise _refused("status", closed)
    if review.status != ReviewStatus.SUBMITTED:
        raise _refused("status", _("The manager has already recommended."))


def check_recommend_as_director(actor: Any, review: DealReview) -> None:
    if actor.role != Role.DIRECTOR:
        raise PermissionDenied(_("Only the head of key accounts gives the director's recommendation."))
    if not _in_unit_of(actor, review.opportunity.account.unit_id):
        raise PermissionDenied(_("Only a director above the account's unit gives the director's recommendation."))
    if closed := _closed_message(review):
        raise _refused("status", closed)
    if review.status == ReviewStatus.SUBMITTED:
        raise _refused("status", _("The manager has not recommended yet."))
    if review.status != ReviewStatus.MANAGER:
        raise _refused("status", _("The director has already recommended."))


def check_decide(actor: Any, review: DealReview) -> None:
    if actor.role != Role.GENERAL_MANAGER:
        raise PermissionDenied(_("Only the general manager records the decision."))
    if closed := _closed_message(review):
        raise _refused("status", closed)
    if review.status == ReviewStatus.SUBMITTED:
        raise _refused("status", _("The manager has not recommended yet."))
    if review.status == ReviewStatus.MANAGER:
        raise _refused("status", _("The director has not recommended yet."))


def check_send_to_senior(actor: Any, review: DealReview) -> None:
    """The general manager sends an open item of at least REVIEW_SENIOR_AMOUNT to a senior review."""
    if actor.role != Role.GENERAL_MANAGER:
        raise PermissionDenied(_("Only the general manager sends an item to a senior review."))
    if closed := _closed_message(review):
        raise _refused("status", closed)
    if review.escalated_at is not None:
        raise _refused("status", _("This item is already on the senior review."))
    if review.amount < config().REVIEW_SENIOR_AMOUNT:
        raise _refused("amount", _("Only items of at least %(amount)s yuan go to a senior review.")
                       % {"amount": f"{config().REVIEW_SENIOR_AMOUNT:,.0f}"})


def check_withdraw(actor: Any, review: DealReview) -> None:
    if actor.pk not in (review.submitted_by_id, review.opportunity.owner_id) and not _manages(
            actor, review.opportunity.owner):
        raise PermissionDenied(_("Only the person who submitted the review, the opportunity's owner or their "
                                 "managers may withdraw it."))
    if closed := _closed_message(review):
        raise _refused("status", closed)


def check_schedule(actor: Any, review: DealReview, meeting: ReviewMeeting | None) -> None:
    if actor.role not in MANAGING_ROLES:
        raise PermissionDenied(_("Only managers, directors and the general manager put items on a meeting."))
    if closed := _closed_message(review):
        raise _refused("meeting", closed)
    if meeting is None:
        return
    if meeting.is_senior and review.escalated_at is None:
        raise _refused("meeting", _("A senior review takes only escalated items."))
    account_unit = review.opportunity.account.unit
    if not meeting.is_senior and not account_unit.path.startswith(meeting.unit.path):
        raise _refused("meeting", _("This meeting is for another unit's items."))


def _allowed(check: Callable[..., None], *args: Any) -> bool:
    try:
        check(*args)
    except (PermissionDenied, ValidationFailed):
        return False
    return True


def may_recommend(actor: Any, review: DealReview) -> bool:
    return _allowed(check_recommend_as_manager, actor, review) or _allowed(check_recommend_as_director, actor, review)


def may_decide(actor: Any, review: DealReview) -> bool:
    return _allowed(check_decide, actor, review)


def may_send_to_senior(actor: Any, review: DealReview) -> bool:
    return _allowed(check_send_to_senior, actor, review)


def may_withdraw(actor: Any, review: DealReview) -> bool:
    return _allowed(check_withdraw, actor, review)


def may_schedule(actor: Any, review: DealReview) -> bool:
    return _allowed(check_schedule, actor, review, None)


def may_submit(actor: Any, opportunity: Opportunity) -> bool:
    return actor.pk == opportunity.owner_id or _manages(actor, opportunity.owner)


def may_hold_meetings(actor: Any) -> bool:
    return actor.role in MANAGING_ROLES


SENIOR_REVIEW_ROLES = frozenset({Role.DIRECTOR, Role.GENERAL_MANAGER})


def may_hold_senior_review(actor: Any) -> bool:
    """The senior review (above REVIEW_SENIOR_AMOUNT) is held by the head of key accounts or the GM."""
    return may_hold_meetings(actor) and actor.role in SENIOR_REVIEW_ROLES
