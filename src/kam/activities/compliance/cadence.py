"""Cadence arithmetic: what a service standard requires over a period, and what is overdue.

Pure functions over dates and numpy arrays, no ORM; `compliance.py` feeds them rows.

**Which tier decides a day.** For each day of the period the account's tier is read from
one source, chosen by `decisive_sources`: the frozen annual list (大客户名单) of that day's
year when the scheme has one, otherwise the latest finished snapshot whose as-of date is on
or before that day. A day before any snapshot has no tier, and an account missing from the
deciding source is untiered that day: neither requires anything.

**Pro rata.** A standard says "n contacts per calendar period" (month, quarter, half-year,
year; quarters start in January, April, July, October; half-years in January and July).
For each day an account spends in a tier, it owes n ÷ (days of the calendar period that
day lies in) contacts; the exact requirement is the sum over the days of the period
measured. Two visits a quarter over a whole quarter is exactly 2, over the first 45 days
of a 90-day quarter exactly 1, and a tier change mid-period charges each tier for its
own days.

**Rounding.** The exact requirement per account and kind is rounded half up once, after
summing (0.5 → 1, 1.49 → 1): a contact is owed once at least half of it has fallen due.

**Done and compliance.** Only activities inside the period count as done. Per account and
kind, the credited contacts are min(done, required); compliance is credited ÷ required,
so it is capped at 100 %, and it is 100 % when nothing is required. Roll-ups (per person,
per unit) divide the credited sum by the required sum, so an account served twice over
does not hide a neglected one.

**Overdue.** A cadence of n per m months allows a gap of ceil(m × 365.25 / 12 / n) days
between contacts (2 per quarter → 46 days, 1 per month → 31). The clock of a kind starts
at the later of the last contact of that kind and the day the account came under a tier
asking for it: the first day of the unbroken run of days, up to the reference day, on
which its tier required the kind (moving between two tiers that both require it does not
restart the clock: the contacts were owed all along; a day without a tier breaks the run).
On a reference day an account is overdue for a kind when its tier that day requires the
kind and the clock started more than the allowed gap before the reference day. So an
account that has just entered a tier is not overdue before the allowed gap has passed
since it entered, while one that has been in it for longer than the gap and never been
contacted is. The next contact falls due on the clock's start plus the gap (on the
reference day itself when neither a contact nor an entry is known).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

DAYS_PER_MONTH = 365.25 / 12
NEVER = -1  # in arrays of day ordinals: no contact on record


@dataclass(frozen=True)
class Cadence:
    """`count` contacts per calendar period of `months` months (1, 3, 6 or 12)."""

    count: int
    months: int

    def __post_init__(self):
        if self.months not in (1, 2, 3, 4, 6, 12):
            raise ValueError(f"a cadence period must divide the year, not {self.months} months")

    @property
    def gap_days(self) -> int | None:
        """Days allowed between two contacts; None when the cadence asks for none."""
        if self.count <= 0:
            return None
        return math.ceil(self.months * DAYS_PER_MONTH / self.count - 1e-9)


@dataclass(frozen=True)
class Segment:
    """Days `start`…`end` (inclusive) during which one source decides the tiers:
    `tiers[i]` is the tier code of account i (None or "" for untiered)."""

    start: date
    end: date
    tiers: np.ndarray  # object array of codes, aligned with the accounts measured


@dataclass(frozen=True)
class Source:
    """A tier source of a scheme: a finished snapshot, possibly frozen as an annual list."""

    key: int
    as_of: date
    frozen_year: int | None = None


# --- which source decides each day ----------------------------------------------------------


def decisive_sources(start: date, end: date, sources: Iterable[Source]) -> list[tuple[date, date, int | None]]:
    """Split `start`…`end` into runs of days decided by one source: (first, last, key).
    A frozen list of the day's year wins; otherwise the latest source with as_of ≤ day
    (the later key breaks a tie of dates); None where nothing decides."""
    sources = list(sources)
    annual = {}
    for s in sorted(sources, key=lambda s: s.key):
        if s.frozen_year is not None:
            annual[s.frozen_year] = s.key
    dated = sorted(sources, key=lambda s: (s.as_of, s.key))
    runs: list[tuple[date, date, int | None]] = []
    day = start
    while day <= end:
        if day.year in annual:
            key, until = annual[day.year], min(end, date(day.year, 12, 31))
        else:
            before = [s for s in dated if s.as_of <= day]
            key = before[-1].key if before else None
            later = [s.as_of for s in dated if s.as_of > day]
            until = min([end, date(day.year, 12, 31), *(d - timedelta(days=1) for d in later)])
        if runs and runs[-1][2] == key and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], until, key)
        else:
            runs.append((day, until, key))
        day = until + timedelta(days=1)
    return runs


# --- calendar periods and pro rata ----------------------------------------------------------------


def period_of(day: date, months: int) -> tuple[date, date]:
    """The calendar period of `months` months that holds `day`: (first day, last day)."""
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    next_month = first_month + months
    following = date(day.year + 1, 1, 1) if next_month > 12 else date(day.year, next_month, 1)
    return start, following - timedelta(days=1)


def due_fraction(start: date, end: date, months: int) -> float:
    """How many whole calendar periods of `months` months the days `start`…`end` make:
    each day counts 1 ÷ (days of its period). A whole quarter is 1.0, half of it 0.5."""
    total, day = 0.0, start
    while day <= end:
        p_start, p_end = period_of(day, months)
        until = min(end, p_end)
        total += ((until - day).days + 1) / ((p_end - p_start).days + 1)
        day = until + timedelta(days=1)
    return total


def required_exact(segments: Sequence[Segment], cadences: dict[str, Cadence], accounts: int,
                   start: date | None = None, end: date | None = None) -> np.ndarray:
    """Contacts each account owes over the segments' days (clipped to `start`…`end` when
    given), before rounding: for each segment, the cadence of the account's tier that
    segment times the segment's share of that cadence's calendar periods."""
    out = np.zeros(accounts, dtype=np.float64)
    for seg in segments:
        first = max(seg.start, start) if start else seg.start
        last = min(seg.end, end) if end else seg.end
        if first > last:
            continue
        codes, inverse = np.unique(np.asarray(seg.tiers, dtype=object).astype(str), return_inverse=True)
        weights = np.array([
            c.count * due_fraction(first, last, c.months) if (c := cadences.get(code)) else 0.0 for code in codes
        ])
        out += weights[inverse]
    return out


def rounded(exact: np.ndarray) -> np.ndarray:
    """Half up, once per account and kind (see the module docstring)."""
    return np.floor(np.asarray(exact, dtype=np.float64) + 0.5 + 1e-9).astype(np.int64)


def credited(required: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Contacts that count towards the standard: done, but no more than required."""
    return np.minimum(np.asarray(done), np.asarray(required))


def compliance(required: np.ndarray, done: np.ndarray) -> np.ndarray:
    """Per account: credited ÷ required in 0…1, 1.0 when nothing is required."""
    required = np.asarray(required, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = credited(required, np.asarray(done, dtype=np.float64)) / required
    return np.where(required > 0, ratio, 1.0)


def rolled_up(required: np.ndarray, done: np.ndarray) -> float:
    """Compliance of a group of accounts: Σ credited ÷ Σ required (1.0 when nothing is required)."""
    need = float(np.sum(required))
    return 1.0 if need <= 0 else float(np.sum(credited(required, done))) / need


# --- gaps, overdue and due dates ----------------------------------------------------------------------


def tiers_on(day: date, segments: Sequence[Segment], accounts: int) -> np.ndarray:
    """The tier codes of the segment that holds `day` ("" when none does)."""
    for seg in segments:
        if seg.start <= day <= seg.end:
            return np.asarray(seg.tiers, dtype=object).astype(str)
    return np.full(accounts, "", dtype=object).astype(str)


def gaps(tiers: np.ndarray, cadences: dict[str, Cadence]) -> np.ndarray:
    """Allowed gap in days per account for its tier; 0 where the tier asks for nothing."""
    codes, inverse = np.unique(np.asarray(tiers, dtype=object).astype(str), return_inverse=True)
    allowed = np.array([(c.gap_days or 0) if (c := cadences.get(code)) else 0 for code in codes], dtype=np.int64)
    return allowed[inverse] if len(codes) else np.zeros(len(tiers), dtype=np.int64)


def days_since(last: np.ndarray, as_of: date) -> np.ndarray:
    """Days from each last contact (day ordinals, NEVER for none) to `as_of`; -1 for none."""
    last = np.asarray(last, dtype=np.int64)
    return np.where(last == NEVER, -1, as_of.toordinal() - last)


def required_since(segments: Sequence[Segment], cadences: dict[str, Cadence], day: date,
                   accounts: int) -> np.ndarray:
    """Per account, the day ordinal from which its tier has asked for contacts under `cadences`
    without a break up to `day` (the first day of the segments when the run reaches back that
    far); NEVER where its tier on `day` asks for none. The segments are consecutive runs of
    days as `decisive_sources` gives them; a gap between two segments breaks every run."""
    since = np.full(accounts, NEVER, dtype=np.int64)
    running, following = None, None
    for seg in sorted((s for s in segments if s.start <= day), key=lambda s: s.start, reverse=True):
        asks = gaps(seg.tiers, cadences) > 0
        if running is None:
            if seg.end < day:
                break
            running = asks
        elif seg.end != following - timedelta(days=1):
            break
        else:
            running = running & asks
        since[running] = seg.start.toordinal()
        following = seg.start
        if not running.any():
            break
    return since


def _clock(last: np.ndarray, since: np.ndarray | None) -> np.ndarray:
    """When the clock of a kind started: the later of the last contact and the tier's entry."""
    last = np.asarray(last, dtype=np.int64)
    return last if since is None else np.maximum(last, np.asarray(since, dtype=np.int64))  # NEVER is -1


def overdue(last: np.ndarray, gap: np.ndarray, as_of: date, since: np.ndarray | None = None) -> np.ndarray:
    """True where a contact is required (gap > 0) and the clock (the last contact, or the entry
    into the tier `since` when later) started more than the gap before `as_of`, or never."""
    clock = _clock(last, since)
    gap = np.asarray(gap, dtype=np.int64)
    late = (clock == NEVER) | (as_of.toordinal() - clock > gap)
    return (gap > 0) & late


def next_due(last: np.ndarray, gap: np.ndarray, as_of: date, since: np.ndarray | None = None) -> np.ndarray:
    """Day ordinal on which the next contact falls due: the clock's start (last contact or tier
    entry, the later) + gap, or `as_of` when there is neither; NEVER where nothing is required."""
    clock = _clock(last, since)
    gap = np.asarray(gap, dtype=np.int64)
    due = np.where(clock == NEVER, as_of.toordinal(), clock + gap)
    return np.where(gap > 0, due, NEVER)


def buckets(start: date, end: date, unit: str) -> list[tuple[date, date]]:
    """The weeks (Monday first) or calendar months of `start`…`end`, clipped to it."""
    out, day = [], start
    while day <= end:
        if unit == "week":
            last = day + timedelta(days=6 - day.weekday())
        else:
            last = period_of(day, 1)[1]
        last = min(last, end)
        out.append((day, last))
        day = last + timedelta(days=1)
    return out
