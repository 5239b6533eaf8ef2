"""The account health score: parts, weights, the monthly sweep and the satisfaction surveys.

`band` and `with_health` are what the account list and card show (the accounts app reads them
through the registry insight fills); they are importable from here as before."""

from kam.insight.health.selectors import with_health
from kam.insight.health.services import band

__all__ = ["band", "with_health"]
