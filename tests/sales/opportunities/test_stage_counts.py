"""The opportunity list's read model: after any sequence of writes (opportunities opened, moved,
re-valued, closed, reopened, deleted and restored; accounts given a new owner or office,
pooled, deleted, a team member added), the incrementally kept stage counts equal a rebuild,
and the totals and count each user's list shows equal those counted over the list itself."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_moves import ACCOUNT_MOVES, move_account
from factories import AccountFactory
from kam.accounts.models import Account
from kam.core import summaries
from kam.core.models import SummaryDirty
from kam.sales.models import OPEN_STAGES, Opportunity, OutcomeReason, Stage, StageCount
from kam.sales.opportunities import selectors
from kam.sales.opportunities.filters import OpportunityFilter
from kam.sales.opportunities.services import (
    opportunity_close,
    opportunity_create,
    opportunity_delete,
    opportunity_move,
    opportunity_reopen,
    opportunity_restore,
    opportunity_update,
)
from kam.sales.opportunities.summary import STAGE_COUNTS, stage_counts

pytestmark = pytest.mark.django_db


def table(rows) -> Counter:
    out: Counter = Counter()
    for row in rows:
        out[(row.unit_id, row.owner_id, row.stage, "n")] += row.opportunities
        out[(row.unit_id, row.owner_id, row.stage, "amount")] += row.amount
    return +out


def totals(pipeline) -> list[tuple[str, int, Decimal, Decimal]]:
    return [(s.stage, s.count, s.amount, s.weighted) for s in pipeline.stages]


OPS = st.lists(st.tuples(st.sampled_from(["open", "move", "revalue", "close", "reopen", "drop", "restore",
                                          "refresh", *ACCOUNT_MOVES]), st.integers(0, 10_000)),
               min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_stage_counts_kept_incrementally_equal_a_rebuild_and_each_users_list(org, ops):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    today = timezone.localdate()
    won = OutcomeReason.objects.filter(is_active=True, applies_to__in=["won", "both"]).first()
    with transaction.atomic():
        for i in range(4):
            account = AccountFactory(owner=people[i % 3])
            opportunity_create(actor=org.admin, account=account, name=f"项目{i}", amount=Decimal(5000 * (i + 1)),
                               expected_close=today + timedelta(days=90), owner=people[i % 3])
        summaries.rebuild([STAGE_COUNTS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)]
            person = people[n % len(people)]
            opportunities = list(Opportunity.objects.alive().order_by("pk"))
            opportunity = opportunities[n % len(opportunities)] if opportunities else None
            if op == "open" and account.owner_id:
                opportunity_create(actor=org.admin, account=account, name=f"项目{n}", amount=Decimal(1000 + n),
                                   expected_close=today + timedelta(days=30), owner=person)
            elif opportunity is None or op == "refresh":
                summaries.refresh(STAGE_COUNTS)
            elif op == "move" and opportunity.stage in (Stage.CONTACT, Stage.DESIGN):
                opportunity_move(actor=org.admin, opportunity=opportunity,
                                 stage=Stage.DESIGN if opportunity.stage == Stage.CONTACT else Stage.REVIEW)
            elif op == "revalue":
                opportunity_update(actor=org.admin, opportunity=opportunity, version=None, amount=Decimal(n))
            elif op == "close" and opportunity.stage in OPEN_STAGES:
                opportunity_close(actor=org.admin, opportunity=opportunity, outcome="won", reason=won, note="签约")
            elif op == "reopen" and opportunity.stage not in OPEN_STAGES:
                opportunity_reopen(actor=org.admin, opportunity=opportunity)
            elif op == "drop":
                opportunity_delete(actor=org.admin, opportunity=opportunity)
            elif op == "restore":
                binned = Opportunity.objects.in_recycle_bin_of(org.admin).order_by("pk").first()
                if binned is not None:
                    opportunity_restore(actor=org.admin, opportunity_id=binned.pk)
            elif op in ACCOUNT_MOVES:
                move_account(org, op, account, person)
        summaries.refresh(STAGE_COUNTS)
        assert not SummaryDirty.objects.filter(summary=STAGE_COUNTS).exists()
        incremental = table(StageCount.objects.all())
        summaries.rebuild([STAGE_COUNTS])
        assert incremental == table(StageCount.objects.all()) == table(stage_counts(Account.objects.alive()))
        for user in (org.director, org.manager_a, org.manager_b, org.specialist_a, org.specialist_a2, org.specialist_b):
            unfiltered = OpportunityFilter()
            qs = selectors.opportunity_list(user=user, filters=unfiltered)
            assert totals(selectors.list_totals(user=user, filters=unfiltered, qs=qs)) == totals(selectors.stage_totals(qs)), user
        transaction.set_rollback(True)


def test_the_list_reads_its_totals_and_count_from_the_read_model_and_a_filtered_list_counts_itself(org):
    # given two opportunities of the specialist's account and one the specialist cannot see
    today = timezone.localdate()
    mine = AccountFactory(owner=org.specialist_a)
    for amount in (1000, 2000):
        opportunity_create(actor=org.admin, account=mine, name=f"项目{amount}", amount=Decimal(amount),
                           expected_close=today + timedelta(days=30), owner=org.specialist_a)
    opportunity_create(actor=org.admin, account=AccountFactory(owner=org.specialist_b), name="别人的项目",
                       amount=Decimal(9000), expected_close=today, owner=org.specialist_b)
    client = Client()
    client.force_login(org.specialist_a)

    # when the stored counts say something else (to tell where the page reads from)
    summaries.refresh(STAGE_COUNTS)
    row = StageCount.objects.get(owner_id=org.specialist_a.pk, stage=Stage.CONTACT)
    StageCount.objects.filter(pk=row.pk).update(opportunities=7)

    # then the whole list shows the stored figures (the stage's count, the list's count), and a
    # filtered one counts its own rows
    def contact_count(page: str) -> str:
        return re.search(r'<tr data-stage="contact"><td>[^<]*</td><td class="text-end">[^<]*</td>'
                         r'<td class="text-end">(\d+)</td>', page).group(1)

    page = client.get("/sales/opportunities/").content.decode()
    heading = re.search(r'<h3 class="card-title">([^<]*)</h3>', page).group(1)
    assert contact_count(page) == "7" and heading.split()[0] == "7", heading
    assert "别人的项目" not in page
    filtered = client.get("/sales/opportunities/", {"q": "项目"}).content.decode()
    assert contact_count(filtered) == "2"
