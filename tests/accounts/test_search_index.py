"""The account search's index of Chinese character pairs: after any sequence of writes (the
card's create and edit, the import's creates and updates, accounts a revenue import creates,
deletion), the index is what a rebuild makes of the search texts, and every search
finds exactly the visible live accounts whose search text holds the term."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kam.accounts import search, services
from kam.accounts.importers import AccountImporter
from kam.accounts.models import Account, AccountPair
from kam.accounts.recycle.services import account_delete
from kam.accounts.selectors import AccountFilter, account_list
from kam.core.text import normalise_query, wide_pairs
from kam.imports.columns import map_headers
from kam.imports.engine import execute, parse_rows
from kam.imports.readers import Table
from kam.revenue.services import revenue_lines_import

pytestmark = pytest.mark.django_db

# Few characters, so that names share pairs and terms find several accounts.
CHARACTERS = "粤海东莞南华科技宏达通信"
NAMES = st.text(alphabet=CHARACTERS, min_size=2, max_size=6).map(lambda s: f"{s}有限公司")


def index_rows() -> set[tuple[str, int]]:
    return set(AccountPair.objects.values_list("pair", "account_id"))


def import_accounts(actor, header: list[str], rows: list[list]) -> None:
    table = Table(headers=header, rows=list(enumerate(rows, start=2)))
    importer = AccountImporter(actor=actor, include_duplicates=True)
    parsed = parse_rows(importer, table, map_headers(table.headers, importer.columns))
    execute(importer, parsed, all_or_nothing=True, batch_size=100, single_transaction_rows=1000)


def found(user, term: str) -> set[int]:
    return set(account_list(user=user, filters=AccountFilter(q=term)).values_list("pk", flat=True))


def expected(user, term: str) -> set[int]:
    key = normalise_query(term)
    return {pk for pk, text in Account.objects.visible_to(user).values_list("pk", "search_text") if key in text}


OPS = st.lists(st.tuples(st.sampled_from(["create", "rename", "short", "import_new", "import_rename",
                                          "revenue_new", "delete"]), NAMES, st.integers(0, 1000)),
               min_size=1, max_size=8)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS, terms=st.lists(st.text(alphabet=CHARACTERS + "a", min_size=1, max_size=4), min_size=3, max_size=6))
def test_the_index_follows_every_write_and_search_finds_exactly_the_holders(org, ops, terms):
    people = [org.specialist_a, org.specialist_a2, org.specialist_b]
    with transaction.atomic():
        for i, name in enumerate(("粤海东方有限公司", "东莞南华科技有限公司", "宏达通信有限公司")):
            services.account_create(actor=people[i], data={"name": name}, confirm_similar=True)
        for op, name, n in ops:
            live = list(Account.objects.alive().order_by("pk"))
            account = live[n % len(live)]
            owner = account.owner or org.admin
            if op == "create":
                services.account_create(actor=people[n % 3], data={"name": name}, confirm_similar=True)
            elif op == "rename" and not Account.objects.filter(name=name).exists():
                services.account_update(actor=org.admin, account=account, data={"name": name})
            elif op == "short":
                services.account_update(actor=org.admin, account=account, data={"short_name": name[:3]})
            elif op == "import_new" and not Account.objects.filter(name=name).exists():
                import_accounts(people[n % 3], ["客户名称"], [[name]])
            elif op == "import_rename" and not Account.objects.filter(name=name).exists():
                import_accounts(owner, ["客户编号", "客户名称"], [[account.code, name]])
            elif op == "revenue_new":
                code = f"{name[:2]}{n:04d}"  # a code with Chinese characters becomes a name too
                if not Account.objects.filter(code=code).exists():
                    revenue_lines_import(actor=org.admin, create_accounts=True,
                                         lines=[{"account": code, "date": date(2026, 3, 1), "amount": "100"}])
            elif op == "delete" and len(live) > 2:
                account_delete(actor=org.admin, account=account)

        # then the index is what a rebuild makes of the search texts
        kept = index_rows()
        search.rebuild()
        assert kept == index_rows()
        assert kept == {(pair, pk) for pk, text in Account.objects.values_list("pk", "search_text")
                        for pair in wide_pairs(text)}
        # and each search finds exactly the visible live holders of the term, whichever path serves it
        for term in terms:
            for user in (org.director, org.manager_a, org.specialist_a, org.specialist_b):
                assert found(user, term) == expected(user, term), (term, user)
        transaction.set_rollback(True)


def listed(user, term: str) -> tuple[list[int], str]:
    """The accounts a search lists, and the SQL of the list's own query."""
    with CaptureQueriesContext(connection) as captured:
        pks = list(account_list(user=user, filters=AccountFilter(q=term)).values_list("pk", flat=True))
    return pks, captured.captured_queries[-1]["sql"]


def test_a_chinese_term_is_read_from_the_index_not_from_every_search_text(org, account_factory):
    target = account_factory(owner=org.specialist_a, name="东莞南粤海农业发展有限公司")
    account_factory(owner=org.specialist_a, name="广州天河软件有限公司")
    pks, sql = listed(org.specialist_a, "粤海农")
    assert pks == [target.pk] and "accounts_accountpair" in sql
    # a pinyin or code term is not: it compares the search texts
    pks, sql = listed(org.specialist_a, "dgnyh")
    assert pks == [target.pk] and "accounts_accountpair" not in sql


def test_a_term_of_common_pairs_only_compares_the_search_texts(org, account_factory, monkeypatch):
    # given a pair more accounts hold than the index is worth reading for
    monkeypatch.setattr(search, "COMMON_PAIR", 2)
    accounts = [account_factory(owner=org.specialist_a, name=f"广州{c}有限公司") for c in "甲乙丙"]
    # then a term of that pair only is not served by the index, and still finds them all
    assert search.candidates("广州") is None
    assert search.candidates("甲有") is not None
    assert found(org.specialist_a, "广州") == {a.pk for a in accounts}


def test_kam_reindex_search_rebuilds_a_lost_index(org, account_factory):
    from django.core.management import call_command

    target = account_factory(owner=org.specialist_a, name="东莞南粤海农业发展有限公司")
    AccountPair.objects.all().delete()
    assert found(org.specialist_a, "粤海") == set()
    call_command("reindex_search", verbosity=0)
    assert found(org.specialist_a, "粤海") == {target.pk}


def test_a_search_by_letters_is_counted_from_the_index_of_search_texts_on_sqlite(org, account_factory):
    """`LIKE '%zgyd%'` reads every live account's search text: on SQLite from the narrow index of
    search texts by unit, not from the accounts' wide rows; the same accounts either way."""
    from kam.accounts.selectors import account_count

    found = account_factory(owner=org.specialist_a, actor=org.admin, name="中国移动广州分公司")
    account_factory(owner=org.specialist_a, actor=org.admin, name="广州宏达通信有限公司")
    filters = AccountFilter(q="zgyd")
    assert account_count(user=org.director, filters=filters) == 1
    assert [a.pk for a in account_list(user=org.director, filters=filters)] == [found.pk]
    if connection.vendor != "sqlite":
        return
    counted = Account.objects.visible_parts(org.director)[0].filter(search_text__contains="zgyd").order_by()
    sql, params = counted.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM ({sql})", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "account_alive_unit_search_idx" in plan, plan
