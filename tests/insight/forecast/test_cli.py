import json
import subprocess
import sys

import pytest

from kam.cli import main

from ..cdnow import cdnow_rows, significant


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory):
    """The CDNOW sample written as customer,date,amount."""
    customer, day, amount = cdnow_rows()
    path = tmp_path_factory.mktemp("insight") / "cdnow.csv"
    lines = [f"{c},{d},{a}" for c, d, a in zip(customer.tolist(), day.astype(str).tolist(), amount.tolist(), strict=True)]
    path.write_text("customer,date,amount\n" + "\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(("model", "published"), [
    ("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    ("paretonbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    ("gammagamma", {"p": 6.25, "q": 3.74, "gamma": 15.44}),
])
def test_fit_prints_the_parameters_and_log_likelihood_as_json(cdnow_csv, capsys, model, published):
    code = main(["insight", "fit", "--model", model, "--transactions", str(cdnow_csv),
                 "--calibration-end", "1997-09-30", "--period", "week", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["model"] == model and result["converged"] is True
    assert result["customers"] == (946 if model == "gammagamma" else 2357)
    assert {name: significant(value) for name, value in result["parameters"].items()} == {
        name: significant(value) for name, value in published.items()}
    assert result["log_likelihood"] < 0


def test_fit_prints_a_readable_line_without_json(cdnow_csv, capsys):
    assert main(["insight", "fit", "--transactions", str(cdnow_csv), "--calibration-end", "1997-09-30"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("bgnbd on 2357 customers to 1997-09-30 (per week): r = 0.2426, alpha = 4.414")
    assert "log-likelihood -9582.4" in out


def test_a_bad_file_is_refused_naming_the_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("customer,date,amount\nA,2024-01-01,10\nA,2024-02-30,5\n")
    code = main(["insight", "fit", "--transactions", str(path), "--calibration-end", "2024-06-30", "--json"])
    err = capsys.readouterr().err
    assert code == 2
    assert "line 3, column date: '2024-02-30' is not a date" in err
    assert "Traceback" not in err


def test_bad_arguments_are_refused(tmp_path, capsys):
    path = tmp_path / "ok.csv"
    path.write_text("customer,date,amount\nA,2024-01-01,10\n")
    assert main(["insight", "fit", "--transactions", str(path), "--calibration-end", "30/06/2024"]) == 2
    assert "--calibration-end must be a date" in capsys.readouterr().err
    assert main(["insight", "fit", "--transactions", str(tmp_path / "missing.csv"),
                 "--calibration-end", "2024-06-30"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["insight", "fit", "--model", "gammagamma", "--transactions", str(path),
                 "--calibration-end", "2024-06-30"]) == 2
    assert "no repeat customers" in capsys.readouterr().err


def test_the_file_mode_needs_no_database(cdnow_csv):
    # a fresh interpreter: the command must not set up Django or touch a database
    script = ("import sys; from kam.cli import main; "
              f"code = main(['insight', 'fit', '--transactions', {str(cdnow_csv)!r}, "
              "'--calibration-end', '1997-09-30', '--json']); "
              "assert 'django.db' not in sys.modules, 'django.db was imported'; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={"PATH": "", "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"})
    assert done.returncode == 0, done.stderr
    assert significant(json.loads(done.stdout)["parameters"]["r"]) == 0.243
