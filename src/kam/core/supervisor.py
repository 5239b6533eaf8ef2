"""`kam serve`'s children kept running: the web server, the background workers, the scheduler.

A background worker or the scheduler that exits, for whatever reason, is started again after
a pause that doubles with each quick exit (so a crash loop is not a hot loop) and returns to
the shortest once the child has run a while; each exit is logged with its exit code or
signal. The web server is essential: when its master exits, everything stops and `kam serve`
exits non-zero. SIGTERM or SIGINT stop every child (SIGTERM, then SIGKILL after a grace
period); a second signal kills them at once.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import time
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
    argv: list[str]
    # Its exit stops everything (the web server): there is nothing to serve without it.
    essential: bool = False
    # Called with (pid, reason) when a process of this program has exited.
    on_exit: Callable[[int, str], None] | None = None


@dataclass
class Backoff:
    first: float
    longest: float
    # A child that ran at least this long before exiting is restarted after `first` again.
    reset_after: float


@dataclass
class _Child:
    program: Program
    process: subprocess.Popen | None = None
    started: float = 0.0
    delay: float = 0.0
    restart_at: float | None = None
    restarts: int = 0
    exits: list[str] = field(default_factory=list)


class Supervisor:
    def __init__(self, programs: list[Program], *, backoff: Backoff, grace: float, poll: float = 0.2,
                 env: dict | None = None):
        self.children = [_Child(program=p, delay=backoff.first) for p in programs]
        self.backoff, self.grace, self.poll, self.env = backoff, grace, poll, env
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
        child.process = subprocess.Popen(child.program.argv, env=self.env)
        child.started, child.restart_at = time.monotonic(), None
        logger.info("kam serve: started %s (pid %d)", child.program.name, child.process.pid)

    def _exited(self, child: _Child, code: int, now: float) -> None:
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
            child.process.terminate()
        deadline = time.monotonic() + self.grace
        while any(c.process.poll() is None for c in running) and time.monotonic() < deadline and not self._force:
            time.sleep(min(self.poll, 0.05))
        for child in running:
            if child.process.poll() is None:
                logger.warning("kam serve: %s (pid %d) did not stop within %g s; killing it",
                               child.program.name, child.process.pid, self.grace)
                child.process.kill()
            code = child.process.wait()
            self._exited(child, code, time.monotonic())
        if self.status is None:
            self.status = 0
        logger.info("kam serve: stopped")
        return self.status
