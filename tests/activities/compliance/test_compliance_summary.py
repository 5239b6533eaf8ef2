"""The compliance page's read model: after any sequence of contacts logged and deleted, moves
of accounts, team changes and reads of another period, the incrementally kept rows equal a
rebuild, and what each role is shown (units, people, heat-map, other cadences, overdue
accounts) equals the same figures measured from the raw facts of the accounts they see."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_moves import ACCOUNT_MOVES, move_account
from factories import AccountFactory
from kam.accounts.models import Account
from kam.activities.compliance import summary
from kam.activities.compliance.measure import current_quarter, parse_period
from kam.activities.models import Activity, ComplianceFigure, ServiceStandard
from kam.core import summaries
from kam.core.models import SummaryDirty
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(org):
    import importlib

    from django.apps import apps

    if not ServiceStandard.objects.exists():
        importlib.import_module("kam.activities.migrations.0002_service_standards").seed(apps, None)
    return Scheme.objects.get(code="monthly-spend")


def stored_rows() -> Counter:
    fields = [f.attname for f in ComplianceFigure._meta.concrete_fields if not f.primary_key]
    return Counter(ComplianceFigure.objects.values_list(*fields))


def shown(user, scheme, start, end, raw: bool) -> tuple:
    """Everything the page shows `user`, from the read model or (raw) from the raw facts."""
    rep = summary.report(user=user, scheme=scheme, start=start, end=end)
    if raw:
        key = rep.key
        read = summaries.figures(summary.COMPLIANCE, user, raw=True, **summary._where(key),
                                 span__in=[r.span for r in (*rep.totals, *rep.others, *rep.cells)] or ["t"])
        rep = summary.Report(scheme=rep.scheme, key=key, start=rep.start, end=rep.end, as_of=rep.as_of,
                             totals=[r for r in read.rows if r.span == "t"], others=[r for r in read.rows if r.span == "o"],
                             cells=[r for r in read.rows if r.span in ("w", "m")], true_at=read.as_of, stored=False)
    overdue = [(o.account.pk, o.required, o.done, o.last_visit, o.last_call, o.overdue_visit, o.overdue_call)
               for o in summary.overdue_accounts(user=user, rep=rep)]
    return (summary.per_unit(user=user, rep=rep), summary.per_person(rep=rep), summary.heatmap(user=user, rep=rep),
            summary.other_totals(rep), overdue)


OPS = st.lists(st.tuples(st.sampled_from([
    "create", "visit", "call", "report", "forget", "owner", "office", "pool", "delete", "team", "refresh", "month",
]), st.integers(0, 10_000)), min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_incremental_equals_rebuild_and_each_role_sees_its_raw_figures(org, scheme, ops):

    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    today = timezone.localdate()
    start, end = parse_period(current_quarter(today))
    month = (today.replace(day=1), today)
    tiers = ["K1", "K2", "K3", "K4"]
    with transaction.atomic():
        snap = Snapshot.objects.create(scheme=scheme, as_of=start - timedelta(days=200), window_start=start,
                                       method=scheme.method, state=SnapshotState.DONE)
        for i in range(4):
            a = AccountFactory(owner=people[i % 3])
            SnapshotEntry.objects.create(snapshot=snap, account=a, tier=tiers[i], revenue=0)
        summaries.rebuild([summary.COMPLIANCE])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)] if live else None
            person = people[n % len(people)]
            day = max(start, today - timedelta(days=n % 120))
            if op == "create" or account is None:
                a = AccountFactory(owner=person)
                SnapshotEntry.objects.create(snapshot=snap, account=a, tier=tiers[n % 4], revenue=0)
                summaries.touch("tiers", [a.pk])
            elif op in ("visit", "call", "report"):
                kind = {"visit": "visit", "call": "call", "report": "value_report"}[op]
                Activity.objects.create(account=account, kind=kind, summary="跟进", created_by=person,
                                        occurred_at=timezone.make_aware(datetime.combine(day, time(n % 24))))
            elif op == "forget":
                gone = Activity.objects.filter(account=account).order_by("pk").first()
                if gone is not None:
                    gone.delete()
            elif op in ACCOUNT_MOVES:
                move_account(org, op, account, person)
            elif op == "refresh":
                summaries.refresh(summary.COMPLIANCE)
            elif op == "month":  # another period read: stored from then on, kept by the marks too
                summary.report(user=org.director, scheme=scheme, start=month[0], end=month[1])
        summaries.refresh(summary.COMPLIANCE)
        assert not SummaryDirty.objects.filter(summary=summary.COMPLIANCE).exists()
        incremental = stored_rows()
        summaries.rebuild([summary.COMPLIANCE])
        assert stored_rows() == incremental
        for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
            for first, last in ((start, end), month):
                assert shown(user, scheme, first, last, raw=False) == shown(user, scheme, first, last, raw=True), user
        transaction.set_rollback(True)


def test_each_write_path_marks_what_it_changes(org, scheme):
    a = AccountFactory(owner=org.specialist_a)
    Snapshot.objects.create(scheme=scheme, as_of=timezone.localdate() - timedelta(days=300),
                            window_start=timezone.localdate(), method=scheme.method, state=SnapshotState.DONE)
    summaries.rebuild([summary.COMPLIANCE])
    visit = Activity.objects.create(account=a, kind="visit", summary="拜访", created_by=org.specialist_a,
                                    occurred_at=timezone.now())
    assert SummaryDirty.objects.filter(summary=summary.COMPLIANCE, account_id=a.pk).exists()
    summaries.refresh(summary.COMPLIANCE)
    visit.delete()
    assert SummaryDirty.objects.filter(summary=summary.COMPLIANCE, account_id=a.pk).exists()
    summaries.refresh(summary.COMPLIANCE)
    standard = ServiceStandard.objects.filter(scheme=scheme).first()
    standard.visits += 1
    standard.save()
    assert not summaries.SummaryState.objects.filter(code=summary.COMPLIANCE, rebuilt_at__isnull=False).exists()


def test_another_period_is_stored_at_its_first_read_and_the_page_says_when(org, scheme):
    AccountFactory(owner=org.specialist_a)
    today = timezone.localdate()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.manager_a)
    assert b'data-testid="compliance-as-of"' in client.get("/activities/compliance/").content
    period = f"{today:%Y-%m}"
    assert not ComplianceFigure.objects.filter(span="k", start=today.replace(day=1), end__lt=today.replace(day=28) + timedelta(days=4)).exists()
    assert client.get(f"/activities/compliance/?period={period}").status_code == 200
    assert ComplianceFigure.objects.filter(span="k", start=today.replace(day=1)).exists()
