"""The churn events list's filter, declared once for the churn page, its export and the API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kam.core.filters import CountParam, IdParam, IsoDate, Label, ListFilter


class ChurnEventFilter(ListFilter):
    definition: IdParam | None = Field(default=None, json_schema_extra={"label": Label("churn definition"),
                                                                "widget": "select"})
    reason: CountParam | None = Field(default=None, description="a churn reason's id; 0 for the unclassified events",
                                      json_schema_extra={"label": Label("reason"), "widget": "select"})
    unit: IdParam | None = Field(default=None, description="the account's org unit and the units under it",
                                 json_schema_extra={"label": Label("org unit"), "widget": "select"})
    industry: IdParam | None = Field(default=None, json_schema_extra={"label": Label("industry"), "widget": "select"})
    account: IdParam | None = Field(default=None, json_schema_extra={"label": Label("account")})
    detected_from: IsoDate | None = Field(default=None, description="detected on or after",
                                          json_schema_extra={"label": Label("detected from"), "widget": "date"})
    detected_to: IsoDate | None = Field(default=None, description="detected on or before",
                                        json_schema_extra={"label": Label("detected to"), "widget": "date"})
    state: Literal["", "open", "recovered"] = Field(default="", description="open: not recovered",
                                                    json_schema_extra={"label": Label("state")})

    hidden_fields = frozenset({"account"})
