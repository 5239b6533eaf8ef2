"""`kam serve`'s supervisor, on real child processes: a child that exits is started again and
the reason logged; a crash loop backs off; the web server's exit stops everything; stop stops
all, killing what will not stop."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

import pytest

from kam.core.supervisor import Backoff, Forked, Program, Supervisor, exit_reason

PY = sys.executable
SLEEPER = [PY, "-c", "import time; time.sleep(60)"]
# Ignores SIGTERM, so only SIGKILL ends it.
STUBBORN = [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too: it only waits to be reaped.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def ignores_sigterm(pid: int) -> bool:
    """Whether the process has set SIGTERM to be ignored (Linux: SigIgn in /proc/<pid>/status)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            ignored = next(line for line in status if line.startswith("SigIgn:")).split()[1]
    except (OSError, StopIteration):
        return False
    return bool(int(ignored, 16) & (1 << (signal.SIGTERM - 1)))


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def running():
    """Run a supervisor in a thread (the tests' main thread keeps asking); stop it after."""
    started = []

    def run(programs, **kw) -> Supervisor:
        kw.setdefault("backoff", Backoff(first=0.1, longest=0.4, reset_after=60))
        kw.setdefault("grace", 2.0)
        supervisor = Supervisor(programs, poll=0.02, **kw)
        # Signal handlers belong to the main thread; this run leaves them alone.
        thread = threading.Thread(target=supervisor.run, kwargs={"handle_signals": False}, daemon=True)
        thread.start()
        started.append((supervisor, thread))
        assert wait_until(lambda: all(c.process is not None for c in supervisor.children))
        return supervisor

    yield run
    for supervisor, thread in started:
        supervisor.request_stop()
        thread.join(timeout=10)
        for child in supervisor.children:
            if child.process is not None and child.process.poll() is None:
                child.process.kill()


def test_a_worker_that_is_killed_is_started_again_and_the_reason_is_logged(running, caplog):
    # given a supervised worker and what its exits reported
    exits = []
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("worker-1", argv=SLEEPER, on_exit=lambda pid, reason: exits.append((pid, reason)))])
    first = supervisor.pid("worker-1")

    # when it is killed with SIGKILL
    os.kill(first, signal.SIGKILL)

    # then a new process runs in its place, and why the old one went is logged and reported
    assert wait_until(lambda: supervisor.pid("worker-1") not in (None, first))
    assert exits == [(first, "killed by SIGKILL")]
    assert f"worker-1 (pid {first}) killed by SIGKILL" in caplog.text
    assert "restarting in 0.1 s" in caplog.text


def test_a_forked_worker_is_restarted_in_a_moment_and_its_own_exit_code_is_the_reason(running, caplog):
    # given a worker run as a function in a child forked from the supervisor
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("worker-1", target=lambda: time.sleep(60))],
                         backoff=Backoff(first=0.1, longest=0.4, reset_after=60))
    first = supervisor.pid("worker-1")
    assert first != os.getpid() and alive(first)

    # when it is killed, it is back at once, forked again
    os.kill(first, signal.SIGKILL)
    assert wait_until(lambda: supervisor.pid("worker-1") not in (None, first), timeout=15)  # a loaded machine forks slowly
    assert f"worker-1 (pid {first}) killed by SIGKILL" in caplog.text

    # and a function that returns a status exits with it
    quitter = running([Program("scheduler", target=lambda: 3)])
    assert wait_until(lambda: "scheduler" in caplog.text and "exited with status 3" in caplog.text)
    assert quitter.children[0].exits[0] == "exited with status 3"


def _asked_from_threads(child: Forked, threads: int) -> tuple[list[int], list[Exception]]:
    """Each thread polls `child` until it has exited; what each learned, and what each raised."""
    codes: list[int] = []
    errors: list[Exception] = []
    start = threading.Barrier(threads)

    def ask():
        start.wait()
        try:
            while (code := child.poll()) is None:
                pass
            codes.append(code)
        except Exception as exc:  # a second waitpid on a reaped child raises ChildProcessError
            errors.append(exc)

    running = [threading.Thread(target=ask) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=10)
    return codes, errors


def test_a_forked_child_asked_about_from_many_threads_at_once_is_reaped_once():
    # given forked children that exit at once, and eight threads asking whether each has
    for _ in range(20):
        child = Forked(lambda: 5, "quitter")
        codes, errors = _asked_from_threads(child, 8)

        # then each thread learns its exit code, and none of them fails
        assert errors == []
        assert codes == [5] * 8
        assert child.wait() == 5


def test_an_exit_code_is_the_reason_given():
    assert exit_reason(3) == "exited with status 3"
    assert exit_reason(-signal.SIGTERM) == "killed by SIGTERM"


def test_a_crash_loop_backs_off_doubling_to_the_longest_pause(running, caplog):
    # given a scheduler that crashes as soon as it starts
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("scheduler", argv=[PY, "-c", "raise SystemExit(2)"])],
                         backoff=Backoff(first=0.05, longest=0.2, reset_after=60))

    # when it has crashed five times
    assert wait_until(lambda: caplog.text.count("exited with status 2") >= 5, timeout=30)

    # then the pauses before each restart doubled up to the longest, and it is still restarted
    pauses = [line.rsplit("restarting in ", 1)[1] for line in caplog.messages if "restarting in" in line][:5]
    assert pauses == ["0.05 s", "0.1 s", "0.2 s", "0.2 s", "0.2 s"]
    assert supervisor.children[0].restarts >= 4


def test_the_pause_returns_to_the_shortest_after_a_long_run(running, caplog):
    # given a child that has crashed quickly once (next pause doubled) and then ran a while
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("worker-1", argv=SLEEPER)], backoff=Backoff(first=0.1, longest=1.0, reset_after=0.5))
    child = supervisor.children[0]
    child.delay = 0.8
    time.sleep(0.6)

    # when it exits
    first = supervisor.pid("worker-1")
    os.kill(first, signal.SIGKILL)

    # then it is restarted after the shortest pause, not the doubled one
    assert wait_until(lambda: "restarting in" in caplog.text)
    assert "restarting in 0.1 s" in caplog.text


def test_when_the_web_server_exits_everything_stops_and_serve_fails(running, caplog):
    # given the web server, a worker and the scheduler
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("web", argv=SLEEPER, essential=True), Program("worker-1", argv=SLEEPER),
                          Program("scheduler", argv=SLEEPER)])
    pids = [supervisor.pid(name) for name in ("web", "worker-1", "scheduler")]

    # when gunicorn's master dies
    os.kill(pids[0], signal.SIGKILL)

    # then the others are stopped, nothing is restarted, and the status is non-zero
    assert wait_until(lambda: supervisor.status is not None and not any(alive(p) for p in pids))
    assert supervisor.status != 0
    assert "web exited (killed by SIGKILL); stopping everything" in caplog.text
    assert "restarting" not in caplog.text


def test_stop_terminates_every_child_and_kills_one_that_ignores_it(running, caplog):
    # given a well-behaved worker and one that ignores SIGTERM
    caplog.set_level(logging.INFO, logger="kam.serve")
    supervisor = running([Program("worker-1", argv=SLEEPER), Program("worker-2", argv=STUBBORN)], grace=1.0)
    pids = [supervisor.pid("worker-1"), supervisor.pid("worker-2")]
    assert wait_until(lambda: ignores_sigterm(pids[1]), timeout=20)  # a loaded machine starts Python slowly

    # when serve is asked to stop
    began = time.monotonic()
    supervisor.request_stop()

    # then both are gone within the grace period and a little, the stubborn one killed
    assert wait_until(lambda: not any(alive(p) for p in pids), timeout=10)
    assert time.monotonic() - began < 5
    # (a killed child is dead before the supervisor has reaped it and recorded why: the status
    # is set only after every exit is recorded)
    assert wait_until(lambda: supervisor.status == 0)
    assert supervisor.children[0].exits[-1] == "killed by SIGTERM"
    assert supervisor.children[1].exits[-1] == "killed by SIGKILL"
    assert "worker-2 (pid" in caplog.text and "did not stop within 1 s; killing it" in caplog.text
