"""Importing contacts: matched to visible accounts by code or USCC, then by mobile or name."""

from __future__ import annotations

from factories import valid_uscc
from kam.accounts.models import Contact, DecisionRole
from spreadsheets import as_file

HEADER = ["客户编号", "姓名", "职务", "手机", "邮箱", "决策角色", "关键联系人", "关系负责人"]


def test_contacts_are_created_then_updated_by_mobile_and_reimport_changes_nothing(org, run_import, account_factory):
    uscc = valid_uscc()
    account = account_factory(owner=org.specialist_a, name="联系人导入公司", code="K01", uscc=uscc)
    rows = [HEADER,
            ["K01", "陈总", "总经理", "13800138000", "chen@example.com", "决策者", "是", "spec_a"],
            [uscc, "刘工", "技术总监", "139 0013 9000", "", "Technical gatekeeper", "否", ""]]
    job = run_import(org.specialist_a, "contacts", *as_file(rows, "gb18030"))
    assert (job.created, job.invalid) == (2, 0), job.preview["issues"]
    chen = Contact.objects.get(account=account, name="陈总")
    assert chen.decision_role == DecisionRole.DECISION_MAKER and chen.is_key and chen.relationship_owner == org.specialist_a
    assert Contact.objects.get(name="刘工").mobile == "13900139000"

    rows[1][2] = "董事长"
    again = run_import(org.specialist_a, "contacts", *as_file(rows, "gb18030"))
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    chen.refresh_from_db()
    assert chen.title == "董事长" and chen.version == 2


def test_contact_rows_name_their_errors_and_invisible_accounts_are_refused(org, run_import, account_factory):
    account_factory(owner=org.specialist_a, name="我的公司", code="K10")
    account_factory(owner=org.specialist_b, name="别人的公司", code="K20")
    rows = [HEADER,
            ["K10", "坏手机", "", "1380013800", "", "", "", ""],
            ["K10", "", "", "", "", "", "", ""],
            ["K99", "无客户", "", "", "", "", "", ""],
            ["K20", "越权", "", "", "", "", "", ""],
            ["K10", "坏邮箱", "", "", "not-an-email", "", "", ""],
            ["K10", "坏角色", "", "", "", "大老板", "", ""]]
    job = run_import(org.specialist_a, "contacts", *as_file(rows, "xlsx"), confirm=False)
    found = {(i["row"], i["column"]): i["message"] for i in job.preview["issues"]}
    assert "not a valid mainland China mobile number" in found[(2, "手机")]
    assert found[(3, "姓名")] == "Required."
    assert found[(4, "客户编号")] == "No account has the code or USCC K99."
    assert "not visible to you" in found[(5, "客户编号")] and "王五" in found[(5, "客户编号")]
    assert "not an e-mail address" in found[(6, "邮箱")]
    assert "is not one of" in found[(7, "决策角色")]
    assert job.preview["counts"]["refused"] == 1 and job.preview["counts"]["invalid"] == 5
    assert not Contact.objects.exists()
