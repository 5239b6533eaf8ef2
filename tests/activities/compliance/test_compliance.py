"""Compliance with the service standards on hand-built cases, through the services, the page
and the export; reminders; scoping between branches."""

from datetime import date, datetime, time, timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from factories import AccountFactory
from kam.activities import services
from kam.activities.compliance import measure as compliance
from kam.activities.compliance import services as compliance_services
from kam.activities.compliance import summary
from kam.activities.models import Activity, Reminder, ServiceStandard, Task, TaskSource, TaskStatus
from kam.core.errors import PermissionDenied
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

pytestmark = pytest.mark.django_db

Q2 = (date(2026, 4, 1), date(2026, 6, 30))


@pytest.fixture
def scheme(org):
    import importlib

    from django.apps import apps

    scheme = Scheme.objects.get(code="monthly-spend")
    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    return scheme


def snapshot(scheme, as_of, tiers: dict, frozen_year=None):
    snap = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=as_of, method=scheme.method,
                                   state=SnapshotState.DONE, frozen_year=frozen_year)
    SnapshotEntry.objects.bulk_create(SnapshotEntry(snapshot=snap, account=a, tier=t, revenue=0) for a, t in tiers.items())
    return snap


def contact(account, kind, day, actor):
    """An activity on `day` at 10:00 local, written directly (services refuse past-dated tests' clocks)."""
    when = timezone.make_aware(datetime.combine(day, time(10)))
    return Activity.objects.create(account=account, kind=kind, occurred_at=when, summary="拜访", created_by=actor)


def measure(user, scheme, start=Q2[0], end=Q2[1], as_of=Q2[1]):
    return compliance.measure(user=user, scheme=scheme, start=start, end=end, as_of=as_of)


def report(user, scheme, start=Q2[0], end=Q2[1], today=Q2[1]):
    """What the compliance page shows `user`, read from the read model."""
    return summary.report(user=user, scheme=scheme, start=start, end=end, today=today)


def row_of(m, account):
    return list(m.ids).index(account.pk)


def test_a_crystal_account_over_a_quarter(org, scheme):
    # given a crystal account (2 visits a quarter, a call a month) visited once, called three
    # times, and visited once more just outside the quarter
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    contact(a, "visit", date(2026, 5, 10), org.specialist_a)
    contact(a, "meeting", date(2026, 3, 30), org.specialist_a)  # before the period
    contact(a, "visit", date(2026, 7, 2), org.specialist_a)  # after it
    for day in (date(2026, 4, 3), date(2026, 5, 3), date(2026, 6, 3)):
        contact(a, "call", day, org.specialist_a)
    # when measured for Q2 as of its last day
    m = measure(org.director, scheme)
    i = row_of(m, a)
    # then 2 visits and 3 calls are required, 1 and 3 done: 4 of 5
    assert (m.required_visits[i], m.done_visits[i], m.required_calls[i], m.done_calls[i]) == (2, 1, 3, 3)
    assert m.compliance[i] == pytest.approx(0.8)
    # and the last visit (51 days before) is beyond the 46 allowed: overdue for visits, not calls
    assert m.overdue_visit[i] and not m.overdue_call[i]


def test_a_partial_period_requires_pro_rata(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    # the first 45 days of Q2 (91 days): 2 × 45/91 = 0.99 → 1 visit; a call a month: 1.48 → 1
    m = measure(org.director, scheme, as_of=date(2026, 5, 15))
    i = row_of(m, a)
    assert m.end == date(2026, 5, 15)
    assert (m.required_visits[i], m.required_calls[i]) == (1, 1)


def test_an_account_that_changed_tier_mid_period(org, scheme):
    # given an account crystal until a snapshot of 2026-06-01 makes it gold (a visit a month)
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    snapshot(scheme, date(2026, 6, 1), {a: "K3"})
    m = measure(org.director, scheme)
    i = row_of(m, a)
    # then April and May charge crystal 2 × 61/91 = 1.34, June gold 1: 2.34 → 2 visits;
    # calls 2 months × 1 + June × 2 = 4
    assert (m.required_visits[i], m.required_calls[i]) == (2, 4)
    assert m.tier[i] == "K3"


def test_the_annual_list_decides_over_later_snapshots(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2025, 12, 31), {a: "K1"}, frozen_year=2026)
    snapshot(scheme, date(2026, 4, 15), {})  # would leave it untiered
    m = measure(org.director, scheme)
    assert m.required_visits[row_of(m, a)] == 2


def test_roll_up_per_unit_and_person(org, scheme):
    # given two crystal accounts in branch A (two offices) and one in branch B
    a1 = AccountFactory(owner=org.specialist_a)
    a2 = AccountFactory(owner=org.specialist_a2)
    b = AccountFactory(owner=org.specialist_b)
    snapshot(scheme, date(2026, 3, 31), {a1: "K1", a2: "K1", b: "K1"})
    for day in (date(2026, 4, 20), date(2026, 5, 20), date(2026, 6, 20)):  # a1 visited three times
        contact(a1, "visit", day, org.specialist_a)
    contact(b, "visit", date(2026, 6, 25), org.specialist_b)
    units = {r.name: r for r in summary.per_unit(user=org.director, rep=report(org.director, scheme))}
    # then HQ sees the branches: A owes 4 visits and 6 calls, gets 2 visits credited (a1 capped at 2)
    assert (units["广州分公司"].required_visits, units["广州分公司"].done_visits) == (4, 2)
    assert (units["深圳分公司"].required_visits, units["深圳分公司"].done_visits) == (2, 1)
    assert units["广州分公司"].compliance == pytest.approx(2 / 10)
    assert units["广州分公司"].overdue == 2 and units["深圳分公司"].overdue == 1  # nobody called
    # and branch A's manager sees its offices
    rep_a = report(org.manager_a, scheme)
    offices = {r.name: r.required_visits for r in summary.per_unit(user=org.manager_a, rep=rep_a)}
    assert offices == {"天河经营部": 2, "越秀经营部": 2}
    people = {r.name: r.done_visits for r in summary.per_person(rep=rep_a)}
    assert people == {"张三": 2, "李四": 0}


def test_reminders_are_created_once_per_account_and_kind(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    contact(a, "visit", date(2026, 5, 10), org.specialist_a)  # next visit due 06-25
    contact(a, "call", date(2026, 6, 15), org.specialist_a)  # next call due 07-16: not within 7 days
    as_of = date(2026, 6, 20)
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=as_of) == 1
    task = Task.objects.get(source_kind=TaskSource.REMINDER)
    assert (task.owner, task.account, task.due_on) == (org.specialist_a, a, date(2026, 6, 25))
    assert Reminder.objects.get(pk=task.source_id).kind == "visit"
    # a second run creates nothing while the reminder is open …
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=as_of) == 0
    # … and a new one once it is done and the visit falls due again
    services.task_complete(actor=org.specialist_a, task=task)
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=as_of) == 1
    assert Task.objects.filter(source_kind=TaskSource.REMINDER, status=TaskStatus.OPEN).count() == 1


def test_only_headquarters_change_a_standard_and_history_is_kept(org, scheme):
    standard = ServiceStandard.objects.get(scheme=scheme, tier="K1")
    assert (standard.visits, standard.visit_period, standard.calls, standard.call_period) == (2, 3, 1, 1)
    with pytest.raises(PermissionDenied):
        compliance_services.service_standard_update(actor=org.manager_a, standard=standard, visits=1)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    assert client.get(f"/activities/standards/{standard.pk}/").status_code == 404
    client.force_login(org.director)
    data = {"visits": 3, "visit_period": 3, "calls": 2, "call_period": 1, "response_hours": 12,
            "support_hours_per_year": 20, "value_report_months": "", "executive_meeting_months": ""}
    assert client.post(f"/activities/standards/{standard.pk}/", data).status_code == 302
    standard.refresh_from_db()
    assert (standard.visits, standard.calls) == (3, 2)
    assert standard.history.first().history_user == org.director
    assert client.get("/activities/standards/").status_code == 200


def _page_world(org, scheme):
    a = AccountFactory(owner=org.specialist_a, name="广州逾期客户")
    b = AccountFactory(owner=org.specialist_b, name="深圳逾期客户")
    today = timezone.localdate()
    snapshot(scheme, today.replace(day=1) - timedelta(days=120), {a: "K1", b: "K1"})
    return a, b


def test_a_branch_manager_sees_neither_the_other_branch_numbers_nor_its_overdue_accounts(org, scheme):
    a, b = _page_world(org, scheme)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_b)
    page = client.get("/activities/compliance/").content.decode()
    assert "深圳逾期客户" in page and "广州逾期客户" not in page
    assert "天河经营部" not in page and "张三" not in page
    # drilling into branch A's unit or person finds nothing
    part = client.get(f"/activities/compliance/?part=overdue&unit={org.office_a1.pk}", HTTP_HX_REQUEST="true")
    assert "广州逾期客户" not in part.content.decode()
    part = client.get(f"/activities/compliance/?part=overdue&person={org.specialist_a.pk}", HTTP_HX_REQUEST="true")
    assert "广州逾期客户" not in part.content.decode()
    for what in ("overdue", "table"):
        book = load_workbook(BytesIO(client.get(f"/activities/compliance/export/?what={what}&format=xlsx").getvalue()))
        cells = {str(c.value) for row in book.active.iter_rows() for c in row}
        assert "广州逾期客户" not in cells and "张三" not in cells and "广州分公司" not in cells
    book = load_workbook(BytesIO(client.get("/activities/compliance/export/?what=overdue&format=xlsx").getvalue()))
    assert "深圳逾期客户" in {str(c.value) for row in book.active.iter_rows() for c in row}


def test_headquarters_see_units_by_month_and_drill_into_a_unit(org, scheme):
    a, b = _page_world(org, scheme)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.director)
    page = client.get("/activities/compliance/").content.decode()
    assert 'data-kind="compliance"' in page and "广州分公司" in page and "深圳分公司" in page
    part = client.get(f"/activities/compliance/?part=overdue&unit={org.branch_a.pk}", HTTP_HX_REQUEST="true")
    text = part.content.decode()
    assert "广州逾期客户" in text and "深圳逾期客户" not in text


def test_the_page_runs_a_constant_number_of_queries(org, scheme, django_assert_num_queries):
    def load(n):
        accounts = [AccountFactory(owner=org.specialist_a) for _ in range(n)]
        snapshot(scheme, timezone.localdate() - timedelta(days=200), {x: "K1" for x in accounts})
        for x in accounts:
            contact(x, "visit", timezone.localdate() - timedelta(days=3), org.specialist_a)
            contact(x, "call", timezone.localdate() - timedelta(days=2), org.specialist_a)

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    load(2)
    client.get("/activities/compliance/")  # warm caches (content types, sessions)
    with django_assert_num_queries(20):  # the read model: its state, marks, stored key and rows
        assert client.get("/activities/compliance/").status_code == 200
    load(20)
    client.get("/activities/compliance/")  # the read model recomputes the groups written to
    with django_assert_num_queries(20):
        assert client.get("/activities/compliance/").status_code == 200


def test_a_logged_visit_closes_its_open_visit_reminder_and_leaves_the_call_reminder(org, scheme):
    # given a crystal account with open reminders for a visit and a call
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, timezone.localdate() - timedelta(days=200), {a: "K1"})
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme) == 2
    # when its owner logs a meeting (a kind that counts as a visit)
    services.activity_log(actor=org.specialist_a, account=a, kind="meeting",
                          occurred_at=timezone.now() - timedelta(hours=1), summary="季度沟通")
    # then the visit reminder's task is done, the call reminder's still open
    status = {r.kind: r.task.status for r in Reminder.objects.select_related("task")}
    assert status == {"visit": TaskStatus.DONE, "call": TaskStatus.OPEN}
    assert Task.objects.get(reminder__kind="visit").done_at is not None
    # and a call closes the other one
    services.activity_log(actor=org.specialist_a, account=a, kind="call", occurred_at=timezone.now(), summary="电话回访")
    assert not Task.objects.filter(source_kind=TaskSource.REMINDER, status=TaskStatus.OPEN).exists()



def test_an_account_that_entered_a_tier_recently_is_overdue_only_once_the_gap_has_passed(org, scheme):
    # given a new crystal account (absent from the snapshot of 03-31, crystal from 06-01) and an
    # account that was crystal and became gold on 06-01; neither has been visited or called
    new = AccountFactory(owner=org.specialist_a)
    moved = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {moved: "K1"})
    snapshot(scheme, date(2026, 6, 1), {new: "K1", moved: "K3"})
    # when measured 29 days after the entry: the newcomer is within its 46 days for visits and
    # its 31 for calls, the moved account owed visits all along
    m = measure(org.director, scheme)
    assert not m.overdue[row_of(m, new)]
    assert m.overdue_visit[row_of(m, moved)] and m.overdue_call[row_of(m, moved)]
    # and 47 days after the entry the newcomer is overdue for both
    later = measure(org.director, scheme, start=date(2026, 7, 1), end=date(2026, 9, 30), as_of=date(2026, 7, 18))
    assert later.overdue_visit[row_of(later, new)] and later.overdue_call[row_of(later, new)]
    # and within the 7 days of reminders only its call falls due (31 days after the entry), while
    # the moved account is reminded of both at once
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=date(2026, 6, 26)) == 3
    due = dict(Reminder.objects.filter(account=new).values_list("kind", "due_on"))
    assert due == {"call": date(2026, 7, 2)}
    assert Reminder.objects.get(account=moved, kind="visit").due_on == date(2026, 6, 26)


def test_the_overdue_list_shows_last_contacts_older_than_the_look_back(org, scheme):
    # given a crystal account last called 50 days and last visited 100 days before the end of Q2,
    # and one never contacted
    old = AccountFactory(owner=org.specialist_a, name="久未联系客户")
    never = AccountFactory(owner=org.specialist_a, name="从未联系客户")
    snapshot(scheme, date(2025, 12, 31), {old: "K1", never: "K1"})
    contact(old, "call", Q2[1] - timedelta(days=50), org.specialist_a)
    contact(old, "visit", Q2[1] - timedelta(days=100), org.specialist_a)
    # when the overdue accounts are listed
    rows = summary.overdue_accounts(user=org.director, rep=report(org.director, scheme))
    # then the never-contacted one comes first, and the other shows both dates and their age
    assert [r.account.name for r in rows] == ["从未联系客户", "久未联系客户"]
    assert (rows[0].last_visit, rows[0].last_call) == (None, None)
    assert (rows[1].days_since_visit, rows[1].days_since_call) == (100, 50)
    assert rows[1].last_call == Q2[1] - timedelta(days=50)


def test_a_deactivated_user_measures_no_account(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    contact(a, "visit", date(2026, 5, 10), org.specialist_a)
    org.specialist_a.is_active = False
    m = measure(org.specialist_a, scheme)
    assert len(m.ids) == 0 and m.required.sum() == 0 and not m.overdue.any()


def test_executive_meetings_and_value_reports_are_measured_and_reminded(org, scheme):
    # given a platinum account (K4: a value report every 3 months, an executive meeting every
    # 12) in its tier since long before the quarter; one value report delivered in May
    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, Q2[0] - timedelta(days=400), {a: "K4"})
    contact(a, "value_report", date(2026, 5, 12), org.specialist_a)
    m = measure(org.admin, scheme)
    i = row_of(m, a)
    report, executive = m.others["report"], m.others["executive"]
    # one report owed in the quarter and done; a quarter of a yearly meeting rounds to 0 owed
    assert (report.required[i], report.done[i]) == (1, 1)
    assert executive.required[i] == 0 and executive.done[i] == 0
    # the meeting is overdue: none in the 366 days a yearly cadence allows; the report is not
    assert bool(executive.overdue(m.as_of)[i]) and not bool(report.overdue(m.as_of)[i])
    rows = {r["key"]: r for r in summary.other_totals(summary.report(user=org.admin, scheme=scheme, start=Q2[0],
                                                                      end=Q2[1], today=Q2[1]))}
    assert rows["executive"]["overdue"] == 1 and rows["report"]["done"] == 1
    # the compliance rate of visits and calls is unchanged by them
    assert m.required[i] == m.required_visits[i] + m.required_calls[i]
    # and the reminders ask for the executive meeting
    compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=Q2[1])
    kinds = set(Reminder.objects.filter(account=a).values_list("kind", flat=True))
    assert "executive" in kinds
    assert Task.objects.filter(account=a, title__startswith="Executive meeting due: ").exists()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.admin)
    page = client.get("/activities/compliance/").content.decode()
    assert 'data-testid="other-cadences"' in page and 'data-cadence="executive"' in page


def test_the_heat_map_counts_each_contact_in_its_local_week_or_month_and_its_owner_or_unit(org, scheme):
    from kam.accounts.ownership import release_to_pool

    # given accounts of two specialists in two offices and one in the public pool, contacted on
    # days chosen to fall near week and month ends (local time; late evening is the next day in UTC+8 terms)
    a = AccountFactory(owner=org.specialist_a)
    a2 = AccountFactory(owner=org.specialist_a2)
    pooled = AccountFactory(owner=org.specialist_a)
    release_to_pool(actor=org.admin, account=pooled, now=timezone.now(), reason="无人跟进")
    snapshot(scheme, date(2026, 3, 31), {a: "K1", a2: "K1", pooled: "K1"})
    days = {a: [date(2026, 4, 5), date(2026, 4, 6), date(2026, 4, 30), date(2026, 5, 1)],
            a2: [date(2026, 4, 12), date(2026, 6, 30)], pooled: [date(2026, 5, 31)]}
    for account, dates in days.items():
        for day in dates:
            contact(account, "visit", day, org.specialist_a)
    early = timezone.make_aware(datetime.combine(date(2026, 6, 1), time(7, 0)))  # still 31 May in UTC
    Activity.objects.create(account=a2, kind="call", occurred_at=early, summary="早间回访", created_by=org.specialist_a)
    # when HQ sees units by month, then each office's row counts its accounts' contacts in their local month
    heat = summary.heatmap(user=org.director, rep=report(org.director, scheme))
    assert heat["by"] == "unit" and heat["x"] == ["2026-04", "2026-05", "2026-06"]
    rows = dict(zip(heat["y"], heat["done"], strict=True))
    assert rows[org.branch_a.name] == [4, 2, 2] and sum(map(sum, heat["done"])) == 8
    # and the branch manager sees people by week: each specialist's contacts in their local week (the
    # pool account's belong to nobody)
    heat = summary.heatmap(user=org.manager_a, rep=report(org.manager_a, scheme))
    weeks = [date.fromisoformat(f"2026-{x}") for x in heat["x"]]
    people = dict(zip(heat["y"], heat["done"], strict=True))

    def week_of(day):
        return max(i for i, first in enumerate(weeks) if first <= day)

    expected_a = [0] * len(weeks)
    for day in days[a]:
        expected_a[week_of(day)] += 1
    expected_a2 = [0] * len(weeks)
    for day in [*days[a2], date(2026, 6, 1)]:
        expected_a2[week_of(day)] += 1
    assert people["张三"] == expected_a and people["李四"] == expected_a2
    assert sum(map(sum, heat["done"])) == 7


def test_reminders_measure_the_cadence_before_their_write_transaction(transactional_db, reference_lists, org,
                                                                      scheme, monkeypatch):
    """On SQLite a write transaction holds the write lock from its start: the nightly measuring
    of every account (seconds at 100,000) must not keep a login waiting."""
    from django.db import connection

    a = AccountFactory(owner=org.specialist_a)
    snapshot(scheme, date(2026, 3, 31), {a: "K1"})
    seen = []
    measured = compliance.measure

    def measuring(**kwargs):
        seen.append(connection.in_atomic_block)
        return measured(**kwargs)

    monkeypatch.setattr(compliance, "measure", measuring)
    assert compliance_services.cadence_reminders_create(actor=org.admin, scheme=scheme, as_of=date(2026, 5, 1)) > 0
    assert seen == [False]
    assert Task.objects.filter(source_kind=TaskSource.REMINDER, account=a).count() >= 1
