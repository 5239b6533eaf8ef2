"""Editing the lead assignment rules: create, change, reorder, deactivate and delete.

Who may: headquarters (admins, and directors or managers attached to the root unit) every
rule; a branch's manager or director the rules whose unit lies inside their own subtree —
and only for such a unit, so no branch can make a rule that takes another branch's leads.
Everyone else reads the rules. Reordering swaps a rule with its neighbour, so a manager may
move a rule only past a neighbour they manage too: where one branch's rules stand against
another's is for headquarters to decide. New rules go last.

Every change goes through the model with the actor recorded, so the rule's history shows
who changed what; the order in which rules are tried is kam.sales.leads.routing's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils.translation import gettext as _

from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed, refused
from kam.core.models import Industry, OrgUnit, Region, Role
from kam.core.policies import require
from kam.sales.leads import policies
from kam.sales.leads.services import given_id, reference_item
from kam.sales.models import Lead, LeadAssignmentRule, LeadSource

User = get_user_model()

# Fields a client may write on a rule; the order and the round robin's place never.
RULE_FIELDS = frozenset({"name", "region", "industry", "source", "unit", "assignee"})
# Roles a rule may never name as the person who gets its leads: they do not work leads.
NOT_ASSIGNABLE_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
# Gap between neighbours when the order is renumbered, and after the last rule for a new one.
ORDER_STEP = 10
DIRECTIONS = ("up", "down")


def _unit(actor, value) -> OrgUnit:
    pk = given_id(value)
    unit = OrgUnit.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if unit is None:
        raise refused("unit", _("Choose an active unit."))
    if not policies.may_manage_rule(actor, unit):
        raise PermissionDenied(
            _("You may only make rules for units in your part of the organisation."),
            errors={"unit": [_("Choose a unit in your part of the organisation.")]},
        )
    return unit


def _person(value, unit: OrgUnit):
    if value in (None, ""):
        return None
    pk = given_id(value)
    person = User.objects.select_related("unit").filter(pk=pk).first() if pk is not None else None
    if person is None or not person.is_active or person.unit_id is None:
        raise refused("assignee", _("Choose an active person."))
    if person.role in NOT_ASSIGNABLE_ROLES:
        raise refused("assignee", _("%(role)s do not work leads; choose someone who does.")
                       % {"role": person.get_role_display()})
    if not person.unit.path.startswith(unit.path):
        raise refused("assignee", _("Choose someone in %(unit)s or a unit below it.") % {"unit": unit})
    return person


def _save(rule: LeadAssignmentRule, actor, fields: list[str] | None = None) -> None:
    """Save with `actor` in the history. Only the named fields on an update, so the round
    robin's place, which the router writes on its own, is never put back to an old value."""
    rule._history_user = actor
    rule.save(update_fields=fields)


def _locked(rule: LeadAssignmentRule) -> LeadAssignmentRule:
    found = (LeadAssignmentRule.objects.select_for_update().select_related("unit")
             .filter(pk=getattr(rule, "pk", rule)).first())
    if found is None:
        raise NotVisible(_("Not found."))
    return found


def _must_manage(actor, rule: LeadAssignmentRule) -> None:
    if not policies.may_manage_rule(actor, rule):
        raise PermissionDenied(_("Only headquarters or a manager of %(unit)s may change this rule.")
                               % {"unit": rule.unit})


@transaction.atomic
def lead_rule_save(*, actor, rule: LeadAssignmentRule | None = None, data: dict[str, Any]) -> LeadAssignmentRule:
    """Create a rule (placed last) or change `rule`. A rule without conditions catches every
    lead that reaches it; that is allowed, and belongs at the end of the list."""
    require(policies.may_manage_rule(actor), _("Only headquarters and branch managers may change the assignment rules."))
    if rule is not None:
        rule = _locked(rule)
        _must_manage(actor, rule)
    if unknown := sorted(set(data) - RULE_FIELDS):
        raise ValidationFailed(
            _("These fields cannot be set: %(fields)s.") % {"fields": ", ".join(unknown)},
            errors={name: [_("This field cannot be set.")] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    target = rule if rule is not None else LeadAssignmentRule()
    target.name = str(data.get("name") or "").strip()
    if not target.name:
        errors["name"] = [_("Name the rule.")]
    for name, model in (("region", Region), ("industry", Industry), ("source", LeadSource)):
        try:
            setattr(target, name, reference_item(model, data.get(name), name))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    unit = None
    try:
        unit = _unit(actor, data.get("unit"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if unit is not None:
        target.unit = unit
        try:
            target.assignee = _person(data.get("assignee"), unit)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    try:
        target.full_clean(exclude=[*errors, "unit", "assignee", "last_assignee"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), errors=errors)
    if rule is None:
        last = LeadAssignmentRule.objects.aggregate(last=Max("sort_order"))["last"]
        target.sort_order = (last or 0) + ORDER_STEP
        _save(target, actor)
    else:
        _save(target, actor, ["name", "region", "industry", "source", "unit", "assignee"])
    return target


@transaction.atomic
def lead_rule_move(*, actor, rule: LeadAssignmentRule, direction: str) -> LeadAssignmentRule:
    """Swap `rule` with the rule above ("up") or below ("down") it in the order the rules are
    tried (inactive ones included, as the list shows them). Ties in the order are first
    renumbered 10, 20, 30… so that the swap means something. At either end nothing moves."""
    if direction not in DIRECTIONS:
        raise refused("direction", _("Move a rule up or down."))
    rule = _locked(rule)
    _must_manage(actor, rule)
    rules = list(LeadAssignmentRule.objects.select_for_update().select_related("unit").order_by("sort_order", "id"))
    at = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    other_at = at - 1 if direction == "up" else at + 1
    if not 0 <= other_at < len(rules):
        return rules[at]
    if not policies.may_manage_rule(actor, rules[other_at]):
        raise PermissionDenied(
            _("The neighbouring rule “%(name)s” is for %(unit)s, outside your part of the organisation; "
              "ask headquarters to change the order.") % {"name": rules[other_at], "unit": rules[other_at].unit})
    orders = [r.sort_order for r in rules]
    if any(a >= b for a, b in zip(orders, orders[1:], strict=False)):
        for i, r in enumerate(rules):
            if r.sort_order != (i + 1) * ORDER_STEP:
                r.sort_order = (i + 1) * ORDER_STEP
                _save(r, actor, ["sort_order"])
    mine, other = rules[at], rules[other_at]
    mine.sort_order, other.sort_order = other.sort_order, mine.sort_order
    _save(mine, actor, ["sort_order"])
    _save(other, actor, ["sort_order"])
    return mine


@transaction.atomic
def lead_rule_set_active(*, actor, rule: LeadAssignmentRule, active: bool) -> LeadAssignmentRule:
    """Switch a rule on or off; an inactive rule keeps its place and is skipped by the router."""
    rule = _locked(rule)
    _must_manage(actor, rule)
    if rule.is_active != bool(active):
        rule.is_active = bool(active)
        _save(rule, actor, ["is_active"])
    return rule


@transaction.atomic
def lead_rule_delete(*, actor, rule: LeadAssignmentRule) -> None:
    """Delete a rule no lead was assigned by; a rule that assigned leads stays for the record
    (each lead names its rule) and can only be deactivated."""
    rule = _locked(rule)
    _must_manage(actor, rule)
    if lead_rule_in_use(rule):
        raise Conflict(
            _("Leads were assigned by the rule “%(name)s”, so it stays for the record: deactivate it instead.")
            % {"name": rule},
        )
    rule._history_user = actor
    rule.delete()


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    """A rule as the list shows it: its place, what `user` may do with it, and whether an
    earlier active rule without conditions already catches every lead before it."""

    rule: LeadAssignmentRule
    position: int
    in_use: bool
    may_manage: bool
    may_move_up: bool
    may_move_down: bool
    unreachable: bool

    @property
    def catches_everything(self) -> bool:
        return self.rule.region_id is None and self.rule.industry_id is None and self.rule.source_id is None


def lead_rule_rows(*, user) -> list[RuleRow]:
    """Every rule in the order they are tried (everyone may read where a lead goes), with
    `user`'s permissions; two queries whatever the number of rules."""
    rules = list(
        LeadAssignmentRule.objects.select_related("region", "industry", "source", "unit", "assignee", "last_assignee")
        .annotate(in_use=Exists(Lead.objects.filter(rule=OuterRef("pk"))))
        .order_by("sort_order", "id")
    )
    manages = [policies.may_manage_rule(user, rule) for rule in rules]
    rows, caught = [], False
    for i, rule in enumerate(rules):
        row = RuleRow(
            rule=rule, position=i + 1, in_use=rule.in_use, may_manage=manages[i],
            may_move_up=manages[i] and i > 0 and manages[i - 1],
            may_move_down=manages[i] and i + 1 < len(rules) and manages[i + 1],
            unreachable=caught and rule.is_active,
        )
        caught = caught or (rule.is_active and row.catches_everything)
        rows.append(row)
    return rows


def lead_rule_in_use(rule: LeadAssignmentRule) -> bool:
    return Lead.objects.filter(rule=rule).exists()
