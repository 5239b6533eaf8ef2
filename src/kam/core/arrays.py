"""Query results as numpy arrays, for the analyses that read a million rows at a time.

At that size, building a Python tuple per row costs more than the query itself. On
PostgreSQL the rows come instead as one binary COPY stream, read straight into an
array; elsewhere they are fetched the ordinary way.
"""

from __future__ import annotations

import numpy as np
from django.db import connections
from django.db.models import QuerySet

COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def integer_rows(queryset: QuerySet, columns: int) -> np.ndarray:
    """The rows of a `values_list` queryset of 64-bit integers, none of them NULL, as an
    (n, columns) int64 array in the queryset's order."""
    sql, params = queryset.query.sql_with_params()
    connection = connections[queryset.db]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params) as copy:
            return _from_binary_copy(b"".join(copy), columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return np.array(rows, dtype=np.int64).reshape(len(rows), columns)


def _from_binary_copy(data: bytes, columns: int) -> np.ndarray:
    """Parse PostgreSQL's binary COPY format when every field is a non-NULL bigint: then
    each row has the same layout — field count (int16), and per field its length (int32,
    always 8) and value (int64), all big-endian — and the body is one record array."""
    if not data.startswith(COPY_SIGNATURE):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[19 + extension : -2]  # the stream ends with a field count of -1
    layout = [("fields", ">i2")]
    for i in range(columns):
        layout += [(f"length{i}", ">i4"), (f"value{i}", ">i8")]
    layout = np.dtype(layout)
    if len(body) % layout.itemsize:
        raise TypeError(f"the rows are not {columns} non-NULL bigint columns")
    records = np.frombuffer(body, dtype=layout)
    lengths = [records[f"length{i}"] for i in range(columns)]
    if (records["fields"] != columns).any() or any((length != 8).any() for length in lengths):
        raise TypeError(f"the rows are not {columns} non-NULL bigint columns")
    result = np.empty((len(records), columns), dtype=np.int64)
    for i in range(columns):
        result[:, i] = records[f"value{i}"]
    return result
