"""The bulk insert helpers write what the ORM would write."""

from datetime import date
from decimal import Decimal

from django.forms.models import model_to_dict
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.bulk import ids_by, insert_history, insert_rows, new_instances, present
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


def test_history_rows_hold_what_simple_history_writes(org, account_factory):
    accounts = [Account.objects.get(pk=account_factory(code=f"H-{i}", owner=org.specialist_a,
                                                       annual_revenue=Decimal("12.50")).pk) for i in range(3)]
    for account in accounts:
        account.lifecycle_status, account.version = "churned", account.version + 1
    when = timezone.now()
    Account.history.bulk_history_create(accounts[:1], update=True, default_user=org.manager_a,
                                        default_change_reason="检测到流失", default_date=when)
    assert insert_history(Account, accounts[1:], user=org.manager_a, reason="检测到流失", when=when) == 2
    rows = {h.code: h for h in Account.history.filter(code__startswith="H-", history_type="~")}
    assert sorted(rows) == ["H-0", "H-1", "H-2"]
    tracked = [f.attname for f in Account.history.model.tracked_fields]
    for account in accounts:  # each row the account as it is, the way simple_history writes it
        row = rows[account.code]
        assert {a: getattr(row, a) for a in tracked} == {a: getattr(account, a) for a in tracked}
        assert (row.history_date, row.history_user_id, row.history_change_reason) == (
            when, org.manager_a.pk, "检测到流失")
    assert rows["H-2"].lifecycle_status == "churned"
    accounts[0]._history_user, accounts[0]._change_reason = org.specialist_a, "手工"  # the object's own come first
    assert insert_history(Account, accounts[:2], update=False, user=org.manager_a) == 2
    made = {h.code: h for h in Account.history.filter(code__in=["H-0", "H-1"], history_type="+", history_date__gt=when)}
    assert (made["H-0"].history_user_id, made["H-0"].history_change_reason) == (org.specialist_a.pk, "手工")
    assert (made["H-1"].history_user_id, made["H-1"].history_change_reason) == (org.manager_a.pk, None)
