"""The warnings page's read model: after any sequence of sweeps, retention actions, severity
changes and moves of accounts, the incrementally kept counts equal a rebuild and the counts
over the raw warnings; each user's part is exactly their visible accounts'; the page shows it."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from account_moves import ACCOUNT_MOVES, move_account
from kam.accounts.models import Account
from kam.accounts.recycle.services import account_restore
from kam.core import summaries
from kam.core.models import SummaryDirty
from kam.insight.models import Severity, Warning, WarningCount, WarningRule
from kam.insight.warnings import services
from kam.insight.warnings.summary import WARNING_COUNTS


def table(rows) -> Counter:
    out: Counter = Counter()
    for row in rows:
        out[(row.unit_id, row.owner_id, row.severity)] += row.warnings
    return +out


def raw(accounts) -> Counter:
    """Counted from the warnings themselves, not through the summary's own function."""
    out: Counter = Counter()
    for unit, owner, severity in Warning.objects.open().filter(account__in=accounts).values_list(
            "account__unit_id", "account__owner_id", "severity"):
        out[(unit or 0, owner or summaries.NO_OWNER, severity)] += 1
    return +out


OPS = st.lists(st.tuples(st.sampled_from([
    "create", "overdue", "settle", "sweep", "sweep_one", "retain", "severity", "owner", "office", "pool",
    "delete", "restore", "team", "refresh",
]), st.integers(0, 10_000)), min_size=1, max_size=12)


@pytest.mark.django_db(transaction=False)
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_incremental_equals_rebuild_and_raw(org, account_factory, ops):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    rule = WarningRule.objects.get(code="payment_overdue")
    WarningRule.objects.exclude(pk=rule.pk).update(is_enabled=False)  # one rule: its firing is the test's to decide
    with transaction.atomic():
        for i in range(3):
            account_factory(owner=people[i], actor=org.admin, overdue_amount=Decimal("50000"))
        services.warning_sweep()
        summaries.rebuild([WARNING_COUNTS])
        for op, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)] if live else None
            person = people[n % len(people)]
            if op == "create" or account is None:
                account_factory(owner=person, actor=org.admin, overdue_amount=Decimal("50000") * (n % 2))
            elif op in ("overdue", "settle"):
                Account.objects.filter(pk=account.pk).update(overdue_amount=Decimal("50000" if op == "overdue" else "0"))
            elif op == "sweep":
                services.warning_sweep()
            elif op == "sweep_one":
                services.warning_sweep(account_ids=[account.pk])
            elif op == "retain":
                warning = Warning.objects.open().filter(account=account).first()
                if warning is not None and account.owner_id:
                    services.retention_record(actor=org.admin, warning=warning, action="上门沟通", outcome="retained")
            elif op == "severity":
                rule.refresh_from_db()
                severities = [Severity.HIGH, Severity.MEDIUM, Severity.LOW]
                services.rule_update(actor=org.admin, rule=rule, is_enabled=True,
                                     severity=severities[n % 3], params=rule.params)
                services.warning_sweep(account_ids=[account.pk])  # the sweep carries the new severity to all
            elif op in ACCOUNT_MOVES:
                move_account(org, op, account, person)
            elif op == "restore":
                binned = Account.objects.binned().order_by("pk").first()
                if binned is not None:
                    account_restore(actor=org.admin, account_id=binned.pk)
            elif op == "refresh":
                summaries.refresh(WARNING_COUNTS)
        summaries.refresh(WARNING_COUNTS)
        assert not SummaryDirty.objects.filter(summary=WARNING_COUNTS).exists()
        incremental = table(WarningCount.objects.all())
        summaries.rebuild([WARNING_COUNTS])
        assert incremental == table(WarningCount.objects.all()) == raw(Account.objects.alive())
        for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
            assert table(summaries.figures(WARNING_COUNTS, user).rows) == raw(Account.objects.visible_to(user)), user
        transaction.set_rollback(True)


def test_the_page_counts_from_the_read_model_and_shows_when(org, account_factory, client):
    account = account_factory(owner=org.specialist_a, actor=org.admin, overdue_amount=Decimal("50000"))
    summaries.rebuild([WARNING_COUNTS])
    services.warning_sweep(account_ids=[account.pk])  # marks the account: the page's read recounts its group
    assert SummaryDirty.objects.filter(summary=WARNING_COUNTS, account_id=account.pk).exists()
    client.force_login(org.manager_a)
    page = client.get(reverse("insight:warnings"))
    assert page.status_code == 200 and b'data-testid="warnings-as-of"' in page.content
    people = {r.key: r for r in page.context["people"]}
    assert people[org.specialist_a.pk].total == Warning.objects.open().filter(account=account).count() >= 1
    assert not SummaryDirty.objects.filter(summary=WARNING_COUNTS).exists()
    # … and the stored rows, not a count over the warnings, are what it read
    WarningCount.objects.filter(owner_id=org.specialist_a.pk).update(warnings=99)
    page = client.get(reverse("insight:warnings"))
    assert {r.key: r for r in page.context["people"]}[org.specialist_a.pk].total == 99
    # a branch manager elsewhere sees none of it
    client.force_login(org.manager_b)
    assert org.specialist_a.pk not in {r.key for r in client.get(reverse("insight:warnings")).context["people"]}


def test_each_way_a_warning_opens_or_closes_marks_its_account(org, account_factory):
    rule = WarningRule.objects.get(code="payment_overdue")
    WarningRule.objects.exclude(pk=rule.pk).update(is_enabled=False)
    account = account_factory(owner=org.specialist_a, actor=org.admin, overdue_amount=Decimal("50000"))
    other = account_factory(owner=org.specialist_b, actor=org.admin, overdue_amount=Decimal("50000"))
    summaries.rebuild([WARNING_COUNTS])

    def agrees() -> bool:
        return table(summaries.figures(WARNING_COUNTS, org.director).rows) == raw(Account.objects.alive())

    services.warning_sweep(account_ids=[account.pk, other.pk])  # opened
    assert agrees() and raw(Account.objects.alive())
    Account.objects.filter(pk=account.pk).update(overdue_amount=Decimal("0"))
    services.warning_sweep(account_ids=[account.pk])  # cleared
    assert agrees()
    services.rule_update(actor=org.admin, rule=rule, is_enabled=True, severity=Severity.LOW, params=rule.params)
    services.warning_sweep(account_ids=[account.pk])  # the other account's warning takes the new severity
    assert agrees() and {k[2] for k in raw(Account.objects.alive())} == {Severity.LOW}
    services.retention_record(actor=org.admin, warning=Warning.objects.open().get(account=other), action="上门沟通",
                              outcome="retained")
    assert agrees() and not raw(Account.objects.alive())
