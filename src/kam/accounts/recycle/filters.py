"""The recycle bin's filter, declared once for the page, its export and the API."""

from __future__ import annotations

from ninja import Field
from pydantic import field_validator

from kam.accounts.recycle.registry import binned_with_account
from kam.core.filters import Label, ListFilter


def bin_kinds() -> tuple[str, ...]:
    """The kinds of item in the bin: accounts, contacts and what other apps registered."""
    return ("account", "contact", *(entry.kind for entry in binned_with_account()))


class RecycleBinFilter(ListFilter):
    kind: str | None = Field(default=None, max_length=50,
                             description="account, contact, or a kind another app puts in the bin (opportunity)",
                             json_schema_extra={"label": Label("kind")})

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in bin_kinds():
            raise ValueError(f"must be one of {', '.join(bin_kinds())}")
        return value
