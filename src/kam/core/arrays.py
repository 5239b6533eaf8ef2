"""Query results as numpy arrays, for the analyses that read a million rows at a time.

At that size, building a Python object per row costs more than the query itself. On
PostgreSQL the database packs the rows into one binary value — each integer as its 8
big-endian bytes, `int8send` — which numpy reads in one step; elsewhere the rows are
fetched the ordinary way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import connections
from django.db.models import F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber


def integer_rows(queryset: QuerySet, columns: int, *, order_by: str | None = None) -> np.ndarray:
    """The rows of a `values_list` queryset of integers as an (n, columns) int64 array: in
    the order of the field `order_by` when given, else in no particular order. A NULL is
    refused: it has no integer to stand for it."""
    connection = connections[queryset.db]
    if queryset.query.is_empty():  # .none(): there is no SQL to run
        return np.zeros((0, columns), dtype=np.int64)
    if connection.vendor != "postgresql":
        sql, params = queryset.order_by(*([order_by] if order_by else [])).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        try:
            return np.array(fetched, dtype=np.int64).reshape(len(fetched), columns)
        except TypeError:
            raise TypeError("a NULL among the integers") from None
    if order_by:  # the packed rows carry their place; numpy puts them back in order
        fields = queryset.query.values_select
        if len(fields) != columns:
            raise ValueError("in order, integer_rows reads a values_list of plain fields")
        queryset = queryset.annotate(_place=Window(RowNumber(), order_by=F(order_by).asc())).values_list(*fields, "_place")
    sql, params = queryset.order_by().query.sql_with_params()
    width = columns + (1 if order_by else 0)
    names = [f"c{i}" for i in range(width)]
    packed = " || ".join(f"int8send(q.{name}::bigint)" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT string_agg({packed}, ''::bytea), count(*) FROM ({sql}) AS q({', '.join(names)})", params)
        data, count = cursor.fetchone()
    rows = np.frombuffer(bytes(data or b""), dtype=">i8").astype(np.int64).reshape(-1, width)
    if len(rows) != count:  # string_agg skipped the rows that held a NULL
        raise TypeError("a NULL among the integers")
    if order_by:
        ordered = np.empty((len(rows), columns), dtype=np.int64)
        ordered[rows[:, columns] - 1] = rows[:, :columns]
        return ordered
    return rows


def integer_sums(queryset: QuerySet, key: str, value: Any, keys: np.ndarray, *, parts: list[Q] | None = None) -> np.ndarray:
    """For each of `keys` (sorted int64), the sum of the integer expression `value` over the
    rows with that `key`: 0 where there are none; rows of other keys are left out.

    Who adds up depends on the database. PostgreSQL hashes a million groups more slowly
    than it hands over the rows packed, so numpy adds them up, one of `parts` (filters
    that partition the queryset, such as one per month) at a time to keep each transfer
    small. SQLite fetches rows one Python tuple at a time, so it groups them itself."""
    total = np.zeros(len(keys), dtype=np.int64)
    if connections[queryset.db].vendor == "postgresql":
        for part in parts or [Q()]:
            _add_by_key(total, keys, integer_rows(queryset.filter(part).values_list(key, value).order_by(), 2))
    else:
        _add_by_key(total, keys, integer_rows(queryset.values_list(key).annotate(total=Sum(value)).order_by(), 2))
    return total


def _add_by_key(total: np.ndarray, keys: np.ndarray, rows: np.ndarray) -> None:
    where = np.searchsorted(keys, rows[:, 0])
    known = where < len(keys)
    known[known] = keys[where[known]] == rows[known, 0]
    np.add.at(total, where[known], rows[known, 1])
