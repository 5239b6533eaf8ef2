"""Each activities policy, asked directly and enforced by its service with no view in between:
a role the policy denies gets the refusal and nothing is written."""

from __future__ import annotations

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from kam.activities import policies, services
from kam.activities.compliance import policies as compliance_policies
from kam.activities.compliance import services as compliance_services
from kam.activities.models import (
    Playbook,
    PlaybookStep,
    ServiceStandard,
    Task,
    TaskSource,
    TaskStatus,
)
from kam.activities.planning import policies as planning_policies
from kam.activities.planning import services as planning_services
from kam.activities.playbooks import policies as playbook_policies
from kam.activities.playbooks import services as playbook_services
from kam.activities.staffing import policies as staffing_policies
from kam.activities.staffing.selectors import staffing_for
from kam.core.errors import NotVisible, PermissionDenied
from kam.tiering.models import Scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def standards(org):
    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    return Scheme.objects.get(code="monthly-spend")


@pytest.fixture
def playbooks(org):
    if not Playbook.objects.exists():
        importlib.import_module("kam.activities.migrations.0003_playbooks").seed(apps, None)
    return {p.stage: p for p in Playbook.objects.all()}


def test_a_task_is_changed_by_its_owner_their_managers_and_hq_only(org, world):
    task = services.task_create(actor=org.specialist_a, title="回访", due_on=timezone.localdate() + timedelta(days=3),
                                account=world.a)
    assert policies.may_change_task(org.specialist_a, task) and policies.may_change_task(org.manager_a, task)
    assert policies.may_change_task(org.director, task)
    assert not policies.may_change_task(org.specialist_a2, task) and not policies.may_change_task(org.manager_b, task)
    from kam.accounts.services import team_member_add

    # a team member sees the task, but the service refuses them
    team_member_add(actor=org.manager_a, account=world.a, user=org.specialist_a2, team_role="backup")
    with pytest.raises(PermissionDenied):
        services.task_cancel(actor=org.specialist_a2, task=task)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.history.count() == 1


def test_tasks_go_only_to_people_one_manages(org):
    assert policies.may_give_task_to(org.manager_a, org.specialist_a)
    assert not policies.may_give_task_to(org.specialist_a, org.specialist_a2)
    assert not policies.may_give_task_to(org.manager_b, org.specialist_a)


def test_only_hq_changes_a_service_standard(org, standards):
    standard = ServiceStandard.objects.get(scheme=standards, tier="K1")
    assert compliance_policies.may_change_standards(org.director)
    assert not compliance_policies.may_change_standards(org.manager_a)
    with pytest.raises(PermissionDenied):
        compliance_services.service_standard_update(actor=org.manager_a, standard=standard, visits=9)
    standard.refresh_from_db()
    assert standard.visits != 9 and not standard.history.exists()


def test_only_the_system_as_hq_creates_cadence_reminders(org, standards, world):
    assert not compliance_policies.may_create_reminders(org.manager_a)
    with pytest.raises(PermissionDenied):
        compliance_services.cadence_reminders_create(actor=org.manager_a, scheme=standards)
    assert not Task.objects.filter(source_kind=TaskSource.REMINDER).exists()


def test_only_hq_sees_and_changes_the_playbooks(org, playbooks):
    assert playbook_policies.may_view_playbooks(org.director) and playbook_policies.may_change_playbooks(org.admin)
    for role in (org.manager_a, org.specialist_a):
        assert not playbook_policies.may_view_playbooks(role) and not playbook_policies.may_change_playbooks(role)
    steps = PlaybookStep.objects.count()
    with pytest.raises(PermissionDenied):
        playbook_services.playbook_step_save(actor=org.manager_a, playbook=playbooks["initial"],
                                             data={"title": "私自加的步骤", "kind": "meeting"})
    assert PlaybookStep.objects.count() == steps


def test_visits_are_planned_for_oneself_or_by_those_above(org):
    assert planning_policies.may_plan_for(org.specialist_a, org.specialist_a)
    assert planning_policies.may_plan_for(org.manager_a, org.specialist_a)
    assert planning_policies.may_plan_for(org.director, org.specialist_b)
    assert not planning_policies.may_plan_for(org.specialist_a2, org.specialist_a)
    assert not planning_policies.may_plan_for(org.manager_b, org.specialist_a)
    # someone one may not plan for reads as not found: the service says nothing of them
    with pytest.raises(NotVisible):
        planning_services.visit_plan_create(actor=org.specialist_a2, user=org.specialist_a, month=date(2099, 10, 1))
    assert not Task.objects.filter(source_kind=TaskSource.PLAN).exists()


def test_staffing_is_for_managers_and_hq(org, standards):
    assert staffing_policies.may_view_staffing(org.manager_a) and staffing_policies.may_view_staffing(org.director)
    assert not staffing_policies.may_view_staffing(org.specialist_a)
    assert staffing_for(user=org.specialist_a, unit=org.specialist_a.unit, scheme=standards) == []
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.specialist_a)
    response = client.get("/activities/staffing/")
    assert response.status_code == 403 and "Staffing is for managers and headquarters." in response.content.decode()
    client.force_login(org.specialist_a2)
    assert client.get("/activities/playbooks/").status_code == 403
