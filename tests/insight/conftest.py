"""The CDNOW sample (2,357 customers, January 1997 – June 1998) as shipped with `lifetimes`."""

from __future__ import annotations

from pathlib import Path

import lifetimes
import numpy as np
import pytest

from kam.insight.transactions import Transactions, summarise

CDNOW_SAMPLE = Path(lifetimes.__file__).parent / "datasets" / "CDNOW_sample.txt"
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01
HOLDOUT_END = "1998-06-30"  # 78 weeks


def significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


@pytest.fixture(scope="session")
def cdnow_rows():
    """(customer, day, amount) per line: the file has customer id, its index, YYYYMMDD, CDs, dollars."""
    raw = np.loadtxt(CDNOW_SAMPLE, dtype=str)
    compact = raw[:, 2]
    days = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in compact], dtype="datetime64[D]")
    return raw[:, 1].astype(int), days, raw[:, 4].astype(float)


@pytest.fixture(scope="session")
def cdnow(cdnow_rows):
    return Transactions.from_rows(*cdnow_rows)


@pytest.fixture(scope="session")
def cdnow_summary(cdnow):
    return summarise(cdnow, calibration_end=CALIBRATION_END, period="week")
