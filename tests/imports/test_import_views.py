"""The import pages: upload → columns → preview → confirm → result, each scoped to its owner."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from factories import PASSWORD
from kam.accounts.models import Account
from kam.imports.models import ImportJob, JobState, MappingTemplate
from spreadsheets import csv_bytes, xlsx_bytes


def _upload(client, name: str, data: bytes, kind: str = "accounts", **extra):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data), **extra})


def test_upload_preview_confirm_and_report(org, client, django_capture_on_commit_callbacks):
    client.login(username="spec_a", password=PASSWORD)
    data = csv_bytes([["客户编号", "客户名称", "统一社会信用代码"], ["W1", "网页导入公司", ""], ["W2", "坏信用代码公司", "123"]], "gb18030")

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "清单.csv", data)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{job.pk}/"

    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-state="checked"' in page
    assert "A unified social credit code has 18 characters." in page and "统一社会信用代码" in page
    assert not Account.objects.exists()  # the preview wrote nothing

    # "all or nothing" is refused for a file with errors; "valid rows only" goes ahead
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/", {"mode": "all"})
    job.refresh_from_db()
    assert job.state == JobState.CHECKED and not Account.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{job.pk}/confirm/", {"mode": "valid"})
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.created == 1
    assert Account.objects.get().owner == org.specialist_a

    report = client.get(f"/imports/{job.pk}/report/")
    sheet = load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == 3 and "18 characters" in rows[1][2] and rows[1][3:6] == ("W2", "坏信用代码公司", "123")


def test_unknown_columns_go_through_the_mapping_page(org, client, django_capture_on_commit_callbacks):
    client.login(username="admin", password=PASSWORD)
    response = _upload(client, "a.xlsx", xlsx_bytes([["单位", "负责销售"], ["映射页面公司", "spec_a"]]))
    job = ImportJob.objects.get()
    assert response["Location"] == f"/imports/{job.pk}/columns/"
    page = client.get(response["Location"]).content.decode()
    assert "负责销售" in page and "映射页面公司" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{job.pk}/columns/",
                               {"col_0": "name", "col_1": "owner", "template_name": "外部格式"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.state == JobState.CHECKED and job.preview["counts"]["create"] == 1
    assert MappingTemplate.objects.filter(user=org.admin, name="外部格式").exists()


def test_progress_partial_polls_while_the_job_runs(org, client):
    client.login(username="admin", password=PASSWORD)
    _upload(client, "a.csv", csv_bytes([["客户名称"], ["一"], ["二"]]))
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, total_rows=2, progress_done=1)
    partial = client.get(f"/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial and "kam-w-50" in partial and "<html" not in partial


def test_jobs_and_reports_are_their_owners_only(org, client, django_capture_on_commit_callbacks):
    client.login(username="spec_a", password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, "mine.csv", csv_bytes([["客户名称", "统一社会信用代码"], ["公司", "bad"]]))
    job = ImportJob.objects.get()
    client.logout()
    client.login(username="spec_b", password=PASSWORD)
    for url in (f"/imports/{job.pk}/", f"/imports/{job.pk}/report/", f"/imports/{job.pk}/columns/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/imports/{job.pk}/confirm/", {"mode": "valid"}).status_code == 404
    assert client.post(f"/imports/{job.pk}/cancel/").status_code == 404
    assert "mine.csv" not in client.get("/imports/").content.decode()
    job.refresh_from_db()
    assert job.state == JobState.CHECKED


def test_a_bad_file_is_refused_on_the_form_and_templates_download(org, client):
    client.login(username="spec_a", password=PASSWORD)
    response = _upload(client, "a.xlsx", b"PK\x03\x04garbage")
    assert response.status_code == 200 and "not a valid .xlsx workbook" in response.content.decode()
    assert not ImportJob.objects.exists()
    blank = client.get("/imports/template/contacts.xlsx")
    header = next(load_workbook(io.BytesIO(b"".join(blank.streaming_content))).active.iter_rows(values_only=True))
    assert header[:2] == ("account code or USCC*", "name*")
    assert client.get("/imports/template/nothing.xlsx").status_code == 404
