"""Who sees which task: a task of an account is seen by whoever sees the account (its branch's
managers, its owner, its team, HQ) and by nobody once the account is in the recycle bin; a task
without an account by its owner, those who see the owner's unit, and HQ."""

from __future__ import annotations

from datetime import date

import pytest

from factories import AccountFactory
from kam.accounts.models import AccountTeamMember, TeamRole
from kam.accounts.recycle.services import account_delete
from kam.activities.models import Task

pytestmark = pytest.mark.django_db


def test_each_role_sees_exactly_the_tasks_of_what_it_sees(org):
    def task(title, owner, account=None):
        return Task.objects.create(owner=owner, account=account, title=title, due_on=date(2026, 12, 31),
                                   created_by=owner)

    a_own = AccountFactory(owner=org.specialist_a)
    a_other = AccountFactory(owner=org.specialist_a2)
    b_own = AccountFactory(owner=org.specialist_b)
    b_team = AccountFactory(owner=org.specialist_b)
    AccountTeamMember.objects.create(account=b_team, user=org.specialist_a, team_role=TeamRole.TECHNICAL_SUPPORT)
    gone = AccountFactory(owner=org.specialist_a)
    tasks = {
        "a own": task("a own", org.specialist_a, a_own),
        "a other": task("a other", org.specialist_a2, a_other),
        "b own": task("b own", org.specialist_b, b_own),
        "b team": task("b team", org.specialist_b, b_team),
        "gone": task("gone", org.specialist_a, gone),
        "loose a": task("loose a", org.specialist_a),
        "loose b": task("loose b", org.specialist_b),
    }
    account_delete(actor=org.admin, account=gone)

    def seen(user) -> set[str]:
        ids = set(Task.objects.visible_to(user).values_list("pk", flat=True))
        return {name for name, t in tasks.items() if t.pk in ids}

    assert seen(org.director) == {"a own", "a other", "b own", "b team", "loose a", "loose b"}
    assert seen(org.manager_a) == {"a own", "a other", "loose a"}
    assert seen(org.specialist_a) == {"a own", "b team", "loose a"}
    assert seen(org.manager_b) == {"b own", "b team", "loose b"}
    assert seen(org.specialist_b) == {"b own", "b team", "loose b"}
