"""Query results read into numpy arrays, on whichever database the suite runs against."""

from __future__ import annotations

import numpy as np
import pytest
from django.db.models import BigIntegerField, Q, Value
from django.db.models.functions import Cast

from kam.accounts.models import Account
from kam.core.arrays import integer_rows, integer_sums

pytestmark = pytest.mark.django_db


def test_rows_hold_large_and_negative_values(account_factory, org):
    made = [account_factory(owner=org.specialist_a, code=code) for code in ("C-3", "C-1", "C-2")]
    queryset = Account.objects.filter(pk__in=[a.pk for a in made]).values_list("id", Cast(Value(-(2**62)), BigIntegerField()))
    rows = integer_rows(queryset, 2)
    assert rows.dtype == np.int64 and rows.shape == (3, 2)
    assert sorted(rows[:, 0].tolist()) == sorted(a.pk for a in made) and rows[:, 1].tolist() == [-(2**62)] * 3


def test_rows_come_in_the_order_asked_for(account_factory, org):
    made = {code: account_factory(owner=org.specialist_a, code=code).pk for code in ("C-3", "C-1", "C-4", "C-2")}
    rows = integer_rows(Account.objects.filter(pk__in=made.values()).values_list("id", "unit_id"), 2, order_by="code")
    assert rows[:, 0].tolist() == [made["C-1"], made["C-2"], made["C-3"], made["C-4"]]
    assert set(rows[:, 1].tolist()) == {org.office_a1.pk}


def test_no_rows_is_an_empty_array(db):
    assert integer_rows(Account.objects.filter(code="none such").values_list("id"), 1).shape == (0, 1)
    assert integer_rows(Account.objects.none().values_list("id"), 1).shape == (0, 1)
    assert integer_sums(Account.objects.none(), "id", Cast(Value(1), BigIntegerField()), np.array([1, 2])).tolist() == [0, 0]


def test_a_null_is_refused_not_dropped(account_factory, org):
    account_factory(owner=org.specialist_a, code="N-1")  # no parent: NULL
    with pytest.raises(TypeError, match="NULL"):
        integer_rows(Account.objects.values_list("id", "parent_id"), 2)


def test_sums_per_key_are_aligned_to_the_keys_given_and_leave_out_the_others(account_factory, org):
    made = [account_factory(owner=org.specialist_a, code=code) for code in ("S-1", "S-2", "S-3")]
    value = Cast(Value(7), BigIntegerField())
    keys = np.array(sorted([made[0].pk, made[1].pk, 10**12]), dtype=np.int64)
    for parts in (None, [Q(code="S-1"), ~Q(code="S-1")]):
        sums = integer_sums(Account.objects.all(), "id", value, keys, parts=parts)
        assert dict(zip(keys.tolist(), sums.tolist(), strict=True)) == {made[0].pk: 7, made[1].pk: 7, 10**12: 0}


def test_rows_too_many_for_one_sqlite_text_are_fetched_one_by_one(account_factory, org):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite's packed text")
    import sqlite3

    made = sorted(account_factory(owner=org.specialist_a, code=f"L-{i}").pk for i in range(40))
    queryset = Account.objects.filter(pk__in=made).values_list("id", Cast(Value(-(2**40)), BigIntegerField()))
    connection.ensure_connection()
    before = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_LENGTH)
    connection.connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 200)  # shorter than the rows' text
    try:
        rows = integer_rows(queryset, 2)
    finally:
        connection.connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, before)
    assert sorted(rows[:, 0].tolist()) == made and set(rows[:, 1].tolist()) == {-(2**40)}
