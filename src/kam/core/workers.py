"""The registry of background workers, so pages can say whether any is running and a job
whose worker died can be told from one still running.

Every `kam worker` process registers itself (host, pid, start) and beats every
WORKER_HEARTBEAT_SECONDS from a thread with its own database connection; it counts as
alive while it has not stopped and its last beat is within WORKER_STALE_SECONDS. A clean
exit marks it stopped; `kam serve`, which sees its children die, marks a worker that was
killed at once, with the reason. The worker itself is django-tasks-db's, wrapped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from kam.core.conf import config
from kam.core.models import WorkerHeartbeat

logger = logging.getLogger("kam.workers")


def host_name() -> str:
    return socket.gethostname()[:50]


def worker_id(pid: int | None = None) -> str:
    """How a process is known to the registry, the task queue and the jobs it runs."""
    return f"{host_name()}:{pid or os.getpid()}"


def _stale_before():
    return timezone.now() - timedelta(seconds=config().WORKER_STALE_SECONDS)


def alive_workers():
    return WorkerHeartbeat.objects.filter(stopped_at__isnull=True, beat_at__gte=_stale_before())


def workers_needed() -> bool:
    """Whether background tasks wait for a `kam worker` (the database backend) rather than
    running at once in the process that enqueues them."""
    from django_tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def any_worker_alive() -> bool:
    return alive_workers().exists()


def no_worker_running() -> bool:
    """True when work enqueued now would wait: a worker is needed and none is alive."""
    return workers_needed() and not any_worker_alive()


def process_gone(host: str, pid: int) -> bool:
    """Whether the process `pid` of `host` is known to be dead: on this host it is seen at
    once (before any beat goes stale); elsewhere it cannot be."""
    if host != host_name():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def _alive(record: WorkerHeartbeat, stale_before) -> bool:
    return record.stopped_at is None and record.beat_at >= stale_before and not process_gone(record.host, record.pid)


def worker_alive(worker: str) -> bool | None:
    """Whether the registered worker `worker` is alive; None when it never registered
    (a job run by `kam import` on the command line)."""
    record = WorkerHeartbeat.objects.filter(worker_id=worker).first() if worker else None
    if record is None:
        return None
    return _alive(record, _stale_before())


def worker_gone(worker: str) -> bool | None:
    """Whether the process recorded as running a job (its `worker_id`) has died: the
    registry's answer for a registered worker, the pid's for a process of this host that never
    registered (the command line); None when it cannot be told from here."""
    alive = worker_alive(worker)
    if alive is not None:
        return not alive
    host, _sep, pid = worker.rpartition(":")
    if host == host_name() and pid.isdigit():
        return process_gone(host, int(pid))
    return None


def workers_alive_among(ids) -> dict[str, bool]:
    """worker id → alive, for the registered ones among `ids` (one query for a list page)."""
    records = WorkerHeartbeat.objects.filter(worker_id__in={i for i in ids if i})
    stale = _stale_before()
    return {r.worker_id: _alive(r, stale) for r in records}


def worker_register() -> WorkerHeartbeat:
    """Record this process as a live worker (replacing an earlier process's record with the
    same host and pid) and forget workers stopped long ago."""
    now = timezone.now()
    WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=config().WORKER_RECORD_DAYS)).delete()
    record, _created = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id(),
        defaults={"host": host_name(), "pid": os.getpid(), "started_at": now, "beat_at": now,
                  "stopped_at": None, "stop_reason": ""},
    )
    return record


def worker_beat(worker: str) -> None:
    if not WorkerHeartbeat.objects.filter(worker_id=worker, stopped_at__isnull=True).update(beat_at=timezone.now()):
        worker_register()  # the record was removed or marked stopped by mistake: this process is alive


def worker_stopped(*, worker: str, reason: str) -> bool:
    """Mark a worker stopped unless it already is; returns whether it was running."""
    return bool(WorkerHeartbeat.objects.filter(worker_id=worker, stopped_at__isnull=True)
                .update(stopped_at=timezone.now(), stop_reason=reason[:80]))


class Heartbeat:
    """Beats for this process every WORKER_HEARTBEAT_SECONDS from a daemon thread. Django
    connections are per thread, so the beats never share the worker's connection or its
    transactions; a beat that fails (the database busy or read-only) is logged and the next
    one tried, and the beats stop with the process."""

    def __init__(self, worker: str, interval: float | None = None):
        self.worker = worker
        self.interval = interval or config().WORKER_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kam-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    close_old_connections()
                    worker_beat(self.worker)
                except DatabaseError as exc:
                    logger.warning("worker %s: heartbeat not recorded: %s", self.worker, exc)
        finally:
            connections.close_all()


def _db_worker_command():
    """django-tasks-db's `db_worker` with this process registered and beating while it runs."""
    from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
    from django_tasks_db.management.commands.db_worker import Command

    class WorkerCommand(Command):
        help = "Run the background worker (django-tasks-db's db_worker, registered with a heartbeat)"

        def add_arguments(self, parser) -> None:
            super().add_arguments(parser)
            # The task queue knows the worker by the id the registry and the jobs use.
            parser.set_defaults(worker_id=worker_id())

        def handle(self, *args, **options):
            if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
                return super().handle(*args, **options)  # the reloader's parent runs no tasks
            me = worker_register().worker_id
            heartbeat = Heartbeat(me).start()
            logger.info("worker %s registered; beating every %s s", me, heartbeat.interval)
            reason = "failed"
            try:
                super().handle(*args, **options)
                reason = "stopped"
            except SystemExit as exc:
                # db_worker leaves through sys.exit() on SIGTERM/SIGINT when idle.
                reason = "stopped" if not exc.code else f"exited with status {exc.code}"
                raise
            finally:
                heartbeat.stop()
                try:
                    worker_stopped(worker=me, reason=reason)
                except DatabaseError as exc:
                    logger.warning("worker %s: could not record its stop: %s", me, exc)
                logger.info("worker %s %s", me, reason)

    return WorkerCommand()


def run_worker(argv: list[str]) -> int:
    """`kam worker [db_worker options]`."""
    _db_worker_command().run_from_argv(["kam", "worker", *argv])
    return 0
