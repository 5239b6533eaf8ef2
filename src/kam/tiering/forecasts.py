"""Where the value-potential method reads each account's forecast from. The customer-base
models live above tiering (kam.insight), so insight registers its reader here in its
AppConfig.ready(); without one, no account has a forecast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np

# reader(start, as_of) -> integer rows (account_id, expected value over the horizon in fen) of
# the fits made from data up to a day between `start` and `as_of`.
ForecastReader = Callable[[date, date], np.ndarray]

_reader: list[ForecastReader] = []


def register(reader: ForecastReader) -> None:
    _reader[:] = [reader]


def expected_values(start: date, as_of: date) -> np.ndarray:
    if not _reader:
        return np.empty((0, 2), dtype=np.int64)
    return _reader[0](start, as_of)
