"""Check 14: deleting an account, a contact or an opportunity moves it to a recycle bin first —
gone from every list, search, count, export, chart and API answer, restorable (exactly as it
was) for RECYCLE_BIN_DAYS (default 15) by the users who could see it, then purged for good.
Everything goes through the pages and the API, as a user would."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.accounts.models import Account, Contact
from kam.core.models import AuditEvent
from kam.core.services import api_token_issue
from kam.sales.models import Competitor, Opportunity, Rival, StageChange
from kam.sales.opportunities.services import opportunity_create

pytestmark = pytest.mark.django_db

# Bookkeeping that a delete and a restore necessarily move on; everything else comes back as it was.
BOOKKEEPING = {"version", "updated_at", "deleted_at", "deleted_by", "deleted_with_account"}


def page(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}", HTTP_ACCEPT_LANGUAGE="en")


def snapshot(obj) -> dict:
    obj = type(obj).objects.get(pk=obj.pk) if not isinstance(obj, dict) else obj
    fields = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
    return {k: v for k, v in fields.items() if k.removesuffix("_id") not in BOOKKEEPING}


def csv_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content).decode("utf-8-sig") if response.streaming else \
        response.content.decode("utf-8-sig")


def bin_ids(client, kind: str | None = None) -> set[tuple[str, int]]:
    response = client.get("/api/recycle-bin", {"kind": kind} if kind else {})
    assert response.status_code == 200, response.content
    return {(e["kind"], e["id"]) for e in response.json()["items"]}


@pytest.fixture
def world(org):
    """An account of branch A's specialist with two contacts (one the other's successor) and two
    opportunities (one with a competitor and stage history); a live neighbour; and branch B's."""
    account = AccountFactory(owner=org.specialist_a, name="广州回收站测试通信有限公司")
    boss = ContactFactory(actor=org.specialist_a, account=account, name="陈总", title="总经理")
    old = ContactFactory(actor=org.specialist_a, account=account, name="周工")
    Contact.objects.filter(pk=old.pk).update(successor=boss)
    deal = opportunity_create(actor=org.specialist_a, account=account, name="回收站专线项目",
                              amount=Decimal("380000"), expected_close=date(2027, 3, 31))
    other = opportunity_create(actor=org.specialist_a, account=account, name="回收站云桌面",
                               amount=Decimal("120000"), expected_close=date(2027, 5, 31))
    competitor = Competitor.objects.first() or Competitor.objects.create(code="rival", name="对手甲")
    Rival.objects.create(opportunity=deal, competitor=competitor, quote=Decimal("360000"))
    neighbour = AccountFactory(owner=org.specialist_a, name="广州邻居贸易有限公司")
    theirs = AccountFactory(owner=org.specialist_b, name="深圳别家电子有限公司")
    return account, boss, old, deal, other, neighbour, theirs


def test_a_deleted_account_goes_with_its_contacts_and_opportunities_from_every_list_and_answer(org, world):
    account, boss, old, deal, other, neighbour, _theirs = world
    ui, rest, hq = page(org.specialist_a), api(org.specialist_a), api(org.director)
    assert rest.get("/api/opportunities/pipeline").json()["open_count"] == 2
    # when the specialist deletes the account on its page
    assert ui.get(f"/accounts/{account.pk}/delete/").status_code == 200
    response = ui.post(f"/accounts/{account.pk}/delete/", follow=True)  # the message is shown (and used up)
    assert response.redirect_chain == [("/accounts/", 302)] and "moved to the recycle bin" in response.content.decode()
    # then it is in the bin, with who and when, its contacts and opportunities with it
    account.refresh_from_db()
    assert account.deleted_by == org.specialist_a and account.deleted_at is not None
    for item in (boss, old, deal, other):
        item.refresh_from_db()
        assert item.deleted_at == account.deleted_at and item.deleted_with_account and item.deleted_by == org.specialist_a
    # and no page, export, API answer or chart input shows any of it, for the specialist or HQ
    for client in (ui, page(org.director)):
        listing = client.get("/accounts/").content.decode()
        assert account.name not in listing and neighbour.name in listing
        assert account.name not in client.get("/accounts/", {"q": "回收站测试"}).content.decode()
        assert account.name not in csv_text(client.get("/accounts/export/", {"format": "csv"}))
        assert boss.name not in csv_text(client.get("/accounts/contacts/export/", {"format": "csv"}))
        assert deal.name not in csv_text(client.get("/sales/opportunities/export/", {"format": "csv"}))
        assert deal.name not in client.get("/sales/opportunities/").content.decode()
        assert deal.name not in client.get("/sales/opportunities/board/").content.decode()
        assert client.get(f"/accounts/{account.pk}/").status_code == 404
        assert client.get(f"/sales/opportunities/{deal.pk}/").status_code == 404
        assert account.name not in client.get("/accounts/pick/", {"q": "回收站"}).content.decode()
    for client in (rest, hq):
        assert account.pk not in {a["id"] for a in client.get("/api/accounts", {"page_size": 100}).json()["items"]}
        assert client.get("/api/accounts", {"q": "回收站测试"}).json()["count"] == 0
        assert {o["id"] for o in client.get("/api/opportunities").json()["items"]}.isdisjoint({deal.pk, other.pk})
        assert client.get("/api/opportunities/pipeline").json()["open_count"] == 0
        for url in (f"/api/accounts/{account.pk}", f"/api/contacts/{boss.pk}", f"/api/opportunities/{deal.pk}",
                    f"/api/accounts/{account.pk}/contacts"):
            assert client.get(url).status_code == 404, url
    # and the charts' inputs: the sales analytics (HQ reads every account, a manager a subtree)
    from kam.sales.analytics.selectors import Period, funnel, scope_for, win_rate_by_competitor

    year = Period(date(2026, 1, 1), date(2027, 12, 31))
    for user in (org.director, org.manager_a):
        scope = scope_for(user=user)
        assert not scope.opportunities.filter(pk__in=[deal.pk, other.pk]).exists()
        assert sum(step.count for step in funnel(scope, year)) == 0
        assert win_rate_by_competitor(scope, year) == []


def test_the_bin_shows_who_when_and_days_left_to_those_who_could_see_it_only(org, world):
    account, boss, *_rest, theirs = world
    api(org.specialist_a).delete(f"/api/accounts/{account.pk}")
    api(org.specialist_b).delete(f"/api/accounts/{theirs.pk}")
    # the owner, their manager and HQ see it in the bin; branch B and a colleague of another office do not
    for user in (org.specialist_a, org.manager_a, org.director, org.admin):
        assert ("account", account.pk) in bin_ids(api(user)), user
        html = page(user).get("/accounts/recycle-bin/").content.decode()
        assert account.name in html and "张三" in html and ">15<" in html
    for user in (org.specialist_b, org.manager_b, org.specialist_a2):
        assert ("account", account.pk) not in bin_ids(api(user)), user
        assert account.name not in page(user).get("/accounts/recycle-bin/").content.decode()
    assert ("account", theirs.pk) not in bin_ids(api(org.specialist_a))
    entry = next(e for e in api(org.manager_a).get("/api/recycle-bin").json()["items"] if e["id"] == account.pk)
    assert entry["deleted_by"]["id"] == org.specialist_a.pk and entry["days_left"] == 15
    assert entry["contacts"] == 2 and entry["opportunities"] == 2
    # contacts and opportunities that went with the account are not separate bin items
    assert bin_ids(api(org.specialist_a), "contact") == set() and bin_ids(api(org.specialist_a), "opportunity") == set()
    # the bin's own export is scoped the same way
    text = csv_text(page(org.manager_b).get("/accounts/recycle-bin/export/", {"format": "csv"}))
    assert theirs.name in text and account.name not in text
    text = csv_text(page(org.specialist_a).get("/accounts/recycle-bin/export/", {"format": "csv"}))
    assert account.name in text and theirs.name not in text and "张三" in text
    assert page(org.specialist_a).get("/accounts/recycle-bin/export/", {"format": "xlsx"}).status_code == 200
    # another branch cannot restore it (404, the id does not leak), by page or API
    assert page(org.manager_b).post(f"/accounts/{account.pk}/restore/").status_code == 404
    assert api(org.manager_b).post(f"/api/accounts/{account.pk}/restore").status_code == 404
    assert api(org.specialist_a2).post(f"/api/accounts/{account.pk}/restore").status_code == 404
    assert Account.objects.get(pk=account.pk).deleted_at is not None


def test_restoring_an_account_gives_back_exactly_what_went_with_it(org, world):
    account, boss, old, deal, other, *_ = world
    lone = ContactFactory(actor=org.specialist_a, account=account, name="吴秘书")
    api(org.specialist_a).delete(f"/api/contacts/{lone.pk}")  # deleted on its own first: stays in the bin
    before = {obj: snapshot(obj) for obj in (account, boss, old, deal, other)}
    stages = list(StageChange.objects.filter(opportunity=deal).values_list("pk", "to_stage", "at"))
    rivals = list(Rival.objects.filter(opportunity=deal).values_list("pk", "competitor_id", "quote"))
    assert page(org.specialist_a).post(f"/accounts/{account.pk}/delete/").status_code == 302
    # when the branch manager restores it from the bin page
    response = page(org.manager_a).post(f"/accounts/{account.pk}/restore/")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{account.pk}/"
    # then the account, both contacts (the successor link too) and both opportunities are back as they were
    for obj, fields in before.items():
        assert snapshot(obj) == fields, obj
        fresh = type(obj).objects.get(pk=obj.pk)
        assert fresh.deleted_at is None and fresh.deleted_by is None
    assert list(StageChange.objects.filter(opportunity=deal).values_list("pk", "to_stage", "at")) == stages
    assert list(Rival.objects.filter(opportunity=deal).values_list("pk", "competitor_id", "quote")) == rivals
    rest = api(org.specialist_a)
    assert rest.get(f"/api/accounts/{account.pk}").status_code == 200
    assert {c["id"] for c in rest.get(f"/api/accounts/{account.pk}/contacts").json()} == {boss.pk, old.pk}
    assert rest.get("/api/opportunities/pipeline").json()["open_count"] == 2
    # and the contact deleted on its own before is still in the bin, restorable by itself
    assert bin_ids(rest) == {("contact", lone.pk)}
    assert rest.post(f"/api/contacts/{lone.pk}/restore").status_code == 200
    assert bin_ids(rest) == set()


def test_a_contact_and_an_opportunity_deleted_on_their_own(org, world):
    account, boss, old, deal, other, *_ = world
    ui, rest = page(org.specialist_a), api(org.specialist_a)
    deal_before, boss_before = snapshot(deal), snapshot(boss)
    # the contact through its page, the opportunity through the API and the other through its page
    assert ui.post(f"/accounts/{account.pk}/contacts/{boss.pk}/delete/").status_code == 302
    assert rest.delete(f"/api/opportunities/{deal.pk}").status_code == 204
    assert ui.get(f"/sales/opportunities/{other.pk}/delete/").status_code == 200
    assert ui.post(f"/sales/opportunities/{other.pk}/delete/").status_code == 302
    assert Contact.objects.get(pk=old.pk).successor_id is None  # its successor is gone for now
    assert rest.get(f"/api/opportunities/{deal.pk}").status_code == 404
    assert rest.delete(f"/api/opportunities/{deal.pk}").status_code == 404  # already in the bin
    assert boss.name not in ui.get(f"/accounts/{account.pk}/", {"tab": "contacts"}).content.decode()
    assert bin_ids(rest) == {("contact", boss.pk), ("opportunity", deal.pk), ("opportunity", other.pk)}
    assert bin_ids(rest, "opportunity") == {("opportunity", deal.pk), ("opportunity", other.pk)}
    html = ui.get("/accounts/recycle-bin/", {"kind": "contact"}).content.decode()
    assert boss.name in html and deal.name not in html
    # branch B cannot see, delete or restore them
    other_side = api(org.specialist_b)
    assert bin_ids(other_side) == set()
    assert other_side.post(f"/api/opportunities/{deal.pk}/restore").status_code == 404
    assert other_side.post(f"/api/contacts/{boss.pk}/restore").status_code == 404
    assert page(org.manager_b).post(f"/accounts/recycle-bin/opportunities/{other.pk}/restore/").status_code == 404
    assert other_side.delete(f"/api/opportunities/{deal.pk}").status_code == 404
    # restoring gives back exactly what was there, the successor link included
    response = rest.post(f"/api/opportunities/{deal.pk}/restore")
    assert response.status_code == 200 and response.json()["id"] == deal.pk
    assert ui.post(f"/accounts/recycle-bin/contacts/{boss.pk}/restore/").status_code == 302
    assert ui.post(f"/accounts/recycle-bin/opportunities/{other.pk}/restore/").status_code == 302
    assert snapshot(deal) == deal_before and snapshot(boss) == boss_before
    assert Contact.objects.get(pk=old.pk).successor_id == boss.pk
    assert bin_ids(rest) == set()


def test_an_item_whose_account_is_in_the_bin_waits_for_the_account(org, world):
    account, boss, _old, deal, *_ = world
    rest = api(org.specialist_a)
    rest.delete(f"/api/opportunities/{deal.pk}")
    rest.delete(f"/api/accounts/{account.pk}")
    # the opportunity deleted before its account is listed on its own, but cannot come back alone
    assert bin_ids(rest) == {("account", account.pk), ("opportunity", deal.pk)}
    response = rest.post(f"/api/opportunities/{deal.pk}/restore")
    assert response.status_code == 409 and account.name in response.json()["detail"]
    response = page(org.specialist_a).post(f"/accounts/recycle-bin/opportunities/{deal.pk}/restore/", follow=True)
    assert response.status_code == 200 and "Restore the account" in response.content.decode()
    # restoring the account leaves it in the bin (it was deleted on its own)
    assert rest.post(f"/api/accounts/{account.pk}/restore").status_code == 200
    assert bin_ids(rest) == {("opportunity", deal.pk)}
    assert rest.post(f"/api/opportunities/{deal.pk}/restore").status_code == 200


def test_who_may_delete_follows_who_may_change(org, world):
    account, boss, _old, deal, *_ = world
    # a specialist of another office of the same branch sees none of it: 404 everywhere
    for client_delete in (
        lambda: api(org.specialist_a2).delete(f"/api/accounts/{account.pk}"),
        lambda: api(org.specialist_a2).delete(f"/api/contacts/{boss.pk}"),
        lambda: api(org.specialist_a2).delete(f"/api/opportunities/{deal.pk}"),
        lambda: page(org.specialist_b).post(f"/accounts/{account.pk}/delete/"),
        lambda: page(org.specialist_b).post(f"/sales/opportunities/{deal.pk}/delete/"),
    ):
        assert client_delete().status_code == 404
    assert Account.objects.alive().filter(pk=account.pk).exists()
    assert Opportunity.objects.alive().filter(pk=deal.pk).exists()
    # the branch manager above may
    assert api(org.manager_a).delete(f"/api/opportunities/{deal.pk}").status_code == 204


def test_deletion_restore_and_purge_are_audit_events(org, world):
    account, _boss, _old, deal, *_ = world
    rest = api(org.specialist_a)
    rest.delete(f"/api/opportunities/{deal.pk}")
    rest.post(f"/api/opportunities/{deal.pk}/restore")
    rest.delete(f"/api/accounts/{account.pk}")
    rest.post(f"/api/accounts/{account.pk}/restore")
    events = list(AuditEvent.objects.filter(kind__in=[AuditEvent.Kind.BINNED, AuditEvent.Kind.RESTORED])
                  .order_by("at", "id").values_list("kind", "user", "detail"))
    assert [(k, u, d["model"], d["id"]) for k, u, d in events] == [
        ("binned", org.specialist_a.pk, "opportunity", deal.pk),
        ("restored", org.specialist_a.pk, "opportunity", deal.pk),
        ("binned", org.specialist_a.pk, "account", account.pk),
        ("restored", org.specialist_a.pk, "account", account.pk),
    ]
    assert sorted(events[2][2]["opportunities"]) == sorted(Opportunity.objects.filter(account=account)
                                                            .values_list("pk", flat=True))


def _purge_command() -> str:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("purge_recycle_bin", stdout=out)
    return out.getvalue()


def test_the_purge_removes_items_after_the_period_and_not_before(org, world):
    account, boss, old, deal, other, neighbour, _theirs = world
    lone = opportunity_create(actor=org.specialist_a, account=neighbour, name="邻居的项目", amount=Decimal("5000"),
                              expected_close=date(2027, 1, 31))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        rest = api(org.specialist_a)
        rest.delete(f"/api/accounts/{account.pk}")
        rest.delete(f"/api/opportunities/{lone.pk}")
    # a minute short of 15 days: nothing goes, both still restorable and counted down to 1 day
    with time_machine.travel(start + timedelta(days=15) - timedelta(minutes=1), tick=False):
        assert _purge_command() == "purged 0 accounts, 0 contacts, 0 opportunities\n"
        entries = api(org.specialist_a).get("/api/recycle-bin").json()["items"]
        assert {(e["kind"], e["id"], e["days_left"]) for e in entries} == {("account", account.pk, 1),
                                                                          ("opportunity", lone.pk, 1)}
    # past the period, before the nightly run: no longer listed nor restorable
    with time_machine.travel(start + timedelta(days=15, minutes=1), tick=False):
        rest = api(org.specialist_a)
        assert bin_ids(rest) == set()
        assert rest.post(f"/api/opportunities/{lone.pk}/restore").status_code == 404
        # when the nightly job runs
        from kam.accounts.tasks import purge_recycle_bin

        purge_recycle_bin.call()
    # then the account, its contacts, opportunities, their history rows and the lone opportunity are gone
    assert not Account.objects.filter(pk=account.pk).exists()
    assert not Contact.objects.filter(pk__in=[boss.pk, old.pk]).exists()
    assert not Opportunity.objects.filter(pk__in=[deal.pk, other.pk, lone.pk]).exists()
    assert not StageChange.objects.filter(opportunity_id__in=[deal.pk, other.pk]).exists()
    assert not Rival.objects.filter(opportunity_id=deal.pk).exists()
    assert Account.objects.filter(pk=neighbour.pk, deleted_at__isnull=True).exists()
    purged = AuditEvent.objects.filter(kind=AuditEvent.Kind.BIN_PURGED)
    assert {(e.detail["model"], e.detail["id"]) for e in purged} == {("account", account.pk),
                                                                      ("opportunity", lone.pk)}
    assert account.history.exists()  # the field history outlives the record


def test_the_period_is_a_setting(org, world, settings):
    account, *_ = world
    settings.KAM = {**settings.KAM, "RECYCLE_BIN_DAYS": 3}
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api(org.specialist_a).delete(f"/api/accounts/{account.pk}")
        html = page(org.specialist_a).get("/accounts/recycle-bin/").content.decode()
        assert "for 3 days" in html and ">3<" in html
    with time_machine.travel(start + timedelta(days=2, hours=23), tick=False):
        assert _purge_command().startswith("purged 0 accounts")
    with time_machine.travel(start + timedelta(days=3, minutes=1), tick=False):
        assert _purge_command().startswith("purged 1 accounts, 2 contacts, 2 opportunities")


def test_warning_and_scoring_inputs_leave_binned_opportunities_out(org, world):
    from tests.insight.warning_world import fires

    account, _boss, _old, deal, *_ = world
    as_of = timezone.localdate()
    assert account.pk in fires("competitor_quote", as_of)
    api(org.specialist_a).delete(f"/api/opportunities/{deal.pk}")
    assert fires("competitor_quote", as_of) == {}


def test_the_openapi_document_has_the_bin(org):
    paths = json.loads(api(org.admin).get("/api/openapi.json").content)["paths"]
    assert {"get"} <= set(paths["/api/recycle-bin"])
    assert "delete" in paths["/api/opportunities/{opportunity_id}"]
    for path in ("/api/accounts/{account_id}/restore", "/api/contacts/{contact_id}/restore",
                 "/api/opportunities/{opportunity_id}/restore"):
        assert "post" in paths[path], path
        assert {"200", "404", "409"} <= set(paths[path]["post"]["responses"]), path


def test_csv_export_parses(org, world):
    account, *_ = world
    api(org.specialist_a).delete(f"/api/accounts/{account.pk}")
    rows = list(csv.reader(io.StringIO(csv_text(page(org.specialist_a).get("/accounts/recycle-bin/export/",
                                                                           {"format": "csv"})))))
    assert len(rows) == 2 and account.name in rows[1] and "15" in rows[1]


def test_a_lead_whose_opportunity_is_in_the_bin_says_so_instead_of_linking_to_a_404(org):
    from kam.sales.leads.services import lead_create, lead_qualify
    from kam.sales.models import LeadSource

    lead = lead_create(actor=org.specialist_a, data={"company": "广州回收线索科技有限公司",
                                                     "source": LeadSource.objects.get(code="website")})
    lead_qualify(actor=org.specialist_a, lead=lead, outcome="opportunity", amount="90000",
                 expected_close=date(2027, 6, 30))
    lead.refresh_from_db()
    ui = page(org.specialist_a)
    link = f'href="/sales/opportunities/{lead.opportunity_id}/"'
    assert link in ui.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert ui.post(f"/sales/opportunities/{lead.opportunity_id}/delete/").status_code == 302
    html = ui.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert link not in html and 'data-testid="lead-opportunity-binned"' in html


def test_the_purge_goes_in_short_batches_and_a_rerun_goes_on(org, world):
    from kam.accounts.services import recycle_bin_purge

    account, boss, old, deal, other, neighbour, _theirs = world
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        rest = api(org.specialist_a)
        for url in (f"/api/opportunities/{deal.pk}", f"/api/opportunities/{other.pk}", f"/api/contacts/{boss.pk}",
                    f"/api/accounts/{neighbour.pk}"):
            assert rest.delete(url).status_code == 204, url
    with time_machine.travel(start + timedelta(days=16), tick=False):
        # one item a transaction: the same result as one run over everything
        assert recycle_bin_purge(batch=1) == {"accounts": 1, "contacts": 1, "opportunities": 2}
        assert recycle_bin_purge(batch=1) == {"accounts": 0, "contacts": 0, "opportunities": 0}
    assert not Opportunity.objects.filter(pk__in=[deal.pk, other.pk]).exists()
    assert not Contact.objects.filter(pk=boss.pk).exists() and not Account.objects.filter(pk=neighbour.pk).exists()
    assert Account.objects.filter(pk=account.pk, deleted_at__isnull=True).exists()
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.BIN_PURGED).count() == 4
