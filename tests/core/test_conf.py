"""The KAM settings are typed and checked once: a bad value stops a command with one line
naming the variable and the rule, before anything is written."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

import pytest

from kam.core.conf import ConfigError, config


def test_text_settings_arrive_parsed(settings):
    settings.KAM = {**settings.KAM, "OPPORTUNITY_STAGE_PROBABILITIES": "contact:5, design:20",
                    "CADENCE_VISIT_KINDS": "visit, meeting", "STAFFING_HOURS_PER_CALL": "0.5",
                    "NIGHTLY_AT": "03:30", "HEALTH_BANDS": "80,50", "PAGE_SIZE": "40"}
    kam = config()
    assert kam.OPPORTUNITY_STAGE_PROBABILITIES == {"contact": 5, "design": 20}
    assert kam.CADENCE_VISIT_KINDS == ("visit", "meeting")
    assert kam.STAFFING_HOURS_PER_CALL == Decimal("0.5")
    assert kam.NIGHTLY_AT == dt.time(3, 30)
    assert kam.HEALTH_BANDS == (80, 50)
    assert kam.PAGE_SIZE == 40


def test_a_replaced_setting_is_read_again(settings):
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 7}
    assert config().PAGE_SIZE == 7
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 9}
    assert config().PAGE_SIZE == 9


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("PAGE_SIZE", "abc", "valid integer"),
    ("PAGE_SIZE", "0", "greater than or equal to 1"),
    ("OPPORTUNITY_STAGE_PROBABILITIES", "contact:10,design", '"key:number" pairs'),
    ("OPPORTUNITY_STAGE_PROBABILITIES", "contact:150", "less than or equal to 100"),
    ("HEALTH_BANDS", "40,70", "green first"),
    ("INSIGHT_COUNT_MODEL", "gamma", "pattern"),
    ("NIGHTLY_AT", "25:00", "valid time"),
])
def test_a_bad_value_names_the_variable_and_the_rule(settings, key, value, rule):
    settings.KAM = {**settings.KAM, key: value}
    with pytest.raises(ConfigError) as caught:
        config()
    message = str(caught.value)
    assert message.startswith(f"KAM_{key}: ")
    assert rule in message
    assert "\n" not in message


def test_an_unknown_setting_is_refused(settings):
    settings.KAM = {**settings.KAM, "PAGE_SIZ": 10}
    with pytest.raises(ConfigError, match="^KAM_PAGE_SIZ: not a KAM setting$"):
        config()


def test_kam_migrate_stops_on_a_bad_environment_value_before_writing(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(KAM_HOME=str(tmp_path), KAM_PAGE_SIZE="lots")
    done = subprocess.run([sys.executable, "-m", "kam.cli", "migrate", "--no-input"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == ["kam: KAM_PAGE_SIZE: Input should be a valid integer, unable to parse string as an integer "
                     "(got 'lots')"]
    assert not list(tmp_path.glob("*.sqlite3")), "nothing may be written"
