"""Who may add, edit and delete an account's contacts."""

from __future__ import annotations

from typing import Any

from kam.accounts.models import Account, Contact
from kam.accounts.policies import may_write_accounts


def may_add_contact(user: Any, obj: Account | None = None) -> bool:
    return may_write_accounts(user)


def may_edit_contact(user: Any, obj: Contact | None = None) -> bool:
    return may_write_accounts(user)


def may_delete_contact(user: Any, obj: Contact | None = None) -> bool:
    return may_write_accounts(user)


def may_import_contacts(user: Any, obj: Account | None = None) -> bool:
    """A contact import adds and edits contacts: the same roles."""
    return may_write_accounts(user)
