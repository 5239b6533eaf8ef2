"""Rules of the account services: duplicates, validation, scoping of writes, history."""

from decimal import Decimal

import pytest

from factories import AccountFactory, ContactFactory, valid_uscc
from kam.accounts import services
from kam.accounts.models import Account, ContactStatus, DecisionRole
from kam.accounts.selectors import AccountFilter, account_decision_chain, account_list
from kam.core.errors import NotVisible, StaleVersion, ValidationFailed

pytestmark = pytest.mark.django_db


def test_create_normalises_uscc_and_assigns_a_code(org):
    # given a valid USCC typed in lower case with spaces
    uscc = valid_uscc()
    # when
    account = services.account_create(
        actor=org.specialist_a, data={"name": "广州天河软件有限公司", "uscc": uscc.lower()}
    )
    # then
    assert account.uscc == uscc
    assert account.code == f"KA{account.pk:08d}"
    assert account.owner == org.specialist_a and account.unit == org.office_a1


def test_bad_uscc_check_digit_is_refused_with_the_rule(org):
    uscc = valid_uscc()
    bad = uscc[:-1] + ("0" if uscc[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=org.specialist_a, data={"name": "某公司", "uscc": bad})
    assert "check digit" in exc.value.errors["uscc"][0]
    assert not Account.objects.exists()


def test_same_uscc_is_refused_with_a_link_to_the_existing_account(org):
    uscc = valid_uscc()
    first = AccountFactory(owner=org.specialist_a, uscc=uscc)
    with pytest.raises(services.DuplicateAccount) as exc:
        services.account_create(actor=org.manager_a, data={"name": "完全不同的名字", "uscc": uscc})
    assert exc.value.extra["existing_url"] == first.get_absolute_url()
    assert Account.objects.count() == 1


def test_duplicate_outside_visibility_names_owner_but_not_the_account(org):
    uscc = valid_uscc()
    AccountFactory(owner=org.specialist_b, name="深圳保密客户有限公司", uscc=uscc)
    with pytest.raises(services.DuplicateAccount) as exc:
        services.account_create(actor=org.specialist_a, data={"name": "另一个", "uscc": uscc})
    assert exc.value.extra["existing_url"] is None
    assert "深圳保密客户" not in exc.value.message
    assert exc.value.extra["existing_owner"] == "王五"
    assert exc.value.extra["existing_unit"] == "南山经营部"


def test_similar_name_warns_until_confirmed(org):
    AccountFactory(owner=org.specialist_a, name="广州市天河区新华科技有限公司")
    with pytest.raises(services.SimilarAccounts) as exc:
        services.account_create(actor=org.specialist_a, data={"name": "广州市天河区新华科技（有限责任公司）"})
    assert exc.value.extra["similar"][0]["name"] == "广州市天河区新华科技有限公司"
    created = services.account_create(
        actor=org.specialist_a, data={"name": "广州市天河区新华科技（有限责任公司）"}, confirm_similar=True
    )
    assert created.pk


def test_specialist_cannot_assign_account_to_another_branch(org):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=org.specialist_a, data={"name": "甲公司", "owner": org.specialist_b.pk})
    assert "owner" in exc.value.errors


def test_manager_can_assign_within_subtree_and_unit_follows_owner(org):
    account = services.account_create(actor=org.manager_a, data={"name": "乙公司", "owner": org.specialist_a2})
    assert account.unit == org.office_a2


def test_bookkeeping_fields_cannot_be_smuggled(org):
    with pytest.raises(ValidationFailed) as exc:
        services.account_create(actor=org.specialist_a, data={"name": "丙公司", "unit": org.branch_b.pk})
    assert "unit" in exc.value.errors


def test_update_with_stale_version_is_refused(org):
    account = AccountFactory(owner=org.specialist_a)
    services.account_update(actor=org.manager_a, account=account, data={"short_name": "甲"}, version=1)
    with pytest.raises(StaleVersion):
        services.account_update(actor=org.specialist_a, account=account, data={"short_name": "乙"}, version=1)
    assert Account.objects.get(pk=account.pk).short_name == "甲"


def test_other_branch_cannot_update_or_delete(org):
    account = AccountFactory(owner=org.specialist_a)
    with pytest.raises(NotVisible):
        services.account_update(actor=org.specialist_b, account=account, data={"short_name": "x"})
    with pytest.raises(NotVisible):
        services.account_delete(actor=org.manager_b, account=account)
    assert Account.objects.alive().filter(pk=account.pk).exists()


def test_history_records_who_changed_what(org):
    account = AccountFactory(owner=org.specialist_a, credit_limit=Decimal("100000.00"))
    services.account_update(actor=org.manager_a, account=account, data={"credit_limit": Decimal("250000.00")})
    latest = account.history.order_by("-history_date").first()
    assert latest.history_user == org.manager_a
    changes = latest.diff_against(latest.prev_record).changes
    assert [(c.field, c.old, c.new) for c in changes] == [
        ("credit_limit", Decimal("100000.00"), Decimal("250000.00")),
    ]


def test_delete_goes_to_recycle_bin_and_restores(org):
    account = AccountFactory(owner=org.specialist_a)
    services.account_delete(actor=org.specialist_a, account=account)
    assert not account_list(user=org.specialist_a).filter(pk=account.pk).exists()
    services.account_restore(actor=org.specialist_a, account_id=account.pk)
    assert account_list(user=org.specialist_a).filter(pk=account.pk).exists()


def test_group_hierarchy_refuses_loops(org):
    group = AccountFactory(owner=org.manager_a, name="某某集团有限公司")
    child = AccountFactory(owner=org.manager_a, name="某某集团广州子公司", parent=group)
    with pytest.raises(ValidationFailed):
        services.account_update(actor=org.manager_a, account=group, data={"parent": child})


def test_bad_mobile_is_refused_and_nothing_is_written(org):
    account = AccountFactory(owner=org.specialist_a)
    with pytest.raises(ValidationFailed) as exc:
        services.contact_create(actor=org.specialist_a, account=account, data={"name": "赵六", "mobile": "1234"})
    assert "mobile" in exc.value.errors
    assert not account.contacts.exists()


def test_mobile_is_stored_as_national_digits(org):
    account = AccountFactory(owner=org.specialist_a)
    contact = services.contact_create(
        actor=org.specialist_a, account=account, data={"name": "赵六", "mobile": "+86 139-1234-5678"}
    )
    assert contact.mobile == "13912345678"


def test_decision_chain_flags_single_thread_and_departed_key_contact(org):
    account = AccountFactory(owner=org.specialist_a)
    boss = ContactFactory(actor=org.specialist_a, account=account, decision_role=DecisionRole.DECISION_MAKER, is_key=True)
    chain = account_decision_chain(user=org.specialist_a, account=account)
    assert chain.single_threaded and chain.active_count == 1

    ContactFactory(actor=org.specialist_a, account=account, decision_role=DecisionRole.INFLUENCER)
    chain = account_decision_chain(user=org.specialist_a, account=account)
    assert not chain.single_threaded
    assert [role for role, _label, _c in chain.groups] == ["decision_maker", "influencer"]

    services.contact_update(actor=org.specialist_a, contact=boss, data={"status": ContactStatus.LEFT})
    chain = account_decision_chain(user=org.specialist_a, account=account)
    assert chain.single_threaded and not chain.has_decision_maker
    assert [c.pk for c in chain.departed_without_successor] == [boss.pk]

    successor = ContactFactory(actor=org.specialist_a, account=account, decision_role=DecisionRole.DECISION_MAKER)
    services.contact_update(actor=org.specialist_a, contact=boss, data={"successor": successor.pk})
    chain = account_decision_chain(user=org.specialist_a, account=account)
    assert chain.departed_without_successor == [] and not chain.single_threaded


def test_list_scoping_for_every_role(org):
    a1 = AccountFactory(owner=org.specialist_a)
    a2 = AccountFactory(owner=org.specialist_a2)
    b1 = AccountFactory(owner=org.specialist_b)
    services.team_member_add(actor=org.manager_b, account=b1, user=org.specialist_a, team_role="technical_support")

    def ids(u):
        return set(account_list(user=u).values_list("pk", flat=True))

    assert ids(org.specialist_a) == {a1.pk, b1.pk}  # own + team
    assert ids(org.specialist_a2) == {a2.pk}
    assert ids(org.manager_a) == {a1.pk, a2.pk}
    assert ids(org.manager_b) == {b1.pk}
    assert ids(org.specialist_b) == {b1.pk}
    assert ids(org.director) == ids(org.admin) == ids(org.analyst_hq) == {a1.pk, a2.pk, b1.pk}


def test_pinyin_initials_and_full_pinyin_search(org):
    target = AccountFactory(owner=org.specialist_a, name="中国移动通信集团广东有限公司")
    AccountFactory(owner=org.specialist_a, name="中国联合网络通信有限公司广州分公司")
    for q in ("zgyd", "ZGYD", "zhongguoyidong", "中国移动", target.code):
        found = list(account_list(user=org.specialist_a, filters=AccountFilter(q=q)).values_list("pk", flat=True))
        assert found == [target.pk], q


def test_search_never_reaches_outside_visibility(org):
    AccountFactory(owner=org.specialist_b, name="中国移动深圳南山营业部")
    assert not account_list(user=org.specialist_a, filters=AccountFilter(q="zgyd")).exists()


def test_history_lists_account_and_contact_changes_newest_first(org, django_assert_max_num_queries):
    from kam.accounts.selectors import account_history

    account = AccountFactory(owner=org.specialist_a, short_name="旧")
    contact = ContactFactory(actor=org.specialist_a, account=account, title="经理")
    services.account_update(actor=org.manager_a, account=account, data={"short_name": "新"})
    services.contact_update(actor=org.specialist_a, contact=contact, data={"title": "总经理"})
    with django_assert_max_num_queries(3):
        rows = account_history(account=account)
    changed = [(r.record.history_user.username, [(c.field, c.old, c.new) for c in r.changes]) for r in rows if r.changes]
    assert changed == [
        ("spec_a", [("title", "经理", "总经理")]),
        ("manager_a", [("short_name", "旧", "新")]),
    ]


def test_similar_name_found_among_many_accounts_of_the_same_district(org):
    for n in range(40):
        AccountFactory(owner=org.specialist_a, name=f"广州市天河区第{n}贸易有限公司")
    AccountFactory(owner=org.specialist_a, name="广州市天河区新华科技有限公司")
    similar = services.similar_accounts(name="广州市天河区新华科技有限责任公司")
    assert [s.name for s in similar] == ["广州市天河区新华科技有限公司"]


def test_recycle_bin_purge_removes_only_expired_items(org, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.KAM = {**settings.KAM, "RECYCLE_BIN_DAYS": 15}
    group = AccountFactory(owner=org.manager_a, name="某某集团有限公司")
    child = AccountFactory(owner=org.manager_a, name="某某集团广州子公司", parent=group)
    ContactFactory(actor=org.manager_a, account=child)
    recent = AccountFactory(owner=org.manager_a)
    services.account_delete(actor=org.manager_a, account=child)
    services.account_delete(actor=org.manager_a, account=group)
    services.account_delete(actor=org.manager_a, account=recent)
    Account.objects.filter(pk__in=[group.pk, child.pk]).update(deleted_at=timezone.now() - timedelta(days=16))
    # when the purge runs
    assert services.recycle_bin_purge() == {"accounts": 2, "contacts": 1, "opportunities": 0}
    # then the expired group and its subsidiary are gone, the recent deletion stays restorable
    assert list(Account.objects.values_list("pk", flat=True)) == [recent.pk]
    assert child.history.exists()  # the field history outlives the record
    services.account_restore(actor=org.manager_a, account_id=recent.pk)
