import pytest

from kam.insight.forecast.maths.transactions import Transactions, summarise

from .cdnow import CALIBRATION_END, cdnow_rows


@pytest.fixture(scope="session")
def cdnow():
    return Transactions.from_rows(*cdnow_rows())


@pytest.fixture(scope="session")
def cdnow_summary(cdnow):
    return summarise(cdnow, calibration_end=CALIBRATION_END, period="week")
