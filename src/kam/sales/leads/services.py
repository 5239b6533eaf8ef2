"""Leads (线索): creation, assignment by hand, follow-ups, disqualification, and qualification
into an opportunity or a nurtured prospect (creating or matching the account, with 查重).
Who gets a lead and by when — the rules, the clock and the nightly sweep — lives in
kam.sales.leads.routing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, LifecycleStatus
from kam.accounts.services import account_create, account_update, assignable_owners, contact_create
from kam.activities.models import TaskStatus
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, ValidationFailed, refused
from kam.core.models import Industry, Region, User
from kam.core.money import parse_yuan
from kam.core.policies import require
from kam.core.validators import clean_cn_mobile, clean_cn_phone, clean_uscc
from kam.core.web import MAX_ID
from kam.sales.leads import policies
from kam.sales.leads.routing import (
    LeadRouter,
    aware,
    clock_start,
    close_tasks,
    follow_up_task,
    open_task,
    save_as,
)
from kam.sales.models import (
    Lead,
    LeadFollowUp,
    LeadSource,
    LeadStatus,
)
from kam.sales.opportunities.services import opportunity_create

M = TypeVar("M", bound=models.Model)

# Fields a client may write on a new lead; assignment, the clock and the outcome never.
LEAD_FIELDS = frozenset({
    "source", "company", "uscc", "contact_name", "contact_title", "phone", "email", "need",
    "estimated_amount", "region", "industry",
})
# Who may assign leads by hand.
# The qualification outcomes a user chooses between, and the status each one leaves.
QUALIFY_OUTCOMES = {"opportunity": LeadStatus.QUALIFIED, "nurture": LeadStatus.NURTURE}


class AccountChoiceNeeded(Conflict):
    """Accounts that may be the lead's company exist: the user picks one or confirms a new one."""





# --- creating ------------------------------------------------------------------------------


def given_id(value: Any) -> int | None:
    """An id given as an object, a number or digits; None when it cannot be one."""
    value = value.pk if hasattr(value, "pk") else value
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def reference_item(model: type[M], value: Any, field: str) -> M | None:
    """An active list entry (source, region, industry) by object, id or code."""
    if value in (None, ""):
        return None
    qs = model._default_manager.filter(is_active=True)
    pk = given_id(value)
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(code=str(value).strip()[:32]).first()
    if found is None:
        raise refused(field, _("Choose one of the listed values."))
    return found



def lead_build(data: dict[str, Any]) -> Lead:
    """An unsaved lead from client data, every field checked; errors name their field."""
    if unknown := sorted(set(data) - LEAD_FIELDS):
        raise ValidationFailed(
            _("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(unknown)},
            errors={name: [_("This field cannot be set.")] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    lead = Lead()
    for name, model in (("source", LeadSource), ("region", Region), ("industry", Industry)):
        try:
            setattr(lead, name, reference_item(model, data.get(name), name))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if "source" not in errors and lead.source_id is None:
        errors["source"] = [_("Say where the lead came from.")]
    for name in ("company", "contact_name", "contact_title", "need", "email"):
        setattr(lead, name, str(data.get(name) or "").strip())
    if not lead.company:
        errors["company"] = [_("Name the company.")]
    if uscc := str(data.get("uscc") or "").strip().upper():
        try:
            lead.uscc = clean_uscc(uscc)
        except ValidationError as exc:
            errors["uscc"] = exc.messages
    if phone := str(data.get("phone") or "").strip():
        try:
            lead.phone = clean_cn_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.messages
    try:
        lead.estimated_amount = parse_yuan(data.get("estimated_amount"), field="estimated_amount")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        lead.full_clean(exclude=[*errors, "unit", "assignee", "rule", "account", "opportunity", "created_by"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    return lead


def _chosen_assignee(actor: User, assignee: User | int | str | None) -> User:
    """A person `actor` names as assignee: themselves, or someone in the units they manage."""
    pk = given_id(assignee)
    found = assignable_owners(actor).select_related("unit").filter(pk=pk).first() if pk else None
    if found is None:
        raise refused("assignee", _("Choose an active person in the units you manage."))
    return found


@transaction.atomic
def lead_create(*, actor: User, data: dict[str, Any], assignee: User | int | str | None = None,
                at: datetime | None = None) -> Lead:
    """A new lead. With `assignee` (someone `actor` may assign) it goes to that person;
    otherwise the first matching active rule assigns it. The SLA clock starts at once."""
    at = aware(at)
    lead = lead_build(data)
    lead.created_by = actor
    if assignee not in (None, ""):
        person = _chosen_assignee(actor, assignee)
        rule, unit = None, person.unit
    else:
        router = LeadRouter()
        rule, unit, person = router.route(lead, actor=actor)
        router.save()
    lead.rule = rule
    clock_start(lead, person, unit, at)
    save_as(lead, actor)
    open_task(follow_up_task(lead, actor), actor)
    return lead


# --- working a lead ----------------------------------------------------------------------


def lead_to_change(actor: User, pk: int) -> Lead:
    """The lead, locked, if `actor` sees it (404 otherwise) and may work it: its assignee,
    or a manager, director, general manager or admin above it."""
    lead = (
        Lead.objects.visible_to(actor).select_for_update(of=("self",))
        .select_related("assignee", "assignee__unit", "unit", "source").filter(pk=pk).first()
    )
    if lead is None:
        raise NotVisible(_("Not found."))
    require(policies.may_work(actor, lead), _("Only the assignee of this lead or their managers may work it."))
    return lead


def _must_be_open(lead: Lead) -> None:
    if not lead.is_open:
        raise Conflict(
            _("This lead is closed (%(status)s).") % {"status": lead.get_status_display()},
            errors={"status": [lead.get_status_display()]},
        )


def _check_time(at: datetime, field: str) -> datetime:
    limit = timezone.now() + timedelta(minutes=config().ACTIVITY_FUTURE_TOLERANCE_MINUTES)
    if at > limit:
        raise refused(field, _("This time is in the future."))
    return at


@transaction.atomic
def lead_assign(*, actor: User, lead: Lead, assignee: User | int | str | None, at: datetime | None = None) -> Lead:
    """A manager gives the lead to a person of the units they manage; the clock starts again
    (unless the lead has been followed up) and the former assignee's task is cancelled."""
    lead = lead_to_change(actor, lead.pk)
    require(policies.may_assign(actor), _("Only managers, directors and the general manager assign leads."))
    _must_be_open(lead)
    person = _chosen_assignee(actor, assignee)
    at = aware(at)
    if person.pk == lead.assignee_id:
        return lead
    close_tasks(lead, TaskStatus.CANCELLED, actor, at)
    clock_start(lead, person, person.unit, at)
    save_as(lead, actor)
    open_task(follow_up_task(lead, actor), actor)
    return lead


@transaction.atomic
def lead_follow_up(*, actor: User, lead: Lead, note: str, plan: str = "", at: datetime | None = None) -> LeadFollowUp:
    """Record what was done and the plan. The first follow-up stops the SLA clock: the lead
    is being followed up, and its open tasks (the assignee's, an escalated manager's) are done."""
    lead = lead_to_change(actor, lead.pk)
    _must_be_open(lead)
    at = _check_time(aware(at), "at")
    note = (note or "").strip()
    if not note:
        raise refused("note", _("Say what was done."))
    follow_up = LeadFollowUp(lead=lead, at=at, by=actor, note=note, plan=(plan or "").strip())
    try:
        follow_up.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(_("Please correct the errors below."), errors=exc.message_dict) from exc
    follow_up.save()
    if lead.followed_up_at is None:
        lead.followed_up_at = at
        lead.follow_up_due_at = None
        lead.status = LeadStatus.FOLLOWING
        save_as(lead, actor)
        close_tasks(lead, TaskStatus.DONE, actor, at)
    return follow_up


@transaction.atomic
def lead_disqualify(*, actor: User, lead: Lead, note: str, at: datetime | None = None) -> Lead:
    """Not a real need, a competitor, a duplicate…: the reason is required."""
    lead = lead_to_change(actor, lead.pk)
    _must_be_open(lead)
    note = (note or "").strip()
    if not note:
        raise refused("note", _("Say why the lead is disqualified."))
    at = aware(at)
    lead.status = LeadStatus.DISQUALIFIED
    lead.closed_at = at
    lead.close_note = note[:500]
    lead.follow_up_due_at = None
    save_as(lead, actor)
    close_tasks(lead, TaskStatus.CANCELLED, actor, at)
    return lead


# --- qualification -------------------------------------------------------------------------


_LIFECYCLE_ORDER: list[str] = [LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY]


def _raise_lifecycle(actor: User, account: Account, status: str) -> Account:
    """An unidentified or prospect account moves up to `status`; later states stay."""
    current = account.lifecycle_status
    if current in _LIFECYCLE_ORDER and _LIFECYCLE_ORDER.index(current) < _LIFECYCLE_ORDER.index(status):
        return account_update(actor=actor, account=account, data={"lifecycle_status": status})
    return account


def _add_contact(actor: User, account: Account, lead: Lead) -> None:
    """The lead's contact joins the account unless a contact of that name is already there."""
    if not lead.contact_name or account.contacts.alive().filter(name=lead.contact_name).exists():
        return
    data: dict[str, Any] = {"name": lead.contact_name[:50], "title": lead.contact_title[:100], "email": lead.email}
    if lead.phone:
        try:
            data["mobile"] = clean_cn_mobile(lead.phone)
        except ValidationError:
            data["office_phone"] = lead.phone
    contact_create(actor=actor, account=account, data=data)


def _account_for(actor: User, lead: Lead, *, account: Account | int | str | None, confirm_new_account: bool,
                 lifecycle: str, owner: User) -> Account:
    if account not in (None, ""):
        pk = given_id(account)
        found = Account.objects.visible_to(actor).filter(pk=pk).first() if pk else None
        if found is None:
            raise refused("account", _("No such account."))
        return _raise_lifecycle(actor, found, lifecycle)
    if not confirm_new_account:
        from kam.sales.leads.selectors import lead_account_candidates

        if candidates := lead_account_candidates(user=actor, lead=lead):
            raise AccountChoiceNeeded(
                _("Accounts that may be this company exist. Choose one, or confirm a new account."),
                errors={"account": [_("Choose the account, or confirm a new one.")]},
                candidates=[{"id": a.pk, "code": a.code, "name": a.name, "owner": str(a.owner or ""),
                             "unit": str(a.unit)} for a in candidates],
            )
    data: dict[str, Any] = {"name": lead.company, "lifecycle_status": lifecycle, "owner": owner}
    if lead.uscc:
        data["uscc"] = lead.uscc
    if lead.industry_id:
        data["industry"] = lead.industry_id
    if lead.region_id:
        data["region"] = lead.region_id
    return account_create(actor=actor, data=data, confirm_similar=confirm_new_account)


@transaction.atomic
def lead_qualify(
    *,
    actor: User,
    lead: Lead,
    outcome: str,
    account: Account | int | str | None = None,
    confirm_new_account: bool = False,
    opportunity_name: str = "",
    amount: Any = None,
    expected_close: date | None = None,
    note: str = "",
    at: datetime | None = None,
) -> Lead:
    """The judged lead becomes an opportunity (outcome "opportunity") or a prospect to
    nurture (outcome "nurture"), on an account: the one chosen (`account`), or a new one
    created from the lead (查重 first: accounts that may be the company are offered as
    candidates until the user chooses one or confirms a new account)."""
    lead = lead_to_change(actor, lead.pk)
    _must_be_open(lead)
    if outcome not in QUALIFY_OUTCOMES:
        raise refused("outcome", _("Choose opportunity or nurture."))
    at = aware(at)
    status = QUALIFY_OUTCOMES[outcome]
    errors: dict[str, list[str]] = {}
    if status == LeadStatus.QUALIFIED:
        try:
            amount = parse_yuan(amount, field="amount")
        except ValidationFailed as exc:
            errors.update(exc.errors)
        else:
            amount = lead.estimated_amount if amount is None else amount
            if amount is None:
                errors["amount"] = [_("Enter the intended amount.")]
        if not isinstance(expected_close, date):
            errors["expected_close"] = [_("Enter the expected close date.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    owner = actor
    if (lead.assignee is not None and lead.assignee_id != actor.pk
            and assignable_owners(actor).filter(pk=lead.assignee.pk).exists()):
        owner = lead.assignee
    lifecycle = LifecycleStatus.OPPORTUNITY if status == LeadStatus.QUALIFIED else LifecycleStatus.PROSPECT
    chosen = _account_for(actor, lead, account=account, confirm_new_account=confirm_new_account,
                          lifecycle=lifecycle, owner=owner)
    _add_contact(actor, chosen, lead)
    if status == LeadStatus.QUALIFIED:
        name = (opportunity_name or "").strip() or lead.company
        lead.opportunity = opportunity_create(
            actor=actor, account=chosen, name=name, amount=amount, expected_close=expected_close,
            owner=owner, description=lead.need, lead=lead, at=at,
        )
    lead.account = chosen
    lead.status = status
    lead.closed_at = at
    lead.close_note = (note or "").strip()[:500]
    lead.follow_up_due_at = None
    save_as(lead, actor)
    close_tasks(lead, TaskStatus.DONE, actor, at)
    return lead
