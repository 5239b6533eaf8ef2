"""Query results read into numpy arrays, on whichever database the suite runs against."""

from __future__ import annotations

import numpy as np
import pytest
from django.db.models import BigIntegerField, Value
from django.db.models.functions import Cast

from kam.accounts.models import Account
from kam.core.arrays import _from_binary_copy, integer_rows

pytestmark = pytest.mark.django_db


def test_rows_come_in_query_order_with_large_and_negative_values(account_factory, org):
    made = [account_factory(owner=org.specialist_a, code=code) for code in ("C-3", "C-1", "C-2")]
    queryset = (Account.objects.filter(pk__in=[a.pk for a in made]).order_by("code")
                .values_list("id", Cast(Value(-(2**62)), BigIntegerField())))
    rows = integer_rows(queryset, 2)
    assert rows.dtype == np.int64 and rows.shape == (3, 2)
    assert rows[:, 0].tolist() == [made[1].pk, made[2].pk, made[0].pk]
    assert rows[:, 1].tolist() == [-(2**62)] * 3


def test_no_rows_is_an_empty_array(db):
    rows = integer_rows(Account.objects.filter(code="none such").values_list("id"), 1)
    assert rows.shape == (0, 1)


def _stream(rows: list[list[int | None]], width: int = 8) -> bytes:
    """A binary COPY stream as PostgreSQL writes it."""
    out = bytearray(b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big"))
    for row in rows:
        out += len(row).to_bytes(2, "big")
        for value in row:
            if value is None:
                out += (-1).to_bytes(4, "big", signed=True)
            else:
                out += width.to_bytes(4, "big") + value.to_bytes(width, "big", signed=True)
    return bytes(out + (-1).to_bytes(2, "big", signed=True))


def test_binary_copy_stream_is_parsed():
    assert _from_binary_copy(_stream([[1, -5], [2**40, 0]]), 2).tolist() == [[1, -5], [2**40, 0]]
    assert _from_binary_copy(_stream([]), 3).shape == (0, 3)


@pytest.mark.parametrize("rows, width", [([[1, None], [2, 3]], 8), ([[1, 2], [3, 4]] * 13, 4)])
def test_nulls_and_narrow_integers_are_refused_not_misread(rows, width):
    with pytest.raises(TypeError, match="non-NULL bigint"):
        _from_binary_copy(_stream(rows, width), 2)
