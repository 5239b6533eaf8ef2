"""Who works a lead and by when: the assignment rules' round robin, the follow-up clock and
its tasks, and the nightly sweep that escalates and reassigns (see kam.sales.leads).

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

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.activities.models import TaskSource, TaskStatus
from kam.activities.services import NewTask, tasks_close_from, tasks_open_many
from kam.core.bulk import insert_history
from kam.core.conf import config
from kam.core.models import OrgUnit, Region, Role
from kam.sales.models import Lead, LeadAssignmentRule, LeadStatus

User = get_user_model()

ESCALATION_ROLES = (Role.MANAGER, Role.DIRECTOR)
# Leads handled per transaction by the sweep: a crash leaves whole batches, and a long
# night's backlog never holds the database for long.
SWEEP_BATCH = 500


def save_as(obj, actor) -> None:
    """Save with `actor` as the history row's user (None for the nightly sweep)."""
    obj._history_user = actor
    obj.save()


def aware(at: datetime | None) -> datetime:
    """`at` as an aware time (naive means local time); now when None."""
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
    return assigned_at + timedelta(hours=config().LEAD_FOLLOW_UP_HOURS)


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


def follow_up_task(lead: Lead, created_by) -> NewTask | None:
    """The assignee's task to follow the lead up by its deadline; None without a clock."""
    if lead.assignee_id is None or lead.follow_up_due_at is None:
        return None
    return NewTask(
        owner_id=lead.assignee_id, account_id=lead.account_id, source_kind=TaskSource.LEAD, source_id=lead.pk,
        title=_("Follow up lead %(company)s") % {"company": lead.company},
        due_on=timezone.localdate(lead.follow_up_due_at),
        created_by_id=created_by.pk if created_by is not None else lead.assignee_id,
    )


def open_task(task: NewTask | None, actor) -> None:
    if task is not None:
        tasks_open_many(actor=actor, tasks=[task])


def close_tasks(lead: Lead, status: str, actor, at: datetime) -> None:
    tasks_close_from(actor=actor, source_kind=TaskSource.LEAD, source_id=lead.pk, status=status, at=at)


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


def _escalate(leads: list[Lead], now: datetime, managers: dict) -> int:
    """Escalate `leads` (locked) to their assignees' managers: one UPDATE per manager, the
    history rows and the managers' tasks in bulk, not a save and a task per lead."""
    tasks, by_manager = [], {}
    for lead in leads:
        manager = manager_of(lead.assignee, managers)
        lead.status, lead.escalated_at, lead.escalated_to = LeadStatus.ESCALATED, now, manager
        lead._history_user = None
        by_manager.setdefault(manager.pk if manager is not None else None, []).append(lead.pk)
        if manager is not None:
            tasks.append(NewTask(
                owner_id=manager.pk, account_id=lead.account_id, source_kind=TaskSource.LEAD, source_id=lead.pk,
                title=_("Lead %(company)s has no follow-up from %(person)s") % {
                    "company": lead.company, "person": lead.assignee},
                due_on=timezone.localdate(now), created_by_id=manager.pk,
            ))
    for manager_id, ids in by_manager.items():
        Lead.objects.filter(pk__in=ids).update(status=LeadStatus.ESCALATED, escalated_at=now, escalated_to_id=manager_id)
    if leads:
        insert_history(Lead, leads)
    tasks_open_many(actor=None, tasks=tasks)
    return len(leads)


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
    close_tasks(lead, TaskStatus.CANCELLED, None, now)
    clock_start(lead, person, person.unit, now)
    lead.reassignments += 1
    save_as(lead, None)
    open_task(follow_up_task(lead, None), None)
    return True


def lead_sla_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Escalate assigned leads past their follow-up deadline; reassign escalated leads still
    without a follow-up LEAD_REASSIGN_HOURS after escalation. Idempotent: a second run at the
    same time changes nothing. Reassignment runs first, so a lead escalated by this run is
    not also reassigned by it."""
    now = aware(now)
    reassign_before = now - timedelta(hours=config().LEAD_REASSIGN_HOURS)
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
            summary["escalated"] += _escalate(list(leads.select_related("assignee", "assignee__unit").order_by("id")),
                                              now, managers)
    return summary
