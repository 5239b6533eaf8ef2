"""Rows given as values, with ids reserved beforehand: what they write is what the ORM writes."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.bulk import bulk_session, insert_values, instants, reserve_ids
from kam.insight.models import HealthScore
from kam.revenue.models import RevenueFact

pytestmark = pytest.mark.django_db


def test_values_read_back_as_the_orm_saves_them(org):
    now = timezone.now()
    fields = ("code", "name", "owner_id", "unit_id", "created_by_id", "annual_revenue", "signed_on", "created_at",
              "updated_at")
    values = ("V-1", "某某有限公司", org.specialist_a.pk, org.office_a1.pk, org.specialist_a.pk, Decimal("12.50"),
              date(2024, 3, 1), now, now)
    assert insert_values(Account, fields, [values]) == 1
    saved = Account.objects.get(code="V-1")
    reference = Account(**dict(zip(fields, values, strict=True)))
    assert model_to_dict(saved, exclude=["id"]) == model_to_dict(reference, exclude=["id"])
    assert saved.created_at == now and saved.channel == Account._meta.get_field("channel").default


def test_prepared_values_and_instants(org, account_factory):
    account = account_factory(owner=org.specialist_a)
    moments = [datetime(2025, 3, 1, 9, 30, tzinfo=timezone.get_fixed_timezone(480)),
               datetime(2025, 12, 31, 23, 59, 59, tzinfo=timezone.get_fixed_timezone(480))]
    stamps = instants(RevenueFact, np.array([int(m.timestamp()) for m in moments]))
    rows = [(account.pk, "2025-03-01", "2025-03-01", 1234.56, 200.1, None, "", stamps[0]),
            (account.pk, "2025-12-31", "2025-12-01", -5.0, None, None, "订单", stamps[1])]
    fields = ("account_id", "date", "month", "amount", "margin", "quantity", "product", "created_at")
    assert insert_values(RevenueFact, fields, rows, prepared=True) == 2
    first, second = RevenueFact.objects.filter(account=account).order_by("date")
    assert (first.date, first.month, first.amount, first.margin, first.created_at) == (
        date(2025, 3, 1), date(2025, 3, 1), Decimal("1234.56"), Decimal("200.10"), moments[0])
    assert (second.amount, second.margin, second.product, second.created_at) == (Decimal("-5.00"), None, "订单", moments[1])
    # the ORM finds them by instant as it finds its own rows
    assert RevenueFact.objects.filter(created_at__gt=moments[0]).get() == second
    assert RevenueFact.objects.filter(created_at__lte=moments[0] + timedelta(seconds=1)).get() == first


def test_a_row_of_the_wrong_width_is_refused(org):
    with pytest.raises(ValueError):
        insert_values(Account, ("code", "name"), [("V-2",)])


def test_reserved_ids_are_used_by_nobody_else(org):
    with transaction.atomic():
        first = reserve_ids(Account, 3)
        second = reserve_ids(Account, 2)
    assert first == sorted(first) and len(set(first + second)) == 5 and min(second) > max(first)
    assert reserve_ids.__doc__ and reserve_ids(Account, 0) == []
    now = timezone.now()
    with transaction.atomic():
        ids = reserve_ids(Account, 2)
        insert_values(Account, ("id", "code", "name", "owner_id", "unit_id", "created_at", "updated_at"),
                      [(pk, f"R-{pk}", "预留客户", org.specialist_a.pk, org.office_a1.pk, now, now) for pk in ids])
    assert set(Account.objects.filter(code__startswith="R-").values_list("pk", flat=True)) == set(ids)
    # the ORM goes on after them
    later = Account.objects.create(code="R-next", name="之后的客户", owner=org.specialist_a, unit=org.office_a1)
    assert later.pk > max(ids) and later.pk not in first + second


def test_conflicts_are_skipped_or_update_the_row_there(org, account_factory):
    account = account_factory(owner=org.specialist_a)
    month, now = date(2025, 3, 1), timezone.now()
    fields = ("account_id", "month", "score", "parts", "computed_at")
    assert insert_values(HealthScore, fields, [(account.pk, month, 40, {"trend": 40.0}, now)],
                         on_conflict=("account", "month"), update=("score", "parts")) == 1
    insert_values(HealthScore, fields, [(account.pk, month, 90, {"trend": 90.0}, now)], on_conflict=())
    assert HealthScore.objects.get().score == 40  # skipped
    insert_values(HealthScore, fields, [(account.pk, month, 70, {"trend": 70.0}, now)],
                  on_conflict=("account", "month"), update=("score", "parts"))
    saved = HealthScore.objects.get()
    assert (saved.score, saved.parts) == (70, {"trend": 70.0})
    with pytest.raises(ValueError):
        insert_values(HealthScore, fields, [], update=("score",))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's page cache")
def test_a_bulk_session_raises_the_cache_and_puts_it_back():
    def cache() -> int:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            return cursor.fetchone()[0]

    before = cache()
    with bulk_session():
        assert cache() < before and abs(cache()) >= 1024 * 256  # negative: KiB
    assert cache() == before


@pytest.mark.django_db(transaction=True)
def test_a_rebuildable_bulk_session_skips_the_flushes_and_puts_them_back():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's pragmas")

    def pragmas() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            return synchronous, cursor.fetchone()[0]

    before = pragmas()
    with bulk_session():
        assert pragmas() == before  # a session that is not rebuildable keeps them
    with bulk_session(rebuildable=True):
        assert pragmas() == (0, 100_000)
    assert pragmas() == before and before[0] != 0
    with transaction.atomic(), bulk_session(rebuildable=True):  # inside a transaction SQLite refuses: kept
        assert pragmas() == before
