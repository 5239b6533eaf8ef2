"""Keyset paging (kam.core.paging): following the cursors from the first page to the last reads
every row once, whatever the order — ascending or descending keys, ties, NULLs first or last,
related fields — even while rows are added between two pages; going back by the previous cursors
reads them again; a cursor the list did not make is refused, never answered with a 500."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.db import connection, transaction
from django.db.models import F
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import AccountFactory
from kam.core.paging import SALT, InvalidCursor, Keyset, ListPage, keyset_or_none
from kam.sales.models import Opportunity
from kam.sales.opportunities.services import opportunity_create

pytestmark = pytest.mark.django_db

# Few distinct values, so that orderings tie often; None where the column may be NULL.
AMOUNTS = [Decimal("100.00"), Decimal("250.50"), Decimal("900.00")]
QUOTES = [None, Decimal("80.00"), Decimal("95.00")]
CLOSES = [date(2027, 1, 31), date(2027, 3, 31), date(2027, 6, 30)]
NAMES = ["专线扩容项目", "云专线项目", "IDC 托管"]
STAGES = ["contact", "design", "review"]
MOMENTS = [datetime(2026, 3, 1, 9, 0, 0, 123456).astimezone(), datetime(2026, 3, 1, 9, 0, 1).astimezone()]
KEYS = ["amount", "our_quote", "expected_close", "name", "stage", "created_at", "account__name", "lead_id", "closed_on"]

row_values = st.fixed_dictionaries({
    "amount": st.sampled_from(AMOUNTS), "our_quote": st.sampled_from(QUOTES), "expected_close": st.sampled_from(CLOSES),
    "name": st.sampled_from(NAMES), "stage": st.sampled_from(STAGES), "at": st.sampled_from(MOMENTS),
    "account": st.integers(0, 2),
})


def _ordering_item(name: str, descending: bool, nulls: str):
    if nulls == "database":
        return f"-{name}" if descending else name
    placement = {"nulls_first": True} if nulls == "first" else {"nulls_last": True}
    return F(name).desc(**placement) if descending else F(name).asc(**placement)


orderings = st.lists(st.tuples(st.sampled_from(KEYS), st.booleans(), st.sampled_from(["database", "first", "last"])),
                     min_size=1, max_size=3, unique_by=lambda key: key[0])


@pytest.fixture
def world(org):
    accounts = [AccountFactory(owner=org.specialist_a, name=f"广州分页测试第{n}有限公司") for n in range(3)]
    return org, accounts


def _add(org, accounts, values) -> int:
    values = dict(values)
    account = accounts[values.pop("account")]
    return opportunity_create(actor=org.specialist_a, account=account, **values).pk


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ordering=orderings, rows=st.lists(row_values, min_size=0, max_size=14), size=st.integers(1, 5),
       inserts=st.lists(st.lists(row_values, max_size=3), max_size=8))
def test_following_the_cursors_reads_every_row_once_while_rows_are_added(world, ordering, rows, size, inserts):
    org, accounts = world
    with transaction.atomic():
        # given: the rows at the start, in an order with ties and NULLs
        existing = {_add(org, accounts, values) for values in rows}
        queryset = Opportunity.objects.filter(account__in=accounts).order_by(
            *(_ordering_item(*item) for item in ordering))
        keyset = Keyset(queryset)
        # when: the pages are read by their cursors, and rows are added between two pages
        seen: list[int] = []
        added: set[int] = set()
        cursor = None
        for turn in range(len(existing) + len(added) + 20):
            page = keyset.page(cursor, size)
            assert len(page.rows) <= size
            seen += [row.pk for row in page.rows]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            for values in inserts[turn] if turn < len(inserts) else []:
                added.add(_add(org, accounts, values))
        # then: every row there at the start came once; rows added may or may not have come
        assert len(seen) == len(set(seen)), "a row came twice"
        assert existing <= set(seen), f"rows skipped: {existing - set(seen)}"
        assert set(seen) <= existing | added
        # … in the list's own order
        order = list(keyset.queryset.values_list("pk", flat=True))
        assert seen == [pk for pk in order if pk in set(seen)]
        # and going back from the last page by the previous cursors reads the whole list again
        if cursor is not None:
            back: list[int] = []
            page = keyset.page(cursor, size)
            back = [row.pk for row in page.rows]
            while page.previous_cursor is not None:
                page = keyset.page(page.previous_cursor, size)
                back = [row.pk for row in page.rows] + back
            assert back == order
        transaction.set_rollback(True)


def test_nulls_go_where_the_ordering_says_and_the_pages_agree(world):
    org, accounts = world
    quotes = [None, Decimal("10.00"), None, Decimal("30.00"), Decimal("10.00"), None]
    for n, quote in enumerate(quotes):
        opportunity_create(actor=org.specialist_a, account=accounts[0], name=f"项目{n}", amount=Decimal("1"),
                           expected_close=date(2027, 1, 1), our_quote=quote)
    base = Opportunity.objects.filter(account=accounts[0])
    for ordering, nulls_first in ((F("our_quote").asc(nulls_first=True), True),
                                  (F("our_quote").desc(nulls_last=True), False),
                                  (F("our_quote").asc(nulls_last=True), False)):
        keyset = Keyset(base.order_by(ordering))
        quotes_read, cursor = [], None
        while True:
            page = keyset.page(cursor, 2)
            quotes_read += [row.our_quote for row in page.rows]
            if not (cursor := page.next_cursor):
                break
        nulls = [q is None for q in quotes_read]
        assert nulls == sorted(nulls, reverse=nulls_first), (ordering, quotes_read)
        assert len(quotes_read) == len(quotes)


def test_the_primary_key_breaks_ties_and_a_deep_page_reads_only_its_rows(world, django_assert_num_queries):
    org, accounts = world
    for _n in range(7):
        opportunity_create(actor=org.specialist_a, account=accounts[0], name="同名项目", amount=Decimal("5"),
                           expected_close=date(2027, 1, 1))
    keyset = Keyset(Opportunity.objects.filter(account=accounts[0]).order_by("name"))
    assert [key.name for key in keyset.keys] == ["name", "pk"]
    first = keyset.page(None, 3)
    with django_assert_num_queries(1):
        second = keyset.page(first.next_cursor, 3)
    assert [r.pk for r in first.rows + second.rows] == sorted(r.pk for r in first.rows + second.rows)


def test_the_cursor_is_signed_and_bound_to_the_order(world):
    org, accounts = world
    for n in range(3):
        opportunity_create(actor=org.specialist_a, account=accounts[0], name=f"项目{n}", amount=Decimal(n),
                           expected_close=date(2027, 1, 1) + timedelta(days=n))
    keyset = Keyset(Opportunity.objects.order_by("expected_close"))
    cursor = keyset.page(None, 1).next_cursor
    assert cursor
    payload = signing.loads(cursor, salt=SALT)
    forged = signing.dumps({**payload, "v": ["2000-01-01", 1]}, salt="another salt", compress=True)
    edited = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    other_order = Keyset(Opportunity.objects.order_by("-amount"))
    for bad in ("garbage", "", "a" * 5000, edited, forged, cursor[: len(cursor) // 2]):
        with pytest.raises(InvalidCursor) as caught:
            keyset.page(bad, 1) if bad else keyset.read(bad)
        assert caught.value.errors == {"cursor": [caught.value.message]}
    with pytest.raises(InvalidCursor):
        other_order.page(cursor, 1)
    # a value of the wrong type inside a correctly signed cursor is refused too
    wrong_type = signing.dumps({**payload, "v": ["not a date", 1]}, salt=SALT, compress=True)
    with pytest.raises(InvalidCursor):
        keyset.page(wrong_type, 1)


def test_lists_that_cannot_page_by_keys_are_told_apart(world):
    assert keyset_or_none([1, 2, 3]) is None
    assert keyset_or_none(Opportunity.objects.order_by("?")) is None
    assert keyset_or_none(Opportunity.objects.all()[:5]) is None
    assert keyset_or_none(Opportunity.objects.values("pk")) is None
    assert keyset_or_none(Opportunity.objects.all()) is not None


# --- the page lists ---------------------------------------------------------------------------


def _page(url, queryset, settings, **kam):
    settings.KAM = {**settings.KAM, **kam}
    return ListPage(RequestFactory().get(url), queryset)


def test_a_list_numbers_its_first_pages_then_pages_by_cursor(world, settings):
    org, accounts = world
    for n in range(11):
        opportunity_create(actor=org.specialist_a, account=accounts[n % 3], name=f"项目{n:02d}", amount=Decimal(n),
                           expected_close=date(2027, 1, 1))
    queryset = Opportunity.objects.order_by("name")
    names = list(queryset.values_list("name", flat=True))
    read = []
    page = _page("/l/?q=x", queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
    assert (page.number, page.paginator.count, page.paginator.num_pages) == (1, 11, 6)
    assert not page.has_previous() and page.next_query == "q=x&page=2"
    url = f"/l/?{page.next_query}"
    read += [o.name for o in page]
    while True:
        page = _page(url, queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
        read += [o.name for o in page]
        if not page.has_next():
            break
        url = f"/l/?{page.next_query}"
    assert read == names
    # page 3 is the last numbered one: its "next" is a cursor, and the pages after it are numberless
    third = _page("/l/?q=x&page=3", queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
    assert third.next_query.startswith("q=x&cursor=")
    fourth = _page(f"/l/?{third.next_query}", queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
    assert fourth.number is None and fourth.by_cursor
    assert [o.name for o in fourth] == names[6:8]
    assert fourth.first_query == "q=x&page=1"
    back = _page(f"/l/?{fourth.previous_query}", queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
    assert [o.name for o in back] == names[4:6]
    # a page number past the numbered ones is read as the last numbered page, not scanned
    deep = _page("/l/?page=400", queryset, settings, PAGE_SIZE=2, PAGE_NUMBERED_MAX=3)
    assert deep.number == 3 and [o.name for o in deep] == names[4:6]


def test_the_total_is_counted_up_to_the_limit(world, settings, django_assert_num_queries):
    org, accounts = world
    for n in range(6):
        opportunity_create(actor=org.specialist_a, account=accounts[0], name=f"项目{n}", amount=Decimal(n),
                           expected_close=date(2027, 1, 1))
    queryset = Opportunity.objects.order_by("-amount")
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 2, "PAGE_COUNT_LIMIT": 4}
    with django_assert_num_queries(2):  # the bounded count and the page
        page = ListPage(RequestFactory().get("/l/"), queryset)
    assert page.count_capped and page.paginator.count == 4 and page.paginator.num_pages is None
    assert page.has_next()
    settings.KAM = {**settings.KAM, "PAGE_COUNT_LIMIT": 6}
    page = ListPage(RequestFactory().get("/l/?page=3"), queryset)
    assert not page.count_capped and page.paginator.count == 6 and not page.has_next()


def test_a_python_list_pages_by_number(settings):
    settings.KAM = {**settings.KAM, "PAGE_SIZE": 2, "PAGE_NUMBERED_MAX": 1}
    page = ListPage(RequestFactory().get("/l/?page=3&cursor=ignored"), list(range(7)))
    assert list(page) == [4, 5] and page.number == 3 and page.next_query == "page=4"


def test_a_list_past_the_counting_limit_says_more_than_the_limit(world, settings, client):
    org, accounts = world
    settings.KAM = {**settings.KAM, "PAGE_COUNT_LIMIT": 2}
    client.force_login(org.specialist_a)
    # given three accounts and a count limit of two, the list says more than two, not two
    page = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="count-capped">超过 2' in page
    # and under the limit it gives the number
    settings.KAM = {**settings.KAM, "PAGE_COUNT_LIMIT": 3}
    page = client.get("/accounts/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="count-capped"' not in page and "共 3 个客户" in page


def test_a_page_inside_a_run_of_ties_is_read_by_an_equality_on_the_tie_not_an_or(world):
    # given twelve opportunities of one name (as a revenue import's accounts share one moment)
    org, accounts = world
    for _n in range(12):
        opportunity_create(actor=org.specialist_a, account=accounts[0], name="同名项目", amount=Decimal("5"),
                           expected_close=date(2027, 1, 1))
    keyset = Keyset(Opportunity.objects.filter(account=accounts[0]).order_by("name"))
    first = keyset.page(None, 4)
    # when the next page is read from a cursor in the middle of the run
    with CaptureQueriesContext(connection) as queries:
        second = keyset.page(first.next_cursor, 4)
    # then one query reads it: the tie by equality and the primary key by range (an index range),
    # with no OR that would leave the database only the name to range over
    assert len(queries.captured_queries) == 1
    where = queries.captured_queries[0]["sql"].split(" WHERE ", 1)[1]
    assert '"sales_opportunity"."name" = ' in where and '"sales_opportunity"."id" > ' in where
    assert " OR " not in where
    assert [r.pk for r in second.rows] == sorted(r.pk for r in second.rows)
    assert min(r.pk for r in second.rows) > max(r.pk for r in first.rows)
