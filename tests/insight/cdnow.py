"""The CDNOW sample (2,357 customers, January 1997 – June 1998) as shipped with `lifetimes`."""

from __future__ import annotations

from pathlib import Path

import lifetimes
import numpy as np

DATASETS = Path(lifetimes.__file__).parent / "datasets"
CDNOW_SAMPLE = DATASETS / "CDNOW_sample.txt"
PUBLISHED_SUMMARY = DATASETS / "cdnow_customers_summary_with_transactions.csv"
CALIBRATION_END = "1997-09-30"  # 39 weeks from 1997-01-01
HOLDOUT_END = "1998-06-30"  # 78 weeks


def significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def cdnow_rows():
    """(customer, day, amount) per line; the file has customer id, its index, YYYYMMDD, CDs, dollars."""
    raw = np.loadtxt(CDNOW_SAMPLE, dtype=str)
    compact = raw[:, 2]
    days = (np.strings.slice(compact, 0, 4) + "-" + np.strings.slice(compact, 4, 6) + "-"
            + np.strings.slice(compact, 6, 8)).astype("datetime64[D]")
    return raw[:, 1].astype(int), days, raw[:, 4].astype(float)
