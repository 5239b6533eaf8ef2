"""Who may work, assign and route leads: services enforce these, pages and the API ask them."""

from __future__ import annotations

from typing import Any

from kam.core.models import OrgUnit, Role
from kam.sales.models import Lead, LeadAssignmentRule

# Roles that assign leads and work any lead they see.
ASSIGNING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER, Role.ADMIN})
# Roles that manage the rules of their own subtree (all of them from headquarters).
MANAGING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR})


def may_assign(user: Any, lead: Lead | None = None) -> bool:
    """Managers, directors, the general manager and admins give leads to people."""
    return bool(user.is_superuser or user.role in ASSIGNING_ROLES)


def may_work(user: Any, lead: Lead) -> bool:
    """The lead's assignee, or someone who assigns leads, follows it up, qualifies or drops it."""
    return lead.assignee_id == user.pk or may_assign(user)


def may_manage_rule(actor: Any, rule_or_unit: LeadAssignmentRule | OrgUnit | None = None) -> bool:
    """Whether `actor` may change `rule_or_unit` (a rule, or a unit a rule would target).
    Without one: whether `actor` manages any rules at all (may open the new-rule form)."""
    if actor is None or not actor.is_active:
        return False
    if actor.is_superuser or actor.role == Role.ADMIN:
        return True
    if actor.role not in MANAGING_ROLES or actor.unit_id is None:
        return False
    if rule_or_unit is None:
        return True
    unit_id = rule_or_unit.unit_id if isinstance(rule_or_unit, LeadAssignmentRule) else rule_or_unit.pk
    return actor.sees_everything or unit_id in actor.visible_unit_ids
