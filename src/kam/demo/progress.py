"""The demo's progress: a bar per phase (label, done/total, rate) on stderr, and each phase's
wall and CPU time for the summary, so a slow phase shows where it is slow."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

WIDTH = 30
EVERY = 0.25  # seconds between redraws


class Progress:
    """One phase's bar: `advance(n)` as work is done; the bar ends on its own line when done
    reaches the total (or at `close`). Silent when not `enabled`."""

    def __init__(self, enabled: bool, label: str, total: int, unit: str = "") -> None:
        self.enabled, self.label, self.total, self.unit = enabled, label, max(0, total), unit
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._closed = False
        self._draw(force=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.done >= self.total:
            self.close()
        else:
            self._draw()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._draw(force=True)
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled or self._closed and not force:
            return
        now = time.monotonic()
        if not force and now - self._drawn < EVERY:
            return
        self._drawn = now
        filled = int(WIDTH * min(self.done, self.total) / max(self.total, 1)) if self.total else WIDTH
        rate = self.done / max(now - self.started, 1e-6)
        unit = f" {self.unit}" if self.unit else ""
        sys.stderr.write(f"\r{self.label:<12} [{'#' * filled}{'.' * (WIDTH - filled)}] "
                         f"{self.done:,}/{self.total:,}{unit} {rate:,.0f}/s ")
        sys.stderr.flush()


@dataclass
class Phases:
    """Wall and CPU seconds per phase of the build, in the order they ran."""

    times: dict[str, tuple[float, float]] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.monotonic(), time.process_time()
        try:
            yield
        finally:
            self.times[name] = (time.monotonic() - wall, time.process_time() - cpu)

    def line(self) -> str:
        return "Phases (wall / CPU s): " + ", ".join(f"{name} {wall:.1f} / {cpu:.1f}"
                                                     for name, (wall, cpu) in self.times.items())
