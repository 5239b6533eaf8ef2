"""`kam serve`'s children kept running: the web server, the background workers, the scheduler.

A background worker or the scheduler that exits, for whatever reason, is started again after
a pause that doubles with each quick exit (so a crash loop is not a hot loop) and returns to
the shortest once the child has run a while; each exit is logged with its exit code or
signal. The web server is essential: when its master exits, everything stops and `kam serve`
exits non-zero. SIGTERM or SIGINT stop every child (SIGTERM, then SIGKILL after a grace
period); a second signal kills them at once.

A program is a command (gunicorn) or a function run in a child forked from `kam serve` —
the background workers and the scheduler: they start with Django already loaded, so a
restarted worker is back in a moment rather than after seconds of imports on a busy machine.
Each child runs in a process group of its own, so that Ctrl-C in a terminal reaches only the
supervisor (a worker would take a second signal as "abandon the task now"), and so that
stopping a child reaches what it started (gunicorn's workers); on Linux a child is also
told to stop should the supervisor itself die.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("kam.serve")


def exit_reason(returncode: int) -> str:
    """How a child process ended, as `kam serve` logs it and the registry records it."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


@dataclass
class Program:
    name: str
    # A command to run, or a function to run in a forked child (its return value the exit code).
    argv: list[str] | None = None
    target: Callable[[], int | None] | None = None
    # Its exit stops everything (the web server): there is nothing to serve without it.
    essential: bool = False
    # Called with (pid, reason) when a process of this program has exited.
    on_exit: Callable[[int, str], None] | None = None


class Forked:
    """A child forked to run `target`, with the part of subprocess.Popen the supervisor uses."""

    def __init__(self, target: Callable[[], int | None], name: str):
        parent = os.getpid()
        # No signal may reach the child's copy of the supervisor's handlers: block them over
        # the fork, and let the child unblock them once they are back to their defaults.
        signals = {signal.SIGTERM, signal.SIGINT}
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.setsid()
                for number in signals:
                    signal.signal(number, signal.SIG_DFL)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                if sys.platform == "linux":
                    _stop_with_parent()
                    _name_process(f"kam {name}")
                if os.getppid() != parent:  # the supervisor died meanwhile
                    os._exit(1)
                code = target() or 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        self.pid, self.returncode = pid, None
        self._reaping = threading.Lock()

    def _reap(self, flags: int) -> int | None:
        # Two threads may ask at once (the supervisor's loop and whoever asks for a pid): one
        # reaps, under the lock, and the other reads what it found — a second waitpid on a
        # reaped child would raise. A poll does not wait for a reap under way elsewhere.
        if self.returncode is not None or not self._reaping.acquire(blocking=not flags & os.WNOHANG):
            return self.returncode
        try:
            if self.returncode is None:
                try:
                    pid, status = os.waitpid(self.pid, flags)
                except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): its code is lost
                    pid, status = self.pid, 0
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        finally:
            self._reaping.release()
        return self.returncode

    def poll(self) -> int | None:
        return self._reap(os.WNOHANG)

    def wait(self) -> int:
        code = self._reap(0)
        assert code is not None
        return code

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@dataclass
class Backoff:
    first: float
    longest: float
    # A child that ran at least this long before exiting is restarted after `first` again.
    reset_after: float


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen | Forked | None = None
    started: float = 0.0
    delay: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    exits: list[str] = field(default_factory=list)


class Supervisor:
    def __init__(self, programs: list[Program], *, backoff: Backoff, grace: float, poll: float = 0.2,
                 env: dict | None = None, before_fork: Callable[[], None] | None = None):
        """`before_fork`: what must be let go of before a fork (the database connections, whose
        sockets a child would otherwise share)."""
        self.children = [_Child(program=p, delay=backoff.first) for p in programs]
        self.backoff, self.grace, self.poll, self.env = backoff, grace, poll, env
        self.before_fork = before_fork
        self.status: int | None = None  # set when the run is over: 0 stopped on request, else why
        self._stop_requested = False
        self._force = False

    # --- the run --------------------------------------------------------------------------
    def run(self, *, handle_signals: bool = True) -> int:
        """Start every child and keep them running until asked to stop (SIGTERM, SIGINT or
        `request_stop`) or the essential one exits; returns the exit status for `kam serve`.
        `handle_signals=False` leaves signals alone (a run outside the main thread)."""
        numbers = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        previous = {number: signal.signal(number, self._on_signal) for number in numbers}
        try:
            for child in self.children:
                self._start(child)
            while not self._stop_requested and self.status is None:
                self.check()
                time.sleep(self.poll)
            return self.stop()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def request_stop(self) -> None:
        if self._stop_requested:
            self._force = True
        self._stop_requested = True

    def _on_signal(self, signum, frame) -> None:
        logger.info("kam serve: %s received, stopping", signal.Signals(signum).name)
        self.request_stop()

    def pid(self, name: str) -> int | None:
        child = next(c for c in self.children if c.program.name == name)
        return child.process.pid if child.process is not None and child.process.poll() is None else None

    # --- one look at the children ---------------------------------------------------------
    def check(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and (code := child.process.poll()) is not None:
                self._exited(child, code, now)
                if child.program.essential:
                    logger.error("kam serve: %s exited (%s); stopping everything", child.program.name,
                                 child.exits[-1])
                    self.status = code if code > 0 else 128 - code if code < 0 else 1
                    return
                ran = now - child.started
                if ran >= self.backoff.reset_after:
                    child.delay = self.backoff.first
                child.restart_at = now + child.delay
                logger.warning("kam serve: %s (pid %d) %s after %.1f s; restarting in %g s",
                               child.program.name, child.process.pid, child.exits[-1], ran, child.delay)
                child.delay = min(child.delay * 2, self.backoff.longest)
                child.process = None
            elif child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)

    def _start(self, child: _Child) -> None:
        if child.program.target is not None:
            if self.before_fork is not None:
                self.before_fork()
            child.process = Forked(child.program.target, child.program.name)
        else:
            child.process = subprocess.Popen(child.program.argv, env=self.env, start_new_session=True,
                                             preexec_fn=_stop_with_parent if sys.platform == "linux" else None)
        child.started, child.restart_at = time.monotonic(), None
        logger.info("kam serve: started %s (pid %d)", child.program.name, child.process.pid)

    def _exited(self, child: _Child, code: int, now: float) -> None:
        _signal_group(child.process, signal.SIGTERM)  # what it leaves behind (a dead master's workers)
        reason = exit_reason(code)
        child.exits.append(reason)
        if child.program.on_exit is not None:
            try:
                child.program.on_exit(child.process.pid, reason)
            except Exception:
                logger.exception("kam serve: recording the exit of %s failed", child.program.name)

    # --- stopping -------------------------------------------------------------------------
    def stop(self) -> int:
        running = [c for c in self.children if c.process is not None and c.process.poll() is None]
        for child in running:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(c.process.poll() is None for c in running) and time.monotonic() < deadline and not self._force:
            time.sleep(min(self.poll, 0.05))
        for child in running:
            if child.process.poll() is None:
                logger.warning("kam serve: %s (pid %d) did not stop within %g s; killing it",
                               child.program.name, child.process.pid, self.grace)
                _signal_group(child.process, signal.SIGKILL)
            code = child.process.wait()
            self._exited(child, code, time.monotonic())
        if self.status is None:
            self.status = 0
        logger.info("kam serve: stopped")
        return self.status


def _signal_group(process: subprocess.Popen, number: int) -> None:
    try:
        os.killpg(process.pid, number)
    except (ProcessLookupError, PermissionError):
        pass


PR_SET_NAME, PR_SET_PDEATHSIG = 15, 1


def _stop_with_parent() -> None:
    """In the child before it runs: SIGTERM when the supervisor dies (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _name_process(name: str) -> None:
    """What `ps -o comm` and top show for a forked child (its command line is serve's)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
