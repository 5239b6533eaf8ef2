"""Accounts in the public pool (no owner) among the others: compliance counts them for their
unit and for nobody in person; reminders and playbooks give them no tasks."""

import importlib
from datetime import date, timedelta
from io import BytesIO

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from factories import AccountFactory
from kam.activities.compliance import measure as compliance
from kam.activities.compliance import services as compliance_services
from kam.activities.compliance import summary
from kam.activities.models import Playbook, ServiceStandard, Task, TaskSource
from kam.activities.playbooks import services as playbook_services
from kam.sales.pool.services import pool_release
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(org):
    scheme = Scheme.objects.get(code="monthly-spend")
    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    return scheme


def snapshot(scheme, as_of, tiers: dict):
    snap = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=as_of, method=scheme.method,
                                   state=SnapshotState.DONE)
    SnapshotEntry.objects.bulk_create(SnapshotEntry(snapshot=snap, account=a, tier=t, revenue=0) for a, t in tiers.items())


@pytest.fixture
def pooled_world(org, scheme):
    owned = AccountFactory(owner=org.specialist_a, name="广州有主客户")
    pooled = AccountFactory(owner=org.specialist_a, name="广州公海客户", signed_on=date(2025, 9, 3))
    pool_release(actor=org.specialist_a, account=pooled, note="客户转由其他渠道服务")
    snapshot(scheme, timezone.localdate() - timedelta(days=200), {owned: "K1", pooled: "K1"})
    return owned, pooled


def test_compliance_counts_a_pool_account_for_its_unit_and_for_nobody_in_person(org, scheme, pooled_world):
    owned, pooled = pooled_world
    today = timezone.localdate()
    m = compliance.measure(user=org.manager_a, scheme=scheme, start=today.replace(day=1), end=today, as_of=today)
    assert set(m.ids.tolist()) == {owned.pk, pooled.pk}
    assert m.owner[list(m.ids).index(pooled.pk)] == compliance.NO_OWNER
    rep = summary.report(user=org.manager_a, scheme=scheme, start=today.replace(day=1), end=today, today=today)
    units = {r.name: r.accounts for r in summary.per_unit(user=org.manager_a, rep=rep)}
    assert units["天河经营部"] == 2
    people = summary.per_person(rep=rep)
    assert [(r.name, r.accounts) for r in people] == [("张三", 1)]
    heat = summary.heatmap(user=org.manager_a, rep=rep)
    assert heat["y"] == ["张三"]


def test_the_compliance_page_and_export_show_a_pool_account_as_in_the_pool(org, scheme, pooled_world):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    page = client.get("/activities/compliance/")
    assert page.status_code == 200
    part = client.get(f"/activities/compliance/?part=overdue&unit={org.office_a1.pk}", HTTP_HX_REQUEST="true")
    text = part.content.decode()
    assert "广州公海客户" in text and "None" not in text and "in the pool" in text
    book = load_workbook(BytesIO(client.get("/activities/compliance/export/?what=overdue&format=xlsx").getvalue()))
    rows = [[c.value for c in row] for row in book.active.iter_rows()]
    pooled_row = next(r for r in rows if "广州公海客户" in r)
    assert "in the pool" in pooled_row


def test_reminders_skip_pool_accounts(org, scheme, pooled_world):
    owned, pooled = pooled_world
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme) == 2  # a visit and a call for `owned`
    assert set(Task.objects.filter(source_kind=TaskSource.REMINDER).values_list("account_id", flat=True)) == {owned.pk}


def test_playbooks_skip_pool_accounts(org, scheme, pooled_world):
    if not Playbook.objects.exists():
        importlib.import_module("kam.activities.migrations.0003_playbooks").seed(apps, None)
    owned, pooled = pooled_world
    counts = playbook_services.playbook_apply(today=date(2025, 9, 4))
    assert counts["accounts"] == 1
    assert not Task.objects.filter(account=pooled, source_kind=TaskSource.PLAYBOOK).exists()
    pooled.refresh_from_db()
    assert pooled.relationship_stage == "initial"
