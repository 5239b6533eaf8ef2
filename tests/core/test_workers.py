"""The worker registry: a `kam worker` registers and beats from a thread of its own, counts as
alive while its beats are recent, and is marked stopped when it exits."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from kam.core import workers
from kam.core.models import WorkerHeartbeat

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _record(worker_id: str, *, beat_ago: float = 0, stopped: bool = False, pid: int | None = None):
    now = timezone.now()
    host, _sep, number = worker_id.rpartition(":")
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id, host=host, pid=pid or int(number), started_at=now - timedelta(hours=1),
        beat_at=now - timedelta(seconds=beat_ago), stopped_at=now if stopped else None,
    )


def test_a_worker_is_alive_while_its_beats_are_recent(db, settings):
    # given this process registered as a worker
    settings.KAM = {**settings.KAM, "WORKER_STALE_SECONDS": 30}
    record = workers.worker_register()
    assert record.worker_id == f"{workers.host_name()}:{os.getpid()}"

    # then it is alive, and no longer once its last beat is older than WORKER_STALE_SECONDS
    assert workers.worker_alive(record.worker_id) is True and workers.any_worker_alive()
    WorkerHeartbeat.objects.filter(pk=record.pk).update(beat_at=timezone.now() - timedelta(seconds=31))
    assert workers.worker_alive(record.worker_id) is False and not workers.any_worker_alive()

    # and a beat brings it back
    workers.worker_beat(record.worker_id)
    assert workers.worker_alive(record.worker_id) is True


def test_a_stopped_worker_and_a_dead_process_are_not_alive(db):
    # given a worker that stopped, and one whose process on this host is gone
    stopped = _record(f"{workers.host_name()}:{os.getpid()}", stopped=True)
    gone = _record(f"{workers.host_name()}:{2**22 + 7}")  # above any pid this machine hands out
    elsewhere = _record("other-host:12345")

    # then neither counts; a worker on another host is judged by its beats alone
    assert workers.worker_alive(stopped.worker_id) is False
    assert workers.worker_alive(gone.worker_id) is False
    assert workers.worker_alive(elsewhere.worker_id) is True
    assert workers.worker_alive("never-registered:1") is None
    assert workers.workers_alive_among([stopped.worker_id, gone.worker_id, elsewhere.worker_id, ""]) == {
        stopped.worker_id: False, gone.worker_id: False, elsewhere.worker_id: True,
    }


def test_no_worker_notice_only_when_tasks_wait_for_a_worker(db, settings):
    # given tasks that run at once (the tests' backend): no worker is needed
    assert not workers.no_worker_running()

    # when tasks go through the database, they wait for a worker that is not there
    settings.TASKS = DB_TASKS
    assert workers.no_worker_running()
    _record("other-host:1", beat_ago=5)
    assert not workers.no_worker_running()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_on_a_connection_of_its_own(settings):
    # given a registered worker beating every 50 ms
    record = workers.worker_register()
    WorkerHeartbeat.objects.filter(pk=record.pk).update(beat_at=timezone.now() - timedelta(minutes=5))
    heartbeat = workers.Heartbeat(record.worker_id, interval=0.05).start()
    try:
        # then its beats arrive while the main thread does nothing
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not workers.worker_alive(record.worker_id):
            time.sleep(0.05)
        assert workers.worker_alive(record.worker_id)
    finally:
        heartbeat.stop()
    assert not heartbeat._thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_kam_worker_registers_runs_tasks_under_its_id_and_marks_itself_stopped(settings):
    # given a task waiting in the database queue
    from django_tasks_db.models import DBTaskResult

    from kam.tiering.tasks import compute_snapshot

    settings.TASKS = DB_TASKS
    result = compute_snapshot.enqueue(2**40)  # no such snapshot: the task fails, which is fine here

    # when `kam worker --batch` runs it and exits
    workers.run_worker(["--batch", "--no-startup-delay", "--no-reload", "-v0"])

    # then the worker ran it under its registry id, and its record says it stopped cleanly
    me = f"{workers.host_name()}:{os.getpid()}"
    assert DBTaskResult.objects.get(pk=result.id).worker_ids == [me]
    record = WorkerHeartbeat.objects.get(worker_id=me)
    assert record.stopped_at is not None and record.stop_reason == "stopped"
    assert workers.worker_alive(me) is False


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_under_kam_serve_is_marked_stopped_with_the_reason():
    # given a live worker child of kam serve
    from kam.cli import _worker_exited

    record = _record(f"{workers.host_name()}:{os.getpid()}")

    # when kam serve sees it killed
    _worker_exited(os.getpid(), "killed by SIGKILL")

    # then the registry says so at once, without waiting for its beats to go stale
    record.refresh_from_db()
    assert record.stopped_at is not None and record.stop_reason == "killed by SIGKILL"
    assert workers.worker_alive(record.worker_id) is False


def test_old_records_are_forgotten_when_a_worker_registers(db, settings):
    settings.KAM = {**settings.KAM, "WORKER_RECORD_DAYS": 7}
    old = _record("other-host:7", beat_ago=8 * 86400, stopped=True)
    recent = _record("other-host:8", beat_ago=86400, stopped=True)
    workers.worker_register()
    assert not WorkerHeartbeat.objects.filter(pk=old.pk).exists()
    assert WorkerHeartbeat.objects.filter(pk=recent.pk).exists()
