"""Each feature's policy is enforced by its service: called directly (no view in between) by a
role the policy denies, the service refuses with PermissionDenied and writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from factories import AccountFactory
from kam.core.errors import PermissionDenied
from kam.core.models import Region
from kam.sales.leads import policies as lead_policies
from kam.sales.leads.rules import lead_rule_save
from kam.sales.leads.services import lead_assign, lead_create
from kam.sales.models import (
    DealReview,
    Lead,
    LeadAssignmentRule,
    LeadSource,
    Opportunity,
    OutcomeReason,
    PoolEvent,
    ReviewMeeting,
    ReviewStatus,
)
from kam.sales.opportunities import policies as opportunity_policies
from kam.sales.opportunities.services import opportunity_close, opportunity_reopen
from kam.sales.pool import policies as pool_policies
from kam.sales.pool.services import pool_assign, pool_claim, pool_release
from kam.sales.reviews import policies as review_policies
from kam.sales.reviews.services import meeting_create, review_decide
from tests.sales.reviewing import submit

pytestmark = pytest.mark.django_db


def test_a_specialist_may_not_make_lead_rules(org):
    # given a specialist, whom the policy denies
    assert not lead_policies.may_manage_rule(org.specialist_a)
    before = LeadAssignmentRule.objects.count()
    # when the service is called directly
    with pytest.raises(PermissionDenied):
        lead_rule_save(actor=org.specialist_a, data={"name": "天河", "unit": org.office_a1.pk})
    # then no rule is written
    assert LeadAssignmentRule.objects.count() == before


def test_a_specialist_may_not_assign_a_lead(org):
    source = LeadSource.objects.order_by("pk").first()
    lead = lead_create(actor=org.manager_a, data={"source": source, "company": "广州天河某公司",
                                                  "region": Region.objects.first()}, assignee=org.specialist_a)
    assert not lead_policies.may_assign(org.specialist_a, lead)
    with pytest.raises(PermissionDenied):
        lead_assign(actor=org.specialist_a, lead=lead, assignee=org.specialist_a2)
    assert Lead.objects.get(pk=lead.pk).assignee_id == org.specialist_a.pk


def test_an_analyst_may_not_claim_or_assign_and_a_specialist_may_not_assign_from_the_pool(org):
    account = AccountFactory(owner=org.specialist_a)
    pool_release(actor=org.specialist_a, account=account, note="客户迁出本区域")
    events = PoolEvent.objects.filter(account=account).count()
    assert not pool_policies.may_claim(org.analyst_hq)
    with pytest.raises(PermissionDenied):
        pool_claim(actor=org.analyst_hq, account=account)
    assert not pool_policies.may_assign(org.specialist_a)
    with pytest.raises(PermissionDenied):
        pool_assign(actor=org.specialist_a, account=account, owner=org.specialist_a)
    assert not pool_policies.may_assign(org.analyst_hq)  # HQ's analysts see the pool and read it only
    with pytest.raises(PermissionDenied):
        pool_assign(actor=org.analyst_hq, account=account, owner=org.specialist_a)
    account.refresh_from_db()
    assert account.owner_id is None and PoolEvent.objects.filter(account=account).count() == events


def test_a_specialist_who_does_not_own_it_may_not_reopen_an_opportunity(org, open_opportunity):
    account = AccountFactory(owner=org.specialist_a)
    opportunity = open_opportunity(org.manager_a, account, owner=org.manager_a)
    opportunity_close(actor=org.manager_a, opportunity=opportunity, outcome="won",
                      reason=OutcomeReason.objects.get(code="price"), note="报价更优")
    opportunity.refresh_from_db()
    assert not opportunity_policies.may_reopen(org.specialist_a, opportunity)
    with pytest.raises(PermissionDenied):
        opportunity_reopen(actor=org.specialist_a, opportunity=opportunity)
    assert Opportunity.objects.get(pk=opportunity.pk).stage == "won"


def test_a_manager_may_not_decide_a_review_nor_a_specialist_hold_a_meeting(org, accounts, open_opportunity):
    opportunity = open_opportunity(org.specialist_a, accounts.a, amount=Decimal("500000"))
    review = submit(org.specialist_a, opportunity)
    assert not review_policies.may_decide(org.manager_a, review)
    with pytest.raises(PermissionDenied):
        review_decide(actor=org.manager_a, review=review, decision="同意")
    assert DealReview.objects.get(pk=review.pk).status == ReviewStatus.SUBMITTED
    assert not review_policies.may_hold_meetings(org.specialist_a)
    with pytest.raises(PermissionDenied):
        meeting_create(actor=org.specialist_a, title="周例会", held_on=date(2026, 12, 7))
    assert not ReviewMeeting.objects.exists()
