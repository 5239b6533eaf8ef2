"""The opportunity list's filter, declared once for the list, its export, the board, the
pipeline and the API."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field
from pydantic import BeforeValidator

from kam.core.filters import IdParam, Label, ListFilter
from kam.sales.models import Stage


def _iso_date(value: Any) -> Any:
    # A date comes as ISO 8601 text only: a bare number is refused, not read as a Unix time.
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise ValueError("must be ISO 8601 text")
    return value


DateParam = Annotated[dt.date, BeforeValidator(_iso_date)]
AmountParam = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2)]


class OpportunityFilter(ListFilter):
    q: str = Field(default="", max_length=100, description="project name, or account name / pinyin / code",
                   json_schema_extra={"label": Label("Search"), "placeholder": Label("Project or account")})
    stage: Stage | None = Field(default=None, json_schema_extra={"label": Label("stage")})
    owner: IdParam | None = Field(default=None, description="the owner's user id",
                                  json_schema_extra={"label": Label("owner"), "widget": "autocomplete",
                                                     "url": "users_autocomplete"})
    unit: IdParam | None = Field(default=None, description="the account's org unit and the units under it",
                                 json_schema_extra={"label": Label("org unit"), "widget": "select"})
    account: IdParam | None = Field(default=None, json_schema_extra={"label": Label("account"), "widget": "autocomplete",
                                                             "url": "accounts:autocomplete"})
    close_from: DateParam | None = Field(default=None, description="expected close on or after",
                                         json_schema_extra={"label": Label("expected close from"),
                                                            "widget": "date"})
    close_to: DateParam | None = Field(default=None, description="expected close on or before",
                                       json_schema_extra={"label": Label("expected close to"), "widget": "date"})
    amount_min: AmountParam | None = Field(default=None, json_schema_extra={"label": Label("amount from")})
    amount_max: AmountParam | None = Field(default=None, json_schema_extra={"label": Label("amount to")})
