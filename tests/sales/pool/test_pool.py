"""The public pool (公海): nightly notices and returns on a frozen clock, claims and their
limit, release and assignment by hand, history, and scoping between branches."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from factories import AccountFactory
from kam.accounts.models import Account
from kam.activities.models import Activity, Task, TaskSource, TaskStatus
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed
from kam.sales.models import PoolEvent, PoolEventKind
from kam.sales.pool.selectors import held_from_pool, pool_accounts
from kam.sales.pool.services import PoolRules, pool_assign, pool_claim, pool_release, pool_sweep
from kam.tiering.models import Scheme, Snapshot, SnapshotEntry, SnapshotState

pytestmark = pytest.mark.django_db

D0 = date(2026, 3, 2)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def idle_since(account, day: date):
    """The account was created on `day` and nothing happened since."""
    Account.objects.filter(pk=account.pk).update(created_at=at(day))
    account.refresh_from_db()
    return account


def visit(account, day: date, actor):
    return Activity.objects.create(account=account, kind="visit", occurred_at=at(day), summary="拜访", created_by=actor)


def tiered(accounts: dict, as_of: date = D0):
    scheme = Scheme.objects.get(code="monthly-spend")
    snap = Snapshot.objects.create(scheme=scheme, as_of=as_of, window_start=as_of, method=scheme.method,
                                   state=SnapshotState.DONE)
    SnapshotEntry.objects.bulk_create(SnapshotEntry(snapshot=snap, account=a, tier=t, revenue=0) for a, t in accounts.items())
    return snap


def in_pool(account, actor, note="客户已转由总部对接"):
    pool_release(actor=actor, account=account, note=note)
    account.refresh_from_db()
    return account


def kinds(account) -> list[str]:
    return list(PoolEvent.objects.filter(account=account).order_by("at", "pk").values_list("kind", flat=True))


# --- the nightly sweep -----------------------------------------------------------------------


def test_notice_three_days_before_and_return_after_exactly_n_days(org):
    # given an account nobody has followed up since it was created on D0
    a = idle_since(AccountFactory(owner=org.specialist_a), D0)
    # when the sweep runs every night, nothing happens up to day 26
    for n in range(0, 27):
        assert pool_sweep(today=D0 + timedelta(days=n))["noticed"] == 0
    # then on day 27 (30 − 3) the owner gets a notice: a task and a NOTICE event
    assert pool_sweep(today=D0 + timedelta(days=27)) == {"candidates": 1, "noticed": 1, "returned": 0}
    task = Task.objects.get(source_kind=TaskSource.POOL, source_id=a.pk)
    assert task.owner == org.specialist_a and task.status == TaskStatus.OPEN
    assert (D0 + timedelta(days=30)).isoformat() in task.title
    # only once in this idle spell, and the account stays with its owner on days 28 and 29
    for n in (28, 29):
        assert pool_sweep(today=D0 + timedelta(days=n)) == {"candidates": 1, "noticed": 0, "returned": 0}
    a.refresh_from_db()
    assert a.owner == org.specialist_a and a.pooled_at is None
    # on day 30 it returns
    assert pool_sweep(today=D0 + timedelta(days=30))["returned"] == 1
    a.refresh_from_db()
    assert a.owner is None and a.pooled_at is not None
    returned = PoolEvent.objects.get(account=a, kind=PoolEventKind.RETURNED)
    assert (returned.former_owner, returned.idle_days, returned.limit_days) == (org.specialist_a, 30, 30)
    assert kinds(a) == [PoolEventKind.NOTICE, PoolEventKind.RETURNED]
    # the owner's notice task is over, and the history has the return
    task.refresh_from_db()
    assert task.status == TaskStatus.CANCELLED
    last = a.history.order_by("-history_id").first()
    assert last.owner_id is None and last.pooled_at is not None and "pool" in last.history_change_reason
    # running again changes nothing
    assert pool_sweep(today=D0 + timedelta(days=30)) == {"candidates": 0, "noticed": 0, "returned": 0}
    assert pool_sweep(today=D0 + timedelta(days=31))["returned"] == 0


def test_an_account_idle_for_long_is_noticed_first_and_returns_three_days_later(org):
    a = idle_since(AccountFactory(owner=org.specialist_a), D0)
    assert pool_sweep(today=D0 + timedelta(days=100)) == {"candidates": 1, "noticed": 1, "returned": 0}
    assert pool_sweep(today=D0 + timedelta(days=102))["returned"] == 0
    assert pool_sweep(today=D0 + timedelta(days=103))["returned"] == 1
    assert PoolEvent.objects.get(account=a, kind=PoolEventKind.RETURNED).idle_days == 103


def test_an_activity_resets_the_clock_and_starts_a_new_spell(org):
    a = idle_since(AccountFactory(owner=org.specialist_a), D0)
    pool_sweep(today=D0 + timedelta(days=27))
    # the owner visits the day after the notice
    visit(a, D0 + timedelta(days=28), org.specialist_a)
    assert pool_sweep(today=D0 + timedelta(days=30))["returned"] == 0
    assert pool_sweep(today=D0 + timedelta(days=54))["noticed"] == 0
    # a new idle spell gets its own notice 27 days after the visit, and returns 30 days after it
    assert pool_sweep(today=D0 + timedelta(days=55))["noticed"] == 1
    assert pool_sweep(today=D0 + timedelta(days=57))["returned"] == 0
    assert pool_sweep(today=D0 + timedelta(days=58))["returned"] == 1
    assert kinds(a) == [PoolEventKind.NOTICE, PoolEventKind.NOTICE, PoolEventKind.RETURNED]


def test_logging_an_activity_completes_the_notice_task(org):
    from kam.activities.services import activity_log

    a = AccountFactory(owner=org.specialist_a)
    pool_sweep(today=timezone.localdate() + timedelta(days=27))
    task = Task.objects.get(source_kind=TaskSource.POOL, source_id=a.pk)
    activity_log(actor=org.specialist_a, account=a, kind="call", occurred_at=timezone.now() - timedelta(minutes=5),
                 summary="电话回访")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_days_per_tier_and_key_tiers_never_return(org, settings):
    settings.KAM = {**settings.KAM, "POOL_IDLE_DAYS_BY_TIER": "CA:60,CB:45"}
    key = idle_since(AccountFactory(owner=org.specialist_a), D0)
    commercial_a = idle_since(AccountFactory(owner=org.specialist_a), D0)
    commercial_b = idle_since(AccountFactory(owner=org.specialist_a), D0)
    untiered = idle_since(AccountFactory(owner=org.specialist_a), D0)
    tiered({key: "K1", commercial_a: "CA", commercial_b: "CB"})
    for n in range(0, 400):
        pool_sweep(today=D0 + timedelta(days=n))
    returned = dict(PoolEvent.objects.filter(kind=PoolEventKind.RETURNED).values_list("account_id", "idle_days"))
    # the crystal key account (K1, excluded by default) stays; the others return after their days
    assert returned == {untiered.pk: 30, commercial_b.pk: 45, commercial_a.pk: 60}
    assert not PoolEvent.objects.filter(account=key).exists()
    key.refresh_from_db()
    assert key.owner == org.specialist_a


def test_rules_from_settings(settings):
    settings.KAM = {**settings.KAM, "POOL_IDLE_DAYS": 30, "POOL_IDLE_DAYS_BY_TIER": "A+:60, A:45",
                    "POOL_EXCLUDED_TIERS": "K1,K2"}
    rules = PoolRules.from_settings()
    assert (rules.limit_for("A+"), rules.limit_for("A"), rules.limit_for("B"), rules.limit_for("")) == (60, 45, 30, 30)
    assert rules.limit_for("K1") == rules.limit_for("K2") == 0
    assert rules.longest == 60


def test_deleted_and_pooled_accounts_are_not_swept(org):
    from kam.accounts.services import account_delete

    gone = idle_since(AccountFactory(owner=org.specialist_a), D0)
    account_delete(actor=org.specialist_a, account=gone)
    pooled = in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    assert pool_sweep(today=D0 + timedelta(days=400)) == {"candidates": 0, "noticed": 0, "returned": 0}
    assert kinds(pooled) == [PoolEventKind.RELEASED]


def test_the_sweep_works_in_batches(org):
    accounts = [idle_since(AccountFactory(owner=org.specialist_a), D0) for _ in range(5)]
    assert pool_sweep(today=D0 + timedelta(days=27), batch=2)["noticed"] == 5
    assert pool_sweep(today=D0 + timedelta(days=30), batch=2)["returned"] == 5
    assert Account.objects.filter(pk__in=[a.pk for a in accounts], owner__isnull=True).count() == 5


def test_the_nightly_task_runs_the_sweep(org):
    from kam.sales import tasks

    idle_since(AccountFactory(owner=org.specialist_a), D0)
    result = tasks.pool_sweep.enqueue(as_of=(D0 + timedelta(days=27)).isoformat())
    assert result.return_value["noticed"] == 1


# --- claims -----------------------------------------------------------------------------------


def test_a_claim_makes_the_claimer_owner_and_restarts_the_clock(org):
    a = idle_since(AccountFactory(owner=org.specialist_a), D0)
    pool_sweep(today=D0 + timedelta(days=27))
    pool_sweep(today=D0 + timedelta(days=30))
    a.refresh_from_db()
    event = pool_claim(actor=org.specialist_a2, account=a)
    a.refresh_from_db()
    assert a.owner == org.specialist_a2 and a.unit == org.office_a2 and a.pooled_at is None
    assert (event.kind, event.user, event.former_owner) == (PoolEventKind.CLAIMED, org.specialist_a2, org.specialist_a)
    last = a.history.order_by("-history_id").first()
    assert last.history_user == org.specialist_a2 and last.owner_id == org.specialist_a2.pk
    # the clock starts at the claim, not at the old creation date
    claimed_on = timezone.localdate(event.at)
    assert pool_sweep(today=claimed_on + timedelta(days=26))["noticed"] == 0
    assert pool_sweep(today=claimed_on + timedelta(days=27))["noticed"] == 1


def test_a_claimed_account_cannot_be_claimed_again(org):
    a = in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    pool_claim(actor=org.specialist_a2, account=a)
    with pytest.raises(Conflict) as refused:
        pool_claim(actor=org.manager_a, account=a)
    assert "account" in refused.value.errors
    a.refresh_from_db()
    assert a.owner == org.specialist_a2
    assert kinds(a) == [PoolEventKind.RELEASED, PoolEventKind.CLAIMED]


def test_claims_beyond_the_limit_are_refused(org, settings):
    settings.KAM = {**settings.KAM, "POOL_CLAIM_LIMIT": 2}
    pooled = [in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a) for _ in range(3)]
    pool_claim(actor=org.specialist_a2, account=pooled[0])
    pool_claim(actor=org.specialist_a2, account=pooled[1])
    assert held_from_pool(org.specialist_a2).count() == 2
    with pytest.raises(ValidationFailed) as refused:
        pool_claim(actor=org.specialist_a2, account=pooled[2])
    assert "limit is 2" in refused.value.errors["account"][0]
    assert Account.objects.get(pk=pooled[2].pk).owner is None
    # accounts owned anyway (not from the pool) do not count; giving one back frees a place
    AccountFactory(owner=org.specialist_a2)
    in_pool(pooled[0], org.specialist_a2)
    pool_claim(actor=org.specialist_a2, account=pooled[2])
    assert held_from_pool(org.specialist_a2).count() == 2


def test_only_key_account_roles_claim(org):
    a = in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    with pytest.raises(PermissionDenied):
        pool_claim(actor=org.analyst_hq, account=a)


# --- release and assignment -------------------------------------------------------------------


def test_the_owner_or_their_manager_releases_with_a_reason(org):
    a = AccountFactory(owner=org.specialist_a)
    with pytest.raises(ValidationFailed) as refused:
        pool_release(actor=org.specialist_a, account=a, note="  ")
    assert "note" in refused.value.errors
    with pytest.raises(NotVisible):  # a colleague of the same branch does not see it
        pool_release(actor=org.specialist_a2, account=a, note="不再跟进")
    with pytest.raises(NotVisible):  # nor does the other branch's manager
        pool_release(actor=org.manager_b, account=a, note="不再跟进")
    event = pool_release(actor=org.manager_a, account=a, note="客户已迁出")
    a.refresh_from_db()
    assert a.owner is None and (event.kind, event.former_owner, event.note) == (
        PoolEventKind.RELEASED, org.specialist_a, "客户已迁出")
    assert a.history.order_by("-history_id").first().history_user == org.manager_a
    with pytest.raises(NotVisible):  # the former owner no longer sees it
        pool_release(actor=org.specialist_a, account=a, note="再放一次")


def test_a_manager_assigns_a_pool_account_to_someone_of_their_units(org):
    a = in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    with pytest.raises(PermissionDenied):
        pool_assign(actor=org.specialist_a2, account=a, owner=org.specialist_a2)
    with pytest.raises(ValidationFailed) as refused:
        pool_assign(actor=org.manager_a, account=a, owner=org.specialist_b)
    assert "owner" in refused.value.errors
    with pytest.raises(NotVisible):
        pool_assign(actor=org.manager_b, account=a, owner=org.specialist_b)
    event = pool_assign(actor=org.manager_a, account=a, owner=org.specialist_a2)
    a.refresh_from_db()
    assert a.owner == org.specialist_a2 and event.user == org.manager_a and event.kind == PoolEventKind.ASSIGNED
    # an assignment is not a claim: it does not count against the person's limit
    assert held_from_pool(org.specialist_a2).count() == 0


# --- scoping ------------------------------------------------------------------------------------


def test_each_branch_sees_and_claims_only_its_own_pool(org):
    a = in_pool(AccountFactory(owner=org.specialist_a), org.specialist_a)
    b = in_pool(AccountFactory(owner=org.specialist_b), org.specialist_b)
    assert list(pool_accounts(org.specialist_a2)) == [a]
    assert list(pool_accounts(org.manager_a)) == [a]
    assert list(pool_accounts(org.specialist_b)) == [b]
    assert set(pool_accounts(org.director)) == {a, b}
    with pytest.raises(NotVisible):
        pool_claim(actor=org.specialist_b, account=a)
    assert Account.objects.get(pk=a.pk).owner is None


def test_an_owned_account_is_not_found_through_the_pool(org):
    a = AccountFactory(owner=org.specialist_a)
    with pytest.raises(NotVisible):
        pool_claim(actor=org.specialist_a2, account=a)


def test_merging_with_pool_accounts(org):
    from kam.accounts.merge import account_merge

    pooled = in_pool(AccountFactory(owner=org.specialist_a2), org.specialist_a2)
    other_pool = in_pool(AccountFactory(owner=org.specialist_a2), org.specialist_a2)
    owned = AccountFactory(owner=org.specialist_a)
    # a pool account survives a merge with another one: still nobody's
    account_merge(actor=org.manager_a, survivor=pooled, merged=other_pool, take=["owner", "phone"])
    pooled.refresh_from_db()
    assert pooled.owner is None and pooled.pooled_at is not None
    # taking the owner of an owned duplicate takes the survivor out of the pool
    account_merge(actor=org.manager_a, survivor=pooled, merged=owned, take=["owner"])
    pooled.refresh_from_db()
    assert pooled.owner == org.specialist_a and pooled.pooled_at is None
