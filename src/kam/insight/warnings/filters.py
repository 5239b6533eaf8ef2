"""The warnings list's filter, declared once for the warnings page, its export and the API."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kam.core.filters import FlagParam, IdParam, Label, ListFilter
from kam.insight.models import Severity, WarningState

# The page's choice of every state (the API also takes all_states=true).
ALL_STATES = "all"


class WarningFilter(ListFilter):
    q: str = Field(default="", max_length=200, description="account name, pinyin initials or code",
                   json_schema_extra={"label": Label("Search"), "placeholder": Label("Account name or code")})
    rule: IdParam | None = Field(default=None, json_schema_extra={"label": Label("rule"), "widget": "select"})
    severity: Severity | None = Field(default=None, json_schema_extra={"label": Label("severity")})
    state: WarningState | Literal["all"] | None = Field(default=WarningState.OPEN, description="open by default; all: every state",
                                                         json_schema_extra={"label": Label("state")})
    all_states: FlagParam = Field(default=False, description="every state (overrides state)")
    unit: IdParam | None = Field(default=None, description="the account's org unit and the units under it",
                                 json_schema_extra={"label": Label("org unit"), "widget": "select"})
    owner: IdParam | None = Field(default=None, json_schema_extra={"label": Label("owner"), "widget": "autocomplete",
                                                           "url": "users_autocomplete"})
    account: IdParam | None = Field(default=None, json_schema_extra={"label": Label("account"), "widget": "autocomplete",
                                                             "url": "accounts:autocomplete"})

    hidden_fields = frozenset({"all_states"})

    def states(self) -> str | None:
        """The one state to list, or None for every state."""
        if self.all_states or self.state in (None, ALL_STATES):
            return None
        return str(self.state)
