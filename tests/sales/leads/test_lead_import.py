"""Importing leads through the import engine: the rules assign every row, errors name row and
column and nothing is written, duplicates (查重) are skipped, a re-run adds nothing, and a
branch's import neither reveals nor touches another branch's leads."""

from __future__ import annotations

import pytest

from factories import valid_uscc
from kam.activities.models import Task, TaskSource
from kam.core.errors import ValidationFailed
from kam.core.models import Region
from kam.imports import services
from kam.imports.models import JobState
from kam.sales.leads.selectors import lead_list
from kam.sales.leads.services import lead_create
from kam.sales.models import Lead, LeadAssignmentRule, LeadSource, LeadStatus
from spreadsheets import csv_bytes, xlsx_bytes

HEADER = ["线索来源*", "公司名称*", "统一社会信用代码", "联系人", "联系电话", "需求", "预计金额", "地区", "行业"]


def test_leads_are_an_import_kind_of_the_engine():
    assert services.IMPORTERS["leads"] == "kam.sales.leads.importer.LeadImporter"


def issues_of(job) -> list[tuple[int, str, str]]:
    return [(i["row"], i["column"], i["severity"]) for i in job.preview["issues"]]


def test_imported_leads_are_dealt_by_the_rules_with_a_clock_and_a_task(org, run_import):
    # given Guangdong leads going round branch A, and the rest to branch B
    LeadAssignmentRule.objects.create(name="广东", unit=org.branch_a, sort_order=1, region=Region.objects.get(code="44"))
    LeadAssignmentRule.objects.create(name="其他", unit=org.branch_b, sort_order=2)
    rows = [
        HEADER,
        ["展会", "广州甲科技有限公司", valid_uscc(1), "陈经理", "13800138000", "专线", "12.5万", "广东", "互联网"],
        ["网站", "佛山乙制造有限公司", "", "李工", "020-38888888", "", "80000", "广东省", "采掘制造"],
        ["phone", "广州丙贸易有限公司", "", "", "", "", "", "广东", ""],
        ["以老带新", "北京丁公司", "", "", "", "", "", "北京", ""],
    ]
    # when an analyst imports the file
    job = run_import(org.analyst_hq, "leads", "线索.xlsx", xlsx_bytes(rows))
    # then every row is a lead, dealt in turn within branch A, the rest to branch B
    assert job.state == JobState.DONE and job.created == 4, job.preview
    leads = {lead.company: lead for lead in Lead.objects.select_related("source", "assignee", "industry")}
    assert [leads[c].assignee for c in ("广州甲科技有限公司", "佛山乙制造有限公司", "广州丙贸易有限公司")] == [
        org.specialist_a, org.specialist_a2, org.specialist_a]
    assert leads["北京丁公司"].assignee == org.specialist_b
    first = leads["广州甲科技有限公司"]
    assert (first.source.code, first.phone, str(first.estimated_amount), first.industry.code) == (
        "exhibition", "13800138000", "125000.00", "internet")
    assert first.status == LeadStatus.NEW and first.follow_up_due_at is not None
    assert first.created_by == org.analyst_hq and first.history.count() == 1
    # and each assignee has a task to follow their lead up
    tasks = Task.objects.filter(source_kind=TaskSource.LEAD)
    assert sorted(tasks.values_list("owner__username", flat=True)) == ["spec_a", "spec_a", "spec_a2", "spec_b"]


def test_bad_rows_name_row_and_column_and_nothing_is_written(org, run_import):
    rows = [
        HEADER + ["负责人"],
        ["报纸", "甲公司", "", "", "", "", "", "", "", ""],
        ["网站", "", "", "", "", "", "", "", "", ""],
        ["网站", "乙公司", "91440101XXXXXXXXXX", "", "12", "", "-5", "火星", "", ""],
        ["网站", "丙公司", "", "", "", "", "", "", "", "spec_b"],
        ["网站", "丁公司", "", "", "", "", "", "", "", ""],
    ]
    job = run_import(org.manager_a, "leads", "线索.csv", csv_bytes(rows), confirm=False)
    assert job.preview["counts"]["invalid"] == 4 and job.preview["counts"]["create"] == 1
    assert set(issues_of(job)) == {
        (2, "线索来源*", "error"), (3, "公司名称*", "error"), (4, "统一社会信用代码", "error"),
        (4, "联系电话", "error"), (4, "预计金额", "error"), (4, "地区", "error"), (5, "负责人", "error"),
    }
    # all or nothing refuses the file: not even the good row is written
    with pytest.raises(ValidationFailed):
        services.import_job_confirm(actor=org.manager_a, job=job, mode="all")
    assert not Lead.objects.exists()
    # valid rows only: the good row alone
    job = run_import(org.manager_a, "leads", "线索.csv", csv_bytes(rows), mode="valid")
    assert list(Lead.objects.values_list("company", flat=True)) == ["丁公司"]


def test_the_person_named_in_the_file_gets_the_lead(org, run_import):
    LeadAssignmentRule.objects.create(name="all", unit=org.branch_b, sort_order=1)
    rows = [HEADER + ["负责人"], ["网站", "指定公司", "", "", "", "", "", "", "", "李四"]]
    run_import(org.manager_a, "leads", "线索.xlsx", xlsx_bytes(rows))
    lead = Lead.objects.get()
    assert lead.assignee == org.specialist_a2 and lead.rule is None and lead.unit == org.office_a2


def test_duplicates_are_skipped_and_a_second_run_adds_nothing(org, run_import):
    uscc = valid_uscc(3)
    lead_create(actor=org.specialist_a, data={"source": LeadSource.objects.get(code="website"),
                                              "company": "已有线索公司", "uscc": uscc})
    rows = [
        HEADER,
        ["网站", "已有线索公司（广州）", uscc, "", "", "", "", "", ""],
        ["网站", "新线索公司", "", "", "", "", "", "", ""],
        ["网站", "新线索公司", "", "", "", "", "", "", ""],
    ]
    job = run_import(org.specialist_a, "leads", "线索.xlsx", xlsx_bytes(rows))
    assert (job.created, job.duplicates) == (1, 2)
    duplicate_of_existing = next(i for i in job.preview["issues"] if i["row"] == 2)
    assert duplicate_of_existing["severity"] == "duplicate" and duplicate_of_existing["link"].startswith("/sales/leads/")
    assert Lead.objects.count() == 2
    again = run_import(org.specialist_a, "leads", "线索.xlsx", xlsx_bytes(rows))
    assert (again.created, again.duplicates) == (0, 3) and Lead.objects.count() == 2
    # asked to, the user imports likely duplicates too
    run_import(org.specialist_a, "leads", "线索.xlsx", xlsx_bytes(rows), include_duplicates=True)
    assert Lead.objects.count() == 5


def test_another_branchs_import_neither_reveals_nor_touches_its_leads(org, run_import):
    secret = lead_create(actor=org.specialist_a, data={"source": LeadSource.objects.get(code="website"),
                                                       "company": "天河保密公司", "need": "机密需求"})
    rows = [HEADER + ["负责人"],
            ["网站", "天河保密公司", "", "", "", "", "", "", "", ""],
            ["网站", "南山新公司", "", "", "", "", "", "", "", "spec_a"]]
    job = run_import(org.specialist_b, "leads", "线索.xlsx", xlsx_bytes(rows), confirm=False)
    # the existing lead is named only by who works it, never linked
    notice = next(i for i in job.preview["issues"] if i["row"] == 2)
    assert notice["severity"] == "duplicate" and notice["link"] == ""
    assert "张三" in notice["message"] and "机密需求" not in notice["message"]
    # and branch B cannot hand a lead to branch A's specialist
    assert (3, "负责人", "error") in issues_of(job)
    run_import(org.specialist_b, "leads", "线索.xlsx", xlsx_bytes(rows), mode="valid")
    secret.refresh_from_db()
    assert secret.assignee == org.specialist_a and secret.status == LeadStatus.NEW
    assert not lead_list(user=org.specialist_b).filter(pk=secret.pk).exists()
    assert Lead.objects.count() == 1
