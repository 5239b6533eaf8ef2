"""Working days in mainland China: weekends and public holidays are off, make-up working
days (调休, a Saturday or Sunday worked in exchange for a longer holiday) are on.

The official calendar comes from `chinese_calendar`, which knows the years the State
Council has published. For a year it does not know yet, Monday to Friday count as
working days, so plans can still be drafted and become exact once the calendar is out.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def month_days(year: int, month: int) -> list[date]:
    return [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def working_days(year: int, month: int) -> list[date]:
    """The month's working days in order."""
    return [day for day in month_days(year, month) if is_working_day(day)]


def next_working_day(day: date, *, include_today: bool = False) -> date:
    """The first working day after `day` (or `day` itself with include_today)."""
    current = day if include_today else day + timedelta(days=1)
    while not is_working_day(current):
        current += timedelta(days=1)
    return current
