"""The forecast API: fits, scores with filters and paging, one account's forecast; scoping and
bad input, through the HTTP layer."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from kam.core.services import api_token_issue

from ..scoring_data import quick_accounts, store_scores

pytestmark = pytest.mark.django_db


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def scored(org):
    a, a2 = quick_accounts([org.specialist_a, org.specialist_a], "PA")
    (b,) = quick_accounts([org.specialist_b], "PB")
    old = store_scores({}, calibration_end=date(2026, 5, 31), scored_accounts=0)
    fit = store_scores({
        a: {"p_alive": 0.85, "p_alive_before": 0.9, "expected_value": Decimal("123456.78")},
        a2: {"p_alive": 0.25, "expected_value": Decimal("500.00")},
        b: {"p_alive": 0.2, "expected_value": Decimal("999999.00")},
    })
    return a, a2, b, fit, old


def test_the_fits_latest_first_with_the_current_one_marked(org, scored):
    *_accounts, fit, old = scored
    body = api(org.specialist_b).get("/api/forecast/fits").json()
    assert [f["id"] for f in body["items"]] == [fit.pk, old.pk] and body["count"] == 2
    first = body["items"][0]
    assert first["current"] is True and body["items"][1]["current"] is False
    assert first["parameters"] == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert first["spend_parameters"] == {"p": 6.25, "q": 3.74, "gamma": 15.44} and first["spend_used"] is True
    assert (first["window_start"], first["calibration_end"], first["log_likelihood"]) == ("2023-07-01", "2026-06-30",
                                                                                         -9582.4)
    assert api(org.specialist_b).get(f"/api/forecast/fits/{old.pk}").json()["calibration_end"] == "2026-05-31"
    assert api(org.specialist_b).get("/api/forecast/fits/999999").status_code == 404
    assert api(org.specialist_b).get("/api/forecast/fits/0").status_code == 422


def test_scores_are_scoped_filtered_and_paged(org, scored):
    a, a2, b, fit, _old = scored
    mine = api(org.specialist_a).get("/api/forecast/scores").json()
    assert [s["account"]["id"] for s in mine["items"]] == [a.pk, a2.pk] and mine["count"] == 2
    assert mine["items"][0]["expected_value"] == "123456.78" and mine["items"][0]["p_alive_before"] == 0.9
    assert mine["items"][0]["fit"] == fit.pk
    theirs = api(org.specialist_b).get("/api/forecast/scores").json()
    assert [s["account"]["id"] for s in theirs["items"]] == [b.pk]
    everyone = api(org.director)
    assert [s["account"]["id"] for s in everyone.get("/api/forecast/scores", {"p_alive_below": 0.25}).json()["items"]] \
        == [b.pk]  # strictly below: 0.25 itself is not
    assert [s["account"]["id"] for s in everyone.get("/api/forecast/scores",
                                                     {"min_value": "500", "order": "p_alive"}).json()["items"]] \
        == [b.pk, a2.pk, a.pk]
    paged = everyone.get("/api/forecast/scores", {"page": 2, "page_size": 2}).json()
    assert [s["account"]["id"] for s in paged["items"]] == [a2.pk] and paged["count"] == 3


def test_bad_filters_are_refused_with_422(org, scored):
    client = api(org.director)
    for params in ({"p_alive_below": 2}, {"min_value": "-1"}, {"order": "name"}, {"page_size": -1},
                   {"min_value": "1.234"}):
        response = client.get("/api/forecast/scores", params)
        assert response.status_code == 422, params


def test_an_accounts_forecast_is_there_only_for_those_who_may_see_it(org, scored):
    a, _a2, b, _fit, _old = scored
    body = api(org.specialist_a).get(f"/api/accounts/{a.pk}/forecast").json()
    assert (body["account"]["id"], body["code"], body["p_alive"], body["expected_value"]) == (a.pk, a.code, 0.85,
                                                                                             "123456.78")
    assert api(org.specialist_a).get(f"/api/accounts/{b.pk}/forecast").status_code == 404
    assert api(org.specialist_b).get(f"/api/accounts/{a.pk}/forecast").status_code == 404
    (unscored,) = quick_accounts([org.specialist_a], "PX")
    assert api(org.specialist_a).get(f"/api/accounts/{unscored.pk}/forecast").status_code == 404
    assert api(org.specialist_a).get("/api/accounts/0/forecast").status_code == 422
    assert Client().get(f"/api/accounts/{a.pk}/forecast").status_code == 401
