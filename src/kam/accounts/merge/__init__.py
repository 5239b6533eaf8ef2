"""Merging two records of one customer. Other apps listen to `account_merged`."""

from kam.accounts.merge.services import account_merge, account_merged

__all__ = ["account_merge", "account_merged"]
