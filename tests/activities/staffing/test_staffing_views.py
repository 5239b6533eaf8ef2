"""Staffing per unit from the latest snapshot and the service standards: selector, page, export, CLI."""

import json
from decimal import Decimal
from io import BytesIO

import pytest
from django.test import Client
from openpyxl import load_workbook

from factories import AccountFactory
from kam import cli
from kam.activities.staffing.selectors import staffing_for, tier_loads
from kam.tiering.models import Scheme

from ..planning.test_visit_plans import standards, tier  # noqa: F401  (fixture and helper)

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch_a(org, standards):  # noqa: F811
    # 30 crystal (K1) and 4 top-tier (K6) accounts in branch A, 5 K1 in branch B
    k1 = [AccountFactory(owner=org.specialist_a if i % 2 else org.specialist_a2) for i in range(30)]
    k6 = [AccountFactory(owner=org.specialist_a) for _ in range(4)]
    b = [AccountFactory(owner=org.specialist_b) for _ in range(5)]
    tier({"K1": k1 + b, "K6": k6})
    return Scheme.objects.get(code="monthly-spend")


def test_loads_come_from_the_service_standards(branch_a):
    loads = tier_loads(branch_a)
    # K1: 2 visits a quarter → 8 a year, a call a month → 12, no value report, 16 h support
    assert (loads["K1"].visits, loads["K1"].calls, loads["K1"].reports, loads["K1"].support_hours) == (8, 12, 0, 16)
    assert (loads["K6"].visits, loads["K6"].calls, loads["K6"].reports) == (24, 48, 12)


def test_branch_staffing_matches_the_hand_computation(org, branch_a):
    # K1: 8×4 h + 12×0.5 h + 16 h = 54 h × 30 = 1,620 h; K6: 24×4 + 48×0.5 + 12×8 + 120 = 336 h × 4 = 1,344 h
    # 2,964 h ÷ 1,600 h = 1.85 managers (2 people); present: manager_a, spec_a, spec_a2 = 3
    rows = staffing_for(user=org.manager_a, unit=org.branch_a, scheme=branch_a, growth=1500)
    top = rows[0]
    assert top.unit == org.branch_a and [r.unit for r in rows[1:]] == [org.office_a1, org.office_a2]
    assert {t.tier: t.accounts for t in top.now.tiers} == {"K1": 30, "K6": 4}
    assert top.now.hours == Decimal(2964) and top.now.required == Decimal("1.85")
    assert top.now.present == 3 and top.now.gap == -1
    # next year: +1,500 shared 30 : 4 → K1 +1,324, K6 +176; 1,354×54 + 180×336 = 133,596 h → 83.50, 84 people
    assert {t.tier: t.accounts for t in top.next_year.tiers} == {"K1": 1354, "K6": 180}
    assert top.next_year.required == Decimal("83.50") and top.next_year.gap == 81
    # the offices split the branch: spec_a2's 15 K1 accounts sit in 越秀
    office_a2 = rows[2]
    assert office_a2.now.accounts == 15 and office_a2.now.present == 1


def test_the_tier_counts_follow_moves_and_deletions_as_the_entries_do(org, branch_a):
    from django.conf import settings
    from django.test import override_settings

    from kam.accounts.models import Account
    from kam.accounts.ownership import give_owner
    from kam.accounts.recycle.services import account_delete

    # given the branch's staffing read once (the tiering read model built), then an account
    # moved from 天河 to 越秀 and one deleted
    staffing_for(user=org.manager_a, unit=org.branch_a, scheme=branch_a)
    mine = list(Account.objects.filter(owner=org.specialist_a).order_by("pk"))
    give_owner(actor=org.admin, account=mine[0], owner=org.specialist_a2, unit=org.office_a2, reason="调整")
    account_delete(actor=org.admin, account=mine[1])

    # then the figures equal those counted over the snapshot's entries
    def shown(rows):
        return [(r.unit.pk, {t.tier: t.accounts for t in r.now.tiers}, r.now.required) for r in rows]

    kept = shown(staffing_for(user=org.manager_a, unit=org.branch_a, scheme=branch_a))
    with override_settings(KAM={**settings.KAM, "READ_MODELS": False}):
        counted = shown(staffing_for(user=org.manager_a, unit=org.branch_a, scheme=branch_a))
    assert kept == counted
    assert sum(kept[0][1].values()) == 33 and sum(kept[2][1].values()) == 16  # one gone; 越秀 one more


def test_another_branch_sees_no_staffing_of_mine(org, branch_a):
    assert staffing_for(user=org.manager_b, unit=org.branch_a, scheme=branch_a) == []
    assert staffing_for(user=org.specialist_a, unit=org.branch_a, scheme=branch_a) == []
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_b)
    assert client.get("/activities/staffing/?unit=GZ").status_code == 404
    assert client.get("/activities/staffing/export/?unit=GZ").status_code == 404
    page = client.get("/activities/staffing/").content.decode()  # their own branch
    assert 'data-unit="SZ"' in page and 'data-unit="GZ"' not in page


def test_the_staffing_page_charts_and_exports(org, branch_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.director)
    page = client.get("/activities/staffing/?unit=HQ&growth=1500").content.decode()
    assert 'data-kind="bars"' in page and 'id="staffing-charts"' in page
    assert 'data-unit="GZ"' in page and 'data-unit="SZ"' in page and 'data-testid="next-year"' in page
    response = client.get("/activities/staffing/export/?unit=GZ&format=xlsx")
    rows = list(load_workbook(BytesIO(b"".join(response.streaming_content if response.streaming else [response.content]))).active.values)
    assert rows[0][0] == "org unit"
    assert ("广州分公司", "Crystal", 30) in [r[:3] for r in rows[1:]] and ("广州分公司", "Crown", 4) in [r[:3] for r in rows[1:]]


def test_kam_staffing_prints_required_vs_present(org, branch_a, capsys):
    assert cli.main(["staffing", "--unit", "GZ", "--growth", "K1=100,K6=10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["units"][0]["required"] == "1.85" and result["units"][0]["present"] == 3
    # K1 130×54 + K6 14×336 = 7,020 + 4,704 = 11,724 h → 7.33
    assert result["next_year"]["required"] == "7.33"
    assert cli.main(["staffing", "--unit", "GZ", "--actor", "manager_b"]) == 2
    assert "no unit 'GZ'" in capsys.readouterr().err
    assert cli.main(["staffing", "--unit", "SZ"]) == 0
    assert "SZ" in capsys.readouterr().out


def test_the_page_shows_the_tier_only_figure_beside_the_one_with_every_factor(org, branch_a):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.director)
    page = client.get("/activities/staffing/?unit=GZ").content.decode()
    assert 'data-testid="weighed"' in page and "managers required, all factors" in page
    plain = client.get("/activities/staffing/?unit=GZ&grade=1&support_share=0&peak=0&churn=0").context
    heavy = client.get("/activities/staffing/?unit=GZ&grade=0.5&support_share=0&peak=0&churn=0").context
    assert plain["top"].weighed.required == plain["top"].now.required  # neutral factors: the tier-only figure
    assert heavy["top"].now.required == plain["top"].now.required  # the tier-only figure does not move
    # the same hours (2,964 h) over managers who carry half a standard load: 2,964 ÷ 800 = 3.705 → 3.71
    assert heavy["top"].weighed.hours == plain["top"].now.hours == Decimal(2964)
    assert heavy["top"].weighed.required == Decimal("3.71") and plain["top"].now.required == Decimal("1.85")
    ignored = client.get("/activities/staffing/?unit=GZ&grade=-3&peak=abc").context["factors"]
    assert ignored.grade == Decimal("1") and ignored.peak == Decimal("0.1")  # out of range: the settings'
