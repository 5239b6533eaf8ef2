"""Importing accounts: every rule a row can break, preview, all-or-nothing, idempotence, 查重, scoping."""

from __future__ import annotations

import pytest

from factories import valid_uscc
from kam import cli
from kam.accounts.models import Account
from kam.core.errors import ValidationFailed
from kam.imports import services
from kam.imports.models import JobState, MappingTemplate
from kam.imports.readers import FileProblem
from spreadsheets import as_file, csv_bytes, xlsx_bytes

HEADER = ["客户编号", "客户名称*", "统一社会信用代码", "行业", "地区", "客户经理", "电话", "年营业额（元）", "签约日期", "上级客户编号"]


def issues_of(job) -> list[tuple[int, str, str]]:
    return [(i["row"], i["column"], i["message"]) for i in job.preview["issues"]]


@pytest.mark.parametrize("fmt", ["xlsx", "utf-8", "utf-8-sig", "gb18030"])
def test_accounts_arrive_intact_from_xlsx_and_every_csv_encoding(org, run_import, fmt):
    # given a list in Chinese, as each kind of file Chinese Excel users produce
    uscc = valid_uscc()
    rows = [HEADER,
            ["GZ0001", "广州珠江（集团）股份有限公司", uscc, "采掘制造", "广东", "spec_a", "020-38888888", "12.5万", "2024/3/1", ""],
            ["GZ0002", "广州珠江物流有限公司", "", "交通物流", "", "张三", "", "1,234.50", "2024年3月2日", "GZ0001"]]
    filename, data = as_file(rows, fmt)

    # when the manager imports it
    job = run_import(org.manager_a, "accounts", filename, data)

    # then both accounts exist with their values parsed, owned as the file says
    assert job.state == JobState.DONE, job.message
    assert (job.created, job.invalid) == (2, 0)
    group = Account.objects.get(code="GZ0001")
    member = Account.objects.get(code="GZ0002")
    assert group.name == "广州珠江（集团）股份有限公司" and group.uscc == uscc
    assert str(group.annual_revenue) == "125000.00" and str(member.annual_revenue) == "1234.50"
    assert group.signed_on.isoformat() == "2024-03-01" and member.signed_on.isoformat() == "2024-03-02"
    assert group.industry.name == "采掘制造" and group.region.name == "广东省"
    assert group.owner == org.specialist_a and group.unit == org.office_a1
    assert member.parent == group
    assert group.history.get().history_change_reason == "Import"
    assert "gzzj" in group.search_text  # pinyin initials are searchable at once


def test_every_error_class_names_row_column_and_rule(org, run_import):
    # given one row per rule broken
    good = valid_uscc()
    bad_check_digit = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [HEADER,
            ["E01", "校验位错误公司", bad_check_digit, "", "", "", "", "", "", ""],
            ["E02", "未知行业公司", "", "造火箭", "", "", "", "", "", ""],
            ["E03", "", "", "", "", "", "", "", "", ""],
            ["E04", "未知上级公司", "", "", "", "", "", "", "", "NOPE99"],
            ["E05", "未知负责人公司", "", "", "", "nobody", "", "", "", ""],
            ["E06", "坏电话公司", "", "", "", "", "12345", "", "", ""],
            ["E07", "坏日期公司", "", "", "", "", "", "", "2024-13-40", ""],
            ["E08", "坏金额公司", "", "", "", "", "", "很多", "", ""],
            ["E02", "重复编号公司", "", "", "", "", "", "", "", ""]]
    filename, data = as_file(rows, "xlsx")

    # when it is checked
    job = run_import(org.admin, "accounts", filename, data, confirm=False)

    # then each row carries its own message, in the column the file uses
    found = issues_of(job)
    assert (2, "统一社会信用代码", "The check digit of this unified social credit code is wrong (GB 32100).") in found
    assert (3, "行业", "Unknown industry “造火箭”.") in found
    assert (4, "客户名称*", "Required to create an account.") in found
    assert (5, "上级客户编号", "No account has the code NOPE99.") in found
    assert (6, "客户经理", "“nobody” is not a user you can assign accounts to.") in found
    assert any(r == 7 and c == "电话" and "not a valid phone number" in m for r, c, m in found)
    assert any(r == 8 and c == "签约日期" and "is not a date" in m for r, c, m in found)
    assert (9, "年营业额（元）", "很多 is not an amount.") in found
    assert (10, "客户编号", "E02 already appears in row 3.") in found
    assert job.preview["counts"]["invalid"] == 9
    assert not Account.objects.exists()


def test_preview_writes_nothing_and_all_or_nothing_refuses_a_file_with_errors(org, run_import):
    rows = [HEADER, ["P01", "好公司", "", "", "", "", "", "", "", ""], ["P02", "坏公司", "BAD", "", "", "", "", "", "", ""]]
    filename, data = as_file(rows, "utf-8-sig")
    history_before = Account.history.count()

    job = run_import(org.admin, "accounts", filename, data, confirm=False)
    assert job.preview["counts"]["create"] == 1 and job.preview["counts"]["invalid"] == 1
    assert Account.objects.count() == 0 and Account.history.count() == history_before

    with pytest.raises(ValidationFailed, match="all or nothing"):
        services.import_job_confirm(actor=org.admin, job=job, mode="all")
    assert Account.objects.count() == 0


def test_all_or_nothing_writes_nothing_when_the_database_changed_after_the_preview(org, run_import, account_factory,
                                                                                django_capture_on_commit_callbacks):
    # given a clean preview
    uscc = valid_uscc()
    rows = [HEADER, ["R01", "甲公司", "", "", "", "", "", "", "", ""], ["R02", "乙公司", uscc, "", "", "", "", "", "", ""]]
    job = run_import(org.admin, "accounts", *as_file(rows, "xlsx"), confirm=False)
    assert job.preview["counts"]["invalid"] == 0
    # when someone else takes row 3's USCC before the import runs
    account_factory(owner=org.specialist_b, name="别人的乙公司", code="B-1", uscc=uscc)
    with django_capture_on_commit_callbacks(execute=True):
        services.import_job_confirm(actor=org.admin, job=job, mode="all")
    job.refresh_from_db()
    # then nothing of the file is written
    assert job.state == JobState.REJECTED
    assert not Account.objects.filter(code__in=["R01", "R02"]).exists()
    assert job.report


def test_valid_rows_only_writes_the_valid_rows_and_keeps_an_error_report(org, run_import):
    rows = [HEADER, ["V01", "好公司", "", "", "", "", "", "", "", ""], ["V02", "=HYPERLINK(\"x\")", "BAD", "", "", "", "", "", "", ""]]
    job = run_import(org.admin, "accounts", *as_file(rows, "utf-8-sig"), mode="valid")
    assert job.state == JobState.DONE and (job.created, job.invalid) == (1, 1)
    assert list(Account.objects.values_list("code", flat=True)) == ["V01"]

    from openpyxl import load_workbook

    sheet = load_workbook(job.report.path).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:4] == ("Row", "Outcome", "Errors", "客户编号")
    assert lines[1][0] == 3 and lines[1][1] == "Invalid" and "统一社会信用代码" in lines[1][2]
    assert lines[1][4] == "=HYPERLINK(\"x\")"  # the user's own cell, as they wrote it…
    assert sheet.cell(2, 5).data_type == "s"  # …as text, not a formula


def test_reimporting_the_same_file_changes_nothing(org, run_import):
    rows = [HEADER] + [[f"I{n:03d}", f"幂等测试第{n}号有限公司", valid_uscc(), "", "", "", "", "", "", ""] for n in range(30)]
    filename, data = as_file(rows, "utf-8")
    first = run_import(org.admin, "accounts", filename, data)
    history = Account.history.count()
    second = run_import(org.admin, "accounts", filename, data)
    assert (first.created, second.created, second.updated, second.unchanged) == (30, 0, 0, 30)
    assert Account.objects.count() == 30 and Account.history.count() == history


def test_a_row_updates_the_matching_account_with_its_non_empty_cells_only(org, run_import, account_factory):
    account = account_factory(owner=org.specialist_a, name="老名字有限公司", code="U01", phone="020-38888888",
                              industry=1)
    rows = [["客户编号", "客户名称", "电话", "行业"], ["U01", "新名字有限公司", "", "金融"]]
    job = run_import(org.manager_a, "accounts", *as_file(rows, "xlsx"))
    account.refresh_from_db()
    assert job.updated == 1
    assert account.name == "新名字有限公司" and account.phone == "020-38888888" and account.industry.name == "金融"
    assert account.version == 2
    record = account.history.first()
    assert record.history_change_reason == "Import" and record.history_user == org.manager_a
    # matched by USCC when the file has no code
    account.uscc = valid_uscc()
    account.save()
    job = run_import(org.manager_a, "accounts", *as_file([["统一社会信用代码", "客户名称", "地址"],
                                                         [account.uscc, "", "天河路1号"]], "xlsx"))
    account.refresh_from_db()
    assert job.updated == 1 and account.address == "天河路1号"


def test_likely_duplicates_by_normalised_name_are_skipped_and_say_whose_they_are(org, run_import, account_factory):
    mine = account_factory(owner=org.specialist_a, name="广州星河科技有限公司", code="D01")
    account_factory(owner=org.specialist_b, name="深圳海湾电子（集团）有限公司", code="D02", address="secret address")
    rows = [["客户名称"], ["广州星河科技有限责任公司"], ["深圳海湾电子(集团)有限公司"], ["全新公司"], ["全新公司"]]

    job = run_import(org.specialist_a, "accounts", *as_file(rows, "xlsx"), confirm=False)

    counts = job.preview["counts"]
    assert (counts["duplicate"], counts["create"]) == (3, 1)
    issues = {i["row"]: i for i in job.preview["issues"]}
    assert issues[2]["link"] == mine.get_absolute_url() and "D01" in issues[2]["message"]
    # not visible: it exists and whose it is, nothing else
    assert "王五" in issues[3]["message"] and "南山经营部" in issues[3]["message"]
    assert "D02" not in issues[3]["message"] and "secret" not in issues[3]["message"] and not issues[3]["link"]
    assert "row 4" in issues[5]["message"]

    with_duplicates = run_import(org.specialist_a, "accounts", *as_file(rows, "xlsx"), include_duplicates=True)
    assert with_duplicates.created == 4


def test_a_specialist_cannot_update_or_assign_outside_their_visibility(org, run_import, account_factory):
    theirs = account_factory(owner=org.specialist_b, name="深圳别人的公司", code="S01")
    rows = [["客户编号", "客户名称", "客户经理"], ["S01", "改名", ""], ["S02", "新公司", "spec_b"], ["S03", "我的新公司", ""]]
    job = run_import(org.specialist_a, "accounts", *as_file(rows, "xlsx"), mode="valid")
    theirs.refresh_from_db()
    assert theirs.name == "深圳别人的公司"
    assert (job.refused, job.invalid, job.created) == (1, 1, 1)
    messages = {i["row"]: i["message"] for i in job.preview["issues"]}
    assert "王五" in messages[2] and "cannot change it" in messages[2]
    assert "not a user you can assign" in messages[3]
    assert Account.objects.get(code="S03").owner == org.specialist_a


def test_a_parent_listed_after_its_member_is_written_first(org, run_import):
    rows = [["客户编号", "客户名称", "上级客户编号"], ["C2", "子公司", "C1"], ["C1", "集团公司", ""], ["C3", "孙公司", "C2"]]
    job = run_import(org.admin, "accounts", *as_file(rows, "xlsx"))
    assert job.created == 3
    assert Account.objects.get(code="C3").parent.parent.code == "C1"
    loop = [["客户编号", "客户名称", "上级客户编号"], ["L1", "甲", "L2"], ["L2", "乙", "L1"]]
    job = run_import(org.admin, "accounts", *as_file(loop, "xlsx"), confirm=False)
    assert job.preview["counts"]["invalid"] == 2 and "loop" in job.preview["issues"][0]["message"]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "Save the file as .xlsx"),
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "not a valid .xlsx"),
        ("gbk.csv", b"\xff\xfe\x00" * 3 + "名称\n".encode() + b"\x81\x30\xff", "UTF-8 nor GB18030"),
        ("empty.csv", b"\n\n", "The file is empty"),
        ("notes.pdf", b"%PDF", "Upload an .xlsx or .csv"),
    ],
)
def test_unreadable_files_are_refused_with_what_to_do(org, filename, data, message):
    with pytest.raises(FileProblem, match=message):
        services.import_job_create(actor=org.admin, kind="accounts", filename=filename, data=data)
    assert not services.ImportJob.objects.exists()


def test_unknown_headers_are_mapped_by_the_user_and_remembered_as_a_template(org, run_import):
    data = xlsx_bytes([["公司", "信用码", "负责销售"], ["映射公司", "", "spec_a"]])
    job = services.import_job_create(actor=org.admin, kind="accounts", filename="a.xlsx", data=data)
    mapping = services.job_mapping(job)
    assert mapping.unknown == ["信用码", "负责销售"]  # 公司 is a known word for the name

    services.import_job_map(actor=org.admin, job=job, mapping={"公司": "name", "信用码": "uscc", "负责销售": "owner"},
                            template_name="销售部格式")
    template = MappingTemplate.objects.get(user=org.admin, name="销售部格式")
    job = services.import_job_check(job_id=job.pk)
    assert job.preview["counts"]["create"] == 1

    again = services.import_job_create(actor=org.admin, kind="accounts", filename="b.xlsx", data=data, template=template)
    assert services.job_mapping(again).columns == {0: "name", 1: "uscc", 2: "owner"}
    with pytest.raises(ValidationFailed):
        services.import_job_map(actor=org.admin, job=job, mapping={"公司": "name", "信用码": "name"})


def test_csv_with_semicolons_or_tabs_and_excel_numbers(org, run_import):
    text = "客户编号\t客户名称\t员工人数\n1001\t制表符公司\t1,200人\n".encode("gb18030")
    job = run_import(org.admin, "accounts", "tabs.csv", text)
    account = Account.objects.get(code="1001")
    assert account.name == "制表符公司" and account.staff_size == 1200 and job.created == 1
    # Excel stores a numeric code as a float; it is read back as the whole number
    job = run_import(org.admin, "accounts", "n.xlsx", xlsx_bytes([["客户编号", "客户名称"], [2002.0, "数字编号公司"]]))
    assert Account.objects.filter(code="2002").exists()
    semicolons = csv_bytes([["code;name"], ["S;分号公司"]], "utf-8")
    assert run_import(org.admin, "accounts", "s.csv", semicolons.replace(b'"', b"")).created == 1


def test_a_file_longer_than_the_limit_is_refused_before_it_is_read_whole(org, settings):
    settings.KAM = {**settings.KAM, "IMPORT_MAX_ROWS": 3}
    data = csv_bytes([["客户名称"], *[[f"公司{n}"] for n in range(10)]])
    with pytest.raises(FileProblem, match="more than 3 rows"):
        services.import_job_create(actor=org.admin, kind="accounts", filename="long.csv", data=data)


def test_the_command_line_reads_the_file_once_and_the_web_upload_keeps_nothing(org, tmp_path, monkeypatch):
    reads = []
    real = services.read_table
    monkeypatch.setattr(services, "read_table", lambda *a, **k: reads.append(1) or real(*a, **k))
    path = tmp_path / "once.csv"
    path.write_bytes(csv_bytes([["客户编号", "客户名称"], ["ONCE-1", "一次读取有限公司"]]))
    assert cli.main(["import", "accounts", str(path), "--user", org.admin.username, "--quiet"]) == 0
    assert len(reads) == 1 and Account.objects.filter(code="ONCE-1").exists()
    services.import_job_create(actor=org.admin, kind="accounts", filename="web.csv", data=path.read_bytes())
    assert services._uploaded == {}
