"""The models page's histogram from its read model: after any sequence of scorings, scores saved
on their own and moves of accounts, the stored rows equal a rebuild, and each role's histogram
equals the one counted over the scores it sees."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_moves import ACCOUNT_MOVES, move_account
from kam.accounts.models import Account
from kam.core import summaries
from kam.core.models import SummaryDirty
from kam.insight.forecast import selectors
from kam.insight.forecast import summary as score_summary
from kam.insight.models import AccountScore, ScoreTenth

from ..scoring_data import add_facts, quick_accounts, random_history, store_scores

pytestmark = pytest.mark.django_db


def stored() -> Counter:
    return Counter(ScoreTenth.objects.values_list("unit_id", "owner_id", "tenth", "accounts"))


OPS = st.lists(st.tuples(st.sampled_from(["rescore", "one", "refresh", *ACCOUNT_MOVES]), st.integers(0, 10_000)),
               min_size=1, max_size=10)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_incremental_equals_rebuild_and_each_role_sees_its_scores(org, ops):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    with transaction.atomic():
        accounts = quick_accounts([people[i % 3] for i in range(9)], "ST")
        store_scores({a: {"p_alive": (i * 7 % 10) / 10} for i, a in enumerate(accounts)})
        summaries.rebuild([score_summary.SCORE_TENTHS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account, person = live[n % len(live)], people[n % len(people)]
            if op == "rescore":  # a new fit: every live account scored again
                AccountScore.objects.all().delete()
                store_scores({a: {"p_alive": ((i + n) % 11) / 10} for i, a in enumerate(live)})
            elif op == "one":  # one score saved on its own
                score = AccountScore.objects.filter(account=account).first()
                if score is not None:
                    score.p_alive = (n % 100) / 100
                    score.save()
            elif op == "refresh":
                summaries.refresh(score_summary.SCORE_TENTHS)
            else:
                move_account(org, op, account, person)
        summaries.refresh(score_summary.SCORE_TENTHS)
        assert not SummaryDirty.objects.filter(summary=score_summary.SCORE_TENTHS).exists()
        incremental = stored()
        summaries.rebuild([score_summary.SCORE_TENTHS])
        assert stored() == incremental
        for user in (org.director, org.manager_a, org.manager_b, org.specialist_a, org.specialist_b):
            assert score_summary.visible_histogram(user) == selectors.p_alive_histogram(
                selectors.score_list(user=user)), user
        transaction.set_rollback(True)


def test_a_refit_marks_the_histogram_stale_and_the_page_counts_the_new_scores(org):
    from kam.insight.forecast import services as scoring

    # given two and a half years of purchases, the histogram read (built) before any fit, then
    # the nightly refit and scoring
    accounts = quick_accounts([org.specialist_a] * 40 + [org.specialist_b] * 20, "RF")
    add_facts(random_history(accounts, start=date(2024, 1, 1), end=date(2026, 6, 30)))
    assert score_summary.visible_histogram(org.director) == [0] * 10
    scoring.refit_and_score(as_of=date(2026, 7, 1))

    # then the next read counts every new score, as the raw count does
    shown = score_summary.visible_histogram(org.director)
    assert sum(shown) == AccountScore.objects.count() > 0
    assert shown == selectors.p_alive_histogram(selectors.score_list(user=org.director))
