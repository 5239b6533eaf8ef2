"""The lead list's filter, declared once for the page, its export and the API."""

from __future__ import annotations

from ninja import Field

from kam.core.filters import FlagParam, IdParam, Label, ListFilter
from kam.sales.models import LeadStatus


class LeadFilter(ListFilter):
    q: str = Field(default="", max_length=100, description="company, contact or phone",
                   json_schema_extra={"label": Label("Search"),
                                      "placeholder": Label("Company, contact or phone")})
    status: LeadStatus | None = Field(default=None, json_schema_extra={"label": Label("status")})
    source: IdParam | None = Field(default=None, json_schema_extra={"label": Label("source"), "widget": "select"})
    assignee: IdParam | None = Field(default=None, description="the assignee's user id",
                                     json_schema_extra={"label": Label("assignee"), "widget": "autocomplete",
                                                        "url": "users_autocomplete"})
    unassigned: FlagParam = Field(default=False, description="only leads nobody is assigned to",
                                  json_schema_extra={"label": Label("unassigned only")})
    overdue: FlagParam = Field(default=False, description="open leads past their follow-up deadline without a follow-up",
                               json_schema_extra={"label": Label("follow-up overdue")})
