"""The recycle bin. Other apps that bin their own rows (opportunities) use its clock and writes."""

from kam.accounts.recycle.clock import (
    bin_cutoff,
    bin_days,
    bin_event,
    bin_item,
    days_left,
    unbin_item,
)

__all__ = ["bin_cutoff", "bin_days", "bin_event", "bin_item", "days_left", "unbin_item"]
