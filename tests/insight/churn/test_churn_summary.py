"""The churn read model: after random writes (revenue, events, owners, deletions) the rates
summed from it equal those computed from the raw facts, for every role and filter, and its
incrementally kept rows equal a rebuild."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.accounts.models import Account, AccountTeamMember, TeamRole
from kam.accounts.ownership import give_owner, release_to_pool
from kam.accounts.recycle.services import account_delete
from kam.core import summaries
from kam.core.models import Industry
from kam.insight.churn.rates import churn_rates_from_facts
from kam.insight.churn.summary import CHURN_FIGURES, churn_rates_read
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnFigure
from kam.revenue.importers import monthly_refresh
from kam.revenue.models import RevenueFact

from .test_churn_rates import JULY, book, event  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db


_lines = itertools.count()


def bill(account, n: int) -> None:
    """A few monthly lines of their own product (so two writes never collide)."""
    days = [date(2025, 6 + (n + k) % 7, 1 + n % 28) for k in range(1 + n % 3)]
    RevenueFact.objects.bulk_create([RevenueFact(account=account, date=d, month=d.replace(day=1), amount=100 + n,
                                                 product=f"t{next(_lines)}") for d in days])
    monthly_refresh({(account.pk, d.replace(day=1)) for d in days})


def shown(result) -> dict:
    """What the page shows of a ChurnRates."""
    def rate(r):
        return (r.key, r.label, r.base, r.base_revenue, r.churned, r.lost,
                None if r.lost_share is None else round(r.lost_share, 9))

    b = result.breakdowns
    return {"periods": [rate(r) for r in result.periods], "total": rate(b.total),
            **{name: [rate(r) for r in getattr(b, name)] for name in ("reasons", "industries", "tiers", "units")}}


def stored() -> Counter:
    out: Counter = Counter()
    for r in ChurnFigure.objects.all():
        key = (r.span_id, r.unit_id, r.owner_id, r.industry_id, r.tier, r.definition_id, r.reason_id)
        for field in ("base", "base_fen", "churned", "lost_fen"):
            out[(*key, field)] += getattr(r, field)
    return +out


def agree(org, **filters) -> None:
    for user in (org.admin, org.director, org.manager_a, org.specialist_a, org.specialist_b):
        for by, (start, end) in (("month", (date(2026, 5, 1), JULY[1])), ("quarter", (date(2026, 1, 1), JULY[1]))):
            read = churn_rates_read(user=user, start=start, end=end, by=by, **filters)
            raw = churn_rates_from_facts(user=user, start=start, end=end, by=by,
                                         **{k: v for k, v in filters.items() if k != "definition"},
                                         definitions=(filters["definition"],) if filters.get("definition") else ())
            assert shown(read) == shown(raw), (user, by, filters)


WRITES = st.lists(st.tuples(st.sampled_from(["revenue", "event", "owner", "pool", "delete", "team", "refresh"]),
                            st.integers(0, 1000)), max_size=8)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(writes=WRITES)
def test_read_model_equals_raw_after_random_writes(org, book, writes):  # noqa: F811
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    codes = list(ChurnDefinition.objects.values_list("code", flat=True))
    with transaction.atomic():
        # the specialist and the manager of branch A also see one of branch B's accounts through its team
        # (their figures add what the stored rows of their reach leave out)
        theirs = Account.objects.alive().filter(unit__path__startswith=org.branch_b.path).order_by("pk").first()
        for member in (org.specialist_a, org.manager_a):
            AccountTeamMember.objects.create(account=theirs, user=member, team_role=TeamRole.TECHNICAL_SUPPORT)
        agree(org)  # registers the spans
        for op, n in writes:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)]
            if op == "revenue":
                bill(account, n)
            elif op == "event" and not ChurnEvent.objects.filter(account=account,
                                                                 definition__code=codes[n % len(codes)]).exists():
                event(account, codes[n % len(codes)], date(2026, 5 + n % 3, 1 + n % 28), str(500 + n))
            elif op == "owner" and account.owner_id:
                person = people[n % 3]
                give_owner(actor=org.admin, account=account, owner=person, unit=person.unit, reason="test")
            elif op == "pool" and account.owner_id:
                release_to_pool(actor=org.admin, account=account, now=timezone.now(), reason="test")
            elif op == "delete":
                account_delete(actor=org.admin, account=account)
            elif op == "team":
                AccountTeamMember.objects.get_or_create(account=account, user=(org.specialist_a, org.manager_a)[n % 2],
                                                        defaults={"team_role": TeamRole.TECHNICAL_SUPPORT})
            elif op == "refresh":
                summaries.refresh(CHURN_FIGURES)
        agree(org)
        agree(org, definition=ChurnDefinition.objects.get(code="no-revenue").pk)
        agree(org, unit=org.branch_a, industry=Industry.objects.get(code="gov").pk)
        incremental = stored()
        summaries.rebuild([CHURN_FIGURES])
        assert stored() == incremental
        transaction.set_rollback(True)


def test_a_new_event_shows_at_once(org, book):  # noqa: F811
    before = churn_rates_read(user=org.admin, start=JULY[0], end=JULY[1])
    event(book.b2, "no-revenue", date(2026, 7, 9), "1000")
    after = churn_rates_read(user=org.admin, start=JULY[0], end=JULY[1])
    assert after.periods[0].churned == before.periods[0].churned + 1
    assert after.as_of is not None


def test_spans_nobody_reads_are_dropped_at_the_nightly_rebuild(org, book):  # noqa: F811
    from kam.insight.churn.summary import spans_prune
    from kam.insight.models import ChurnSpan

    churn_rates_read(user=org.admin, start=JULY[0], end=JULY[1])
    assert ChurnSpan.objects.exists() and ChurnFigure.objects.exists()
    ChurnSpan.objects.update(last_used_on=date(2000, 1, 1))
    assert spans_prune() > 0
    assert not ChurnFigure.objects.exists()
