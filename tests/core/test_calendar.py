"""Working days with Chinese public holidays and make-up working days (调休)."""

from datetime import date

from kam.core.calendar import is_working_day, next_working_day, working_days


def test_national_day_week_is_off_and_the_sunday_before_is_worked():
    # 2025-10-01…08: 国庆节 and 中秋节 together; Sunday 2025-09-28 is a make-up working day.
    assert not any(is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert is_working_day(date(2025, 9, 28))
    assert not is_working_day(date(2025, 9, 27))  # an ordinary Saturday


def test_october_2025_has_its_working_days_and_no_others():
    days = working_days(2025, 10)
    # Saturday 11 October is the second make-up day; Sundays 12, 19, 26 and the 18th, 25th are off.
    assert days[0] == date(2025, 10, 9)
    assert date(2025, 10, 11) in days
    assert date(2025, 10, 12) not in days and date(2025, 10, 18) not in days
    assert len(days) == 18  # 9, 10, 11 and three full weeks


def test_september_2025_counts_the_make_up_sunday():
    days = working_days(2025, 9)
    assert date(2025, 9, 28) in days
    assert len(days) == 23  # 22 weekdays + the make-up Sunday


def test_next_working_day_skips_the_holiday_week():
    assert next_working_day(date(2025, 9, 30)) == date(2025, 10, 9)
    assert next_working_day(date(2025, 9, 27)) == date(2025, 9, 28)
    assert next_working_day(date(2025, 9, 28), include_today=True) == date(2025, 9, 28)
    assert next_working_day(date(2025, 10, 1), include_today=True) == date(2025, 10, 9)


def test_a_year_the_official_calendar_does_not_cover_falls_back_to_weekdays():
    days = working_days(2099, 3)
    assert days and all(day.weekday() < 5 for day in days)
    assert next_working_day(date(2099, 3, 6)) == date(2099, 3, 9)  # Friday → Monday
