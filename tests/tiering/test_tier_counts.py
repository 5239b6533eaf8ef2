"""The tiering read model: after any sequence of writes (owners, offices, the pool, deletions,
teams, new snapshots, frozen lists, decided moves), the incrementally kept tier counts equal a
rebuild and the counts over the raw entries, and each user's part is their visible accounts'."""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.accounts.models import Account, AccountTeamMember, TeamRole
from kam.accounts.ownership import give_owner, release_to_pool
from kam.accounts.recycle.services import account_delete, account_restore
from kam.core import summaries
from kam.core.errors import ValidationFailed
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact
from kam.tiering import selectors
from kam.tiering import services as tiering
from kam.tiering.models import MoveDecision, Scheme, TierCount
from kam.tiering.summaries import TIER_COUNTS, tier_counts

pytestmark = pytest.mark.django_db


def table(rows) -> Counter:
    out: Counter = Counter()
    for row in rows:
        key = (row.snapshot_id, row.unit_id, row.owner_id, row.tier)
        out[(*key, "accounts")] += row.accounts
        out[(*key, "revenue")] += row.revenue
    return +out


def spend(account, amount: int, month: date) -> None:
    RevenueFact.objects.create(account=account, date=month, month=month, amount=Decimal(amount),
                               product=f"p{RevenueFact.objects.count()}")
    monthly_refresh({(account.pk, month)})


OPS = st.lists(st.tuples(st.sampled_from(["owner", "office", "pool", "delete", "restore", "team", "snapshot",
                                          "freeze", "move", "refresh"]), st.integers(0, 10_000)),
               min_size=1, max_size=10)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_tier_counts_kept_incrementally_equal_a_rebuild_the_entries_and_each_users_part(org, account_factory, ops):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    scheme = Scheme.objects.get(code="pareto-abc")
    with transaction.atomic():
        accounts = [account_factory(owner=people[i % 3], actor=org.admin) for i in range(6)]
        for i, account in enumerate(accounts):
            spend(account, 1000 * (i + 1) ** 2, date(2026, 1, 1))
        first = tiering.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
        snapshots, day = [first], date(2026, 2, 28)
        summaries.rebuild([TIER_COUNTS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)]
            person = people[n % 3]
            if op == "owner" and account.owner_id:
                give_owner(actor=org.admin, account=account, owner=person, unit=person.unit, reason="test")
            elif op == "office" and account.owner_id:
                give_owner(actor=org.admin, account=account, owner=account.owner, unit=org.office_a2, reason="test")
            elif op == "pool" and account.owner_id:
                release_to_pool(actor=org.admin, account=account, now=timezone.now(), reason="test")
            elif op == "delete" and len(live) > 2 and not account.subsidiaries.exists():
                account_delete(actor=org.admin, account=account)
            elif op == "restore":
                binned = Account.objects.binned().order_by("pk").first()
                if binned is not None:
                    account_restore(actor=org.admin, account_id=binned.pk)
            elif op == "team":
                AccountTeamMember.objects.get_or_create(account=account, user=person,
                                                        defaults={"team_role": TeamRole.TECHNICAL_SUPPORT})
            elif op == "snapshot":
                spend(account, 5000 + n, day.replace(day=1))
                snapshots.append(tiering.snapshot_create(actor=org.admin, scheme=scheme, as_of=day))
                day = (day.replace(day=1) + timedelta(days=40)).replace(day=1) - timedelta(days=1)
            elif op == "freeze" and first.frozen_year is None:
                first = tiering.snapshot_freeze(actor=org.director, snapshot=first, year=2026)
            elif op == "move" and first.frozen_year is not None and len(snapshots) > 1:
                with contextlib.suppress(ValidationFailed):  # an account whose tier did not change does not move
                    tiering.tier_move_decide(actor=org.director, annual_list=first, fresh=snapshots[-1],
                                             account=account, decision=MoveDecision.APPROVED, reason="年中调整")
            elif op == "refresh":
                summaries.refresh(TIER_COUNTS)
        summaries.refresh(TIER_COUNTS)
        incremental = table(TierCount.objects.all())
        raw = table(tier_counts(Account.objects.alive()))
        summaries.rebuild([TIER_COUNTS])
        assert incremental == table(TierCount.objects.all()) == raw
        for user in (org.manager_a, org.manager_b, org.specialist_a, org.specialist_a2, org.specialist_b):
            assert table(summaries.figures(TIER_COUNTS, user).rows) == table(tier_counts(Account.objects.visible_to(user))), user
            # and the page's distribution counts exactly the user's accounts in the snapshot's entries
            latest = snapshots[-1]
            shown = {d["code"]: d["count"] for d in selectors.distribution(user=user, snapshot=latest) if d["count"]}
            direct = Counter(latest.entries.filter(account__in=Account.objects.visible_to(user).values("pk"))
                             .values_list("tier", flat=True))
            assert shown == dict(direct), user
        transaction.set_rollback(True)


def test_the_scheme_list_reads_the_tier_counts_once_for_every_scheme(org, account_factory, client,
                                                                    django_assert_max_num_queries):
    accounts = [account_factory(owner=org.specialist_a, actor=org.admin) for _ in range(4)]
    for i, account in enumerate(accounts):
        spend(account, 100 * (i + 1), date(2026, 1, 1))
    for scheme in Scheme.objects.filter(is_active=True):
        tiering.snapshot_create(actor=org.admin, scheme=scheme, as_of=date(2026, 1, 31))
    client.force_login(org.manager_a)
    client.get("/tiering/")
    schemes = Scheme.objects.filter(is_active=True).count()
    # the session, the user, the scope, the schemes, each scheme's latest snapshot and annual list, the counts
    with django_assert_max_num_queries(2 * schemes + 10):
        page = client.get("/tiering/").content.decode()
    # and every scheme's row shows its four accounts, those the manager sees
    badges = re.findall(r'badge bg-blue-lt me-1">[^<]*? (\d+)</span>', page)
    rows = page.count("<tr") - 1
    assert rows == schemes and sum(map(int, badges)) == 4 * schemes
