"""The nightly run: at KAM["NIGHTLY_AT"] (local time) the jobs of KAM["NIGHTLY_TASKS"] are
enqueued once for the day. `kam scheduler` checks every minute; `kam serve` starts it
beside the worker. A unique row per day decides which checker enqueues."""

from __future__ import annotations

from datetime import datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from kam.core.conf import config
from kam.core.models import NightlyRun


def nightly_time() -> time:
    return config().NIGHTLY_AT


def nightly_enqueue(now: datetime | None = None) -> list[str]:
    """Enqueue the nightly jobs if their hour has come today and nobody has yet; returns
    the jobs enqueued (none when it is too early or already done)."""
    local = timezone.localtime(now)
    if local.time() < nightly_time():
        return []
    jobs = list(config().NIGHTLY_TASKS)
    try:
        with transaction.atomic():
            NightlyRun.objects.create(day=local.date(), jobs=jobs)
            for path in jobs:
                job = import_string(path)
                transaction.on_commit(job.enqueue)
    except IntegrityError:
        return []  # another scheduler has it
    return jobs
