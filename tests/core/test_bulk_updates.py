"""The bulk helpers that check the database themselves: update_rows writes what bulk_update
would (on PostgreSQL through UPDATE … FROM VALUES), copy_to_temp fills a temporary table."""

import pytest
from django.db import connection
from django.utils import timezone

from kam.core.bulk import copy_fast, copy_to_temp, update_rows
from kam.imports.models import ImportJob


def _job(user, name: str) -> ImportJob:
    return ImportJob.objects.create(kind="accounts", user=user, filename=name, sha256="0" * 64)


def test_update_rows_sets_each_rows_values_and_the_shared_ones(org):
    first, second, untouched = (_job(org.specialist_a, n) for n in ("a.xlsx", "b.xlsx", "c.xlsx"))
    rows = [(first.pk, {"sheet": "客户"}, 10), (second.pk, {}, 0)]
    assert update_rows(ImportJob, rows, ["mapping", "total_rows"], extra={"encoding": "gb18030"}) == 2
    got = {j.pk: (j.mapping, j.total_rows, j.encoding) for j in ImportJob.objects.all()}
    assert got[first.pk] == ({"sheet": "客户"}, 10, "gb18030")
    assert got[second.pk] == ({}, 0, "gb18030")
    assert got[untouched.pk] == ({}, 0, "")
    assert update_rows(ImportJob, [], ["mapping"]) == 0


def test_copy_fast_names_the_database_that_takes_copy():
    assert copy_fast() == (connection.vendor == "postgresql")
    assert copy_fast(ImportJob) == (connection.vendor == "postgresql")


@pytest.mark.django_db
def test_copy_to_temp_holds_the_rows():
    if not copy_fast():
        pytest.skip("COPY is PostgreSQL's")
    connection.ensure_connection()
    now = timezone.now()
    with connection.connection.cursor() as cursor:
        copy_to_temp(cursor, "kam_test_rows", [("id", "bigint"), ("label", "text"), ("at", "timestamptz")],
                     [(1, "一", now), (2, "two", now)])
        cursor.execute("SELECT id, label FROM kam_test_rows ORDER BY id")
        assert cursor.fetchall() == [(1, "一"), (2, "two")]
