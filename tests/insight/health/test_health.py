"""Health: each part and the weighting computed by hand; a None part leaves its weight to
the others; one row per account and month, earlier months kept."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account
from kam.activities.models import ServiceStandard
from kam.insight.health import services as health
from kam.insight.models import HealthScore, Warning, WarningRule

from ..warning_world import contact_on, months, score, tiers

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 15)


@pytest.fixture
def scheme(org):
    import importlib

    from django.apps import apps

    from kam.tiering.models import Scheme

    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    scheme = Scheme.objects.get(code="monthly-spend")
    ServiceStandard.objects.filter(scheme=scheme, tier="K1").update(calls=0)  # visits only: 46 days allowed
    return scheme


def test_combine_leaves_out_a_none_part_and_the_others_share_its_weight():
    w = {"cadence": 20, "chain": 15, "trend": 20, "alive": 20, "payment": 15, "warnings": 10}
    parts = {"cadence": 50, "chain": 40, "trend": 80, "alive": 60, "payment": None, "warnings": 80}
    # (20×50 + 15×40 + 20×80 + 20×60 + 10×80) ÷ 85 = 5200 ÷ 85 = 61.18
    assert health.combine(parts, w) == 61
    assert health.combine({**parts, "payment": 100}, w) == 67  # 6700 ÷ 100
    assert health.combine(dict.fromkeys(w), w) == 0


def test_weights_come_from_the_setting(settings):
    settings.KAM = {**settings.KAM, "HEALTH_WEIGHTS": "cadence:1,alive:3"}
    assert health.weights() == {"cadence": 1, "chain": 0, "trend": 0, "alive": 3, "payment": 0, "warnings": 0}


def test_payment_part():
    assert health.payment_score(None, None, None, None, False) is None
    assert health.payment_score(None, None, None, None, True) == 100
    assert health.payment_score(Decimal(0), None, Decimal(1000), None, False) == 100
    assert health.payment_score(Decimal(250), Decimal(100), Decimal(1000), None, False) == 75
    assert health.payment_score(Decimal(100), None, None, Decimal(400), False) == 75
    assert health.payment_score(Decimal(100), None, None, None, False) == 0
    assert health.payment_score(Decimal(5000), None, Decimal(1000), None, False) == 0


def test_every_part_of_one_account_by_hand(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    bare = AccountFactory(owner=org.specialist_a)
    tiers(scheme, date(2025, 12, 31), {a: "K1"})
    contact_on(a, "visit", DAY - timedelta(days=69), org.specialist_a)  # 69 ÷ 46 = 1.5 gaps → 50
    ContactFactory(actor=org.specialist_a, account=a, name="李总", decision_role="decision_maker")
    ContactFactory(actor=org.specialist_a, account=a, name="周工", decision_role="influencer")
    ContactFactory(actor=org.specialist_a, account=a, name="小陈", decision_role="user")  # not a role to cover
    months(a, date(2025, 10, 1), [1000] * 6 + [800] * 3)  # recent 800 against 1000 → 80
    score(a, 0.6)  # → 60
    Warning.objects.create(account=a, rule=WarningRule.objects.get(code="competitor_quote"), severity="medium",
                           evidence={}, opened_at=timezone.now(), checked_at=timezone.now())  # 100 − 20 → 80
    ids, parts, scores = health.compute(DAY)
    i = list(ids).index(a.pk)
    got = {k: (None if v[i] != v[i] else round(float(v[i]), 2)) for k, v in parts.items()}
    assert got == {"cadence": 50.0, "chain": 40.0, "trend": 80.0, "alive": 60.0, "payment": None, "warnings": 80.0}
    assert scores[i] == 61
    # an account with nothing to judge by but its (no) warnings
    j = list(ids).index(bare.pk)
    assert [k for k, v in parts.items() if v[j] == v[j]] == ["warnings"] and scores[j] == 100


def test_the_cadence_part_falls_from_the_gap_to_twice_the_gap(org, scheme):
    fresh, edge, gone = (AccountFactory(owner=org.specialist_a) for _ in range(3))
    tiers(scheme, date(2025, 12, 31), {fresh: "K1", edge: "K1", gone: "K1"})
    contact_on(fresh, "visit", DAY - timedelta(days=46), org.specialist_a)  # within the gap: 100
    contact_on(edge, "visit", DAY - timedelta(days=47), org.specialist_a)  # 1/46 past it: 97.8
    contact_on(gone, "visit", DAY - timedelta(days=92), org.specialist_a)  # twice the gap: 0
    ids, parts, _scores = health.compute(DAY)
    cadence = dict(zip(ids.tolist(), parts["cadence"].tolist(), strict=True))
    assert cadence[fresh.pk] == 100 and cadence[edge.pk] == pytest.approx(100 * (2 - 47 / 46))
    assert cadence[gone.pk] == 0


def test_health_sweep_keeps_one_row_a_month(org):
    a = AccountFactory(owner=org.specialist_a)
    gone = AccountFactory(owner=org.specialist_a)
    Account.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    score(a, 0.5)
    assert health.health_sweep(as_of=date(2026, 6, 20)) == {"accounts": 1, "month": "2026-06-01"}
    row = HealthScore.objects.get(account=a)
    # alive 50 (weight 20) and warnings 100 (weight 10): 2000 + 1000 over 30 → 67 (66.67 rounded)
    assert (row.month, row.score, row.parts["alive"], row.parts["payment"]) == (date(2026, 6, 1), 67, 50.0, None)
    score_row = a.score
    score_row.p_alive = 0.8
    score_row.save()
    health.health_sweep(as_of=date(2026, 6, 21), now=timezone.make_aware(datetime.combine(date(2026, 6, 21), time(2))))
    assert HealthScore.objects.filter(account=a).count() == 1
    assert HealthScore.objects.get(account=a).score == 87  # (1600 + 1000) ÷ 30 = 86.67
    health.health_sweep(as_of=date(2026, 7, 1))
    assert list(HealthScore.objects.filter(account=a).order_by("month").values_list("month", "score")) == [
        (date(2026, 6, 1), 87), (date(2026, 7, 1), 87)]


def test_bands(settings):
    assert [health.band(s) for s in (None, 0, 39, 40, 69, 70, 100)] == [
        "secondary", "red", "red", "yellow", "yellow", "green", "green"]
    settings.KAM = {**settings.KAM, "HEALTH_BANDS": "80,50"}
    assert [health.band(s) for s in (49, 50, 79, 80)] == ["red", "yellow", "yellow", "green"]


def test_the_penalty_per_open_warning_comes_from_the_setting(org, settings):
    a = AccountFactory(owner=org.specialist_a)
    for code in ("competitor_quote", "spend_drop"):
        Warning.objects.create(account=a, rule=WarningRule.objects.get(code=code), severity="medium" if code ==
                               "competitor_quote" else "high", evidence={}, opened_at=timezone.now(),
                               checked_at=timezone.now())
    ids, parts, _scores = health.compute(DAY)
    assert parts["warnings"][list(ids).index(a.pk)] == 100 - 20 - 40
    settings.KAM = {**settings.KAM, "HEALTH_WARNING_PENALTY": "high:50,medium:5,low:1"}
    ids, parts, _scores = health.compute(DAY)
    assert parts["warnings"][list(ids).index(a.pk)] == 100 - 5 - 50
