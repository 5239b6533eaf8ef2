"""Read models: after any sequence of writes through the services, the incrementally kept
summary equals a rebuild and equals the figures computed from the raw facts; a user's part
is exactly their visible accounts'."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.accounts import services as account_services
from kam.accounts.models import (
    Account,
    AccountCount,
    AccountTeamMember,
    Channel,
    Contact,
    ContactStatus,
    DecisionRole,
    TeamRole,
)
from kam.accounts.ownership import give_owner, release_to_pool, return_to_pool
from kam.accounts.recycle.services import account_delete, account_restore
from kam.accounts.summaries import ACCOUNT_COUNTS, account_counts
from kam.core import summaries
from kam.core.models import Industry, SummaryDirty

KEYS = ("unit_id", "owner_id", "industry_id", "lifecycle_status", "channel")
MEASURES = ("accounts", "well_covered", "departed_key_contacts")


def table(rows) -> Counter:
    """Rows as a multiset of their keys, measures summed (two computed rows may share keys)."""
    out: Counter = Counter()
    for row in rows:
        for measure in MEASURES:
            out[(*(getattr(row, k) for k in KEYS), measure)] += getattr(row, measure)
    return +out


def stored() -> Counter:
    return table(AccountCount.objects.all())


OPS = st.lists(st.tuples(st.sampled_from([
    "create", "owner", "office", "industry", "channel", "pool", "return", "delete", "restore",
    "contact", "contact_left", "contact_delete", "team", "refresh",
]), st.integers(0, 10_000)), min_size=1, max_size=14)


@pytest.mark.django_db(transaction=False)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_incremental_equals_rebuild_and_raw(org, account_factory, contact_factory, ops):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    industries = list(Industry.objects.values_list("pk", flat=True))[:3]
    with transaction.atomic():
        for i in range(3):
            account_factory(owner=people[i], actor=org.admin, channel=Channel.KEY)
        summaries.rebuild([ACCOUNT_COUNTS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)] if live else None
            person = people[n % len(people)]
            if op == "create" or account is None:
                account_factory(owner=person, actor=org.admin)
            elif op == "owner" and account.owner_id:
                give_owner(actor=org.admin, account=account, owner=person, unit=person.unit, reason="test")
            elif op == "office" and account.owner_id:
                give_owner(actor=org.admin, account=account, owner=account.owner, unit=org.office_a2, reason="test")
            elif op == "industry":
                account_services.account_update(actor=org.admin, account=account,
                                                 data={"industry": Industry.objects.get(pk=industries[n % 3])})
            elif op == "channel":
                account_services.account_update(actor=org.admin, account=account,
                                                 data={"channel": [Channel.KEY, Channel.COMMERCIAL][n % 2]})
            elif op == "pool" and account.owner_id:
                release_to_pool(actor=org.admin, account=account, now=timezone.now(), reason="test")
            elif op == "return" and account.owner_id:
                return_to_pool([account], now=timezone.now(), reason="test")
            elif op == "delete" and not account.subsidiaries.exists():
                account_delete(actor=org.admin, account=account)
            elif op == "restore":
                binned = Account.objects.binned().order_by("pk").first()
                if binned is not None:
                    account_restore(actor=org.admin, account_id=binned.pk)
            elif op == "contact":
                contact_factory(actor=org.admin, account=account, mobile=f"139{n:08d}",
                                decision_role=DecisionRole.DECISION_MAKER if n % 2 else DecisionRole.USER)
            elif op == "contact_left":
                contact = Contact.objects.alive().filter(account=account).first()
                if contact is not None:
                    account_services.contact_update(actor=org.admin, contact=contact,
                                                    data={"status": ContactStatus.LEFT, "is_key": True})
            elif op == "contact_delete":
                contact = Contact.objects.alive().filter(account=account).first()
                if contact is not None:
                    account_services.contact_delete(actor=org.admin, contact=contact)
            elif op == "team":
                AccountTeamMember.objects.get_or_create(account=account, user=person,
                                                        defaults={"team_role": TeamRole.TECHNICAL_SUPPORT})
            elif op == "refresh":
                summaries.refresh(ACCOUNT_COUNTS)
        summaries.refresh(ACCOUNT_COUNTS)
        assert not SummaryDirty.objects.filter(summary=ACCOUNT_COUNTS).exists()
        incremental = stored()
        raw = table(account_counts(Account.objects.alive()))
        summaries.rebuild([ACCOUNT_COUNTS])
        assert incremental == stored() == raw
        # Each user's part is their visible accounts', whatever their role.
        for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
            part = table(summaries.figures(ACCOUNT_COUNTS, user).rows)
            assert part == table(account_counts(Account.objects.visible_to(user))), user
        transaction.set_rollback(True)


def test_a_page_shows_its_users_last_write(org, account_factory, client):
    """The home page counts an account created a moment ago, without waiting for a refresh."""
    summaries.rebuild()
    client.force_login(org.specialist_a)
    before = client.get("/").context["figures"]["total"]
    account_factory(owner=org.specialist_a, actor=org.admin)
    assert SummaryDirty.objects.filter(summary=ACCOUNT_COUNTS).exists()
    after = client.get("/").context["figures"]
    assert after["total"] == before + 1 and after["mine"] == before + 1
    assert 'data-testid="as-of"' in client.get("/").content.decode()


def test_team_accounts_outside_the_users_reach_count_for_them(org, account_factory):
    """A specialist on the team of another branch's account sees it counted, and no other of that branch."""
    theirs = account_factory(owner=org.specialist_b, actor=org.admin)
    account_factory(owner=org.specialist_b, actor=org.admin)
    mine = account_factory(owner=org.specialist_a, actor=org.admin)
    AccountTeamMember.objects.create(account=theirs, user=org.specialist_a, team_role=TeamRole.TECHNICAL_SUPPORT)
    summaries.rebuild()
    rows = summaries.figures(ACCOUNT_COUNTS, org.specialist_a).rows
    assert summaries.total(rows, "accounts") == 2
    assert {r.unit_id for r in rows} == {mine.unit_id, theirs.unit_id}


def test_without_read_models_the_figures_come_from_the_raw_facts(org, account_factory):
    account_factory(owner=org.specialist_a, actor=org.admin)
    summaries.rebuild()
    AccountCount.objects.all().delete()  # a read model emptied behind its back …
    SummaryDirty.objects.all().delete()
    assert summaries.total(summaries.figures(ACCOUNT_COUNTS, org.director).rows, "accounts") == 0
    with override_settings(KAM={**__import__("django.conf").conf.settings.KAM, "READ_MODELS": False}):
        read = summaries.figures(ACCOUNT_COUNTS, org.director)  # … is not what the raw path reads
    assert not read.stored and summaries.total(read.rows, "accounts") == 1


def test_a_crash_before_the_refresh_loses_nothing(org, account_factory):
    """The marks are written with the change: a refresh run later (another process) counts it."""
    summaries.rebuild()
    account = account_factory(owner=org.specialist_a, actor=org.admin)
    assert SummaryDirty.objects.filter(summary=ACCOUNT_COUNTS, account_id=account.pk).exists()
    summaries.refresh(ACCOUNT_COUNTS)
    assert summaries.total(AccountCount.objects.filter(owner_id=org.specialist_a.pk), "accounts") == 1


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_computes_outside_its_write_transaction(reference_lists, monkeypatch):
    """On SQLite a write transaction holds the write lock from its start: the computing, which
    only reads, must come before it, and the swap alone be in it."""
    import dataclasses

    from django.db import connection

    summary = summaries.get(ACCOUNT_COUNTS)
    seen = []

    def computing(accounts):
        seen.append(connection.in_atomic_block)
        return summary.compute(accounts)

    monkeypatch.setitem(summaries._summaries, ACCOUNT_COUNTS, dataclasses.replace(summary, compute=computing))
    summaries.rebuild([ACCOUNT_COUNTS])
    summaries.invalidate("accounts")  # stale: the next read rebuilds, also outside
    summaries.refresh(ACCOUNT_COUNTS)
    assert seen == [False, False]


def test_the_team_only_accounts_are_the_visible_ones_beyond_units_and_ownership(org, account_factory):
    mine = account_factory(owner=org.specialist_a, actor=org.admin)
    elsewhere = account_factory(owner=org.specialist_b, actor=org.admin)  # another branch
    near = account_factory(owner=org.specialist_a2, actor=org.admin)  # inside manager_a's branch
    for user in (org.specialist_a, org.manager_a):
        for account in (mine, elsewhere, near):
            AccountTeamMember.objects.get_or_create(account=account, user=user,
                                                    defaults={"team_role": TeamRole.TECHNICAL_SUPPORT})
    for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
        visible = Account.objects.visible_to(user).exclude(owner_id=user.pk)
        if user.visible_unit_ids:
            visible = visible.exclude(unit_id__in=user.visible_unit_ids)
        assert (set(Account.objects.seen_only_through_team(user).values_list("pk", flat=True))
                == set(visible.values_list("pk", flat=True))), user
    assert set(Account.objects.seen_only_through_team(org.specialist_a).values_list("pk", flat=True)) == {
        elsewhere.pk, near.pk}
    assert set(Account.objects.seen_only_through_team(org.manager_a).values_list("pk", flat=True)) == {elsewhere.pk}

