"""Editing the lead assignment rules in the app: headquarters edits every rule, a branch
manager the rules of their own units, everyone else reads; the router follows the new order;
a rule that assigned leads is kept; every change has its history row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.core.errors import Conflict, PermissionDenied, ValidationFailed
from kam.core.models import Industry, OrgUnit, Region
from kam.sales.leads.policies import may_manage_rule
from kam.sales.leads.rules import (
    lead_rule_delete,
    lead_rule_move,
    lead_rule_save,
    lead_rule_set_active,
)
from kam.sales.leads.services import lead_create
from kam.sales.models import Lead, LeadAssignmentRule, LeadSource

pytestmark = pytest.mark.django_db

RULES = "/sales/leads/rules/"


def logged_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def guangdong() -> Region:
    return Region.objects.get(code="44")


def manufacturing() -> Industry:
    return Industry.objects.get(code="manufacturing")


def rule(name, unit, order, **conditions) -> LeadAssignmentRule:
    return LeadAssignmentRule.objects.create(name=name, unit=unit, sort_order=order, **conditions)


def new_lead(actor, company, **data) -> Lead:
    data.setdefault("source", LeadSource.objects.get(code="website"))
    return lead_create(actor=actor, data={"company": company, **data})


def form(name, unit, *, region="", industry="", source="", assignee="") -> dict:
    pk = lambda value: getattr(value, "pk", value)  # noqa: E731
    return {"name": name, "unit": pk(unit), "region": pk(region), "industry": pk(industry),
            "source": pk(source), "assignee": pk(assignee)}


def order() -> list[str]:
    return list(LeadAssignmentRule.objects.order_by("sort_order", "id").values_list("name", flat=True))


# --- headquarters ----------------------------------------------------------------------------


def test_a_director_creates_reorders_and_edits_rules_and_new_leads_follow(org):
    client = logged_in(org.director)
    # given: two rules made on the page, both catching a Guangdong manufacturer
    response = client.post(f"{RULES}new/", form("广东省", org.office_a1, region=guangdong()))
    assert response.status_code == 302 and response["Location"] == RULES
    response = client.post(f"{RULES}new/", form("制造业", org.office_a2, industry=manufacturing(),
                                                assignee=org.specialist_a2))
    assert response.status_code == 302
    province, industry = LeadAssignmentRule.objects.order_by("sort_order")
    assert (province.sort_order, industry.sort_order) == (10, 20)
    first = new_lead(org.analyst_hq, "广州智造一厂", region=guangdong(), industry=manufacturing())
    assert (first.rule, first.assignee) == (province, org.specialist_a)

    # when the industry rule moves up
    assert client.post(f"{RULES}{industry.pk}/move/", {"direction": "up"}).status_code == 302

    # then it is tried first, and the next such lead goes to its person
    assert order() == ["制造业", "广东省"]
    second = new_lead(org.analyst_hq, "广州智造二厂", region=guangdong(), industry=manufacturing())
    assert (second.rule, second.assignee) == (industry, org.specialist_a2)

    # when the industry rule is edited to deal in turn within branch A
    response = client.post(f"{RULES}{industry.pk}/", form("制造业（轮流）", org.branch_a, industry=manufacturing()))
    assert response.status_code == 302
    industry.refresh_from_db()
    assert (industry.name, industry.unit, industry.assignee, industry.sort_order) == (
        "制造业（轮流）", org.branch_a, None, 10)
    # then the branch's specialists take its leads in turn
    dealt = [new_lead(org.analyst_hq, f"制造企业{i}", industry=manufacturing()).assignee for i in range(3)]
    assert dealt == [org.specialist_a, org.specialist_a2, org.specialist_a]


def test_the_list_says_in_plain_words_which_leads_go_where(org):
    rule("广东制造", org.office_a1, 1, region=guangdong(), industry=manufacturing())
    rule("兜底", org.branch_b, 2, assignee=org.specialist_b)
    rule("在兜底之后", org.office_a2, 3, industry=manufacturing())
    page = logged_in(org.director).get(RULES).content.decode()
    assert "广东省 · 采掘制造 · any source → 天河经营部, round robin" in page
    assert "every lead → 深圳分公司, 王五" in page
    assert page.count("Never reached") == 1 and page.index("在兜底之后") < page.index("Never reached")
    assert 'data-testid="rule-new"' in page and page.count('data-testid="rule-edit"') == 3


def test_moving_renumbers_rules_that_share_an_order(org):
    a, b, c = rule("a", org.office_a1, 0), rule("b", org.office_a1, 0), rule("c", org.office_a1, 0)
    lead_rule_move(actor=org.director, rule=c, direction="up")
    assert order() == ["a", "c", "b"]
    assert [r.sort_order for r in LeadAssignmentRule.objects.order_by("sort_order")] == [10, 20, 30]
    # at either end nothing moves
    lead_rule_move(actor=org.director, rule=a, direction="up")
    lead_rule_move(actor=org.director, rule=b, direction="down")
    assert order() == ["a", "c", "b"]
    with pytest.raises(ValidationFailed):
        lead_rule_move(actor=org.director, rule=a, direction="sideways")


def test_a_new_rule_goes_after_the_last(org):
    rule("old", org.office_a1, 35)
    created = lead_rule_save(actor=org.admin, data={"name": "new", "unit": org.office_b1})
    assert created.sort_order == 45 and order() == ["old", "new"]


def test_the_service_names_each_wrong_field(org):
    OrgUnit.objects.filter(pk=org.office_a2.pk).update(is_active=False)
    Region.objects.filter(code="11").update(is_active=False)
    with pytest.raises(ValidationFailed) as refused:
        lead_rule_save(actor=org.director, data={"name": " ", "unit": org.office_a2, "region": Region.objects.get(code="11")})
    assert set(refused.value.errors) == {"name", "unit", "region"}
    for person in (org.specialist_b, org.analyst_hq, org.admin):
        with pytest.raises(ValidationFailed) as refused:
            lead_rule_save(actor=org.director, data={"name": "x", "unit": org.branch_a, "assignee": person})
        assert set(refused.value.errors) == {"assignee"}
    with pytest.raises(ValidationFailed) as refused:
        lead_rule_save(actor=org.director, data={"name": "x", "unit": org.branch_a, "sort_order": 1})
    assert set(refused.value.errors) == {"sort_order"}
    # a person in an office below the rule's unit is fine; so is a rule without conditions
    saved = lead_rule_save(actor=org.director, data={"name": "x", "unit": org.branch_a, "assignee": org.specialist_a})
    assert saved.assignee == org.specialist_a and not LeadAssignmentRule.objects.exclude(pk=saved.pk).exists()


def test_a_bad_form_comes_back_with_its_errors_and_saves_nothing(org):
    client = logged_in(org.director)
    response = client.post(f"{RULES}new/", form("", org.branch_a))
    assert response.status_code == 422 and 'data-field-error="name"' in response.content.decode()
    # someone outside the rule's unit
    response = client.post(f"{RULES}new/", form("广州", org.branch_a, assignee=org.specialist_b))
    assert response.status_code == 422
    assert "Choose someone in 广州分公司 or a unit below it." in response.content.decode()
    assert not LeadAssignmentRule.objects.exists()


# --- a branch's manager ----------------------------------------------------------------------


def test_a_branch_manager_manages_only_the_rules_of_their_own_units(org):
    theirs = rule("深圳", org.office_b1, 10)
    mine = rule("广州", org.office_a1, 20)
    client = logged_in(org.manager_a)
    # the other branch's rule: refused through the pages …
    assert client.get(f"{RULES}{theirs.pk}/").status_code == 403
    assert client.post(f"{RULES}{theirs.pk}/", form("改", org.office_b1)).status_code == 403
    assert client.post(f"{RULES}{theirs.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"{RULES}{theirs.pk}/move/", {"direction": "down"}).status_code == 403
    assert client.post(f"{RULES}{theirs.pk}/delete/").status_code == 403
    # … and through the services
    for call in (
        lambda: lead_rule_save(actor=org.manager_a, rule=theirs, data={"name": "改", "unit": org.office_b1}),
        lambda: lead_rule_set_active(actor=org.manager_a, rule=theirs, active=False),
        lambda: lead_rule_move(actor=org.manager_a, rule=theirs, direction="down"),
        lambda: lead_rule_delete(actor=org.manager_a, rule=theirs),
    ):
        with pytest.raises(PermissionDenied):
            call()
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_active, theirs.sort_order) == ("深圳", True, 10)

    # their own rule they edit, but not to take branch B's leads, nor past branch B's rule
    with pytest.raises(PermissionDenied) as refused:
        lead_rule_save(actor=org.manager_a, rule=mine, data={"name": "广州", "unit": org.office_b1})
    assert set(refused.value.errors) == {"unit"}
    with pytest.raises(PermissionDenied):
        lead_rule_move(actor=org.manager_a, rule=mine, direction="up")
    assert client.post(f"{RULES}{mine.pk}/", form("广州", org.office_b1)).status_code == 422
    assert client.post(f"{RULES}{mine.pk}/", form("广州天河", org.office_a1, region=guangdong())).status_code == 302
    mine.refresh_from_db()
    assert (mine.name, mine.unit, mine.region, order()) == ("广州天河", org.office_a1, guangdong(), ["深圳", "广州天河"])

    # nor create one for branch B's unit
    assert client.post(f"{RULES}new/", form("抢深圳", org.office_b1)).status_code == 422
    with pytest.raises(PermissionDenied):
        lead_rule_save(actor=org.manager_a, data={"name": "抢深圳", "unit": org.office_b1})
    assert not LeadAssignmentRule.objects.filter(name="抢深圳").exists()

    # the list offers them their own rule only, and no move past branch B's
    page = client.get(RULES).content.decode()
    assert f'href="{RULES}{mine.pk}/"' in page and f'href="{RULES}{theirs.pk}/"' not in page
    mine_row = page[page.index(f'data-testid="rule-{mine.pk}"'):]
    assert 'disabled title="Move up"' in mine_row.replace('type="submit" ', "")


def test_a_manager_reorders_the_rules_of_their_branch(org):
    first, second = rule("天河", org.office_a1, 10), rule("越秀", org.office_a2, 20)
    assert logged_in(org.manager_a).post(f"{RULES}{second.pk}/move/", {"direction": "up"}).status_code == 302
    assert order() == ["越秀", "天河"]
    assert may_manage_rule(org.manager_a, first) and not may_manage_rule(org.manager_b, first)


# --- everyone else ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["specialist_a", "analyst_hq"])
def test_others_read_the_rules_without_buttons_and_cannot_change_them(org, who):
    person = getattr(org, who)
    existing = rule("广州", org.office_a1, 10)
    client = logged_in(person)
    page = client.get(RULES).content.decode()
    assert "广州" in page
    for testid in ("rule-new", "rule-edit", "rule-up", "rule-down", "rule-deactivate", "rule-delete"):
        assert f'data-testid="{testid}"' not in page
    assert client.get(f"{RULES}new/").status_code == 403
    assert client.post(f"{RULES}new/", form("我的", org.office_a1)).status_code == 403
    assert client.get(f"{RULES}{existing.pk}/").status_code == 403
    assert client.post(f"{RULES}{existing.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"{RULES}{existing.pk}/move/", {"direction": "down"}).status_code == 403
    assert client.post(f"{RULES}{existing.pk}/delete/").status_code == 403
    with pytest.raises(PermissionDenied):
        lead_rule_save(actor=person, data={"name": "我的", "unit": org.office_a1})
    assert order() == ["广州"] and LeadAssignmentRule.objects.get().is_active


def test_an_unknown_rule_is_not_found(org):
    client = logged_in(org.director)
    assert client.get(f"{RULES}999999/").status_code == 404
    assert client.post(f"{RULES}999999/delete/").status_code == 404


# --- deleting, deactivating and the record ---------------------------------------------------


def test_a_rule_that_assigned_leads_is_kept_and_can_be_deactivated(org):
    used = rule("广州", org.office_a1, 10)
    lead = new_lead(org.analyst_hq, "广州某公司")
    assert lead.rule == used
    with pytest.raises(Conflict):
        lead_rule_delete(actor=org.director, rule=used)
    client = logged_in(org.director)
    edit_page = client.get(f"{RULES}{used.pk}/").content.decode()
    assert 'data-testid="rule-delete"' not in edit_page and 'data-testid="rule-deactivate"' in edit_page
    response = client.post(f"{RULES}{used.pk}/delete/", follow=True)
    assert "deactivate it instead" in response.content.decode()
    assert LeadAssignmentRule.objects.filter(pk=used.pk).exists()

    # when deactivated, it assigns no more leads
    assert client.post(f"{RULES}{used.pk}/active/", {"active": "0"}).status_code == 302
    used.refresh_from_db()
    assert not used.is_active
    assert new_lead(org.analyst_hq, "广州另一家公司").rule is None
    assert client.post(f"{RULES}{used.pk}/active/", {"active": "1"}).status_code == 302
    assert new_lead(org.analyst_hq, "广州第三家公司").rule == used
    assert client.post(f"{RULES}{used.pk}/active/", {"active": "maybe"}).status_code == 400


def test_an_unused_rule_is_deleted(org):
    unused = rule("试用", org.office_a1, 10)
    client = logged_in(org.director)
    assert 'data-testid="rule-delete"' in client.get(f"{RULES}{unused.pk}/").content.decode()
    response = client.post(f"{RULES}{unused.pk}/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == RULES
    assert not LeadAssignmentRule.objects.exists()
    assert LeadAssignmentRule.history.filter(id=unused.pk, history_type="-").get().history_user == org.director


def test_every_change_is_in_the_rules_history_with_who_made_it(org):
    created = lead_rule_save(actor=org.director, data={"name": "广州", "unit": org.office_a1})
    lead_rule_save(actor=org.manager_a, rule=created, data={"name": "广州天河", "unit": org.office_a1,
                                                            "region": guangdong()})
    lead_rule_set_active(actor=org.manager_a, rule=created, active=False)
    lead_rule_set_active(actor=org.manager_a, rule=created, active=False)  # no change, no row
    rows = list(created.history.order_by("history_id").values_list("history_type", "history_user__username",
                                                                    "name", "region__code", "is_active"))
    assert rows == [
        ("+", "director", "广州", None, True),
        ("~", "manager_a", "广州天河", "44", True),
        ("~", "manager_a", "广州天河", "44", False),
    ]


def test_a_change_keeps_the_round_robins_place(org):
    branch = rule("广州分公司", org.branch_a, 10)
    assert new_lead(org.analyst_hq, "第一家").assignee == org.specialist_a
    lead_rule_save(actor=org.director, rule=branch, data={"name": "广州分公司（改）", "unit": org.branch_a})
    assert new_lead(org.analyst_hq, "第二家").assignee == org.specialist_a2


def test_the_list_reads_a_handful_of_queries_however_many_rules(org):
    client = logged_in(org.manager_a)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(RULES).status_code == 200
        return len(captured)

    queries()  # the first request after logging in also writes the session
    for i in range(3):
        rule(f"r{i}", org.office_a1 if i % 2 else org.office_b1, i, assignee=org.specialist_a if i % 2 else None)
    few = queries()
    for i in range(3, 30):
        rule(f"r{i}", org.office_a1 if i % 2 else org.office_b1, i, assignee=org.specialist_a if i % 2 else None)
    assert queries() == few <= 10
