"""Opportunities (项目): create, move between stages, win or lose with a reason.

Every stage an opportunity enters is a StageChange row, so the funnel, the conversion
between stages and the days spent in each are read from history, not reconstructed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.accounts.services import assignable_owners
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed
from kam.sales.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    Lead,
    Opportunity,
    OutcomeReason,
    Stage,
    StageChange,
)


def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), errors={field: [message]})


def _money(value, field: str, *, required: bool) -> Decimal | None:
    if value in (None, ""):
        if required:
            raise _refused(field, _("This field is required."))
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise _refused(field, _("Enter an amount in yuan, e.g. 120000 or 120000.50.")) from None
    if amount < 0 or amount >= Decimal("1e14"):
        raise _refused(field, _("Enter an amount from 0 to 99,999,999,999,999.99 yuan."))
    return amount


def _save(obj, actor) -> None:
    obj._history_user = actor
    obj.save()


def opportunity_to_change(actor, pk: int) -> Opportunity:
    """The opportunity, locked for the rest of the transaction, if `actor` may change it:
    its owner, the account's owner and team, and managers above them (who see the account)."""
    opportunity = (Opportunity.objects.visible_to(actor).select_for_update(of=("self",))
                   .select_related("account").filter(pk=pk).first())
    if opportunity is None:
        raise NotVisible(_("Not found."))
    return opportunity


@transaction.atomic
def opportunity_create(
    *,
    actor,
    account: Account,
    name: str,
    amount,
    expected_close: date,
    owner=None,
    stage: str = Stage.CONTACT,
    our_quote=None,
    description: str = "",
    lead: Lead | None = None,
    at: datetime | None = None,
) -> Opportunity:
    """A new opportunity on an account `actor` sees, owned by `actor` unless another owner
    `actor` may assign is given; it starts in an open stage (contact unless said)."""
    if not Account.objects.visible_to(actor).filter(pk=account.pk).exists():
        raise NotVisible(_("Not found."))
    owner = owner or actor
    if owner.pk != actor.pk and not assignable_owners(actor).filter(pk=owner.pk).exists():
        raise _refused("owner", _("You can make owner only yourself or people in the units you manage."))
    if stage not in OPEN_STAGES:
        raise _refused("stage", _("A new opportunity starts in an open stage."))
    name = (name or "").strip()
    if not name:
        raise _refused("name", _("Name the project."))
    if not isinstance(expected_close, date):
        raise _refused("expected_close", _("Enter the expected close date."))
    at = at or timezone.now()
    opportunity = Opportunity(
        account=account, name=name[:200], owner=owner, stage=stage, stage_entered_at=at,
        amount=_money(amount, "amount", required=True), our_quote=_money(our_quote, "our_quote", required=False),
        expected_close=expected_close, description=description or "", lead=lead, created_by=actor, created_at=at,
    )
    _save(opportunity, actor)
    StageChange.objects.create(opportunity=opportunity, from_stage="", to_stage=stage, at=at, by=actor)
    return opportunity


@transaction.atomic
def opportunity_move(*, actor, opportunity: Opportunity, stage: str, version: int | None = None,
                     at: datetime | None = None) -> Opportunity:
    """Move an open opportunity to another open stage (forwards or back). Winning and losing
    go through opportunity_close, which asks for the reason."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    if version is not None and version != opportunity.version:
        raise Conflict(_("Someone changed this opportunity in the meantime. Reload and try again."))
    if stage in CLOSED_STAGES:
        raise _refused("stage", _("Winning or losing needs a reason: close the opportunity instead."))
    if stage not in OPEN_STAGES:
        raise _refused("stage", _("Unknown stage."))
    if not opportunity.is_open:
        raise _refused("stage", _("This opportunity is closed. Reopen it first."))
    if stage == opportunity.stage:
        return opportunity
    return _enter(actor, opportunity, stage, at or timezone.now())


def _enter(actor, opportunity: Opportunity, stage: str, at: datetime) -> Opportunity:
    StageChange.objects.create(opportunity=opportunity, from_stage=opportunity.stage, to_stage=stage, at=at, by=actor)
    opportunity.stage = stage
    opportunity.stage_entered_at = at
    opportunity.version += 1
    _save(opportunity, actor)
    return opportunity


@transaction.atomic
def opportunity_close(*, actor, opportunity: Opportunity, outcome: str, reason: OutcomeReason | None,
                      note: str, on: date | None = None, our_quote=None, version: int | None = None,
                      at: datetime | None = None) -> Opportunity:
    """Win or lose an open opportunity. Both need a reason from the configured list that
    applies to the outcome, and a note on what decided it (解析成败原因)."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    if version is not None and version != opportunity.version:
        raise Conflict(_("Someone changed this opportunity in the meantime. Reload and try again."))
    if outcome not in CLOSED_STAGES:
        raise _refused("outcome", _("Choose won or lost."))
    if not opportunity.is_open:
        raise _refused("outcome", _("This opportunity is already closed."))
    errors: dict[str, list[str]] = {}
    if reason is None or not reason.is_active or reason.applies_to not in (outcome, OutcomeReason.AppliesTo.BOTH):
        errors["reason"] = [_("Choose the reason it was won or lost from the list.")]
    if not (note or "").strip():
        errors["note"] = [_("Say in a few words what decided it.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    at = at or timezone.now()
    if our_quote not in (None, ""):
        opportunity.our_quote = _money(our_quote, "our_quote", required=False)
    opportunity.closed_on = on or timezone.localdate(at)
    opportunity.outcome_reason = reason
    opportunity.outcome_note = note.strip()
    return _enter(actor, opportunity, outcome, at)


@transaction.atomic
def opportunity_reopen(*, actor, opportunity: Opportunity, stage: str = Stage.TENDER,
                       at: datetime | None = None) -> Opportunity:
    """Undo a close (a tender re-run, a mistaken click): back to an open stage, reason cleared."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    if opportunity.is_open:
        raise _refused("stage", _("This opportunity is open."))
    if stage not in OPEN_STAGES:
        raise _refused("stage", _("Reopen into an open stage."))
    if actor.is_specialist and opportunity.owner_id != actor.pk:
        raise PermissionDenied(_("Only the owner or a manager may reopen an opportunity."))
    opportunity.closed_on = None
    opportunity.outcome_reason = None
    opportunity.outcome_note = ""
    return _enter(actor, opportunity, stage, at or timezone.now())
