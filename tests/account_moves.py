"""The moves of accounts that every read model's property test makes among its own writes: a new
owner, another office, back to the pool, into the recycle bin, a team member added."""

from __future__ import annotations

from django.utils import timezone

from kam.accounts.models import AccountTeamMember, TeamRole
from kam.accounts.ownership import give_owner, release_to_pool

ACCOUNT_MOVES = ("owner", "office", "pool", "delete", "team")


def move_account(org, op: str, account, person) -> None:
    """Make move `op` (one of ACCOUNT_MOVES) of `account`, with `person` as the new owner or
    team member, when it applies (an owned account for a new owner, office or the pool; one
    without subsidiaries for the bin)."""
    from kam.accounts.recycle.services import account_delete

    if op == "owner" and account.owner_id:
        give_owner(actor=org.admin, account=account, owner=person, unit=person.unit, reason="test")
    elif op == "office" and account.owner_id:
        give_owner(actor=org.admin, account=account, owner=account.owner, unit=org.office_a2, reason="test")
    elif op == "pool" and account.owner_id:
        release_to_pool(actor=org.admin, account=account, now=timezone.now(), reason="test")
    elif op == "delete" and not account.subsidiaries.exists():
        account_delete(actor=org.admin, account=account)
    elif op == "team":
        AccountTeamMember.objects.get_or_create(account=account, user=person,
                                                defaults={"team_role": TeamRole.TECHNICAL_SUPPORT})
