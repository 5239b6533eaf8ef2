"""Opportunities (项目): create, move between stages, win or lose with a reason.

Every stage an opportunity enters is a StageChange row, so the funnel, the conversion
between stages and the days spent in each are read from history, not reconstructed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.lifecycle import lifecycle_follow
from kam.accounts.models import Account, Contact
from kam.accounts.recycle import bin_event, bin_item, unbin_item
from kam.accounts.services import assignable_owners
from kam.core.errors import (
    Conflict,
    NotVisible,
    StaleVersion,
    ValidationFailed,
    refused,
)
from kam.core.models import AuditEvent, User
from kam.core.money import parse_yuan
from kam.core.policies import require
from kam.sales.models import (
    CLOSED_STAGES,
    OPEN_STAGES,
    BuyingCentreMember,
    BuyingRole,
    Competitor,
    Lead,
    Opportunity,
    OutcomeReason,
    Rival,
    RivalStatus,
    Stage,
    StageChange,
)
from kam.sales.opportunities import policies


def _save(obj: models.Model, actor: User) -> None:
    obj._history_user = actor  # type: ignore[attr-defined]  # django-simple-history's author of the record
    obj.save()


def opportunity_to_change(actor: User, pk: int) -> Opportunity:
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
    actor: User,
    account: Account,
    name: str,
    amount: Decimal | str | int | float | None,
    expected_close: date | None,
    owner: User | None = None,
    stage: str = Stage.CONTACT,
    our_quote: Decimal | str | int | float | None = None,
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
        raise refused("owner", _("You can make owner only yourself or people in the units you manage."))
    if stage not in OPEN_STAGES:
        raise refused("stage", _("A new opportunity starts in an open stage."))
    name = (name or "").strip()
    if not name:
        raise refused("name", _("Name the project."))
    if not isinstance(expected_close, date):
        raise refused("expected_close", _("Enter the expected close date."))
    at = at or timezone.now()
    yuan = parse_yuan(amount, field="amount", required=True)
    assert yuan is not None  # required: parse_yuan refuses an empty amount
    opportunity = Opportunity(
        account=account, name=name[:200], owner=owner, stage=stage, stage_entered_at=at,
        amount=yuan,
        our_quote=parse_yuan(our_quote, field="our_quote", required=False),
        expected_close=expected_close, description=description or "", lead=lead, created_by=actor, created_at=at,
    )
    _save(opportunity, actor)
    StageChange.objects.create(opportunity=opportunity, from_stage="", to_stage=stage, at=at, by=actor)
    return opportunity


def _check_version(opportunity: Opportunity, version: int | None) -> None:
    """The version the user read must still be current (optimistic lock; 412 in the API)."""
    if version is not None and version != opportunity.version:
        raise StaleVersion(_("Someone changed this opportunity in the meantime. Reload and try again."),
                           current_version=opportunity.version)


@transaction.atomic
def opportunity_move(*, actor: User, opportunity: Opportunity, stage: str, version: int | None = None,
                     at: datetime | None = None) -> Opportunity:
    """Move an open opportunity to another open stage (forwards or back). Winning and losing
    go through opportunity_close, which asks for the reason."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    _check_version(opportunity, version)
    if stage in CLOSED_STAGES:
        raise refused("stage", _("Winning or losing needs a reason: close the opportunity instead."))
    if stage not in OPEN_STAGES:
        raise refused("stage", _("Unknown stage."))
    if not opportunity.is_open:
        raise refused("stage", _("This opportunity is closed. Reopen it first."))
    if stage == opportunity.stage:
        return opportunity
    return _enter(actor, opportunity, stage, at or timezone.now())


def _enter(actor: User, opportunity: Opportunity, stage: str, at: datetime) -> Opportunity:
    StageChange.objects.create(opportunity=opportunity, from_stage=opportunity.stage, to_stage=stage, at=at, by=actor)
    opportunity.stage = stage
    opportunity.stage_entered_at = at
    opportunity.version += 1
    _save(opportunity, actor)
    return opportunity


@transaction.atomic
def opportunity_close(*, actor: User, opportunity: Opportunity, outcome: str, reason: OutcomeReason | None,
                      note: str, on: date | None = None, our_quote: Any = None, version: int | None = None,
                      at: datetime | None = None) -> Opportunity:
    """Win or lose an open opportunity. Both need a reason from the configured list that
    applies to the outcome, and a note on what decided it (解析成败原因)."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    _check_version(opportunity, version)
    if outcome not in CLOSED_STAGES:
        raise refused("outcome", _("Choose won or lost."))
    if not opportunity.is_open:
        raise refused("outcome", _("This opportunity is already closed."))
    errors: dict[str, list[str]] = {}
    if reason is None or not reason.is_active or reason.applies_to not in (outcome, OutcomeReason.AppliesTo.BOTH):
        errors["reason"] = [_("Choose the reason it was won or lost from the list.")]
    if not (note or "").strip():
        errors["note"] = [_("Say in a few words what decided it.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    at = at or timezone.now()
    if our_quote not in (None, ""):
        opportunity.our_quote = parse_yuan(our_quote, field="our_quote", required=False)
    opportunity.closed_on = on or timezone.localdate(at)
    opportunity.outcome_reason = reason
    opportunity.outcome_note = note.strip()
    opportunity = _enter(actor, opportunity, outcome, at)
    if outcome == Stage.WON:  # 订单客户: the account has ordered
        lifecycle_follow(event="won", accounts=[opportunity.account_id], actor=actor,
                         cause=_("Opportunity won: %(name)s") % {"name": opportunity.name})
    return opportunity


@transaction.atomic
def opportunity_reopen(*, actor: User, opportunity: Opportunity, stage: str = Stage.TENDER,
                       at: datetime | None = None) -> Opportunity:
    """Undo a close (a tender re-run, a mistaken click): back to an open stage, reason cleared."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    if opportunity.is_open:
        raise refused("stage", _("This opportunity is open."))
    if stage not in OPEN_STAGES:
        raise refused("stage", _("Reopen into an open stage."))
    require(policies.may_reopen(actor, opportunity), _("Only the owner or a manager may reopen an opportunity."))
    opportunity.closed_on = None
    opportunity.outcome_reason = None
    opportunity.outcome_note = ""
    return _enter(actor, opportunity, stage, at or timezone.now())


# --- editing the fields ------------------------------------------------------------------------

EDITABLE_FIELDS = ("name", "amount", "our_quote", "expected_close", "description", "owner")


@transaction.atomic
def opportunity_update(*, actor: User, opportunity: Opportunity, version: int | None, **fields: Any) -> Opportunity:
    """Change the project's name, amounts, expected close, description or owner. The stage
    moves only through opportunity_move / opportunity_close / opportunity_reopen."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    _check_version(opportunity, version)
    unknown = sorted(set(fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise refused(unknown[0], _("This field cannot be changed here."))
    errors: dict[str, list[str]] = {}
    changes: dict = {}
    for field, value in fields.items():
        try:
            changes[field] = _clean_field(actor, opportunity, field, value)
        except ValidationFailed as exc:
            for name, messages in exc.errors.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    changed = False
    for field, value in changes.items():
        current = opportunity.owner_id if field == "owner" else getattr(opportunity, field)
        if current != (value.pk if field == "owner" else value):
            setattr(opportunity, field, value)
            changed = True
    if changed:
        opportunity.version += 1
        _save(opportunity, actor)
    return opportunity


def _clean_field(actor: User, opportunity: Opportunity, field: str, value: Any) -> Any:
    if field == "name":
        value = (value or "").strip()
        if not value:
            raise refused("name", _("Name the project."))
        if len(value) > 200:
            raise refused("name", _("At most 200 characters."))
        return value
    if field == "amount":
        return parse_yuan(value, field="amount", required=True)
    if field == "our_quote":
        return parse_yuan(value, field="our_quote", required=False)
    if field == "expected_close":
        if not isinstance(value, date):
            raise refused("expected_close", _("Enter the expected close date."))
        return value
    if field == "description":
        return value or ""
    # owner
    if value is None:
        raise refused("owner", _("This field is required."))
    if value.pk != opportunity.owner_id and not assignable_owners(actor).filter(pk=value.pk).exists():
        raise refused("owner", _("You can make owner only yourself or people in the units you manage."))
    return value


# --- the buying centre ------------------------------------------------------------------------


@transaction.atomic
def buying_centre_add(*, actor: User, opportunity: Opportunity, contact: Contact | None, role: str,
                      note: str = "") -> BuyingCentreMember:
    """Name one of the account's contacts in the buying centre with their role in the purchase."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    errors: dict[str, list[str]] = {}
    if contact is None or not Contact.objects.alive().filter(pk=contact.pk, account_id=opportunity.account_id).exists():
        errors["contact"] = [_("Choose a contact of this opportunity's account.")]
    if role not in BuyingRole.values:
        errors["role"] = [_("Choose the contact's role in the purchase.")]
    if not errors and BuyingCentreMember.objects.filter(opportunity=opportunity, contact=contact, role=role).exists():
        errors["contact"] = [_("This contact already has this role in the buying centre.")]
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("At most 200 characters.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    assert contact is not None  # checked above
    return BuyingCentreMember.objects.create(opportunity=opportunity, contact=contact, role=role, note=note)


@transaction.atomic
def buying_centre_remove(*, actor: User, opportunity: Opportunity, member_id: int) -> None:
    opportunity = opportunity_to_change(actor, opportunity.pk)
    deleted, _rows = BuyingCentreMember.objects.filter(opportunity=opportunity, pk=member_id).delete()
    if not deleted:
        raise NotVisible(_("Not found."))


# --- competitors on the deal ---------------------------------------------------------------------


def _rival_fields(*, competitor: Competitor | None = None, product: str | None = None, quote: Any = None,
                  status: str | None = None, note: str | None = None, check_competitor: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    if check_competitor:
        if competitor is None or not Competitor.objects.filter(pk=competitor.pk, is_active=True).exists():
            errors["competitor"] = [_("Choose a competitor from the list.")]
        cleaned["competitor"] = competitor
    if product is not None:
        product = product.strip()
        if len(product) > 200:
            errors["product"] = [_("At most 200 characters.")]
        cleaned["product"] = product
    if quote is not None:
        try:
            cleaned["quote"] = parse_yuan(quote, field="quote", required=False)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if status is not None:
        if status not in RivalStatus.values:
            errors["status"] = [_("Choose a status from the list.")]
        cleaned["status"] = status
    if note is not None:
        note = note.strip()
        if len(note) > 300:
            errors["note"] = [_("At most 300 characters.")]
        cleaned["note"] = note
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    return cleaned


@transaction.atomic
def rival_add(*, actor: User, opportunity: Opportunity, competitor: Competitor | None, product: str = "",
              quote: Any = None, status: str = RivalStatus.ACTIVE, note: str = "") -> Rival:
    """A competitor on the deal with their product, their quote (元, not negative) and where they stand."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    cleaned = _rival_fields(competitor=competitor, product=product or "", quote=quote if quote != "" else None,
                            status=status, note=note or "", check_competitor=True)
    if Rival.objects.filter(opportunity=opportunity, competitor=competitor).exists():
        raise refused("competitor", _("This competitor is already on the deal: edit it instead."))
    return Rival.objects.create(opportunity=opportunity, **cleaned)


def _rival_to_change(actor: User, opportunity: Opportunity, rival_id: int) -> Rival:
    opportunity = opportunity_to_change(actor, opportunity.pk)
    rival = Rival.objects.select_for_update().filter(opportunity=opportunity, pk=rival_id).first()
    if rival is None:
        raise NotVisible(_("Not found."))
    return rival


RIVAL_FIELDS = ("product", "quote", "status", "note")


@transaction.atomic
def rival_update(*, actor: User, opportunity: Opportunity, rival_id: int, **fields: Any) -> Rival:
    """Change a rival's product, quote, status or note; a quote of None or "" clears it."""
    unknown = sorted(set(fields) - set(RIVAL_FIELDS))
    if unknown:
        raise refused(unknown[0], _("This field cannot be changed here."))
    rival = _rival_to_change(actor, opportunity, rival_id)
    clear_quote = "quote" in fields and fields["quote"] in (None, "")
    cleaned = _rival_fields(**{k: v for k, v in fields.items() if not (k == "quote" and clear_quote)},
                            check_competitor=False)
    if clear_quote:
        cleaned["quote"] = None
    for field, value in cleaned.items():
        setattr(rival, field, value)
    rival.save()
    return rival


@transaction.atomic
def rival_remove(*, actor: User, opportunity: Opportunity, rival_id: int) -> None:
    _rival_to_change(actor, opportunity, rival_id).delete()


# --- the recycle bin ---------------------------------------------------------------------------


@transaction.atomic
def opportunity_delete(*, actor: User, opportunity: Opportunity) -> None:
    """Move an opportunity to the recycle bin (restorable for RECYCLE_BIN_DAYS): whoever may
    change it may delete it. It drops out of every list, count, chart and forecast."""
    opportunity = opportunity_to_change(actor, opportunity.pk)
    bin_item(opportunity, actor=actor, at=timezone.now())
    bin_event(AuditEvent.Kind.BINNED, opportunity, actor=actor)


@transaction.atomic
def opportunity_restore(*, actor: User, opportunity_id: int) -> Opportunity:
    """Take an opportunity deleted on its own out of the recycle bin, exactly as it was; one
    that went with its account comes back with the account."""
    opportunity = (Opportunity.objects.in_recycle_bin_of(actor).select_for_update(of=("self",))
                   .select_related("account").filter(pk=opportunity_id).first())
    if opportunity is None:
        raise NotVisible(_("Not found."))
    if opportunity.account.deleted_at is not None:
        raise Conflict(
            _("Restore the account %(name)s first.") % {"name": opportunity.account.name},
            errors={"account": [_("The account is in the recycle bin.")]},
        )
    unbin_item(opportunity, actor=actor)
    bin_event(AuditEvent.Kind.RESTORED, opportunity, actor=actor)
    return opportunity
