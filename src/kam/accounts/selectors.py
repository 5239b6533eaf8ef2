"""The accounts app's reads that other apps call, gathered from its features (each feature's
own selectors.py is where they live; import from here outside the accounts app)."""

from kam.accounts.card.filters import ACCOUNT_SORTS, DEFAULT_ACCOUNT_SORT, AccountFilter
from kam.accounts.card.selectors import _search as _search
from kam.accounts.card.selectors import (
    account_autocomplete,
    account_count,
    account_get,
    account_history,
    account_list,
    account_subsidiaries,
    merged_lineage,
)
from kam.accounts.contacts.selectors import (
    account_contacts,
    contact_get,
    contact_list,
    contact_search,
)
from kam.accounts.decision_chain.selectors import account_decision_chain
from kam.accounts.recycle.filters import RecycleBinFilter, bin_kinds
from kam.accounts.recycle.selectors import BinEntry, recycle_bin
from kam.accounts.team.selectors import colleagues, user_autocomplete

__all__ = [
    "ACCOUNT_SORTS", "DEFAULT_ACCOUNT_SORT", "AccountFilter", "BinEntry", "RecycleBinFilter", "account_autocomplete",
    "account_contacts", "account_count", "account_decision_chain", "account_get", "account_history", "account_list",
    "account_subsidiaries", "bin_kinds", "colleagues", "contact_get", "contact_list", "contact_search",
    "merged_lineage", "recycle_bin", "user_autocomplete",
]
