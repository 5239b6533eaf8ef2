"""In a real browser: upload a list with errors, read the preview, import the valid rows, get the error report."""

import os

import pytest
from openpyxl import load_workbook

from factories import valid_uscc
from kam.accounts.models import Account
from spreadsheets import xlsx_bytes

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.e2e]


def test_upload_preview_valid_rows_only_and_error_report(live_server, transactional_db, org, settings, browser_page, shot,
                                                         tmp_path, log_in):
    # given a department's list with two bad rows and an unknown column
    settings.LANGUAGE_CODE = "zh-hans"
    good = valid_uscc()
    path = tmp_path / "天河区客户清单.xlsx"
    path.write_bytes(xlsx_bytes([
        ["客户编号", "客户名称", "统一社会信用代码", "行业", "联系电话", "年营业额（元）", "备注说明"],
        ["TH001", "广州天河软件园有限公司", good, "互联网", "020-38880001", "1,200万", "老客户"],
        ["TH002", "广州珠江新城商贸有限公司", good[:-1] + ("0" if good[-1] != "0" else "1"), "商贸零售", "", "", ""],
        ["TH003", "广州体育西物流有限公司", "", "造火箭", "", "", ""],
        ["TH004", "广州天河北能源有限公司", "", "能源化工", "020-38880004", "35.5万", ""],
    ]))
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    log_in(page, "spec_a")

    # when the specialist uploads it
    page.goto(f"{live_server.url}/imports/")
    page.select_option("#id_kind", "accounts")
    page.set_input_files("#id_file", str(path))
    shot(page, "10-import-upload")
    page.click("[data-testid=upload]")
    # the unknown column is offered for mapping first; they leave it ignored
    page.wait_for_selector("[data-testid=mapping-form]")
    shot(page, "11-import-columns")
    page.click("[data-testid=mapping-save]")

    # then the preview lists each bad row with its column and rule, and nothing is written yet
    page.wait_for_selector("[data-testid=issues]")
    issues = page.inner_text("[data-testid=issues]")
    assert "统一社会信用代码" in issues and "GB 32100" in issues
    assert "造火箭" in issues
    assert page.inner_text("[data-count=create]").strip().endswith("2")
    assert not Account.objects.exists()
    shot(page, "12-import-preview")

    # when they import the valid rows only
    page.check("input[name=mode][value=valid]")
    page.click("[data-testid=confirm]")
    page.wait_for_selector("[data-testid=result]")
    shot(page, "13-import-done")
    assert sorted(Account.objects.values_list("code", flat=True)) == ["TH001", "TH004"]
    assert str(Account.objects.get(code="TH001").annual_revenue) == "12000000.00"

    # and the error report holds the two refused rows as they were sent, with the reason beside them
    with page.expect_download() as download:
        page.click("[data-testid=report]")
    report = tmp_path / "report.xlsx"
    download.value.save_as(report)
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [3, 4]
    assert "GB 32100" in rows[1][2] and rows[2][3] == "TH003" and "造火箭" in rows[2][2]
