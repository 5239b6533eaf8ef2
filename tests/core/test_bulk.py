"""The bulk insert helpers write what the ORM would write."""

from datetime import date
from decimal import Decimal

from django.forms.models import model_to_dict
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.bulk import ids_by, insert_rows, new_instances, present
from kam.imports.models import ImportJob


def test_new_instances_hold_the_same_values_as_the_model_constructor(org):
    values = {"code": "B-1", "name": "广州某某有限公司", "owner_id": org.specialist_a.pk, "unit_id": org.office_a1.pk,
              "annual_revenue": Decimal("12.50"), "signed_on": date(2024, 3, 1)}
    values = {k: v for k, v in values.items() if hasattr(Account(), k)}
    fast, slow = new_instances(Account)(**values), Account(**values)
    for field in Account._meta.concrete_fields:
        assert getattr(fast, field.attname) == getattr(slow, field.attname), field.name
    assert fast._state.adding and fast._state.db is None


def test_callable_defaults_are_called_for_each_instance(org):
    make = new_instances(ImportJob)
    first, second = make(), make()
    assert first.mapping == {} and first.mapping is not second.mapping  # JSONField(default=dict)


def test_inserted_rows_read_back_as_the_orm_saves_them(org):
    now = timezone.now()
    make = new_instances(Account)
    rows = [make(code=f"B-{i}", name=f"某某{i}有限公司", owner_id=org.specialist_a.pk, unit_id=org.office_a1.pk,
                 created_by_id=org.specialist_a.pk, created_at=now, updated_at=now) for i in range(3)]
    assert insert_rows(Account, rows, batch_size=2) == 3
    saved = Account.objects.get(code="B-2")
    reference = Account(code="B-2", name="某某2有限公司", owner_id=org.specialist_a.pk, unit_id=org.office_a1.pk,
                        created_by_id=org.specialist_a.pk, created_at=now, updated_at=now)
    assert model_to_dict(saved, exclude=["id"]) == model_to_dict(reference, exclude=["id"])
    assert saved.created_at == now


def test_ids_by_finds_the_keys_that_exist_and_honours_the_condition(org, account_factory):
    kept, deleted = (account_factory(code=c, owner=org.specialist_a) for c in ("K-1", "K-2"))
    Account.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    codes = ["K-1", "K-2", "K-3", *(f"none-{i}" for i in range(1200))]  # more than one chunk
    assert ids_by(Account, "code", codes) == {"K-1": kept.pk, "K-2": deleted.pk}
    assert present(Account, "code", codes, where="deleted_at IS NULL") == {"K-1"}
    assert ids_by(Account, "code", []) == {}


def test_more_rows_than_one_copy_or_executemany_batch(org):
    now = timezone.now()
    make = new_instances(Account)
    rows = (make(code=f"M-{i}", name=f"批量{i}", owner_id=org.specialist_a.pk, unit_id=org.office_a1.pk,
                 created_by_id=org.specialist_a.pk, created_at=now, updated_at=now) for i in range(12_001))
    assert insert_rows(Account, rows) == 12_001
    assert Account.objects.filter(code__startswith="M-").count() == 12_001
