"""Merging duplicates, and exporting lists with the user's filters and visibility."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from factories import PASSWORD, valid_uscc
from kam.accounts.merge.services import account_merge
from kam.accounts.models import Account, AccountTeamMember, Contact
from kam.accounts.selectors import account_history
from kam.accounts.services import team_member_add
from kam.core.errors import NotVisible
from kam.core.models import AuditEvent
from spreadsheets import xlsx_bytes


def test_merge_moves_contacts_team_members_and_history_to_the_survivor(org, account_factory, contact_factory, run_import):
    # given two records of one customer
    uscc = valid_uscc()
    survivor = account_factory(owner=org.specialist_a, name="广州合并科技有限公司", code="M01")
    duplicate = account_factory(owner=org.specialist_a, name="广州合并科技有限责任公司", code="M02", uscc=uscc,
                                address="天河北路 1 号")
    contact = contact_factory(account=duplicate, actor=org.specialist_a, name="合并联系人")
    team_member_add(actor=org.manager_a, account=duplicate, user=org.specialist_a2, team_role="technical_support")
    child = account_factory(owner=org.specialist_a, name="下属公司", code="M03", parent=duplicate.pk)

    # when the manager merges the duplicate, taking its USCC and address
    account_merge(actor=org.manager_a, survivor=survivor, merged=duplicate, take=["uscc", "address"])

    # then the survivor holds everything, the duplicate is gone from lists but leads to the survivor
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert survivor.uscc == uscc and survivor.address == "天河北路 1 号"
    assert Contact.objects.get(pk=contact.pk).account == survivor
    assert AccountTeamMember.objects.get(user=org.specialist_a2).account == survivor
    assert Account.objects.get(pk=child.pk).parent == survivor
    assert duplicate.merged_into == survivor and duplicate.uscc is None
    assert not Account.objects.visible_to(org.manager_a).filter(pk=duplicate.pk).exists()
    assert not Account.objects.in_recycle_bin_of(org.manager_a).filter(pk=duplicate.pk).exists()
    history = account_history(account=survivor)
    reasons = [row.record.history_change_reason for row in history]
    assert "Merged from 广州合并科技有限责任公司 (M02)" in reasons
    assert "Merged into 广州合并科技有限公司 (M01)" in reasons  # the duplicate's own history is shown here
    assert any(row.record.history_type == "+" and row.record.id == duplicate.pk for row in history)

    # and an import naming the old code updates the survivor
    job = run_import(org.manager_a, "accounts", "m.xlsx", xlsx_bytes([["客户编号", "网址"], ["M02", "www.merge.cn"]]))
    survivor.refresh_from_db()
    assert job.updated == 1 and survivor.website == "https://www.merge.cn"


def test_merge_needs_both_accounts_visible(org, account_factory):
    mine = account_factory(owner=org.specialist_a, name="我的", code="V1")
    theirs = account_factory(owner=org.specialist_b, name="他的", code="V2")
    with pytest.raises(NotVisible):
        account_merge(actor=org.specialist_a, survivor=mine, merged=theirs)
    assert Account.objects.get(pk=theirs.pk).merged_into is None


def test_merge_screen_lets_the_user_pick_per_field(org, account_factory, client):
    survivor = account_factory(owner=org.specialist_a, name="甲有限公司", code="W1", phone="020-38888888")
    duplicate = account_factory(owner=org.specialist_a, name="甲有限责任公司", code="W2", phone="020-38999999",
                                address="乙路 2 号")
    client.login(username="spec_a", password=PASSWORD)
    url = f"/accounts/{survivor.pk}/merge/?other={duplicate.pk}"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "020-38999999" in body and "乙路 2 号" in body
    response = client.post(url, {"survivor_version": 1, "merged_version": 1, "phone": "take", "address": "take",
                                 "name": "keep"})
    assert response.status_code == 302
    survivor.refresh_from_db()
    assert (survivor.phone, survivor.address, survivor.name) == ("020-38999999", "乙路 2 号", "甲有限公司")
    other = account_factory(owner=org.specialist_b, name="丙", code="W3")
    assert client.get(f"/accounts/{survivor.pk}/merge/?other={other.pk}").status_code == 200  # picker shown again
    assert client.post(f"/accounts/{survivor.pk}/merge/?other={other.pk}", {}).status_code == 200
    assert Account.objects.get(pk=other.pk).merged_into is None


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_keeps_filters_and_visibility_and_neutralises_formulas(org, account_factory, client, fmt):
    account_factory(owner=org.specialist_a, name="=HYPERLINK(\"http://evil\",\"点我\")", code="X1", industry=4)
    account_factory(owner=org.specialist_a, name="普通公司", code="X2", industry=5)
    account_factory(owner=org.specialist_b, name="深圳看不见公司", code="X3", industry=4)
    client.login(username="spec_a", password=PASSWORD)

    response = client.get(f"/accounts/export/?industry=4&format={fmt}")

    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        neutralised = "'=HYPERLINK(\"http://evil\",\"点我\")"  # text to Excel, read back without the apostrophe
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert sheet["A2"].data_type == "s"  # a text cell, not a formula
        neutralised = "=HYPERLINK(\"http://evil\",\"点我\")"
    header, body = rows[0], rows[1:]
    assert header[:2] == ["name", "short name"]
    assert [r[0] for r in body] == [neutralised]
    assert "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(kind="export", user=org.specialist_a).exists()


def test_exported_list_imports_back_unchanged(org, account_factory, client, run_import):
    account_factory(owner=org.specialist_a, name="往返公司", code="RT1", phone="020-38888888", industry=3,
                    annual_revenue="1234.50", uscc=valid_uscc())
    client.login(username="spec_a", password=PASSWORD)
    data = b"".join(client.get("/accounts/export/?format=xlsx").streaming_content)
    job = run_import(org.specialist_a, "accounts", "export.xlsx", data, confirm=False)
    assert job.preview["counts"]["unchanged"] == 1, (job.preview, job.message)


def test_contact_and_recycle_bin_exports_are_scoped(org, account_factory, contact_factory, client):
    mine = account_factory(owner=org.specialist_a, name="我的", code="Y1")
    theirs = account_factory(owner=org.specialist_b, name="他的", code="Y2")
    contact_factory(account=mine, actor=org.specialist_a, name="我的联系人")
    contact_factory(account=theirs, actor=org.specialist_b, name="他的联系人")
    client.login(username="spec_a", password=PASSWORD)
    data = b"".join(client.get("/accounts/contacts/export/?format=csv").streaming_content).decode("utf-8-sig")
    assert "我的联系人" in data and "他的联系人" not in data
    assert client.get(f"/accounts/{theirs.pk}/contacts/export/?format=csv").status_code == 404
    assert client.get("/accounts/export/?format=pdf").status_code == 404
    assert client.get("/accounts/recycle-bin/export/?format=xlsx").status_code == 200


def test_history_exports_one_line_per_changed_field(org, account_factory, client):
    from kam.accounts.services import account_update

    account = account_factory(owner=org.specialist_a, name="历史公司", code="H1")
    account_update(actor=org.specialist_a, account=account, data={"address": "新地址 8 号"})
    client.login(username="spec_a", password=PASSWORD)
    data = b"".join(client.get(f"/accounts/{account.pk}/history/export/?format=csv").streaming_content)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["when", "who", "record", "change", "old value", "new value"]
    assert ["address", "", "新地址 8 号"] in [r[3:] for r in rows]
    assert any(r[3] == "created" for r in rows)
    other = account_factory(owner=org.specialist_b, name="别人的", code="H2")
    assert client.get(f"/accounts/{other.pk}/history/export/?format=csv").status_code == 404
