"""Expressions whose SQL differs between the databases. With core.bulk (bulk writes) and
core.arrays (integer arrays), the modules that check the vendor."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BigIntegerField, Func, IntegerField
from django.db.models.sql.compiler import SQLCompiler

Sql = tuple[str, Any]


def fixed_offset(zone: tzinfo, first: date, last: date) -> int | None:
    """The UTC offset in seconds that `zone` keeps at every midnight from the day before
    `first` to the day after `last`, or None when it changes (daylight saving) in between."""
    offsets: set[int] = set()
    day = first - timedelta(days=1)
    while day <= last + timedelta(days=1) and len(offsets) < 2:
        offset = datetime.combine(day, time.min, tzinfo=zone).utcoffset()
        offsets.add(int(offset.total_seconds()) if offset is not None else 0)
        day += timedelta(days=1)
    return offsets.pop() if len(offsets) == 1 else None


class LocalDayNumber(Func):
    """The local day of a timestamp in `zone` as its proleptic Gregorian ordinal (0001-01-01
    is 1, as `date.toordinal()` counts), so that days compare and subtract as integers.

    PostgreSQL converts with AT TIME ZONE. SQLite has no time zones: Django converts each
    value in Python, which costs microseconds per row; when the zone keeps one offset over
    the days `during` (Asia/Shanghai always does), SQLite shifts by that offset itself."""

    arity = 1
    output_field = IntegerField()

    def __init__(self, expression: Any, *, zone: tzinfo, during: tuple[date, date] | None = None) -> None:
        super().__init__(expression)
        self.zone = zone
        self.offset = fixed_offset(zone, *during) if during else None

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,  # type: ignore[override]
               **extra: Any) -> Sql:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "sqlite" and self.offset is not None:
            return f"CAST(julianday({sql}, %s) - 1721424.5 AS INTEGER)", (*params, f"{self.offset:+d} seconds")
        day, day_params = connection.ops.datetime_cast_date_sql(sql, tuple(params), getattr(self.zone, "key", str(self.zone)))
        if connection.vendor == "postgresql":
            return f"({day} - DATE '0001-01-01' + 1)", day_params
        if connection.vendor == "sqlite":  # julianday('0001-01-01') is 1721425.5
            return f"CAST(julianday({day}) - 1721424.5 AS INTEGER)", day_params
        raise NotSupportedError(f"LocalDayNumber is not written for {connection.vendor}")


class EpochSeconds(Func):
    """A timestamp as whole seconds since 1970-01-01 UTC: comparable and subtractable as integers."""

    arity = 1
    output_field = BigIntegerField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,  # type: ignore[override]
               **extra: Any) -> Sql:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"CAST(date_part('epoch', {sql}) AS bigint)", params
        if connection.vendor == "sqlite":  # Django keeps UTC text there
            return f"CAST(strftime('%%s', {sql}) AS INTEGER)", params
        raise NotSupportedError(f"EpochSeconds is not written for {connection.vendor}")


class EpochDay(Func):
    """A date as the number of days since 1970-01-01 (an integer that numpy reads as a date)."""

    arity = 1
    output_field = BigIntegerField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,  # type: ignore[override]
               **extra: Any) -> Sql:
        sql, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return f"({sql} - DATE '1970-01-01')", params
        if connection.vendor == "sqlite":  # julianday('1970-01-01') is 2440587.5
            return f"CAST(julianday({sql}) - 2440587.5 AS INTEGER)", params
        raise NotSupportedError(f"EpochDay is not written for {connection.vendor}")


class ScannedInOrder(Func):
    """A column compared row by row rather than looked up by its index, on SQLite (a unary
    plus: the SQLite idiom). Visibility's OR of owner, team and units, each with its own
    index, makes SQLite gather all of a branch's rows and sort them; with the terms scanned it
    walks a list's order index and stops at the page. Other databases plan with statistics:
    the column as it is."""

    arity = 1

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Sql:  # type: ignore[override]
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Sql:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"+{sql}", params
