"""Kept for InsightConfig.ready(), which imports it: the reader lives in kam.insight.forecast.tier_forecast."""

from kam.insight.forecast import tier_forecast  # noqa: F401
