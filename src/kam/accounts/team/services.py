"""Writes of the account team: who works an account beside its owner."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kam.accounts.models import Account, AccountTeamMember
from kam.accounts.records import lock_visible, save_with_history, validation_failed
from kam.accounts.team import policies
from kam.core.errors import NotVisible, ValidationFailed
from kam.core.models import User
from kam.core.policies import require


@transaction.atomic
def team_member_add(*, actor: User, account: Account, user: User, team_role: str) -> AccountTeamMember:
    require(policies.may_manage_team(actor, account))
    account = lock_visible(Account.objects.visible_to(actor), account.pk)
    member = AccountTeamMember.objects.filter(account=account, user=user).first() or AccountTeamMember(
        account=account, user=user
    )
    member.team_role = team_role
    if not user.is_active:
        raise ValidationFailed(_("Please correct the errors below."), errors={"user": [_("Inactive user.")]})
    try:
        member.full_clean()
    except ValidationError as exc:
        raise validation_failed(exc) from exc
    save_with_history(member, actor)
    return member


@transaction.atomic
def team_member_remove(*, actor: User, account: Account, member_id: int) -> None:
    require(policies.may_manage_team(actor, account))
    account = lock_visible(Account.objects.visible_to(actor), account.pk)
    member = account.team_members.filter(pk=member_id).first()
    if member is None:
        raise NotVisible(_("Not found."))
    member._history_user = actor  # type: ignore[attr-defined]  # django-simple-history's author of the record
    member.delete()

