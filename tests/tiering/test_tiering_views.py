"""The tiering pages: HQ computes, fixes and tries numbers; everyone sees only their accounts."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from factories import PASSWORD
from kam.tiering import services
from kam.tiering.models import Scheme, Snapshot
from spreadsheets import csv_bytes


@pytest.fixture
def tiered(org, account_factory, run_import):
    owners = [org.specialist_a, org.specialist_a, org.specialist_a2, org.specialist_b, org.specialist_b]
    accounts = [account_factory(owner=o, name=f"页面分级{n}号公司", code=f"P{n}") for n, o in enumerate(owners, 1)]
    rows = [["客户编号", "日期", "金额"], *[[f"P{n}", "2026-01-10", str(v)] for n, v in
                                        enumerate([500, 300, 100, 60, 40], 1)]]
    run_import(org.admin, "revenue", "r.csv", csv_bytes(rows))
    scheme = Scheme.objects.get(code="pareto-abc")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    return scheme, snapshot, accounts


def _charts(body: str) -> dict:
    return json.loads(re.search(r'<script id="tier-charts" type="application/json">(.*?)</script>', body, re.S)[1])


def test_hq_sees_the_pareto_chart_and_every_account(org, client, tiered):
    scheme, snapshot, accounts = tiered
    client.login(username="director", password=PASSWORD)
    body = client.get("/tiering/pareto-abc/").content.decode()
    charts = _charts(body)
    assert charts["pareto"]["cumulative"][-1] == 100.0 and charts["pareto"]["cuts"] == [80.0, 95.0]
    assert all(a.name in body for a in accounts)
    assert "Rank 1 of 5 by revenue" in body  # the why
    assert 'data-testid="what-if-form"' in body and 'data-testid="compute-form"' in body


def test_a_specialist_sees_their_own_accounts_and_no_global_chart(org, client, tiered):
    scheme, snapshot, accounts = tiered
    client.login(username="spec_b", password=PASSWORD)
    body = client.get(f"/tiering/pareto-abc/?snapshot={snapshot.pk}").content.decode()
    assert "页面分级4号公司" in body and "页面分级1号公司" not in body
    charts = _charts(body)
    assert "pareto" not in charts
    assert sum(d["value"] for d in charts["distribution"]) == 2
    assert 'data-testid="compute-form"' not in body
    assert client.post("/tiering/pareto-abc/compute/", {"as_of": "2026-01-31"}).status_code == 404
    assert client.post("/tiering/pareto-abc/what-if/", {"as_of": "2026-01-31"}).status_code == 404
    client.post(f"/tiering/snapshots/{snapshot.pk}/freeze/", {"year": "2026"})
    assert Snapshot.objects.get(pk=snapshot.pk).frozen_year is None
    # and the account card of their own account says why
    card = client.get(f"/accounts/{accounts[3].pk}/").content.decode()
    assert 'data-testid="account-tiers"' in card and "Rank 4 of 5 by revenue" in card


def test_compute_freeze_what_if_and_decide_a_move(org, client, tiered, django_capture_on_commit_callbacks, run_import):
    scheme, snapshot, accounts = tiered
    client.login(username="director", password=PASSWORD)
    client.post(f"/tiering/snapshots/{snapshot.pk}/freeze/", {"year": "2026"})
    assert Snapshot.objects.get(pk=snapshot.pk).frozen_year == 2026

    run_import(org.admin, "revenue", "r2.csv", csv_bytes([["客户编号", "日期", "金额"], ["P5", "2026-02-10", "700"]]))
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/tiering/pareto-abc/compute/", {"as_of": "2026-02-28"})
    fresh = scheme.snapshots.get(as_of=date(2026, 2, 28))
    assert fresh.state == "done"
    body = client.get(f"/tiering/pareto-abc/?snapshot={fresh.pk}").content.decode()
    matrix = _charts(body)["matrix"]
    assert sum(cell[2] for cell in matrix["cells"]) == 5
    assert "页面分级5号公司" in body.split('id="moves"')[1].split("</table>")[0]

    client.post(f"/tiering/snapshots/{fresh.pk}/moves/", {"account": accounts[4].pk, "decision": "approved",
                                                          "reason": "新签大单"})
    assert services.tiers_of(Snapshot.objects.get(pk=snapshot.pk))[accounts[4].pk] == "A"

    response = client.post("/tiering/pareto-abc/what-if/", {"as_of": "2026-02-28", "p:cuts.0": "0.50"})
    html = response.content.decode()
    assert 'data-testid="what-if-result"' in html and "whatif-charts" in html
    bad = client.post("/tiering/pareto-abc/what-if/", {"as_of": "2026-02-28", "p:cuts.0": "abc"}).content.decode()
    assert 'data-testid="what-if-error"' in bad
    assert Scheme.objects.get(pk=scheme.pk).params["cuts"] == ["0.80", "0.95"]


def test_the_account_list_and_its_export_filter_by_tier(org, client, tiered):
    client.login(username="spec_a", password=PASSWORD)
    body = client.get("/accounts/?tier=pareto-abc:A").content.decode()
    assert "页面分级1号公司" in body and "页面分级2号公司" in body and "页面分级3号公司" not in body
    exported = b"".join(client.get("/accounts/export/?tier=pareto-abc:A&format=csv").streaming_content).decode("utf-8-sig")
    assert exported.count("页面分级") == 2
    assert "页面分级4号公司" not in client.get("/accounts/?tier=pareto-abc:B").content.decode()  # not theirs


def test_hq_saves_new_numbers_and_the_old_ones_stay_in_history(org, client, tiered):
    scheme, snapshot, accounts = tiered
    client.login(username="spec_a", password=PASSWORD)
    assert client.post("/tiering/pareto-abc/save/", {"p:cuts.0": "0.70"}).status_code == 404
    client.login(username="director", password=PASSWORD)
    response = client.post("/tiering/pareto-abc/save/", {"p:cuts.0": "0.70"}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/tiering/pareto-abc/"
    scheme.refresh_from_db()
    assert scheme.params["cuts"] == ["0.70", "0.95"]
    assert scheme.history.first().history_user == org.director
    assert Snapshot.objects.get(pk=snapshot.pk).params["cuts"] == ["0.80", "0.95"]
    client.post("/tiering/pareto-abc/save/", {"p:cuts.0": "-1"})
    scheme.refresh_from_db()
    assert scheme.params["cuts"] == ["0.70", "0.95"]


def test_portfolio_grid_counts_the_accounts_each_viewer_sees_per_cell(org, client, tiered):
    scheme = Scheme.objects.get(code="portfolio")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    grid = snapshot.params["grid"]

    def cells(username: str) -> dict[str, tuple[int, str]]:
        client.login(username=username, password=PASSWORD)
        chart = _charts(client.get(f"/tiering/portfolio/?snapshot={snapshot.pk}").content.decode())["grid"]
        assert chart["x"] == ["poor", "fair", "good"] and chart["y"] == ["low", "medium", "high"]
        return {f"{chart['y'][y]}/{chart['x'][x]}": (n, code) for x, y, n, _label, code in chart["cells"]}

    # No contacts: every relationship is poor. Attractiveness by rank among 5: top 20 % high, to 50 % medium.
    everyone = cells("director")
    assert {k: n for k, (n, _c) in everyone.items() if n} == {"high/poor": 1, "medium/poor": 2, "low/poor": 2}
    assert everyone["medium/poor"][1] == grid["medium"]["poor"] and everyone["high/good"][1] == grid["high"]["good"]
    # spec_b owns the 4th and 5th: both low
    assert {k: n for k, (n, _c) in cells("spec_b").items() if n} == {"low/poor": 2}


def test_hq_sees_the_matrix_schemes_as_scatter_not_as_the_pareto_curve(org, client, tiered):
    scheme = Scheme.objects.get(code="bcg")
    snapshot = services.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    client.login(username="director", password=PASSWORD)
    body = client.get(f"/tiering/bcg/?snapshot={snapshot.pk}").content.decode()
    assert 'data-testid="scatter-chart"' in body and 'data-testid="pareto-chart"' not in body
    assert len(_charts(body)["scatter"]["points"]) == 5


def _dead_worker(worker_id: str):
    from django.utils import timezone

    from kam.core.models import WorkerHeartbeat

    now = timezone.now()
    return WorkerHeartbeat.objects.create(worker_id=worker_id, host="elsewhere", pid=4242, started_at=now,
                                          beat_at=now, stopped_at=now, stop_reason="killed (SIGKILL)")


def test_a_snapshot_whose_worker_died_is_shown_interrupted_and_computed_again(
        org, client, tiered, django_capture_on_commit_callbacks):
    scheme, _done, _accounts = tiered
    # given a snapshot a background worker took up and then died computing
    started = services.snapshot_start(actor=org.director, scheme=scheme, as_of=date(2026, 2, 28))
    _dead_worker("elsewhere:4242")
    Snapshot.objects.filter(pk=started.pk).update(worker="elsewhere:4242", progress=40)
    client.login(username="director", password=PASSWORD)
    # when HQ opens the scheme page
    body = client.get("/tiering/pareto-abc/").content.decode()
    # then it is shown interrupted with a button to compute it again, and no progress bar polls for it
    assert 'data-testid="snapshot-interrupted"' in body and 'data-testid="snapshot-resume"' in body
    assert 'hx-trigger="every 2s"' not in body
    # and computing it again finishes it
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/tiering/snapshots/{started.pk}/resume/")
    fresh = Snapshot.objects.get(pk=started.pk)
    assert fresh.state == "done" and fresh.entries.count() == 5 and fresh.worker


def test_a_snapshot_still_computing_cannot_be_started_again(org, client, tiered):
    scheme, _done, _accounts = tiered
    from kam.core import workers

    started = services.snapshot_start(actor=org.director, scheme=scheme, as_of=date(2026, 2, 28))
    Snapshot.objects.filter(pk=started.pk).update(worker=workers.worker_id())  # this very process: alive
    client.login(username="director", password=PASSWORD)
    body = client.get("/tiering/pareto-abc/").content.decode()
    assert 'data-testid="snapshot-interrupted"' not in body and 'hx-trigger="every 2s"' in body
    client.post(f"/tiering/snapshots/{started.pk}/resume/")
    assert Snapshot.objects.get(pk=started.pk).state == "running"
    # nor by a specialist
    _dead_worker("elsewhere:4242")
    Snapshot.objects.filter(pk=started.pk).update(worker="elsewhere:4242")
    client.login(username="spec_a", password=PASSWORD)
    assert client.post(f"/tiering/snapshots/{started.pk}/resume/").status_code == 404


def test_the_tier_list_exports_the_accounts_the_user_sees_with_labels_and_reasons(org, account_factory):
    from io import BytesIO

    from django.test import Client
    from openpyxl import load_workbook

    from kam.revenue.importers import monthly_refresh
    from kam.revenue.models import RevenueFact

    mine = account_factory(owner=org.specialist_a, code="EXP1", name="导出甲公司")
    theirs = account_factory(owner=org.specialist_b, code="EXP2", name="导出乙公司")
    RevenueFact.objects.bulk_create([RevenueFact(account=a, date=date(2026, 3, 1), month=date(2026, 3, 1), amount=n)
                                     for a, n in ((mine, 500), (theirs, 900))])
    monthly_refresh({(mine.pk, date(2026, 3, 1)), (theirs.pk, date(2026, 3, 1))})
    snapshot = services.snapshot_create(actor=org.admin, scheme=Scheme.objects.get(code="pareto-abc"),
                                        as_of=date(2026, 6, 30))
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(org.specialist_a)
    response = client.get(f"/tiering/pareto-abc/export/?snapshot={snapshot.pk}&format=xlsx")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(load_workbook(BytesIO(content)).active.values)
    codes = [r[0] for r in rows[1:]]
    assert codes == ["EXP1"] and rows[1][4] == "A 类（重点客户）" and "排名" in rows[1][7]
    assert client.get(f"/tiering/pareto-abc/export/?snapshot={snapshot.pk}&format=pdf").status_code == 404
    assert client.get("/tiering/pareto-abc/export/?snapshot=999999&format=xlsx").status_code == 404
