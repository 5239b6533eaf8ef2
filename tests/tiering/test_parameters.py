"""Each method's parameters follow its rules, checked on save with messages naming the field;
nothing is written when they do not."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from kam.core.errors import ValidationFailed
from kam.tiering import services
from kam.tiering.defaults import SCHEMES
from kam.tiering.models import Scheme
from kam.tiering.params import parameter_errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s["code"])
def test_the_default_parameters_of_every_scheme_are_sound(scheme):
    assert parameter_errors(scheme["method"], scheme["params"]) == {}


def _with(code: str, change) -> tuple[str, dict]:
    scheme = next(s for s in SCHEMES if s["code"] == code)
    params = copy.deepcopy(scheme["params"])
    change(params)
    return scheme["method"], params


@pytest.mark.parametrize("code, change, path", [
    ("pareto-abc", lambda p: p.update(cuts=["0.95", "0.80"]), "cuts.1"),          # descending
    ("pareto-abc", lambda p: p.update(cuts=["0.80", "1.5"]), "cuts.1"),           # above 1
    ("pareto-abc", lambda p: p.update(cuts=["0", "0.95"]), "cuts.0"),             # not above 0
    ("pareto-abc", lambda p: p.update(cuts=["0.8"]), "cuts"),                     # one short of the tiers
    ("pareto-abc", lambda p: p.update(cuts=["abc", "0.95"]), "cuts.0"),
    ("monthly-spend", lambda p: p["bands"][1].update(min="-5"), "bands.1.min"),
    ("monthly-spend", lambda p: p["bands"][1].update(min=p["bands"][0]["min"]), "bands"),
    ("value-potential", lambda p: p.update(core_share="0.60"), "core_share"),    # above medium_share
    ("bcg", lambda p: p.update(value_share="1.2"), "value_share"),
    ("bcg", lambda p: p.update(tiers=["star", "cow", "dog"]), "tiers"),
    ("portfolio", lambda p: p.update(relationship_cuts=["0.40", "0.70"]), "relationship_cuts.1"),
    ("portfolio", lambda p: p["grid"]["low"].pop("good"), "grid.low.good"),
    ("scorecard", lambda p: p["weights"].update(value="-1"), "weights.value"),
    ("scorecard", lambda p: p["weights"].update(luck="0.5"), "weights.luck"),
    ("scorecard", lambda p: p.update(weights={k: "0" for k in p["weights"]}), "weights"),
    ("scorecard", lambda p: p["cutoffs"][0].update(min=120), "cutoffs.0.min"),
])
def test_a_broken_rule_names_its_field(code, change, path):
    method, params = _with(code, change)
    assert path in parameter_errors(method, params)


def test_saving_bad_parameters_writes_nothing_and_says_which_field(org):
    scheme = Scheme.objects.get(code="pareto-abc")
    before = copy.deepcopy(scheme.params)
    with pytest.raises(ValidationFailed) as refused:
        services.scheme_update(actor=org.director, scheme=scheme, params={**scheme.params, "cuts": ["0.95", "0.80"]})
    assert "\n" not in refused.value.message and "cumulative share cut · 2" in refused.value.message
    assert "cuts.1" in refused.value.errors
    assert Scheme.objects.get(pk=scheme.pk).params == before
    # nor can a what-if try them
    with pytest.raises(ValidationFailed):
        services.what_if(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31), params={**scheme.params, "cuts": ["0.8", "1.5"]})


def test_the_scheme_page_shows_the_error_beside_the_number(org, client):
    from factories import PASSWORD

    client.login(username="director", password=PASSWORD)
    response = client.post("/tiering/pareto-abc/what-if/", {"as_of": "2026-01-31", "p:cuts.0": "0.95",
                                                             "p:cuts.1": "0.80"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 422)
    assert "cumulative share cut · 2: Must be greater than the one before." in response.content.decode()
