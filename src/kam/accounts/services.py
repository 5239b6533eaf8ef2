"""The accounts app's writes that other apps call, gathered from its features (each feature's
own services.py is where they live; import from here outside the accounts app)."""

from kam.accounts.card.services import (
    DuplicateAccount,
    SimilarAccounts,
    account_create,
    account_update,
    assignable_owners,
    similar_accounts,
)
from kam.accounts.contacts.services import contact_create, contact_delete, contact_update
from kam.accounts.merge.services import account_merge
from kam.accounts.records import validation_failed
from kam.accounts.recycle.services import (
    account_delete,
    account_restore,
    contact_restore,
    recycle_bin_purge,
)
from kam.accounts.team.services import team_member_add, team_member_remove

_validation_failed = validation_failed  # the name other apps still import

__all__ = [
    "DuplicateAccount", "SimilarAccounts", "account_create", "account_delete", "account_merge", "account_restore",
    "account_update", "assignable_owners", "contact_create", "contact_delete", "contact_restore", "contact_update",
    "recycle_bin_purge", "similar_accounts", "team_member_add", "team_member_remove", "validation_failed",
]
