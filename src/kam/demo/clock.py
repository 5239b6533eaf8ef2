"""Local days and times of day as seconds since the epoch, for rows drawn a batch at a time:
one aware datetime per distinct day instead of one per row."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
from django.utils import timezone


class Midnights:
    """The epoch second of local midnight (TIME_ZONE) for day ordinals in [first, last]."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first.toordinal()
        days = range(self.first, last.toordinal() + 1)
        self.table = np.array([int(timezone.make_aware(datetime.combine(date.fromordinal(d), time.min)).timestamp())
                               for d in days], dtype=np.int64)

    def __call__(self, ordinals: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(ordinals, dtype=np.int64) - self.first]


def office_hours(gen: np.random.Generator, n: int, minutes: tuple[int, ...]) -> np.ndarray:
    """Seconds after midnight of `n` moments between 9:00 and 17:59, at one of `minutes` past the hour."""
    hours = gen.integers(9, 18, size=n)
    return hours * 3600 + np.asarray(minutes, dtype=np.int64)[gen.integers(len(minutes), size=n)] * 60


def weekday_of(ordinals: np.ndarray) -> np.ndarray:
    """Monday 0 … Sunday 6 of day ordinals (date.toordinal)."""
    return (np.asarray(ordinals, dtype=np.int64) + 6) % 7
