"""Deal reviews: the order of the opinions, who may decide, the amount thresholds, escalation
with an explicit clock, the follow-up tasks of a decision, meetings and branch scoping."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kam.activities.models import Task, TaskSource, TaskStatus
from kam.activities.services import task_complete
from kam.core.errors import NotVisible, PermissionDenied, ValidationFailed
from kam.sales.models import DealReview, ReviewStatus
from kam.sales.reviews import selectors as review_reads
from kam.sales.reviews import services as reviews
from kam.sales.reviews.filters import ReviewFilter
from tests.sales.reviewing import SHEET, make_gm, submit, through_director

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def gm(org):
    return make_gm(org)


@pytest.fixture
def item(org, accounts, open_opportunity):
    """Specialist A's 250,000 元 opportunity, submitted for review by its owner."""
    return submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a))


# --- the order of the opinions ----------------------------------------------------------------


def test_the_director_cannot_recommend_before_the_manager(org, item):
    with pytest.raises(ValidationFailed, match="The manager has not recommended yet."):
        reviews.review_recommend_as_director(actor=org.director, review=item, recommendation="同意")
    item.refresh_from_db()
    assert item.status == ReviewStatus.SUBMITTED and item.director_recommendation == ""


def test_only_the_general_manager_decides(org, gm, item):
    through_director(org, item)
    for someone in (org.specialist_a, org.manager_a, org.director, org.admin, org.analyst_hq):
        with pytest.raises(PermissionDenied, match="Only the general manager records the decision."):
            reviews.review_decide(actor=someone, review=item, decision="立项跟进")
    item.refresh_from_db()
    assert item.status == ReviewStatus.DIRECTOR and item.decision == ""
    assert not Task.objects.filter(source_kind=TaskSource.REVIEW).exists()


def test_the_general_manager_decides_only_after_both_recommendations(org, gm, item):
    # given a review no one has recommended yet
    with pytest.raises(ValidationFailed, match="The manager has not recommended yet."):
        reviews.review_decide(actor=gm, review=item, decision="立项")
    # when only the manager has recommended
    reviews.review_recommend_as_manager(actor=org.manager_a, review=item, recommendation="建议跟进")
    with pytest.raises(ValidationFailed, match="The director has not recommended yet."):
        reviews.review_decide(actor=gm, review=item, decision="立项")
    # then after the director the general manager decides
    reviews.review_recommend_as_director(actor=org.director, review=item, recommendation="同意")
    decided = reviews.review_decide(actor=gm, review=item, decision="立项，总部给予价格支持")
    assert decided.status == ReviewStatus.DECIDED and decided.decided_by == gm and decided.decided_at is not None
    stored = DealReview.objects.get(pk=item.pk)
    assert (stored.manager, stored.director, stored.decided_by) == (org.manager_a, org.director, gm)
    assert stored.manager_at <= stored.director_at <= stored.decided_at


def test_each_opinion_is_given_once_and_by_its_role(org, gm, item):
    with pytest.raises(PermissionDenied):
        reviews.review_recommend_as_manager(actor=org.director, review=item, recommendation="x")
    with pytest.raises(PermissionDenied):
        reviews.review_recommend_as_manager(actor=org.specialist_a, review=item, recommendation="x")
    with pytest.raises(PermissionDenied):
        reviews.review_recommend_as_director(actor=org.manager_a, review=item, recommendation="x")
    with pytest.raises(PermissionDenied, match="general manager records the decision"):
        reviews.review_recommend(actor=gm, review=item, recommendation="x")
    reviews.review_recommend(actor=org.manager_a, review=item, recommendation="建议跟进")
    with pytest.raises(ValidationFailed, match="The manager has already recommended."):
        reviews.review_recommend(actor=org.manager_a, review=item, recommendation="再说一次")
    reviews.review_recommend(actor=org.director, review=item, recommendation="同意")
    with pytest.raises(ValidationFailed, match="The director has already recommended."):
        reviews.review_recommend(actor=org.director, review=item, recommendation="再说一次")
    with pytest.raises(ValidationFailed) as blank:
        reviews.review_decide(actor=gm, review=item, decision="   ")
    assert "decision" in blank.value.errors
    item.refresh_from_db()
    assert item.manager_recommendation == "建议跟进" and item.director_recommendation == "同意"


# --- the decision and its follow-up -----------------------------------------------------------


def test_a_decision_creates_the_follow_up_task_once(org, gm, item):
    through_director(org, item)
    at = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
    reviews.review_decide(actor=gm, review=item, decision="立项跟进", at=at)
    tasks = list(Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=item.pk))
    assert len(tasks) == 1
    task = tasks[0]
    assert task.owner == org.specialist_a and task.account == item.opportunity.account
    assert task.due_on == at.date() + timedelta(days=7) and task.status == TaskStatus.OPEN
    # a second decision is refused and adds nothing
    with pytest.raises(ValidationFailed, match="already decided"):
        reviews.review_decide(actor=gm, review=item, decision="再议")
    assert Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=item.pk).count() == 1


def test_follow_ups_named_by_the_general_manager_become_tasks_due_after_the_configured_days(
        org, gm, item, settings):
    settings.KAM = {**settings.KAM, "REVIEW_FOLLOW_UP_DAYS": 3}
    through_director(org, item)
    at = datetime(2026, 3, 2, 23, 30, tzinfo=SHANGHAI)  # local date, not UTC's
    reviews.review_decide(actor=gm, review=item, decision="立项", follow_ups=["安排高层拜访", " ", "提交技术方案"], at=at)
    tasks = Task.objects.filter(source_kind=TaskSource.REVIEW, source_id=item.pk).order_by("id")
    assert [(t.title, t.due_on.isoformat()) for t in tasks] == [("安排高层拜访", "2026-03-05"), ("提交技术方案", "2026-03-05")]


def test_the_review_list_tracks_open_overdue_and_done_follow_ups(org, gm, item):
    through_director(org, item)
    reviews.review_decide(actor=gm, review=item, decision="立项", at=datetime(2026, 3, 2, 10, tzinfo=SHANGHAI))
    due = Task.objects.get(source_kind=TaskSource.REVIEW, source_id=item.pk).due_on

    def listed(follow_up, today):
        qs = review_reads.review_list(user=org.director, filters=ReviewFilter(follow_up=follow_up), today=today)
        return [r.pk for r in qs]

    assert listed("open", due) == [item.pk] and listed("overdue", due) == []
    assert listed("overdue", due + timedelta(days=1)) == [item.pk]
    row = review_reads.review_list(user=org.director, today=due + timedelta(days=1)).get(pk=item.pk)
    assert (row.follow_ups_total, row.follow_ups_open, row.follow_ups_overdue) == (1, 1, 1)
    task_complete(actor=org.specialist_a, task=Task.objects.get(source_kind=TaskSource.REVIEW, source_id=item.pk))
    assert listed("open", due) == [] and listed("overdue", due + timedelta(days=1)) == []
    assert listed("done", due) == [item.pk]


# --- submitting -------------------------------------------------------------------------------


def test_below_the_minimum_amount_is_refused(org, accounts, open_opportunity):
    small = open_opportunity(org.specialist_a, accounts.a, amount=Decimal("9999.99"))
    with pytest.raises(ValidationFailed, match="at least 10,000 yuan") as refused:
        submit(org.specialist_a, small)
    assert "amount" in refused.value.errors
    # the sheet's own amount counts too
    big = open_opportunity(org.specialist_a, accounts.a, name="另一个项目")
    with pytest.raises(ValidationFailed):
        submit(org.specialist_a, big, amount="9999.99")
    assert not DealReview.objects.exists()
    # exactly the minimum is enough
    exact = open_opportunity(org.specialist_a, accounts.a, name="第三个项目", amount=Decimal("10000"))
    assert submit(org.specialist_a, exact).amount == Decimal("10000.00")


def test_the_minimum_amount_is_a_setting(org, accounts, open_opportunity, settings):
    settings.KAM = {**settings.KAM, "REVIEW_MIN_AMOUNT": "300000"}
    with pytest.raises(ValidationFailed, match="300,000"):
        submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a))


def test_project_and_amount_default_to_the_opportunity(org, accounts, open_opportunity):
    opportunity = open_opportunity(org.specialist_a, accounts.a, name="园区专线", amount=Decimal("180000"))
    review = submit(org.specialist_a, opportunity)
    assert (review.project, review.amount, review.submitted_by) == ("园区专线", Decimal("180000.00"), org.specialist_a)
    assert review.brief == SHEET["brief"] and review.status == ReviewStatus.SUBMITTED


def test_every_part_of_the_sheet_is_required(org, accounts, open_opportunity):
    opportunity = open_opportunity(org.specialist_a, accounts.a)
    with pytest.raises(ValidationFailed) as refused:
        submit(org.specialist_a, opportunity, core_needs="", proposed_strategy="  ")
    assert set(refused.value.errors) == {"core_needs", "proposed_strategy"}
    assert not DealReview.objects.exists()


def test_one_open_review_per_opportunity_until_withdrawn(org, accounts, open_opportunity):
    opportunity = open_opportunity(org.specialist_a, accounts.a)
    first = submit(org.specialist_a, opportunity)
    with pytest.raises(ValidationFailed, match="already under review"):
        submit(org.manager_a, opportunity)
    reviews.review_withdraw(actor=org.specialist_a, review=first)
    with pytest.raises(ValidationFailed, match="withdrawn"):
        reviews.review_recommend_as_manager(actor=org.manager_a, review=first, recommendation="x")
    second = submit(org.specialist_a, opportunity)
    assert second.pk != first.pk and DealReview.objects.open().count() == 1


def test_a_closed_opportunity_cannot_be_submitted(org, accounts, open_opportunity):
    from kam.sales.models import OutcomeReason
    from kam.sales.opportunities.services import opportunity_close

    opportunity = open_opportunity(org.specialist_a, accounts.a)
    opportunity_close(actor=org.specialist_a, opportunity=opportunity, outcome="lost",
                      reason=OutcomeReason.objects.get(code="price"), note="价格")
    with pytest.raises(ValidationFailed, match="open opportunity"):
        submit(org.specialist_a, opportunity)


def test_who_may_submit(org, accounts, open_opportunity):
    opportunity = open_opportunity(org.specialist_a, accounts.a)
    # another specialist of the branch does not see the account
    with pytest.raises(NotVisible):
        submit(org.specialist_a2, opportunity)
    # the analyst sees it but neither owns it nor manages its owner
    with pytest.raises(PermissionDenied, match="owner or a manager above them"):
        submit(org.analyst_hq, opportunity)
    # the owner's manager may
    assert submit(org.manager_a, opportunity).submitted_by == org.manager_a


# --- escalation -------------------------------------------------------------------------------


@pytest.fixture
def after_14_days(settings):
    """The automatic escalation switched on, at 14 days (it is off by default)."""
    settings.KAM = {**settings.KAM, "REVIEW_SENIOR_AFTER_DAYS": 14}


def _submitted_at(org, accounts, open_opportunity, amount: str, at: datetime, name: str):
    opportunity = open_opportunity(org.specialist_a, accounts.a, name=name, amount=Decimal(amount))
    return submit(org.specialist_a, opportunity, at=at)


def test_escalation_at_exactly_the_senior_amount_and_days(org, accounts, open_opportunity, after_14_days):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    exact = _submitted_at(org, accounts, open_opportunity, "100000", t0, "正好十万")
    below = _submitted_at(org, accounts, open_opportunity, "99999.99", t0, "差一分")
    # one second short of fourteen days nothing escalates
    assert reviews.review_escalation_sweep(now=t0 + timedelta(days=14, seconds=-1)) == 0
    # at fourteen days the item at the senior amount escalates, the one below does not
    now = t0 + timedelta(days=14)
    assert reviews.review_escalation_sweep(now=now) == 1
    exact.refresh_from_db()
    below.refresh_from_db()
    assert exact.escalated_at == now and below.escalated_at is None


def test_the_sweep_is_idempotent_and_skips_decided_and_withdrawn_items(org, gm, accounts, open_opportunity, after_14_days):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    open_item = _submitted_at(org, accounts, open_opportunity, "500000", t0, "开放")
    decided = _submitted_at(org, accounts, open_opportunity, "500000", t0, "已决")
    withdrawn = _submitted_at(org, accounts, open_opportunity, "500000", t0, "撤回")
    through_director(org, decided)
    reviews.review_decide(actor=gm, review=decided, decision="立项")
    reviews.review_withdraw(actor=org.specialist_a, review=withdrawn)
    first = t0 + timedelta(days=20)
    assert reviews.review_escalation_sweep(now=first) == 1
    assert reviews.review_escalation_sweep(now=first + timedelta(days=1)) == 0
    open_item.refresh_from_db()
    assert open_item.escalated_at == first
    assert not DealReview.objects.filter(pk__in=[decided.pk, withdrawn.pk], escalated_at__isnull=False).exists()


def test_an_escalated_item_is_one_task_for_the_director_above_closed_by_the_decision(org, gm, accounts,
                                                                                     open_opportunity, after_14_days):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    item = _submitted_at(org, accounts, open_opportunity, "500000", t0, "高层")
    reviews.review_escalation_sweep(now=t0 + timedelta(days=14))
    reviews.review_escalation_sweep(now=t0 + timedelta(days=15))
    senior = Task.objects.filter(source_kind=TaskSource.SENIOR_REVIEW, source_id=item.pk)
    # one task, for the HQ director (the nearest director above branch A's specialist)
    assert [(t.owner, t.status) for t in senior] == [(org.director, TaskStatus.OPEN)]
    # and it is not a follow-up of the decision
    assert review_reads.review_follow_ups(item) == []
    through_director(org, item)
    reviews.review_decide(actor=gm, review=item, decision="同意开发")
    assert senior.get().status == TaskStatus.DONE


def test_the_senior_thresholds_are_settings(org, accounts, open_opportunity, settings):
    settings.KAM = {**settings.KAM, "REVIEW_SENIOR_AMOUNT": "50000", "REVIEW_SENIOR_AFTER_DAYS": 3}
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    item = _submitted_at(org, accounts, open_opportunity, "60000", t0, "六万")
    assert reviews.review_escalation_sweep(now=t0 + timedelta(days=3)) == 1
    item.refresh_from_db()
    assert item.escalated_at is not None


def test_the_nightly_task_runs_the_sweep(org, accounts, open_opportunity, after_14_days):
    from kam.sales.tasks import review_escalation_sweep

    t0 = timezone.now() - timedelta(days=30)
    _submitted_at(org, accounts, open_opportunity, "200000", t0, "夜间")
    result = review_escalation_sweep.enqueue(now=timezone.now().isoformat())
    assert result.return_value == 1


# --- meetings ---------------------------------------------------------------------------------


def test_a_meeting_collects_its_units_items_and_a_senior_review_only_escalated_ones(
        org, gm, accounts, open_opportunity):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    item = _submitted_at(org, accounts, open_opportunity, "300000", t0, "三十万")
    held_on = t0.date() + timedelta(days=5)
    branch = reviews.meeting_create(actor=org.manager_a, title="三月第一次研讨会", held_on=held_on)
    assert branch.unit == org.branch_a
    reviews.review_schedule(actor=org.manager_a, review=item, meeting=branch)
    assert list(review_reads.meeting_items(user=org.manager_a, meeting=branch)) == [item]
    senior = reviews.meeting_create(actor=org.director, title="高层研讨会", held_on=held_on, is_senior=True)
    with pytest.raises(ValidationFailed, match="only escalated items"):
        reviews.review_schedule(actor=org.director, review=item, meeting=senior)
    assert list(review_reads.schedulable_reviews(user=org.director, meeting=senior)) == []
    reviews.review_send_to_senior(actor=gm, review=item, reason="金额大", at=t0 + timedelta(days=2))
    assert list(review_reads.schedulable_reviews(user=org.director, meeting=senior)) == [item]
    reviews.review_schedule(actor=org.director, review=item, meeting=senior)
    item.refresh_from_db()
    assert item.meeting == senior


def test_who_holds_meetings(org, accounts, open_opportunity):
    held_on = timezone.localdate()
    with pytest.raises(PermissionDenied):
        reviews.meeting_create(actor=org.specialist_a, title="x", held_on=held_on)
    with pytest.raises(PermissionDenied, match="senior review"):
        reviews.meeting_create(actor=org.manager_a, title="x", held_on=held_on, is_senior=True)
    with pytest.raises(ValidationFailed, match="units you manage"):
        reviews.meeting_create(actor=org.manager_a, title="x", held_on=held_on, unit=org.branch_b)
    # branch B's meeting does not take branch A's items
    item = submit(org.specialist_a, open_opportunity(org.specialist_a, accounts.a))
    b_meeting = reviews.meeting_create(actor=org.manager_b, title="深圳研讨会", held_on=held_on)
    with pytest.raises(ValidationFailed, match="another unit"):
        reviews.review_schedule(actor=org.director, review=item, meeting=b_meeting)


# --- scoping ----------------------------------------------------------------------------------


def test_branch_b_cannot_see_or_act_on_branch_a_reviews(org, gm, item):
    for outsider in (org.manager_b, org.specialist_b):
        assert review_reads.review_get(user=outsider, pk=item.pk) is None
        assert not review_reads.review_list(user=outsider).exists()
        with pytest.raises(NotVisible):
            reviews.review_recommend(actor=outsider, review=item, recommendation="x")
        with pytest.raises(NotVisible):
            reviews.review_withdraw(actor=outsider, review=item)
    a_meeting = reviews.meeting_create(actor=org.manager_a, title="广州研讨会", held_on=timezone.localdate())
    reviews.review_schedule(actor=org.manager_a, review=item, meeting=a_meeting)
    assert not review_reads.meeting_list(user=org.manager_b).filter(pk=a_meeting.pk).exists()
    assert review_reads.meeting_list(user=org.specialist_a).filter(pk=a_meeting.pk).exists()  # their item is on it
    item.refresh_from_db()
    assert item.status == ReviewStatus.SUBMITTED and item.manager_recommendation == ""


def test_by_default_nothing_escalates_by_itself(org, accounts, open_opportunity):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    item = _submitted_at(org, accounts, open_opportunity, "500000", t0, "不会自动升级")
    assert reviews.review_escalation_sweep(now=t0 + timedelta(days=365)) == 0
    item.refresh_from_db()
    assert item.escalated_at is None


def test_the_general_manager_sends_a_large_item_to_a_senior_review_with_a_reason(org, gm, accounts, open_opportunity):
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI)
    large = _submitted_at(org, accounts, open_opportunity, "100000", t0, "正好十万")
    small = _submitted_at(org, accounts, open_opportunity, "99999.99", t0, "差一分")
    # only the general manager, only with a reason, only at the senior amount
    with pytest.raises(PermissionDenied):
        reviews.review_send_to_senior(actor=org.director, review=large, reason="竞争激烈")
    with pytest.raises(ValidationFailed) as empty:
        reviews.review_send_to_senior(actor=gm, review=large, reason="  ")
    assert "reason" in empty.value.errors
    with pytest.raises(ValidationFailed) as too_small:
        reviews.review_send_to_senior(actor=gm, review=small, reason="竞争激烈")
    assert "amount" in too_small.value.errors
    sent = reviews.review_send_to_senior(actor=gm, review=large, reason="金额大、竞争激烈", at=t0 + timedelta(days=2))
    assert (sent.escalated_at, sent.escalated_by, sent.escalation_reason) == (t0 + timedelta(days=2), gm, "金额大、竞争激烈")
    senior = Task.objects.filter(source_kind=TaskSource.SENIOR_REVIEW, source_id=large.pk)
    assert [t.owner for t in senior] == [org.director]
    with pytest.raises(ValidationFailed):  # once
        reviews.review_send_to_senior(actor=gm, review=large, reason="再次")
    assert DealReview.objects.get(pk=small.pk).escalated_at is None
