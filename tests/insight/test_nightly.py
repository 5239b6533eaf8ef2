"""The nightly insight job runs its four steps in order, each reading what the one before wrote."""

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from factories import AccountFactory
from kam.insight.models import AccountScore, ChurnEvent, HealthScore, ModelFit, Warning
from kam.insight.tasks import insight_nightly
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact

pytestmark = pytest.mark.django_db


def test_the_nightly_job_fits_scores_finds_churn_warns_and_computes_health(org):
    rng = random.Random(7)
    facts, months = [], set()
    accounts = [AccountFactory(owner=org.specialist_a) for _ in range(30)]
    for n, account in enumerate(accounts):
        last = date(2026, 10, 25) if n else date(2026, 3, 20)  # the first one stopped buying in March
        day = date(2025, 1, 3) + timedelta(days=rng.randint(0, 20))
        while day <= last:
            facts.append(RevenueFact(account=account, date=day, month=day.replace(day=1),
                                     amount=Decimal(rng.randint(500, 5000))))
            months.add((account.pk, day.replace(day=1)))
            day += timedelta(days=rng.randint(5, 40))
    RevenueFact.objects.bulk_create(facts)
    monthly_refresh(months)

    result = insight_nightly.call(as_of="2026-11-02")

    assert result["scores"]["fit"] == ModelFit.objects.get().pk and result["scores"]["scored"] == 30
    assert AccountScore.objects.count() == 30
    stopped = AccountScore.objects.get(account=accounts[0])
    assert stopped.p_alive < min(AccountScore.objects.exclude(account=accounts[0]).values_list("p_alive", flat=True))
    assert ChurnEvent.objects.filter(account=accounts[0], definition__code="no-revenue").exists()
    assert Warning.objects.filter(account=accounts[0], rule__code="spend_drop").exists()
    assert HealthScore.objects.filter(month=date(2026, 11, 1)).count() == 30
