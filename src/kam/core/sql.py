"""Expressions whose SQL differs between the databases: the one module that checks the vendor."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import DateField, Func, IntegerField
from django.db.models.functions import TruncDate


class DayNumber(Func):
    """A date as its proleptic Gregorian ordinal (0001-01-01 is 1), the number
    `date.toordinal()` gives, so that days can be compared and subtracted as integers."""

    arity = 1
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"DayNumber is not written for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s - DATE '0001-01-01' + 1)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # julianday('0001-01-01') is 1721425.5
        return super().as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) - 1721424.5 AS INTEGER)",
                              **extra)


def local_day_number(expression, zone) -> DayNumber:
    """The day number of a timestamp expression in the time zone `zone`."""
    return DayNumber(TruncDate(expression, tzinfo=zone, output_field=DateField()))
