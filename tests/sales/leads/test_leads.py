"""Leads: assignment rules and the round robin, the SLA clock with a frozen clock (escalation
at the deadline, reassignment one period later, an idempotent sweep), follow-ups,
qualification with 查重, and scoping across branches."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from factories import AccountFactory, Role, user, valid_uscc
from kam.accounts.models import Account
from kam.accounts.services import DuplicateAccount
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed
from kam.core.models import Industry, Region
from kam.sales.leads.filters import LeadFilter as LeadFilters
from kam.sales.leads.routing import lead_sla_sweep
from kam.sales.leads.selectors import lead_list
from kam.sales.leads.services import (
    AccountChoiceNeeded,
    lead_assign,
    lead_create,
    lead_disqualify,
    lead_follow_up,
    lead_qualify,
)
from kam.sales.models import Lead, LeadAssignmentRule, LeadSource, LeadStatus, Opportunity

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


def rule(name, unit, order, **conditions) -> LeadAssignmentRule:
    return LeadAssignmentRule.objects.create(name=name, unit=unit, sort_order=order, **conditions)


def source(code="website") -> LeadSource:
    return LeadSource.objects.get(code=code)


def new_lead(actor, company="广州云帆物流有限公司", at=T0, **data) -> Lead:
    data.setdefault("source", source())
    return lead_create(actor=actor, data={"company": company, **data}, at=at)


def lead_tasks(lead, **kw):
    return Task.objects.filter(source_kind=TaskSource.LEAD, source_id=lead.pk, **kw)


@pytest.fixture
def guangzhou(org):
    guangdong = Region.objects.get(code="44")
    return Region.objects.create(code="4401", name="广州市", parent=guangdong)


# --- assignment rules ------------------------------------------------------------------------


def test_the_first_matching_rule_wins_and_a_province_rule_matches_its_cities(org, guangzhou):
    # given: finance leads go to specialist A2 whatever the region; Guangdong goes to branch A;
    # everything else to branch B; an inactive rule in front matches everything
    finance = Industry.objects.get(code="finance")
    rule("switched off", org.office_b1, 0, is_active=False)
    rule("finance", org.office_a2, 1, industry=finance, assignee=org.specialist_a2)
    rule("Guangdong", org.office_a1, 2, region=Region.objects.get(code="44"))
    rule("the rest", org.branch_b, 3)
    # when leads arrive
    bank = new_lead(org.analyst_hq, "深圳前海银行", industry=finance, region=guangzhou)
    factory = new_lead(org.analyst_hq, "广州智造", region=guangzhou)
    other = new_lead(org.analyst_hq, "北京某公司", region=Region.objects.get(code="11"))
    # then the earliest matching rule decided each of them
    assert (bank.assignee, bank.rule.name, bank.unit) == (org.specialist_a2, "finance", org.office_a2)
    assert (factory.assignee, factory.rule.name) == (org.specialist_a, "Guangdong")
    assert (other.assignee, other.rule.name, other.unit) == (org.specialist_b, "the rest", org.office_b1)
    # and each clock runs from creation
    assert bank.status == LeadStatus.NEW and bank.follow_up_due_at == T0 + 24 * HOUR


def test_a_source_condition_must_hold_too(org):
    rule("exhibitions", org.office_a2, 1, source=source("exhibition"))
    rule("the rest", org.office_a1, 2)
    assert new_lead(org.analyst_hq, "甲", source=source("exhibition")).assignee == org.specialist_a2
    assert new_lead(org.analyst_hq, "乙", source=source("phone")).assignee == org.specialist_a


def test_round_robin_deals_in_turn_within_the_unit_and_skips_inactive_people(org):
    # given a rule for branch A without a person, and a third specialist who has left
    gone = user("spec_gone", Role.SPECIALIST, org.office_a1)
    gone.is_active = False
    gone.save()
    r = rule("branch A", org.branch_a, 1)
    # when five leads arrive
    dealt = [new_lead(org.analyst_hq, f"公司{i}").assignee for i in range(5)]
    # then A and A2 take turns, and the rule remembers who had the last one
    assert dealt == [org.specialist_a, org.specialist_a2, org.specialist_a, org.specialist_a2, org.specialist_a]
    r.refresh_from_db()
    assert r.last_assignee == org.specialist_a
    # and a newcomer joins the round after the last one dealt
    newcomer = user("spec_new", Role.SPECIALIST, org.office_a2)
    assert [new_lead(org.analyst_hq, f"新{i}").assignee for i in range(3)] == [
        org.specialist_a2, newcomer, org.specialist_a]


def test_without_a_rule_a_specialist_keeps_their_lead_and_others_leave_it_to_a_manager(org):
    mine = new_lead(org.specialist_a)
    assert mine.assignee == org.specialist_a and mine.follow_up_due_at == T0 + 24 * HOUR
    pending = new_lead(org.manager_a, "待分配公司")
    assert pending.assignee is None and pending.unit == org.branch_a and pending.follow_up_due_at is None
    # a manager assigns it by hand: the clock starts then, with a task for the person
    lead_assign(actor=org.manager_a, lead=pending, assignee=org.specialist_a2, at=T0 + HOUR)
    pending.refresh_from_db()
    assert pending.assignee == org.specialist_a2 and pending.follow_up_due_at == T0 + 25 * HOUR
    assert list(lead_tasks(pending).values_list("owner__username", "status")) == [("spec_a2", "open")]


def test_assigning_by_hand_is_for_managers_within_their_units(org):
    lead = new_lead(org.specialist_a)
    with pytest.raises(PermissionDenied):
        lead_assign(actor=org.specialist_a, lead=lead, assignee=org.specialist_a2)
    with pytest.raises(ValidationFailed) as refused:
        lead_assign(actor=org.manager_a, lead=lead, assignee=org.specialist_b)
    assert "assignee" in refused.value.errors
    with pytest.raises(NotVisible):
        lead_assign(actor=org.manager_b, lead=lead, assignee=org.specialist_b)
    lead_assign(actor=org.manager_a, lead=lead, assignee=org.specialist_a2, at=T0 + HOUR)
    # the former assignee's task is cancelled, the new one has one
    assert set(lead_tasks(lead).values_list("owner__username", "status")) == {
        ("spec_a", "cancelled"), ("spec_a2", "open")}


def test_bad_input_names_the_field_and_writes_nothing(org):
    with pytest.raises(ValidationFailed) as refused:
        lead_create(actor=org.specialist_a, data={
            "company": " ", "source": "nowhere", "uscc": "123", "phone": "12345", "estimated_amount": "很多",
            "email": "not-mail"})
    assert set(refused.value.errors) == {"company", "source", "uscc", "phone", "estimated_amount", "email"}
    with pytest.raises(ValidationFailed) as smuggled:
        lead_create(actor=org.specialist_a, data={"company": "甲", "source": source(), "assignee": org.specialist_b.pk,
                                                  "unit": org.branch_b.pk})
    assert set(smuggled.value.errors) == {"assignee", "unit"}
    assert not Lead.objects.exists()


# --- the SLA clock ----------------------------------------------------------------------------


def test_escalation_at_the_deadline_then_reassignment_one_period_later(org):
    # given a lead dealt to specialist A by branch A's round robin at T0
    rule("branch A", org.branch_a, 1)
    lead = new_lead(org.analyst_hq)
    assert lead.assignee == org.specialist_a
    # a minute before the deadline nothing happens
    assert lead_sla_sweep(now=T0 + 24 * HOUR - MINUTE) == {"escalated": 0, "reassigned": 0}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and lead.escalated_at is None
    # at the deadline it escalates to specialist A's manager, who gets a task
    assert lead_sla_sweep(now=T0 + 24 * HOUR) == {"escalated": 1, "reassigned": 0}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ESCALATED and lead.escalated_to == org.manager_a
    assert lead.escalated_at == T0 + 24 * HOUR and lead.assignee == org.specialist_a
    assert set(lead_tasks(lead, status=TaskStatus.OPEN).values_list("owner__username", flat=True)) == {
        "spec_a", "manager_a"}
    # running again changes nothing
    assert lead_sla_sweep(now=T0 + 24 * HOUR) == {"escalated": 0, "reassigned": 0}
    assert lead_sla_sweep(now=T0 + 48 * HOUR - MINUTE) == {"escalated": 0, "reassigned": 0}
    # one more period without a follow-up: the next person of the unit has it, with a fresh clock
    assert lead_sla_sweep(now=T0 + 48 * HOUR) == {"escalated": 0, "reassigned": 1}
    lead.refresh_from_db()
    assert lead.assignee == org.specialist_a2 and lead.unit == org.office_a2
    assert lead.status == LeadStatus.NEW and lead.reassignments == 1
    assert lead.follow_up_due_at == T0 + 72 * HOUR and lead.escalated_at is None and lead.escalated_to is None
    assert list(lead_tasks(lead, status=TaskStatus.OPEN).values_list("owner__username", flat=True)) == ["spec_a2"]
    assert lead_tasks(lead, status=TaskStatus.CANCELLED).count() == 2
    assert lead_sla_sweep(now=T0 + 48 * HOUR) == {"escalated": 0, "reassigned": 0}
    # specialist A no longer sees it; A2 and the manager do
    assert not lead_list(user=org.specialist_a).exists()
    assert list(lead_list(user=org.specialist_a2)) == [lead]


def test_the_periods_are_settings(org, settings):
    settings.KAM = {**settings.KAM, "LEAD_FOLLOW_UP_HOURS": 4, "LEAD_REASSIGN_HOURS": 2}
    rule("branch A", org.branch_a, 1)
    lead = new_lead(org.analyst_hq)
    assert lead.follow_up_due_at == T0 + 4 * HOUR
    assert lead_sla_sweep(now=T0 + 4 * HOUR) == {"escalated": 1, "reassigned": 0}
    assert lead_sla_sweep(now=T0 + 6 * HOUR) == {"escalated": 0, "reassigned": 1}


def test_escalation_goes_to_the_nearest_manager_above(org):
    # an office manager of office A2 is nearer to specialist A2 than the branch manager
    office_manager = user("manager_a2", Role.MANAGER, org.office_a2)
    mine = new_lead(org.specialist_a2)
    theirs = new_lead(org.specialist_a, "另一家")
    lead_sla_sweep(now=T0 + 24 * HOUR)
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.escalated_to == office_manager and theirs.escalated_to == org.manager_a


def test_without_anyone_else_in_the_unit_the_manager_takes_the_lead(org):
    # specialist B is alone in branch B
    lead = new_lead(org.specialist_b)
    lead_sla_sweep(now=T0 + 24 * HOUR)
    assert lead_sla_sweep(now=T0 + 48 * HOUR) == {"escalated": 0, "reassigned": 1}
    lead.refresh_from_db()
    assert lead.assignee == org.manager_b and lead.follow_up_due_at == T0 + 72 * HOUR


def test_a_follow_up_stops_the_clock_and_closes_the_tasks(org):
    lead = new_lead(org.specialist_a)
    lead_follow_up(actor=org.specialist_a, lead=lead, note="电话沟通需求", plan="周三上门", at=T0 + 3 * HOUR)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.FOLLOWING and lead.followed_up_at == T0 + 3 * HOUR
    assert lead.follow_up_due_at is None
    assert list(lead_tasks(lead).values_list("status", flat=True)) == ["done"]
    assert lead_sla_sweep(now=T0 + 100 * HOUR) == {"escalated": 0, "reassigned": 0}


def test_a_follow_up_after_escalation_stops_reassignment(org):
    lead = new_lead(org.specialist_a)
    lead_sla_sweep(now=T0 + 24 * HOUR)
    lead_follow_up(actor=org.specialist_a, lead=lead, note="已联系", at=T0 + 30 * HOUR)
    assert lead_sla_sweep(now=T0 + 48 * HOUR) == {"escalated": 0, "reassigned": 0}
    lead.refresh_from_db()
    assert lead.status == LeadStatus.FOLLOWING and lead.assignee == org.specialist_a
    assert set(lead_tasks(lead).values_list("status", flat=True)) == {"done"}


def test_a_follow_up_needs_a_note(org):
    lead = new_lead(org.specialist_a)
    with pytest.raises(ValidationFailed) as refused:
        lead_follow_up(actor=org.specialist_a, lead=lead, note="  ")
    assert "note" in refused.value.errors


# --- scoping ----------------------------------------------------------------------------------


def test_another_branch_neither_sees_nor_works_branch_a_leads(org):
    lead = new_lead(org.specialist_a)
    for outsider in (org.specialist_b, org.manager_b, org.specialist_a2):
        assert not lead_list(user=outsider).exists()
        with pytest.raises(NotVisible):
            lead_follow_up(actor=outsider, lead=lead, note="x")
        with pytest.raises(NotVisible):
            lead_qualify(actor=outsider, lead=lead, outcome="nurture")
        with pytest.raises(NotVisible):
            lead_disqualify(actor=outsider, lead=lead, note="x")
    assert list(lead_list(user=org.manager_a)) == [lead]
    assert list(lead_list(user=org.director)) == [lead]
    # an analyst at HQ reads it but does not work it
    with pytest.raises(PermissionDenied):
        lead_follow_up(actor=org.analyst_hq, lead=lead, note="x")


def test_the_list_filters_by_status_source_assignee_and_overdue(org):
    first = new_lead(org.specialist_a, "甲", source=source("phone"))
    second = new_lead(org.specialist_a, "乙", at=T0 + 10 * HOUR)
    lead_follow_up(actor=org.specialist_a, lead=second, note="已联系", at=T0 + 11 * HOUR)
    third = new_lead(org.specialist_a2, "丙")
    now = T0 + 24 * HOUR
    assert set(lead_list(user=org.manager_a, filters=LeadFilters(overdue=True), now=now)) == {first, third}
    assert set(lead_list(user=org.manager_a, filters=LeadFilters(overdue=True), now=now - MINUTE)) == set()
    assert list(lead_list(user=org.manager_a, filters=LeadFilters(status="following"))) == [second]
    assert list(lead_list(user=org.manager_a, filters=LeadFilters(source=source("phone").pk))) == [first]
    assert list(lead_list(user=org.manager_a, filters=LeadFilters(assignee=org.specialist_a2.pk))) == [third]


# --- qualification ----------------------------------------------------------------------------


def test_qualifying_creates_the_account_and_the_opportunity(org):
    uscc = valid_uscc(11)
    lead = new_lead(org.specialist_a, "广州云帆物流有限公司", uscc=uscc, contact_name="陈经理", phone="13800138000",
                    estimated_amount="350000", need="车队专网", industry=Industry.objects.get(code="logistics"))
    lead_qualify(actor=org.specialist_a, lead=lead, outcome="opportunity", expected_close=date(2025, 9, 30),
                 at=T0 + 5 * HOUR)
    lead.refresh_from_db()
    account = lead.account
    assert lead.status == LeadStatus.QUALIFIED and lead.closed_at == T0 + 5 * HOUR
    assert (account.name, account.uscc, account.owner, account.lifecycle_status) == (
        "广州云帆物流有限公司", uscc, org.specialist_a, "opportunity")
    assert account.industry.code == "logistics"
    assert [(c.name, c.mobile) for c in account.contacts.all()] == [("陈经理", "13800138000")]
    opportunity = lead.opportunity
    assert (opportunity.account, opportunity.amount, opportunity.lead, opportunity.description) == (
        account, Decimal("350000.00"), lead, "车队专网")
    assert set(lead_tasks(lead).values_list("status", flat=True)) == {"done"}


def test_qualifying_offers_the_existing_accounts_and_uses_the_one_chosen(org):
    existing = AccountFactory(owner=org.specialist_a, name="广州云帆物流有限公司")
    lead = new_lead(org.specialist_a, "广州云帆物流有限公司")
    # without a choice, the matching account is offered and nothing is written
    with pytest.raises(AccountChoiceNeeded) as offered:
        lead_qualify(actor=org.specialist_a, lead=lead, outcome="opportunity", amount="80000",
                     expected_close=date(2025, 9, 30))
    assert [c["id"] for c in offered.value.extra["candidates"]] == [existing.pk]
    assert Account.objects.count() == 1 and not Opportunity.objects.exists()
    # the user chooses it
    lead_qualify(actor=org.specialist_a, lead=lead, outcome="opportunity", account=existing.pk, amount="80000",
                 expected_close=date(2025, 9, 30))
    lead.refresh_from_db()
    assert lead.account == existing and lead.opportunity.account == existing
    assert Account.objects.count() == 1
    existing.refresh_from_db()
    assert existing.lifecycle_status == "opportunity"


def test_the_same_uscc_on_another_branchs_account_is_refused_not_shown(org):
    uscc = valid_uscc(12)
    AccountFactory(owner=org.specialist_b, name="深圳某公司", uscc=uscc)
    lead = new_lead(org.specialist_a, "广州某公司", uscc=uscc)
    with pytest.raises(DuplicateAccount) as refused:
        lead_qualify(actor=org.specialist_a, lead=lead, outcome="nurture", confirm_new_account=True)
    assert "uscc" in refused.value.errors
    assert "深圳某公司" not in refused.value.message
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW and Account.objects.count() == 1


def test_an_account_the_user_cannot_see_cannot_be_chosen(org, accounts):
    lead = new_lead(org.specialist_a, "任意公司")
    with pytest.raises(ValidationFailed) as refused:
        lead_qualify(actor=org.specialist_a, lead=lead, outcome="nurture", account=accounts.b.pk)
    assert "account" in refused.value.errors


def test_nurturing_makes_a_prospect_without_an_opportunity(org):
    lead = new_lead(org.specialist_a, "佛山培育对象有限公司")
    lead_qualify(actor=org.specialist_a, lead=lead, outcome="nurture", note="明年预算")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURE and lead.opportunity is None and lead.close_note == "明年预算"
    assert lead.account.lifecycle_status == "prospect"


def test_qualifying_as_opportunity_needs_an_amount_and_a_close_date(org):
    lead = new_lead(org.specialist_a)
    with pytest.raises(ValidationFailed) as refused:
        lead_qualify(actor=org.specialist_a, lead=lead, outcome="opportunity")
    assert set(refused.value.errors) == {"amount", "expected_close"}
    assert not Account.objects.exists()


def test_a_manager_qualifies_for_the_assignee_who_owns_the_result(org):
    lead = new_lead(org.specialist_a, "广州经理代办有限公司", estimated_amount="120000")
    lead_qualify(actor=org.manager_a, lead=lead, outcome="opportunity", expected_close=date(2025, 12, 31))
    lead.refresh_from_db()
    assert lead.account.owner == org.specialist_a and lead.opportunity.owner == org.specialist_a


def test_a_closed_lead_cannot_be_worked_again(org):
    lead = new_lead(org.specialist_a)
    with pytest.raises(ValidationFailed):
        lead_disqualify(actor=org.specialist_a, lead=lead, note="")
    lead_disqualify(actor=org.specialist_a, lead=lead, note="同行询价")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISQUALIFIED and lead.close_note == "同行询价"
    assert set(lead_tasks(lead).values_list("status", flat=True)) == {"cancelled"}
    with pytest.raises(Conflict):
        lead_follow_up(actor=org.specialist_a, lead=lead, note="x")
    assert lead_sla_sweep(now=T0 + 100 * HOUR) == {"escalated": 0, "reassigned": 0}


def test_the_nightly_task_runs_the_sweep(org):
    from kam.sales import tasks

    new_lead(org.specialist_a)
    result = tasks.lead_sla_sweep.enqueue(now=(T0 + 24 * HOUR).isoformat())
    assert result.return_value == {"escalated": 1, "reassigned": 0}
    assert tasks.lead_sla_sweep.enqueue(now=(T0 + 24 * HOUR).isoformat()).return_value == {
        "escalated": 0, "reassigned": 0}
