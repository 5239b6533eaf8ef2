"""The account list's filter, declared once for the page, its export and the API."""

from __future__ import annotations

from ninja import Field

from kam.accounts.models import Channel, LifecycleStatus
from kam.core.filters import FlagParam, IdParam, Label, ListFilter

ACCOUNT_SORTS = {
    "name": "name",
    "-name": "-name",
    "code": "code",
    "-code": "-code",
    "updated": "updated_at",
    "-updated": "-updated_at",
    "created": "created_at",
    "-created": "-created_at",
}
DEFAULT_ACCOUNT_SORT = "-updated"


class AccountFilter(ListFilter):
    # The sort is set by the column headers, not in the filter bar.
    hidden_fields = frozenset({"sort"})

    q: str = Field(default="", max_length=200, description="name, short name, code, USCC, pinyin or pinyin initials",
                   json_schema_extra={"label": Label("Search"),
                                      "placeholder": Label("Name, pinyin initials, code or USCC")})
    industry: IdParam | None = Field(default=None, json_schema_extra={"label": Label("industry"), "widget": "select"})
    region: IdParam | None = Field(default=None, json_schema_extra={"label": Label("region"), "widget": "select"})
    unit: IdParam | None = Field(default=None, description="the account's org unit and the units under it",
                                 json_schema_extra={"label": Label("org unit"), "widget": "select"})
    owner: IdParam | None = Field(default=None, description="the owner's user id",
                                  json_schema_extra={"label": Label("owner"), "widget": "autocomplete",
                                                     "url": "users_autocomplete"})
    lifecycle_status: LifecycleStatus | None = Field(default=None, json_schema_extra={"label": Label("lifecycle status")})
    channel: Channel | None = Field(default=None, json_schema_extra={"label": Label("channel")})
    tier: str = Field(default="", max_length=200,
                      description="scheme-code:tier — the accounts of that tier in the scheme's latest snapshot",
                      json_schema_extra={"label": Label("tier"), "widget": "select"})
    in_pool: FlagParam = Field(default=False, description="only accounts in the public pool (without an owner)",
                               json_schema_extra={"label": Label("in the public pool")})
    sort: str = Field(default=DEFAULT_ACCOUNT_SORT, max_length=20, description=f"one of {', '.join(ACCOUNT_SORTS)}")
