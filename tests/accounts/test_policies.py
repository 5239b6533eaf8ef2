"""Each accounts service refuses a role its policy denies, with no page in between, and
writes nothing. Sales-ops analysts read accounts and change none."""

from __future__ import annotations

import pytest

from kam.accounts import services as accounts
from kam.accounts.contacts import services as contacts
from kam.accounts.merge import services as merge
from kam.accounts.models import Account, AccountTeamMember, Contact
from kam.accounts.recycle import services as recycle
from kam.accounts.team import services as team
from kam.core.errors import PermissionDenied


@pytest.fixture
def two(org, account_factory):
    return (account_factory(owner=org.specialist_a, name="策略测试甲公司", code="P1"),
            account_factory(owner=org.specialist_a, name="策略测试乙集团", code="P2"))


def test_an_analyst_may_not_create_or_edit_an_account(org, two):
    # given an analyst who sees every account
    before = Account.objects.count()
    # when they create one or edit one, then the service refuses and nothing is written
    with pytest.raises(PermissionDenied):
        accounts.account_create(actor=org.analyst_hq, data={"name": "分析员新建公司", "code": "P9"})
    with pytest.raises(PermissionDenied):
        accounts.account_update(actor=org.analyst_hq, account=two[0], data={"name": "改名"})
    assert Account.objects.count() == before
    assert Account.objects.get(pk=two[0].pk).name == "策略测试甲公司"


def test_an_analyst_may_not_delete_restore_or_merge(org, two):
    with pytest.raises(PermissionDenied):
        recycle.account_delete(actor=org.analyst_hq, account=two[0])
    assert Account.objects.alive().filter(pk=two[0].pk).exists()
    recycle.account_delete(actor=org.specialist_a, account=two[1])
    with pytest.raises(PermissionDenied):
        recycle.account_restore(actor=org.analyst_hq, account_id=two[1].pk)
    assert not Account.objects.alive().filter(pk=two[1].pk).exists()
    other = Account.objects.get(pk=two[0].pk)
    with pytest.raises(PermissionDenied):
        merge.account_merge(actor=org.analyst_hq, survivor=other, merged=other)
    assert Account.objects.get(pk=other.pk).merged_into_id is None


def test_an_analyst_may_not_change_contacts(org, two, contact_factory):
    contact = contact_factory(account=two[0], actor=org.specialist_a, title="经理")
    count = Contact.objects.count()
    with pytest.raises(PermissionDenied):
        contacts.contact_create(actor=org.analyst_hq, account=two[0], data={"name": "王经理"})
    with pytest.raises(PermissionDenied):
        contacts.contact_update(actor=org.analyst_hq, contact=contact, data={"title": "总监"})
    with pytest.raises(PermissionDenied):
        contacts.contact_delete(actor=org.analyst_hq, contact=contact)
    assert Contact.objects.count() == count
    assert Contact.objects.alive().get(pk=contact.pk).title == contact.title


def test_an_analyst_may_not_manage_the_team(org, two):
    with pytest.raises(PermissionDenied):
        team.team_member_add(actor=org.analyst_hq, account=two[0], user=org.specialist_a2, team_role="backup")
    assert not AccountTeamMember.objects.filter(account=two[0]).exists()
