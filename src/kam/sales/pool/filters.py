"""The public pool list's filter, declared once for the page, its export and the API."""

from __future__ import annotations

from ninja import Field

from kam.core.filters import FlagParam, IdParam, Label, ListFilter


class PoolFilter(ListFilter):
    q: str = Field(default="", max_length=200, description="name, pinyin initials, code or USCC",
                   json_schema_extra={"label": Label("Search"),
                                      "placeholder": Label("Name, pinyin initials, code or USCC")})
    industry: IdParam | None = Field(default=None, json_schema_extra={"label": Label("industry"), "widget": "select"})
    region: IdParam | None = Field(default=None, json_schema_extra={"label": Label("region"), "widget": "select"})
    unit: IdParam | None = Field(default=None, description="the account's org unit and the units under it",
                                 json_schema_extra={"label": Label("org unit"), "widget": "select"})
    mine: FlagParam = Field(default=False, description="only accounts that were yours before they came to the pool",
                            json_schema_extra={"label": Label("formerly mine")})
