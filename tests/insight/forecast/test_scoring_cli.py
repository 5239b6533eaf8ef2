"""`kam insight fit --from-db`: the fit on the revenue facts from the command line."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kam.cli import main
from kam.insight.models import AccountScore, ModelFit

from ..scoring_data import add_facts, quick_accounts, random_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def base(org):
    accounts = quick_accounts([org.specialist_a] * 30, "C")
    add_facts(random_history(accounts, start=date(2024, 1, 1), end=date(2026, 6, 30), seed=11))
    return accounts


def test_from_db_stores_the_fit_scores_the_accounts_and_prints_json(base, capsys):
    code = main(["insight", "fit", "--from-db", "--calibration-end", "2026-06-30", "--period", "month",
                 "--model", "paretonbd", "--json"])
    out = json.loads(capsys.readouterr().out)
    fit = ModelFit.objects.get()
    assert code == 0
    assert out["fit"] == fit.pk and out["model"] == "paretonbd" and out["period"] == "month"
    assert (out["window_start"], out["calibration_end"]) == ("2023-07-01", "2026-06-30")
    assert set(out["parameters"]) == {"r", "alpha", "s", "beta"} and out["parameters"] == fit.count_params
    assert out["log_likelihood"] == fit.count_log_likelihood < 0
    assert set(out["spend_parameters"]) == {"p", "q", "gamma"}
    assert out["customers"] == out["scored"] == 30 == AccountScore.objects.count()


def test_from_db_defaults_to_the_settings_and_prints_a_readable_line(base, capsys, settings):
    settings.KAM = {**settings.KAM, "INSIGHT_PERIOD": "month"}
    assert main(["insight", "fit", "--from-db", "--calibration-end", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    fit = ModelFit.objects.get()
    assert (fit.count_model, fit.period) == ("bgnbd", "month")
    assert out.startswith("bgnbd on 30 accounts from 2023-07-01 to 2026-06-30 (per month): r = ")
    assert f"log-likelihood {fit.count_log_likelihood:.1f}" in out and "30 accounts scored" in out


def test_from_db_refuses_a_bad_date_too_little_revenue_and_the_spend_model(org, capsys):
    assert main(["insight", "fit", "--from-db", "--calibration-end", "2026-13-01"]) == 2
    assert capsys.readouterr().err.strip() == ("kam insight: --calibration-end must be a date such as 1997-09-30, "
                                               "not '2026-13-01'")
    assert main(["insight", "fit", "--from-db", "--calibration-end", "2026-06-30", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kam insight: Too little revenue to fit a model on: 0 accounts bought between "
                          "2023-07-01 and 2026-06-30") and err.count("\n") == 1
    assert main(["insight", "fit", "--from-db", "--model", "gammagamma"]) == 2
    assert "--model takes bgnbd or paretonbd" in capsys.readouterr().err
    assert not ModelFit.objects.exists()


def test_a_file_still_needs_its_calibration_end(tmp_path, capsys):
    path = tmp_path / "ok.csv"
    path.write_text("customer,date,amount\nA,2024-01-01,10\n")
    assert main(["insight", "fit", "--transactions", str(path)]) == 2
    assert "--transactions needs --calibration-end" in capsys.readouterr().err
