"""Who may do what with activities and tasks. Services enforce these; views, the API and
templates ask them. What a user may see is `visible_to(user)`."""

from __future__ import annotations

from typing import Any

from kam.activities.models import Task
from kam.core.models import Role
from kam.core.policies import is_active_user

# Roles that steer the people below them in the org tree and may act on their tasks.
MANAGING_ROLES = frozenset({Role.MANAGER, Role.DIRECTOR, Role.GENERAL_MANAGER})


def manages(user: Any, person: Any) -> bool:
    """Whether `user` steers `person`: HQ steers everyone, managers the people of the units they see."""
    if user.sees_everything:
        return True
    return user.role in MANAGING_ROLES and person.unit_id in user.visible_unit_ids


def may_change_task(user: Any, task: Task) -> bool:
    """The owner, managers above the owner in the org tree, and HQ may work a task."""
    if not is_active_user(user):
        return False
    if task.owner_id == user.pk or user.sees_everything:
        return True
    return user.role in MANAGING_ROLES and task.owner.unit_id in user.visible_unit_ids


def may_give_task_to(user: Any, owner: Any) -> bool:
    """Anyone gives themselves a task; managers and HQ give tasks to the active people they steer."""
    if not is_active_user(user):
        return False
    if owner.pk == user.pk:
        return True
    return bool(owner.is_active) and manages(user, owner)
