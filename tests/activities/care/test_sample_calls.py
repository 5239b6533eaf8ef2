"""ABC care: a monthly random sample of calls to each owner's C accounts, topped up nightly
and never drawn twice; A and B accounts are left to their own service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from factories import AccountFactory
from kam.activities.care.services import sample_calls_create
from kam.activities.models import Task, TaskSource
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact
from kam.tiering import services as tiering
from kam.tiering.models import Scheme

pytestmark = pytest.mark.django_db
DAY = date(2026, 3, 10)


@pytest.fixture
def abc(org, settings):
    """Twelve accounts of one owner: two large ones (A), then smaller ones down to C."""
    settings.KAM = {**settings.KAM, "SAMPLE_CALLS_PER_OWNER": 3}
    accounts = [AccountFactory(owner=org.specialist_a, code=f"ABC{n:02d}") for n in range(12)]
    facts = [RevenueFact(account=a, date=date(2026, 1, 5), month=date(2026, 1, 1), amount=amount)
             for a, amount in zip(accounts, [50000, 30000, 3000, 2000, 1500, 1000, 900, 800, 700, 600, 500, 400],
                                  strict=True)]
    RevenueFact.objects.bulk_create(facts)
    monthly_refresh({(a.pk, date(2026, 1, 1)) for a in accounts})
    snapshot = tiering.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"),
                                       as_of=date(2026, 2, 28))
    return accounts, dict(snapshot.entries.values_list("account_id", "tier"))


def test_each_owner_gets_the_months_sample_of_c_accounts_once(org, abc):
    accounts, tiers = abc
    assert sample_calls_create(today=DAY) == 3
    calls = Task.objects.filter(source_kind=TaskSource.SAMPLE)
    assert {tiers[t.account_id] for t in calls} == {"C"} and {t.owner for t in calls} == {org.specialist_a}
    assert all(t.due_on.month == 3 for t in calls) and all(t.title.startswith("Sample call: ") for t in calls)
    # the nightly run repeats: nothing more this month
    assert sample_calls_create(today=DAY + timedelta(days=1)) == 0
    first = set(calls.values_list("account_id", flat=True))
    # next month three others (the first are still open)
    assert sample_calls_create(today=date(2026, 4, 2)) == 3
    second = set(Task.objects.filter(source_kind=TaskSource.SAMPLE, due_on__month=4).values_list("account_id", flat=True))
    assert not first & second and {tiers[a] for a in second} == {"C"}


def test_the_sample_size_is_a_setting_and_zero_switches_it_off(org, abc, settings):
    settings.KAM = {**settings.KAM, "SAMPLE_CALLS_PER_OWNER": 0}
    assert sample_calls_create(today=DAY) == 0
    settings.KAM = {**settings.KAM, "SAMPLE_CALLS_PER_OWNER": 50}
    accounts, tiers = abc
    assert sample_calls_create(today=DAY) == sum(1 for t in tiers.values() if t == "C")


def test_a_b_account_shows_its_member_programme_on_the_card(org, abc, client):
    accounts, tiers = abc
    b = next(a for a in accounts if tiers[a.pk] == "B")
    a = next(a for a in accounts if tiers[a.pk] == "A")
    client.force_login(org.specialist_a)
    page = client.get(f"/accounts/{b.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="member-programme"' in page and "会员积分回馈" in page
    assert 'data-testid="member-programme"' not in client.get(f"/accounts/{a.pk}/").content.decode()


def test_one_accounts_tier_today_reads_as_the_compliance_sweep_reads_it(org, abc):
    import numpy as np

    from kam.activities.compliance import measure
    from kam.tiering.models import MoveDecision, Snapshot

    accounts, tiers = abc
    scheme = Scheme.objects.get(code="pareto-abc")
    # given the February snapshot frozen as 2026's list, then a later one where the smallest
    # account has grown, and HQ approving its move on the list
    annual = tiering.snapshot_freeze(actor=org.director, snapshot=Snapshot.objects.get(scheme=scheme), year=2026)
    RevenueFact.objects.create(account=accounts[-1], date=date(2026, 3, 5), month=date(2026, 3, 1), amount=90000)
    monthly_refresh({(accounts[-1].pk, date(2026, 3, 1))})
    fresh = tiering.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 3, 31))
    tiering.tier_move_decide(actor=org.director, annual_list=annual, fresh=fresh, account=accounts[-1],
                             decision=MoveDecision.APPROVED, reason="新签大单")
    ids = np.array(sorted(a.pk for a in accounts), dtype=np.int64)
    seen = set()
    for day in (date(2025, 12, 1), date(2026, 2, 1), date(2026, 3, 10), date(2026, 4, 2), date(2027, 1, 5)):
        # then each account's tier on each day is the sweep's tier on that day
        swept = dict(zip(ids.tolist(), measure.tiers_of(scheme=scheme, day=day, ids=ids), strict=True))
        for account in accounts:
            one = measure.tier_of_account(scheme=scheme, day=day, account_id=account.pk)
            assert one == swept[account.pk], (day, account.code)
            seen.add((day.year, one))
    # and the days cover no tier (before any snapshot), the list's tiers (all of 2026, once frozen) with the move applied, and the later snapshot's
    assert (2025, "") in seen and (2026, "A") in seen and (2027, "A") in seen
    assert measure.tier_of_account(scheme=scheme, day=date(2026, 4, 2), account_id=accounts[-1].pk) == "A"
    assert measure.tier_of_account(scheme=scheme, day=date(2026, 3, 10), account_id=accounts[-1].pk) == "A"
