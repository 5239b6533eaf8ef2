"""The compliance page's choice of scheme and period, and its drill-down to a unit or a person."""

from __future__ import annotations

from pydantic import Field

from kam.core.filters import IdParam, Label, ListFilter


class ComplianceFilter(ListFilter):
    # The page shows its own pickers for these (the schemes with a standard, the recent periods).
    hidden_fields = frozenset({"scheme", "period", "unit", "person"})

    scheme: str | None = Field(None, max_length=50, description="the tier scheme's code (CADENCE_SCHEME by default)",
                               json_schema_extra={"label": Label("scheme")})
    period: str | None = Field(None, max_length=10, pattern=r"^\d{4}(-(Q[1-4]|H[12]|\d{2}))?$",
                               description="2026, 2026-H1, 2026-Q2 or 2026-06 (this quarter by default)",
                               json_schema_extra={"label": Label("period")})
    unit: IdParam | None = Field(None, description="the overdue accounts of one unit shown",
                                 json_schema_extra={"label": Label("org unit")})
    person: IdParam | None = Field(None, description="the overdue accounts of one owner (user id)",
                                   json_schema_extra={"label": Label("owner")})

    def drill(self) -> dict[str, int]:
        """The drill-down, as `overdue_accounts` takes it."""
        return {key: value for key, value in (("unit", self.unit), ("person", self.person)) if value is not None}
