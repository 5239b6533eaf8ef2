"""The score list's filter (the models page and the API)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from kam.core.filters import Label, ListFilter

Yuan = Annotated[Decimal, Field(max_digits=16, decimal_places=2)]

# How each `order` sorts the list.
# Ties broken by the account's id (the score's key), so that each order is an index's
# (AccountScore's Meta) and a page is read in it rather than sorted from every score.
SCORE_ORDERS = {
    "value": ("-expected_value", "account_id"),
    "p_alive": ("p_alive", "account_id"),
    "clv": ("-clv", "account_id"),
}


class ScoreFilter(ListFilter):
    p_alive_below: float | None = Field(default=None, ge=0, le=1, description="only P(alive) strictly below this",
                                        json_schema_extra={"label": Label("P(alive) below")})
    min_value: Yuan | None = Field(default=None, ge=0, description="only an expected value of at least this (yuan)",
                                   json_schema_extra={"label": Label("expected value at least (yuan)")})
    order: Literal["value", "p_alive", "clv"] = Field(
        default="value", description="value: expected value, highest first; p_alive: lowest first; clv: highest first",
        json_schema_extra={"label": Label("order by")})
