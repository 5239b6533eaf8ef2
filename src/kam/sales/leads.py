"""Leads (线索): creation and assignment by rules, the follow-up SLA clock, escalation and
reassignment, qualification into an opportunity or a nurtured prospect.

Assignment: active rules are tried in order and the first whose conditions (region — a
rule for a province matches its cities —, industry, source) all hold assigns the lead,
to the rule's person or, without one, to the next active specialist of the rule's unit in
a round robin. The rule row is locked while the round moves on, so two leads created at
the same moment never go to the same person twice in a row.

The clock: an assigned lead must have a follow-up within LEAD_FOLLOW_UP_HOURS. The sweep
escalates a lead past that time to the assignee's manager; LEAD_REASSIGN_HOURS after the
escalation, still without a follow-up, it goes to another person of the unit with a fresh
clock. Every assignment is a task for the assignee, every escalation one for the manager;
the first follow-up closes them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, LifecycleStatus
from kam.accounts.services import account_create, account_update, assignable_owners, contact_create
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core.conf import kam_setting
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed
from kam.core.models import Industry, OrgUnit, Region, Role
from kam.core.validators import clean_cn_mobile, clean_cn_phone, clean_uscc
from kam.core.web import MAX_ID
from kam.sales.models import (
    Lead,
    LeadAssignmentRule,
    LeadFollowUp,
    LeadSource,
    LeadStatus,
)
from kam.sales.opportunities import opportunity_create

User = get_user_model()

# Fields a client may write on a new lead; assignment, the clock and the outcome never.
LEAD_FIELDS = frozenset({
    "source", "company", "uscc", "contact_name", "contact_title", "phone", "email", "need",
    "estimated_amount", "region", "industry",
})
# Who may assign leads by hand, and who the clock escalates to.
ASSIGNING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER, Role.ADMIN})
ESCALATION_ROLES = (Role.MANAGER, Role.DIRECTOR)
# The qualification outcomes a user chooses between, and the status each one leaves.
QUALIFY_OUTCOMES = {"opportunity": LeadStatus.QUALIFIED, "nurture": LeadStatus.NURTURE}
# Leads handled per transaction by the sweep: a crash leaves whole batches, and a long
# night's backlog never holds the database for long.
SWEEP_BATCH = 500


class AccountChoiceNeeded(Conflict):
    """Accounts that may be the lead's company exist: the user picks one or confirms a new one."""


def _refused(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(_("Please correct the errors below."), errors={field: [message]})


def _save(obj, actor) -> None:
    obj._history_user = actor
    obj.save()


def _now(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        return timezone.make_aware(at)
    return at


# --- assignment --------------------------------------------------------------------------


class LeadRouter:
    """Finds the rule and the person for new leads; one per transaction.

    The round robin position of a rule is read under a row lock the first time the rule
    deals a lead, kept here while more leads are dealt (an import batch), and written back
    by `save()` before the transaction ends.
    """

    def __init__(self):
        self.rules = list(
            LeadAssignmentRule.objects.filter(is_active=True).select_related("unit", "assignee")
            .order_by("sort_order", "id")
        )
        self._region_parent = dict(Region.objects.values_list("pk", "parent_id"))
        self._people: dict[int, list] = {}
        self._last: dict[int, int | None] = {}
        self._moved: set[int] = set()

    def _regions_up(self, region_id: int | None) -> set[int]:
        found: set[int] = set()
        while region_id is not None and region_id not in found:
            found.add(region_id)
            region_id = self._region_parent.get(region_id)
        return found

    def rule_for(self, lead: Lead) -> LeadAssignmentRule | None:
        regions = self._regions_up(lead.region_id)
        for rule in self.rules:
            if rule.region_id is not None and rule.region_id not in regions:
                continue
            if rule.industry_id is not None and rule.industry_id != lead.industry_id:
                continue
            if rule.source_id is not None and rule.source_id != lead.source_id:
                continue
            return rule
        return None

    def specialists(self, unit: OrgUnit) -> list:
        """The active specialists of `unit` and the units below it, in a fixed order."""
        if unit.pk not in self._people:
            self._people[unit.pk] = list(
                User.objects.filter(is_active=True, role=Role.SPECIALIST, unit__path__startswith=unit.path)
                .select_related("unit").order_by("id")
            )
        return self._people[unit.pk]

    def next_in_round(self, rule: LeadAssignmentRule, *, exclude: int | None = None):
        people = [p for p in self.specialists(rule.unit) if p.pk != exclude]
        if not people:
            return None
        if rule.pk not in self._last:
            self._last[rule.pk] = (
                LeadAssignmentRule.objects.select_for_update().filter(pk=rule.pk)
                .values_list("last_assignee_id", flat=True).first()
            )
        last = self._last[rule.pk]
        chosen = next((p for p in people if last is not None and p.pk > last), people[0])
        self._last[rule.pk] = chosen.pk
        self._moved.add(rule.pk)
        return chosen

    def route(self, lead: Lead, *, actor) -> tuple[LeadAssignmentRule | None, OrgUnit | None, Any]:
        """(rule, unit, assignee) for a new lead. Without a matching rule a specialist keeps
        the lead they enter; anyone else leaves it unassigned in their unit for a manager."""
        rule = self.rule_for(lead)
        if rule is None:
            if actor is not None and actor.is_specialist and actor.unit_id is not None:
                return None, actor.unit, actor
            return None, getattr(actor, "unit", None), None
        if rule.assignee_id is not None and rule.assignee.is_active:
            person = rule.assignee
        else:
            person = self.next_in_round(rule)
        return rule, (person.unit if person is not None and person.unit_id else rule.unit), person

    def save(self) -> None:
        for rule_id in self._moved:
            LeadAssignmentRule.objects.filter(pk=rule_id).update(last_assignee_id=self._last[rule_id])
        self._moved.clear()


def follow_up_due(assigned_at: datetime) -> datetime:
    return assigned_at + timedelta(hours=kam_setting("LEAD_FOLLOW_UP_HOURS"))


def clock_start(lead: Lead, person, unit: OrgUnit | None, at: datetime) -> None:
    """Give an open lead to `person` in `unit` at `at`: a new deadline unless it has been
    followed up already, and no escalation pending."""
    lead.assignee = person
    lead.unit = unit
    lead.escalated_at = None
    lead.escalated_to = None
    if person is None:
        lead.assigned_at = lead.follow_up_due_at = None
    else:
        lead.assigned_at = at
        # A lead already followed up has no clock to start again.
        lead.follow_up_due_at = None if lead.followed_up_at else follow_up_due(at)
    lead.status = LeadStatus.FOLLOWING if lead.followed_up_at else LeadStatus.NEW


def follow_up_task(lead: Lead, created_by) -> Task | None:
    """The assignee's task to follow the lead up by its deadline (unsaved); None without a clock."""
    if lead.assignee is None or lead.follow_up_due_at is None:
        return None
    return Task(
        owner=lead.assignee, account=lead.account, source_kind=TaskSource.LEAD, source_id=lead.pk,
        title=(_("Follow up lead %(company)s") % {"company": lead.company})[:200],
        due_on=timezone.localdate(lead.follow_up_due_at), created_by=created_by or lead.assignee,
    )


def _open_task(task: Task | None, actor) -> None:
    if task is not None:
        _save(task, actor)


def _close_tasks(lead: Lead, status: str, actor, at: datetime) -> None:
    for task in Task.objects.select_for_update().filter(
        source_kind=TaskSource.LEAD, source_id=lead.pk, status=TaskStatus.OPEN
    ):
        task.status = status
        task.done_at = at if status == TaskStatus.DONE else None
        _save(task, actor)


# --- creating ------------------------------------------------------------------------------


def _pk(value) -> int | None:
    """An id given as an object, a number or digits; None when it cannot be one."""
    value = value.pk if hasattr(value, "pk") else value
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def _reference(model, value, field: str):
    """An active list entry (source, region, industry) by object, id or code."""
    if value in (None, ""):
        return None
    qs = model.objects.filter(is_active=True)
    pk = _pk(value)
    found = qs.filter(pk=pk).first() if pk is not None else qs.filter(code=str(value).strip()[:32]).first()
    if found is None:
        raise _refused(field, _("Choose one of the listed values."))
    return found


def _amount(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise _refused(field, _("Enter an amount in yuan, e.g. 120000 or 120000.50.")) from None
    if amount < 0 or amount >= Decimal("1e14"):
        raise _refused(field, _("Enter an amount from 0 to 99,999,999,999,999.99 yuan."))
    return amount


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
            setattr(lead, name, _reference(model, data.get(name), name))
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
        lead.estimated_amount = _amount(data.get("estimated_amount"), "estimated_amount")
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


def _chosen_assignee(actor, assignee):
    """A person `actor` names as assignee: themselves, or someone in the units they manage."""
    pk = _pk(assignee)
    found = assignable_owners(actor).select_related("unit").filter(pk=pk).first() if pk else None
    if found is None:
        raise _refused("assignee", _("Choose an active person in the units you manage."))
    return found


@transaction.atomic
def lead_create(*, actor, data: dict[str, Any], assignee=None, at: datetime | None = None) -> Lead:
    """A new lead. With `assignee` (someone `actor` may assign) it goes to that person;
    otherwise the first matching active rule assigns it. The SLA clock starts at once."""
    at = _now(at)
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
    _save(lead, actor)
    _open_task(follow_up_task(lead, actor), actor)
    return lead


# --- working a lead ----------------------------------------------------------------------


def lead_to_change(actor, pk: int) -> Lead:
    """The lead, locked, if `actor` sees it (404 otherwise) and may work it: its assignee,
    or a manager, director, general manager or admin above it."""
    lead = (
        Lead.objects.visible_to(actor).select_for_update(of=("self",))
        .select_related("assignee", "assignee__unit", "unit", "source").filter(pk=pk).first()
    )
    if lead is None:
        raise NotVisible(_("Not found."))
    if lead.assignee_id != actor.pk and not (actor.is_superuser or actor.role in ASSIGNING_ROLES):
        raise PermissionDenied(_("Only the assignee of this lead or their managers may work it."))
    return lead


def _must_be_open(lead: Lead) -> None:
    if not lead.is_open:
        raise Conflict(
            _("This lead is closed (%(status)s).") % {"status": lead.get_status_display()},
            errors={"status": [lead.get_status_display()]},
        )


def _check_time(at: datetime, field: str) -> datetime:
    limit = timezone.now() + timedelta(minutes=kam_setting("ACTIVITY_FUTURE_TOLERANCE_MINUTES"))
    if at > limit:
        raise _refused(field, _("This time is in the future."))
    return at


@transaction.atomic
def lead_assign(*, actor, lead: Lead, assignee, at: datetime | None = None) -> Lead:
    """A manager gives the lead to a person of the units they manage; the clock starts again
    (unless the lead has been followed up) and the former assignee's task is cancelled."""
    lead = lead_to_change(actor, lead.pk)
    if not (actor.is_superuser or actor.role in ASSIGNING_ROLES):
        raise PermissionDenied(_("Only managers assign leads."))
    _must_be_open(lead)
    person = _chosen_assignee(actor, assignee)
    at = _now(at)
    if person.pk == lead.assignee_id:
        return lead
    _close_tasks(lead, TaskStatus.CANCELLED, actor, at)
    clock_start(lead, person, person.unit, at)
    _save(lead, actor)
    _open_task(follow_up_task(lead, actor), actor)
    return lead


@transaction.atomic
def lead_follow_up(*, actor, lead: Lead, note: str, plan: str = "", at: datetime | None = None) -> LeadFollowUp:
    """Record what was done and the plan. The first follow-up stops the SLA clock: the lead
    is being followed up, and its open tasks (the assignee's, an escalated manager's) are done."""
    lead = lead_to_change(actor, lead.pk)
    _must_be_open(lead)
    at = _check_time(_now(at), "at")
    note = (note or "").strip()
    if not note:
        raise _refused("note", _("Say what was done."))
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
        _save(lead, actor)
        _close_tasks(lead, TaskStatus.DONE, actor, at)
    return follow_up


@transaction.atomic
def lead_disqualify(*, actor, lead: Lead, note: str, at: datetime | None = None) -> Lead:
    """Not a real need, a competitor, a duplicate…: the reason is required."""
    lead = lead_to_change(actor, lead.pk)
    _must_be_open(lead)
    note = (note or "").strip()
    if not note:
        raise _refused("note", _("Say why the lead is disqualified."))
    at = _now(at)
    lead.status = LeadStatus.DISQUALIFIED
    lead.closed_at = at
    lead.close_note = note[:500]
    lead.follow_up_due_at = None
    _save(lead, actor)
    _close_tasks(lead, TaskStatus.CANCELLED, actor, at)
    return lead


# --- qualification -------------------------------------------------------------------------


_LIFECYCLE_ORDER = [LifecycleStatus.UNIDENTIFIED, LifecycleStatus.PROSPECT, LifecycleStatus.OPPORTUNITY]


def _raise_lifecycle(actor, account: Account, status: str) -> Account:
    """An unidentified or prospect account moves up to `status`; later states stay."""
    current = account.lifecycle_status
    if current in _LIFECYCLE_ORDER and _LIFECYCLE_ORDER.index(current) < _LIFECYCLE_ORDER.index(status):
        return account_update(actor=actor, account=account, data={"lifecycle_status": status})
    return account


def _add_contact(actor, account: Account, lead: Lead) -> None:
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


def _account_for(actor, lead: Lead, *, account, confirm_new_account: bool, lifecycle: str, owner) -> Account:
    if account not in (None, ""):
        pk = _pk(account)
        found = Account.objects.visible_to(actor).filter(pk=pk).first() if pk else None
        if found is None:
            raise _refused("account", _("No such account."))
        return _raise_lifecycle(actor, found, lifecycle)
    if not confirm_new_account:
        from kam.sales.lead_selectors import lead_account_candidates

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
    actor,
    lead: Lead,
    outcome: str,
    account=None,
    confirm_new_account: bool = False,
    opportunity_name: str = "",
    amount=None,
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
        raise _refused("outcome", _("Choose opportunity or nurture."))
    at = _now(at)
    status = QUALIFY_OUTCOMES[outcome]
    errors: dict[str, list[str]] = {}
    if status == LeadStatus.QUALIFIED:
        try:
            amount = _amount(amount, "amount")
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
    if lead.assignee_id and lead.assignee_id != actor.pk and assignable_owners(actor).filter(pk=lead.assignee_id).exists():
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
    _save(lead, actor)
    _close_tasks(lead, TaskStatus.DONE, actor, at)
    return lead


# --- the SLA sweep ---------------------------------------------------------------------------


def manager_of(person, _cache: dict | None = None):
    """Who a person's lead escalates to: a manager or director of their own unit, else of
    the nearest unit above that has one."""
    if person is None or person.unit_id is None:
        return None
    cache = _cache if _cache is not None else {}
    key = (person.unit_id, person.pk)
    if key not in cache:
        chain = [int(part) for part in person.unit.path.strip("/").split("/") if part]
        candidates = list(
            User.objects.filter(is_active=True, role__in=ESCALATION_ROLES, unit_id__in=chain)
            .exclude(pk=person.pk).order_by("id")
        )
        found = None
        for unit_id in reversed(chain):
            found = next((u for u in candidates if u.unit_id == unit_id), None)
            if found is not None:
                break
        cache[key] = found
    return cache[key]


def _escalate(lead: Lead, now: datetime, managers: dict) -> None:
    manager = manager_of(lead.assignee, managers)
    lead.status = LeadStatus.ESCALATED
    lead.escalated_at = now
    lead.escalated_to = manager
    _save(lead, None)
    if manager is not None:
        _save(Task(
            owner=manager, account=lead.account, source_kind=TaskSource.LEAD, source_id=lead.pk,
            title=(_("Lead %(company)s has no follow-up from %(person)s") % {
                "company": lead.company, "person": lead.assignee})[:200],
            due_on=timezone.localdate(now), created_by=manager,
        ), None)


def _reassign(lead: Lead, now: datetime, router: LeadRouter) -> bool:
    """Another person of the rule's unit (or the assignee's) by round robin; without one,
    the manager the lead escalated to. False when there is nobody to give it to."""
    rule = next((r for r in router.rules if r.pk == lead.rule_id), None)
    person = None
    if rule is not None:
        person = router.next_in_round(rule, exclude=lead.assignee_id)
    elif lead.assignee is not None and lead.assignee.unit_id is not None:
        people = [p for p in router.specialists(lead.assignee.unit) if p.pk != lead.assignee_id]
        person = next((p for p in people if p.pk > lead.assignee_id), people[0] if people else None)
    if person is None and lead.escalated_to_id and lead.escalated_to_id != lead.assignee_id:
        person = lead.escalated_to
    if person is None or not person.is_active:
        return False
    _close_tasks(lead, TaskStatus.CANCELLED, None, now)
    clock_start(lead, person, person.unit, now)
    lead.reassignments += 1
    _save(lead, None)
    _open_task(follow_up_task(lead, None), None)
    return True


def lead_sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Escalate assigned leads past their follow-up deadline; reassign escalated leads still
    without a follow-up LEAD_REASSIGN_HOURS after escalation. Idempotent: a second run at the
    same time changes nothing. Reassignment runs first, so a lead escalated by this run is
    not also reassigned by it."""
    now = _now(now)
    reassign_before = now - timedelta(hours=kam_setting("LEAD_REASSIGN_HOURS"))
    overdue_escalated = Lead.objects.filter(
        status=LeadStatus.ESCALATED, followed_up_at__isnull=True, escalated_at__lte=reassign_before,
    )
    overdue_new = Lead.objects.filter(
        status=LeadStatus.NEW, followed_up_at__isnull=True, assignee__isnull=False, follow_up_due_at__lte=now,
    )
    summary = {"escalated": 0, "reassigned": 0}
    ids = list(overdue_escalated.order_by("id").values_list("pk", flat=True))
    for start in range(0, len(ids), SWEEP_BATCH):
        with transaction.atomic():
            router = LeadRouter()
            leads = overdue_escalated.select_for_update(of=("self",)).filter(pk__in=ids[start : start + SWEEP_BATCH])
            for lead in leads.select_related("assignee", "assignee__unit", "escalated_to").order_by("id"):
                summary["reassigned"] += _reassign(lead, now, router)
            router.save()
    ids = list(overdue_new.order_by("id").values_list("pk", flat=True))
    managers: dict = {}
    for start in range(0, len(ids), SWEEP_BATCH):
        with transaction.atomic():
            leads = overdue_new.select_for_update(of=("self",)).filter(pk__in=ids[start : start + SWEEP_BATCH])
            for lead in leads.select_related("assignee", "assignee__unit").order_by("id"):
                _escalate(lead, now, managers)
                summary["escalated"] += 1
    return summary
