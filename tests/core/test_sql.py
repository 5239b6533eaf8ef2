"""Day numbers from the database, on either vendor (kam.core.sql)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Max

from factories import AccountFactory
from kam.activities.models import Activity
from kam.core.sql import EpochDay, EpochSeconds, LocalDayNumber, fixed_offset

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def test_a_zone_keeps_or_changes_its_offset():
    assert fixed_offset(SHANGHAI, date(2026, 1, 1), date(2026, 12, 31)) == 8 * 3600
    assert fixed_offset(BERLIN, date(2026, 1, 1), date(2026, 2, 1)) == 3600
    assert fixed_offset(BERLIN, date(2026, 3, 1), date(2026, 4, 1)) is None  # summer time starts 03-29


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [SHANGHAI, BERLIN])
@pytest.mark.parametrize("during", [None, (date(2026, 6, 1), date(2026, 7, 31))])
def test_the_local_day_of_a_time_just_after_local_midnight(org, zone, during):
    # given activities at 2026-06-30 16:30 and 22:30 UTC: 07-01 00:30 and 06:30 in Shanghai,
    # 06-30 18:30 and 07-01 00:30 in Berlin (summer time)
    account = AccountFactory(owner=org.specialist_a)
    for hour in (16, 22):
        Activity.objects.create(account=account, kind="visit", summary="拜访", created_by=org.specialist_a,
                                occurred_at=datetime(2026, 6, 30, hour, 30, tzinfo=UTC))
    days = sorted(Activity.objects.annotate(day=LocalDayNumber("occurred_at", zone=zone, during=during))
                  .values_list("day", flat=True))
    first = date(2026, 7, 1) if zone is SHANGHAI else date(2026, 6, 30)
    assert days == [first.toordinal(), date(2026, 7, 1).toordinal()]
    latest = Activity.objects.aggregate(day=LocalDayNumber(Max("occurred_at"), zone=zone, during=during))["day"]
    assert latest == date(2026, 7, 1).toordinal()


@pytest.mark.django_db
def test_epoch_seconds_of_a_stored_time_whatever_the_zone_it_was_given_in(org):
    account = AccountFactory(owner=org.specialist_a)
    at = datetime(2026, 7, 1, 0, 30, 15, tzinfo=SHANGHAI)
    Activity.objects.create(account=account, kind="visit", summary="拜访", created_by=org.specialist_a, occurred_at=at)
    seconds = Activity.objects.annotate(t=EpochSeconds("occurred_at")).values_list("t", flat=True).get()
    assert seconds == int(at.timestamp()) == 1782837015


@pytest.mark.django_db
def test_a_date_as_days_since_1970(org):
    from kam.revenue.models import RevenueFact

    account = AccountFactory(owner=org.specialist_a)
    for day in (date(1970, 1, 2), date(2026, 2, 28)):
        RevenueFact.objects.create(account=account, date=day, month=day.replace(day=1), amount=1)
    days = sorted(RevenueFact.objects.annotate(n=EpochDay("date")).values_list("n", flat=True))
    assert days == [1, (date(2026, 2, 28) - date(1970, 1, 1)).days]
