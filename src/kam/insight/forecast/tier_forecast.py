"""The customer-base model's expected values, for the value-potential tiering method
(registered with kam.tiering.forecasts from InsightConfig.ready())."""

from __future__ import annotations

from datetime import date

import numpy as np

from kam.core.arrays import integer_rows
from kam.insight.models import AccountScore
from kam.tiering import forecasts
from kam.tiering.services import fen_column


def expected_value_rows(start: date, as_of: date) -> np.ndarray:
    scores = (AccountScore.objects.filter(fit__calibration_end__gte=start, fit__calibration_end__lte=as_of,
                                          expected_value__isnull=False)
              .annotate(fen=fen_column("expected_value"))
              .values_list("account_id", "fen"))
    return integer_rows(scores, 2)


forecasts.register(expected_value_rows)
