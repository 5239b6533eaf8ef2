"""The analytics page and its workbook, through the HTTP layer, on the hand-built history of
test_analytics.py (period 2025-Q2)."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from factories import PASSWORD
from kam.sales.models import Competitor, Rival

from .test_analytics import history  # noqa: F401  (the fixture)


def _client(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def _charts(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="analytics-charts" type="application/json">') + len(
        '<script id="analytics-charts" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


@pytest.fixture
def rival(history):  # noqa: F811
    cloud = Competitor.objects.get(code="huawei_cloud")
    Rival.objects.create(opportunity=history.o1, competitor=cloud, quote=90_000)
    Rival.objects.create(opportunity=history.o2, competitor=cloud, quote=190_000)
    return cloud


def test_page_shows_the_charts_data_and_tables(client, org, history, rival):  # noqa: F811
    response = _client(client, org.manager_a).get(reverse("sales:analytics"), {"period": "2025-Q2"})
    assert response.status_code == 200
    charts = _charts(response)
    # funnel: contact 1, design 2, review 0, tender 1 now; won 1 in Q2 (lost left out of the chart)
    assert [(d["value"], d["amount"]) for d in charts["funnel"]] == [
        (1, 80000.0), (2, 90000.0), (0, 0.0), (1, 300000.0), (1, 100000.0)]
    # conversion: contact 2 of 5 moved on = 40 %, design 1 of 3 = 33.3 %, review 2 of 2, tender 0 of 1
    assert charts["conversion"]["series"][0]["data"] == [40.0, 33.3, 100.0, 0.0]
    assert charts["conversion"]["series"][1]["data"] == [0.0, 33.3, 50.0, 0.0]
    # days: contact 28.5, design 47.7, review 21.0, tender none
    assert charts["days"]["series"][0]["data"] == [28.5, 47.7, 21.0, None]
    # 华为云 on O1 (won) and O2 (lost): 50 %
    assert charts["competitors"] == {"x": [rival.name], "series": [{"name": "Win rate %", "data": [50.0]}]}
    html = response.content.decode()
    for testid in ("funnel-chart", "conversion-chart", "days-chart", "competitor-chart", "quote-table", "states-table",
                   "people-table"):
        assert f'data-testid="{testid}"' in html
    assert "300,000.00" in html and "张三" in html


def test_another_branch_s_page_and_unit_are_closed(client, org, history):  # noqa: F811
    c = _client(client, org.manager_b)
    charts = _charts(c.get(reverse("sales:analytics"), {"period": "2025-Q2"}))
    # only O6: won in Q2, 999,000
    assert [(d["value"], d["amount"]) for d in charts["funnel"]] == [(0, 0.0)] * 4 + [(1, 999000.0)]
    assert c.get(reverse("sales:analytics"), {"unit": org.branch_a.code}).status_code == 404
    assert c.get(reverse("sales:analytics"), {"owner": org.specialist_a.pk}).status_code == 404
    assert c.get(reverse("sales:analytics_export"), {"owner": org.specialist_a.pk}).status_code == 404
    assert c.get(reverse("sales:analytics"), {"owner": "99999999999999999999"}).status_code == 404


def test_unit_filter_and_custom_days(client, org, history):  # noqa: F811
    c = _client(client, org.manager_a)
    response = c.get(reverse("sales:analytics"), {"start": "2025-04-01", "end": "2025-06-30", "unit": org.office_a2.code})
    # office A2 holds only O5, in contact
    assert [d["value"] for d in _charts(response)["funnel"]] == [1, 0, 0, 0, 0]
    assert "2025-04-01 to 2025-06-30" in response.content.decode()
    # a nonsense period falls back to the current quarter instead of failing
    assert c.get(reverse("sales:analytics"), {"period": "2025-Q9", "start": "x"}).status_code == 200


def test_export_holds_the_numbers(client, org, history, rival):  # noqa: F811
    response = _client(client, org.manager_a).get(reverse("sales:analytics_export"), {"period": "2025-Q2"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    assert book.sheetnames == ["Period", "Funnel", "Stage conversion", "Days per stage", "Win rate by competitor",
                               "Quote comparison", "Customer states", "Process metrics"]
    funnel = list(book["Funnel"].iter_rows(values_only=True))
    assert funnel[0] == ("stage", "opportunities", "amount (yuan)")
    assert [(r[1], r[2]) for r in funnel[1:]] == [(1, 80000), (2, 90000), (0, 0), (1, 300000), (1, 100000), (2, 260000)]
    conversion = list(book["Stage conversion"].iter_rows(values_only=True))[1:]
    assert [r[1:] for r in conversion] == [(5, 2, 40.0, 0, 0.0), (3, 1, 33.3, 1, 33.3), (2, 2, 100.0, 1, 50.0),
                                           (1, 0, 0.0, 0, 0.0)]
    days = list(book["Days per stage"].iter_rows(values_only=True))[1:]
    assert [r[1:] for r in days] == [(4, 28.5), (3, 47.67), (2, 21.0), (0, None)]
    quotes = list(book["Quote comparison"].iter_rows(values_only=True))[1:]
    # won: O1 95,000 vs 90,000 → +5,000; lost: O2 210,000 vs 190,000 → +20,000; both dearer
    assert [(r[0], r[1], r[2], r[5], r[6]) for r in quotes if r[1] == "all"] == [("won", "all", 1, 5000, 1),
                                                                                 ("lost", "all", 1, 20000, 1)]
    assert list(book["Win rate by competitor"].iter_rows(values_only=True))[1] == (rival.name, 2, 1, 50.0)
