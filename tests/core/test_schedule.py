"""The nightly run: enqueued once a day at the configured hour, whoever checks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils.module_loading import import_string

from kam.core import schedule
from kam.core.models import NightlyRun

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def enqueued(monkeypatch):
    calls = []

    class Job:
        def __init__(self, path):
            self.path = path

        def enqueue(self):
            calls.append(self.path)

    monkeypatch.setattr(schedule, "import_string", Job)
    return calls


def test_the_nightly_jobs_are_enqueued_once_a_day_from_the_hour_on(enqueued, django_capture_on_commit_callbacks):
    # given the default hour, 02:00 local time
    with django_capture_on_commit_callbacks(execute=True):
        # when a scheduler checks before it, nothing happens
        assert schedule.nightly_enqueue(datetime(2026, 11, 27, 1, 59, tzinfo=SHANGHAI)) == []
        # then at 02:00 the jobs go, and a second check (or a second scheduler) that day does nothing
        jobs = schedule.nightly_enqueue(datetime(2026, 11, 27, 2, 0, tzinfo=SHANGHAI))
        assert schedule.nightly_enqueue(datetime(2026, 11, 27, 23, 0, tzinfo=SHANGHAI)) == []
        # the next day they go again
        assert schedule.nightly_enqueue(datetime(2026, 11, 28, 3, 0, tzinfo=SHANGHAI)) == jobs
    assert jobs[:2] == ["kam.activities.tasks.create_cadence_reminders", "kam.activities.tasks.apply_playbooks"]
    assert "kam.sales.tasks.pool_sweep" in jobs and "kam.sales.tasks.lead_sla_sweep" in jobs
    assert enqueued == jobs * 2
    assert list(NightlyRun.objects.order_by("day").values_list("day", flat=True).distinct()) == [
        datetime(2026, 11, 27).date(), datetime(2026, 11, 28).date()]


def test_the_day_is_the_local_day(enqueued, django_capture_on_commit_callbacks):
    # 19:30 UTC on the 26th is 03:30 on the 27th in Shanghai
    with django_capture_on_commit_callbacks(execute=True):
        schedule.nightly_enqueue(datetime(2026, 11, 26, 19, 30, tzinfo=ZoneInfo("UTC")))
    assert NightlyRun.objects.get().day.isoformat() == "2026-11-27"


def test_the_configured_jobs_are_background_tasks():
    from django.conf import settings

    for path in settings.KAM["NIGHTLY_TASKS"].split(","):
        assert callable(import_string(path).enqueue)


def test_kam_scheduler_once_checks_and_exits(enqueued, capsys, settings):
    from kam import cli

    settings.KAM = {**settings.KAM, "NIGHTLY_AT": "00:00"}  # the hour has always come
    assert cli.main(["scheduler", "--once"]) == 0
    assert "nightly jobs enqueued" in capsys.readouterr().out
    assert cli.main(["scheduler", "--once"]) == 0
    assert "nightly jobs enqueued" not in capsys.readouterr().out
    assert NightlyRun.objects.count() == 1
