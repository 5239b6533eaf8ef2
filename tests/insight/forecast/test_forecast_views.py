"""The forecast pages: the account page's card, the models page with its fits, charts, list,
filters and export, the refit button; and that one branch never sees another's scores."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from kam.insight.models import ModelFit

from ..scoring_data import add_facts, quick_accounts, random_history, store_scores

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.fixture
def accounts(org):
    a, a2 = quick_accounts([org.specialist_a, org.specialist_a], "FA")
    (b,) = quick_accounts([org.specialist_b], "FB")
    return a, a2, b


@pytest.fixture
def scored(accounts):
    a, a2, b = accounts
    fit = store_scores({
        a: {"p_alive": 0.85, "p_alive_before": 0.9, "expected_purchases": 6.4, "expected_value": Decimal("123456.78"),
            "clv": Decimal("300000.00"), "frequency": 12, "recency": 30.0, "age": 40.0},
        b: {"p_alive": 0.2, "expected_value": Decimal("999999.00")},
    })
    return fit


def test_the_account_card_shows_the_forecast_and_the_fit(org, accounts, scored):
    a, _a2, _b = accounts
    response = client_for(org.specialist_a).get(f"/insight/accounts/{a.pk}/forecast/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-band="green"' in html and ">85%<" in html and "previous fit 0.90" in html
    assert "123,456.78" in html and "300,000.00" in html and ">6.4<" in html
    assert "12 repeat purchases" in html and "first 40.0 weeks before the end of the data, last 10.0 weeks before it" in html
    # a specialist reads plain words; the model's name and workings are for analysts and HQ
    assert "BG/NBD" not in html and "Forecast from the account's purchases between 2023-07-01 and 2026-06-30" in html
    assert "Probability still active" in html
    assert 'href="/insight/models/"' in html
    hq = client_for(org.director).get(f"/insight/accounts/{a.pk}/forecast/").content.decode()
    assert "BG/NBD fitted on the revenue from 2023-07-01 to 2026-06-30" in hq


@pytest.mark.parametrize(("p_alive", "band"), [(0.29, "red"), (0.3, "yellow"), (0.649, "yellow"), (0.65, "green")])
def test_the_badge_colour_follows_the_warning_threshold(org, accounts, p_alive, band):
    a, _a2, _b = accounts
    store_scores({a: {"p_alive": p_alive}})
    html = client_for(org.specialist_a).get(f"/insight/accounts/{a.pk}/forecast/").content.decode()
    assert f'data-band="{band}"' in html


def test_an_account_without_a_score_says_why(org, accounts):
    a, a2, _b = accounts
    html = client_for(org.specialist_a).get(f"/insight/accounts/{a2.pk}/forecast/").content.decode()
    assert "No forecast: no customer-base model has been fitted yet." in html
    store_scores({a: {}})
    html = client_for(org.specialist_a).get(f"/insight/accounts/{a2.pk}/forecast/").content.decode()
    assert "No forecast: the account has no purchase between 2023-07-01 and 2026-06-30" in html


def test_another_branchs_account_card_is_not_found(org, accounts, scored):
    _a, _a2, b = accounts
    assert client_for(org.specialist_a).get(f"/insight/accounts/{b.pk}/forecast/").status_code == 404
    assert client_for(org.specialist_b).get(f"/insight/accounts/{b.pk}/forecast/").status_code == 200


def test_the_models_page_lists_the_fit_and_only_the_visible_scores(org, accounts, scored):
    a, _a2, b = accounts
    response = client_for(org.specialist_b).get("/insight/models/")
    html = response.content.decode()
    assert response.status_code == 200
    # a specialist sees the forecasts in plain words, no parameters or log-likelihoods
    assert f'data-testid="fit-{scored.pk}"' not in html and "r = 0.243" not in html and "-9582.4" not in html
    assert 'data-testid="forecast-plain"' in html and "Probability still active" in html
    analyst = client_for(org.analyst_hq).get("/insight/models/").content.decode()
    assert f'data-testid="fit-{scored.pk}"' in analyst and "r = 0.243, α = 4.414, a = 0.793, b = 2.426" in analyst
    assert "-9582.4" in analyst and "p = 6.25, q = 3.74, γ = 15.44" in analyst
    assert f"score-row-{b.pk}" in html and f"score-row-{a.pk}" not in html
    charts = json.loads(html.split('id="forecast-charts" type="application/json">')[1].split("</script>")[0])
    assert charts["histogram"]["series"][0]["data"] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert charts["top"] == [{"name": b.name, "value": 999999.0}]
    assert 'data-testid="refit"' not in html


def test_the_list_filters_and_refuses_bad_numbers(org, accounts, scored):
    a, _a2, b = accounts
    client = client_for(org.director)
    html = client.get("/insight/models/", {"p_alive_below": "0.5"}, HTTP_HX_REQUEST="true").content.decode()
    assert f"score-row-{b.pk}" in html and f"score-row-{a.pk}" not in html and "<html" not in html
    html = client.get("/insight/models/", {"min_value": "999999.01"}).content.decode()
    assert "No scored account matches." in html
    html = client.get("/insight/models/", {"min_value": "999999", "order": "p_alive"}).content.decode()
    assert f"score-row-{b.pk}" in html and f"score-row-{a.pk}" not in html
    response = client.get("/insight/models/", {"p_alive_below": "2"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "P(alive) below: Ensure this value is less than or equal to 1." in html
    assert f"score-row-{a.pk}" in html and f"score-row-{b.pk}" in html  # the bad filter is not applied


def test_the_export_holds_only_the_visible_scores(org, accounts, scored):
    a, _a2, b = accounts
    response = client_for(org.specialist_a).get("/insight/models/export/", {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response.status_code == 200
    assert a.code in body and b.code not in body and "123456.78" in body
    assert client_for(org.specialist_a).get("/insight/models/export/", {"format": "pdf"}).status_code == 404


def test_headquarters_refit_now_and_refusals_are_messages(org):
    accounts = quick_accounts([org.specialist_a] * 25, "RF")
    specialist = client_for(org.specialist_a)
    response = specialist.post("/insight/models/refit/", follow=True)
    assert "Only headquarters refit the customer-base models." in response.content.decode()
    analyst = client_for(org.analyst_hq)
    assert 'data-testid="refit"' in analyst.get("/insight/models/").content.decode()
    response = analyst.post("/insight/models/refit/", follow=True)
    assert "Too little revenue to fit a model on: 0 accounts bought" in response.content.decode()
    assert not ModelFit.objects.exists()
    add_facts(random_history(accounts, start=date(2024, 1, 1), end=date(2026, 6, 30), seed=3))
    response = analyst.post("/insight/models/refit/", follow=True)
    fit = ModelFit.objects.get()
    assert f"Fitted on 25 accounts up to {fit.calibration_end}; 25 accounts scored." in response.content.decode()
    assert fit.created_by == org.analyst_hq


def test_the_list_is_a_handful_of_queries_whatever_its_length(org, django_assert_max_num_queries):
    accounts = quick_accounts([org.specialist_a] * 30, "QC")
    store_scores({account: {"p_alive": n / 30} for n, account in enumerate(accounts)})
    client = client_for(org.director)
    client.get("/insight/models/", HTTP_HX_REQUEST="true")  # the first read after a scoring rebuilds the histogram's model
    with django_assert_max_num_queries(8):
        html = client.get("/insight/models/", HTTP_HX_REQUEST="true").content.decode()
    assert html.count('data-testid="score-row-') == 25  # PAGE_SIZE


def test_the_histogram_counts_each_score_in_the_tenth_its_figure_reads(org):
    from kam.insight.forecast.selectors import p_alive_histogram
    from kam.insight.models import AccountScore

    # 0.3 counts in 0.3–0.4 as it reads (the float just under 3/10 would fall in 0.2–0.3); 1.0 in the last
    values = [0.0, 0.05, 0.1, 0.3, 0.7, 0.29999, 0.7000001, 0.95, 0.9999, 1.0]
    owners = [org.specialist_a] * len(values)
    store_scores({account: {"p_alive": p} for account, p in zip(quick_accounts(owners, "H"), values, strict=True)})
    counted = p_alive_histogram(AccountScore.objects.all())
    assert counted == [2, 1, 1, 1, 0, 0, 0, 2, 0, 3]
    assert sum(counted) == len(values)  # the page's count of visible scores is this sum


def test_the_lists_count_is_the_visible_scores_whole_or_filtered(org):
    import re

    # given 30 scored accounts of specialist A and 12 of B, a third of each below P(alive) 0.3
    mine = quick_accounts([org.specialist_a] * 30, "CA")
    theirs = quick_accounts([org.specialist_b] * 12, "CB")
    store_scores({a: {"p_alive": 0.1 if n % 3 == 0 else 0.8} for n, a in enumerate(mine + theirs)})

    def counted(user, query: str = "") -> int:
        page = client_for(user).get(f"/insight/models/{query}").content.decode()
        return int(re.search(r'<h3 class="card-title">\s*(\d+)', page).group(1))

    # then each list counts the scores its user sees, the whole list (from the histogram's model)
    # and a filtered one (counted)
    assert [counted(u) for u in (org.director, org.manager_a, org.specialist_a, org.specialist_b)] == [42, 30, 30, 12]
    assert [counted(u, "?p_alive_below=0.3") for u in (org.director, org.specialist_a, org.specialist_b)] == [14, 10, 4]
