"""The recycle bin's clock on hand-computed cases: days left round up, 0 once due."""

from datetime import UTC, datetime, timedelta

import pytest

from kam.accounts.recycle.clock import bin_cutoff, days_left

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("deleted_ago", "left"), [
    (timedelta(0), 15),
    (timedelta(seconds=1), 15),  # 14 days 23:59:59 left: rounds up
    (timedelta(days=1), 14),
    (timedelta(days=14, hours=23), 1),
    (timedelta(days=15), 0),  # due now
    (timedelta(days=40), 0),  # overdue: never negative
])
def test_days_left(settings, deleted_ago, left):
    settings.KAM = {**settings.KAM, "RECYCLE_BIN_DAYS": 15}
    assert days_left(NOW - deleted_ago, NOW) == left


def test_cutoff_follows_the_setting(settings):
    settings.KAM = {**settings.KAM, "RECYCLE_BIN_DAYS": 3}
    assert bin_cutoff(NOW) == datetime(2026, 6, 27, 12, 0, tzinfo=UTC)
    assert days_left(NOW - timedelta(days=2), NOW) == 1
