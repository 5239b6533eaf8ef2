"""Logging activities and working tasks, through the services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kam.activities import selectors, services
from kam.activities.models import Activity, Task, TaskSource, TaskStatus
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def test_decision_maker_met_follows_the_contacts_roles(org, world, log_activity):
    # given an account with a decision maker and a user-level contact
    # when one visit meets only the clerk and another meets the boss too
    clerk_only = log_activity(org.specialist_a, world.a, contacts=[world.clerk_a])
    with_boss = log_activity(org.specialist_a, world.a, contacts=[world.clerk_a.pk, world.boss_a.pk])
    # then only the second counts as a decision-maker meeting
    assert clerk_only.decision_maker_met is False
    assert with_boss.decision_maker_met is True
    assert set(with_boss.contacts.values_list("name", flat=True)) == {"李总", "小陈"}


def test_the_logging_user_is_always_a_participant(org, world, log_activity):
    activity = log_activity(org.specialist_a, world.a, participants=[org.manager_a])
    assert set(activity.participants.all()) == {org.specialist_a, org.manager_a}


def test_contacts_of_another_account_are_refused_and_nothing_is_written(org, world, log_activity):
    # given a director who sees both accounts
    # when a visit to A names B's decision maker among the contacts met
    with pytest.raises(ValidationFailed) as refused:
        log_activity(org.director, world.a, contacts=[world.boss_a, world.boss_b], next_step="报价", next_step_due=timezone.localdate())
    # then the contacts field is named and no activity and no task exist
    assert "contacts" in refused.value.errors
    assert Activity.objects.count() == 0 and Task.objects.count() == 0


def test_participants_from_another_branch_are_refused(org, world, log_activity):
    with pytest.raises(ValidationFailed) as refused:
        log_activity(org.specialist_a, world.a, participants=[org.specialist_b])
    assert "participants" in refused.value.errors
    assert Activity.objects.count() == 0


def test_a_future_time_is_refused_a_moment_ahead_is_not(org, world, log_activity):
    with pytest.raises(ValidationFailed) as refused:
        log_activity(org.specialist_a, world.a, occurred_at=timezone.now() + timedelta(days=1))
    assert "occurred_at" in refused.value.errors
    assert log_activity(org.specialist_a, world.a, occurred_at=timezone.now() + timedelta(minutes=2)).pk


def test_summary_is_required(org, world, log_activity):
    with pytest.raises(ValidationFailed) as refused:
        log_activity(org.specialist_a, world.a, summary="  ")
    assert "summary" in refused.value.errors


def test_next_step_with_a_date_becomes_the_actors_task(org, world, log_activity):
    # given a visit with a next step due in a week
    due = timezone.localdate() + timedelta(days=7)
    activity = log_activity(org.specialist_a, world.a, next_step="提交正式报价", next_step_due=due)
    # then specialist A has one open task linked to the visit
    [task] = selectors.my_tasks(user=org.specialist_a)
    assert (task.title, task.due_on, task.account, task.status) == ("提交正式报价", due, world.a, TaskStatus.OPEN)
    assert (task.source_kind, task.source_id) == (TaskSource.ACTIVITY, activity.pk)
    # and a next step without a date is kept as text only
    log_activity(org.specialist_a, world.a, next_step="保持联系")
    assert Task.objects.count() == 1


def test_a_due_date_needs_a_next_step(org, world, log_activity):
    with pytest.raises(ValidationFailed) as refused:
        log_activity(org.specialist_a, world.a, next_step_due=timezone.localdate())
    assert "next_step" in refused.value.errors


def test_logging_against_an_invisible_account_is_not_found(org, world, log_activity):
    with pytest.raises(NotVisible):
        log_activity(org.specialist_a, world.b)
    assert Activity.objects.count() == 0


@pytest.fixture
def task_a(org, world, log_activity):
    log_activity(org.specialist_a, world.a, next_step="回访", next_step_due=timezone.localdate())
    return Task.objects.get()


def test_the_owner_completes_their_task(org, task_a):
    done = services.task_complete(actor=org.specialist_a, task=task_a)
    assert done.status == TaskStatus.DONE and done.done_at is not None
    with pytest.raises(Conflict):
        services.task_complete(actor=org.specialist_a, task=task_a)


def test_managers_up_the_tree_and_hq_may_change_a_task(org, task_a):
    services.task_cancel(actor=org.manager_a, task=task_a)
    task_a.refresh_from_db()
    assert task_a.status == TaskStatus.CANCELLED
    other = services.task_create(actor=org.specialist_a, title="整理资料", due_on=timezone.localdate())
    assert services.task_complete(actor=org.director, task=other).status == TaskStatus.DONE


def test_other_people_may_not_change_a_task(org, world, task_a):
    # a team member of the account sees the task but is not its owner nor above them
    from kam.accounts.services import team_member_add

    team_member_add(actor=org.manager_a, account=world.a, user=org.specialist_a2, team_role="backup")
    with pytest.raises(PermissionDenied):
        services.task_complete(actor=org.specialist_a2, task=task_a)
    # another branch's manager does not even see it
    with pytest.raises(NotVisible):
        services.task_complete(actor=org.manager_b, task=task_a)
    task_a.refresh_from_db()
    assert task_a.status == TaskStatus.OPEN


def test_tasks_without_an_account_are_seen_by_the_owner_and_their_unit_managers(org):
    task = services.task_create(actor=org.specialist_a, title="周报", due_on=timezone.localdate())
    assert selectors.task_get(user=org.specialist_a, pk=task.pk)
    assert selectors.task_get(user=org.manager_a, pk=task.pk)
    assert selectors.task_get(user=org.director, pk=task.pk)
    assert selectors.task_get(user=org.manager_b, pk=task.pk) is None
    assert selectors.task_get(user=org.specialist_a2, pk=task.pk) is None


def test_tasks_are_given_only_within_the_units_one_manages(org, world):
    given = services.task_create(actor=org.manager_a, owner=org.specialist_a, title="拜访李总", account=world.a,
                                 due_on=timezone.localdate())
    assert given.owner == org.specialist_a
    with pytest.raises(ValidationFailed) as refused:
        services.task_create(actor=org.manager_a, owner=org.specialist_b, title="越权", due_on=timezone.localdate())
    assert "owner" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        services.task_create(actor=org.manager_a, owner=org.specialist_a2, title="看不到的客户", account=world.a,
                             due_on=timezone.localdate())
    assert "owner" in refused.value.errors


def test_activities_and_tasks_follow_a_merge(org, world, log_activity):
    from factories import AccountFactory
    from kam.accounts.merge import account_merge

    duplicate = AccountFactory(owner=org.specialist_a, name="广州天河智造科技")
    log_activity(org.specialist_a, duplicate, next_step="签约", next_step_due=timezone.localdate())
    account_merge(actor=org.specialist_a, survivor=world.a, merged=duplicate)
    assert [a.account for a in selectors.activity_timeline(user=org.specialist_a, account=world.a)] == [world.a]
    assert Task.objects.get().account == world.a


def test_timeline_is_newest_first(org, world, log_activity):
    now = timezone.now()
    old = log_activity(org.specialist_a, world.a, occurred_at=now - timedelta(days=30), kind="call")
    new = log_activity(org.specialist_a, world.a, occurred_at=now - timedelta(days=1))
    assert list(selectors.activity_timeline(user=org.specialist_a, account=world.a)) == [new, old]
    assert list(selectors.activity_timeline(user=org.specialist_b, account=world.a)) == []


def test_my_tasks_hold_exactly_my_visible_tasks_whatever_the_visibility_terms_are_joined_as(org, account_factory):
    from kam.accounts.models import AccountTeamMember, TeamRole
    from kam.accounts.ownership import give_owner

    # given tasks of a specialist on their own account, a team account, an account since given
    # to another branch, and one on no account
    own, team, gone = (account_factory(owner=o) for o in (org.specialist_a, org.specialist_b, org.specialist_a))
    AccountTeamMember.objects.create(account=team, user=org.specialist_a, team_role=TeamRole.TECHNICAL_SUPPORT)
    due = timezone.localdate()
    tasks = {name: Task.objects.create(owner=org.specialist_a, account=account, title=name, due_on=due,
                                       created_by=org.specialist_a)
             for name, account in (("own", own), ("team", team), ("gone", gone), ("loose", None))}
    give_owner(actor=org.admin, account=gone, owner=org.specialist_b, unit=org.office_b1, reason="test")

    # then the list holds the tasks of the accounts they still see and the one on no account
    assert {t.title for t in selectors.my_tasks(user=org.specialist_a)} == {"own", "team", "loose"}
    # and for everyone, the joined terms see the same tasks as the others
    for user in (org.director, org.manager_a, org.manager_b, org.specialist_a, org.specialist_b):
        assert set(Task.objects.visible_to(user, joined=True)) == set(Task.objects.visible_to(user)), user
    assert tasks["gone"] in Task.objects.visible_to(org.specialist_b, joined=True)
