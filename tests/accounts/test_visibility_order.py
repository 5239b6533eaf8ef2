"""The account list's visibility for those who see whole units: the same accounts as
`visible_to`, read in the list's order rather than gathered and sorted."""

from __future__ import annotations

from django.utils import timezone

from kam.accounts.models import Account, AccountTeamMember, TeamRole
from kam.accounts.ownership import release_to_pool


def test_visible_in_order_is_visible_to_and_walks_the_lists_order(org, account_factory):
    from django.db import connection

    for owner in (org.specialist_a, org.specialist_a2, org.specialist_b):
        for _n in range(3):
            account_factory(owner=owner, actor=org.admin)
    release_to_pool(actor=org.admin, account=account_factory(owner=org.specialist_a2, actor=org.admin),
                    now=timezone.now(), reason="test")  # in the pool: no owner, still the branch's
    seen = account_factory(owner=org.specialist_b, actor=org.admin)  # another branch's, on manager_a's team
    AccountTeamMember.objects.create(account=seen, user=org.manager_a, team_role=TeamRole.TECHNICAL_SUPPORT)
    for user in (org.director, org.manager_a, org.manager_b, org.specialist_a, org.specialist_b):
        assert (set(Account.objects.visible_in_order(user).values_list("pk", flat=True))
                == set(Account.objects.visible_to(user).values_list("pk", flat=True))), user
    assert seen in Account.objects.visible_in_order(org.manager_a)
    if connection.vendor == "sqlite":  # the newest first without sorting every row of the branch
        listed = Account.objects.visible_in_order(org.manager_a).order_by("-updated_at", "-id")[:25]
        sql, params = listed.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "TEMP B-TREE" not in plan and "updated" in plan, plan


def test_the_lists_status_and_channel_filters_keep_their_accounts(org, account_factory):
    from kam.accounts.card.filters import AccountFilter
    from kam.accounts.card.selectors import account_list
    from kam.accounts.models import Channel

    for n in range(8):
        account_factory(owner=(org.specialist_a, org.specialist_b)[n % 2], actor=org.admin,
                        channel=(Channel.KEY, Channel.COMMERCIAL)[n // 2 % 2])
    for user in (org.director, org.manager_a, org.specialist_a):
        for sort in ("-updated", "name", "created"):  # walked in an index's order, and not
            listed = account_list(user=user, filters=AccountFilter(channel=Channel.KEY, sort=sort))
            expected = Account.objects.visible_to(user).filter(channel=Channel.KEY)
            assert set(listed.values_list("pk", flat=True)) == set(expected.values_list("pk", flat=True)), (user, sort)
            assert listed.count() == expected.count() > 0


def test_a_specialists_own_accounts_are_listed_newest_first_from_an_index(org, account_factory):
    from django.db import connection

    from kam.accounts.card.filters import AccountFilter
    from kam.accounts.card.selectors import account_list

    for _n in range(3):
        account_factory(owner=org.specialist_a, actor=org.admin)
    listed = account_list(user=org.specialist_a, filters=AccountFilter())[:25]
    assert [a.pk for a in listed] == list(Account.objects.filter(owner=org.specialist_a)
                                          .order_by("-updated_at", "-id").values_list("pk", flat=True))
    if connection.vendor == "sqlite":  # walked in the owner's index order: not every own account sorted
        sql, params = listed.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "TEMP B-TREE" not in plan and "account_owner_updated_idx" in plan, plan


def test_a_large_books_scores_are_read_in_value_order_and_are_the_same_scores(org, account_factory, monkeypatch):
    from decimal import Decimal

    from django.db import connection

    from insight.scoring_data import store_scores
    from kam.accounts import models as account_models
    from kam.insight.forecast.selectors import score_list
    from kam.insight.models import AccountScore

    # given scored accounts of two specialists, one of them also on the other's team
    accounts = [account_factory(owner=(org.specialist_a, org.specialist_b)[n % 2], actor=org.admin) for n in range(6)]
    AccountTeamMember.objects.create(account=accounts[1], user=org.specialist_a, team_role=TeamRole.BACKUP)
    store_scores({a: {"expected_value": Decimal(100 * n)} for n, a in enumerate(accounts)})
    for book in (1, 10_000):  # a large book (compared row by row) and a small one (looked up)
        monkeypatch.setattr(account_models, "BOOK_IN_ORDER", book)
        for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
            in_order = list(score_list(user=user).values_list("account_id", flat=True))
            looked_up = list(score_list(user=user, in_order=False).values_list("account_id", flat=True))
            assert in_order == looked_up and set(in_order) == set(
                AccountScore.objects.visible_to(user).values_list("account_id", flat=True)), (book, user)
    if connection.vendor == "sqlite":  # the large book walks the value index, not the owner's accounts
        monkeypatch.setattr(account_models, "BOOK_IN_ORDER", 1)
        sql, params = score_list(user=org.specialist_a)[:25].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        assert "insight_score_value_order" in plan and "TEMP B-TREE" not in plan, plan


def test_the_visible_parts_are_disjoint_and_together_are_visible_to(org, account_factory):
    """The list and the API count a user's accounts part by part; a row in two parts would be
    counted twice, a row in none not at all."""
    from kam.accounts.card.filters import AccountFilter
    from kam.accounts.card.selectors import account_count, account_list
    from kam.accounts.models import Channel

    for n, owner in enumerate((org.specialist_a, org.specialist_a2, org.specialist_b, org.manager_a, org.manager_b)):
        account_factory(owner=owner, actor=org.admin, channel=(Channel.KEY, Channel.COMMERCIAL)[n % 2])
    own_outside = account_factory(owner=org.manager_a, actor=org.admin)  # kept after a move to another branch
    Account.objects.filter(pk=own_outside.pk).update(unit=org.branch_b)
    team_outside = account_factory(owner=org.specialist_b, actor=org.admin)  # the team only
    team_inside = account_factory(owner=org.specialist_a, actor=org.admin)  # the team and the unit
    own_and_team = account_factory(owner=org.specialist_b, actor=org.admin, channel=Channel.COMMERCIAL)
    for account, user in ((team_outside, org.manager_a), (team_inside, org.manager_a), (own_and_team, org.specialist_b),
                          (team_outside, org.specialist_a)):
        AccountTeamMember.objects.create(account=account, user=user, team_role=TeamRole.TECHNICAL_SUPPORT)
    for user in (org.director, org.manager_a, org.manager_b, org.specialist_a, org.specialist_b, org.admin):
        parts = [set(part.values_list("pk", flat=True)) for part in Account.objects.visible_parts(user)]
        seen = set(Account.objects.visible_to(user).values_list("pk", flat=True))
        assert sum(len(p) for p in parts) == len(set().union(*parts)) == len(seen), user  # no row twice
        assert set().union(*parts) == seen, user
        for filters in (AccountFilter(), AccountFilter(channel=Channel.COMMERCIAL), AccountFilter(q="测试")):
            assert account_count(user=user, filters=filters) == account_list(user=user, filters=filters).count()
    assert {own_outside.pk, team_outside.pk, team_inside.pk} <= set(
        Account.objects.visible_to(org.manager_a).values_list("pk", flat=True))
    assert account_count(user=org.director, filters=AccountFilter(), limit=3) == 4  # "more than 3": counting stops


def test_a_branchs_accounts_are_counted_from_the_index_of_live_accounts_by_unit(org, account_factory):
    from django.db import connection

    account_factory(owner=org.specialist_a, actor=org.admin)
    if connection.vendor != "sqlite":  # PostgreSQL plans a table of a few rows as it likes
        return
    unit_part = Account.objects.visible_parts(org.manager_a)[0].order_by().values("pk")
    sql, params = unit_part.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM ({sql}) counted", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    # a partial index of live accounts by unit (its index by unit and search text is one)
    assert "account_alive_unit_idx" in plan or "account_alive_unit_search_idx" in plan, plan
