"""Every API operation answers what the OpenAPI document says it answers.

schemathesis' fuzzing (tests/security/test_check_04_schemathesis.py) mostly reaches empty lists and 404s; here one
world with a record of every kind is taken through every operation of the document with
real ids and real bodies, and each answer — status, content type, body — is checked
against the document by schemathesis' response validation. An operation the document
gains without a call here fails the test, so the document cannot drift from the code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
import schemathesis
from django.test import Client
from django.utils import timezone

from factories import AccountFactory, ContactFactory
from kam.core.models import Industry
from kam.core.services import api_token_issue
from kam.insight.health.services import health_sweep
from kam.insight.models import ChurnDefinition, ChurnReason
from kam.insight.warnings.services import warning_sweep
from kam.sales.models import Competitor, LeadSource, OutcomeReason
from kam.wsgi import application
from tests.insight.churn_history import month, monthly
from tests.insight.scoring_data import store_scores
from tests.insight.warning_world import only_rules
from tests.sales.reviewing import SHEET, make_gm

pytestmark = pytest.mark.django_db
SCHEMA = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def connection_kept_open():
    """The WSGI load of the document above must not close the test's connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@dataclass
class Api:
    """Calls operations as a user and checks each answer against the document."""

    clients: dict = field(default_factory=dict)
    called: set = field(default_factory=set)
    problems: list = field(default_factory=list)

    def __call__(self, user, method: str, template: str, body=None, *, query=None, **path):
        client = self.clients.get(user.pk)
        if client is None:
            client = self.clients[user.pk] = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}",
                                                    HTTP_ACCEPT_LANGUAGE="en")
        url = template.format(**path)
        kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body is not None else {}
        if query:
            kwargs = {"data": query}
        response = getattr(client, method.lower())(url, **kwargs)
        operation = SCHEMA[template][method]
        self.called.add((method.upper(), template))
        checked = schemathesis.Response(
            status_code=response.status_code,
            headers={name.lower(): [value] for name, value in response.items()},
            content=response.content,
            request=requests.Request(method, f"http://testserver{url}", params=query).prepare(),
            elapsed=0.0, verify=False,
        )
        label = f"{method.upper()} {url} → {response.status_code}"
        try:
            operation.validate_response(checked)
        except Exception as exc:  # schemathesis' FailureGroup: what does not match, and where
            self.problems.append(f"{label}: {exc}")
        # each step builds on the one before: one that fails stops the walk
        assert 200 <= response.status_code < 300, (label, response.content[:500], self.problems)
        return response.json() if response.content else None


@pytest.fixture
def world(org):
    only_rules("p_alive_low")
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司",
                             industry=Industry.objects.get(code="gov"))
    released = AccountFactory(owner=org.specialist_a, name="广州越秀商贸有限公司")
    contact = ContactFactory(actor=org.specialist_a, account=account, name="李总")
    monthly(account, month(TODAY.year - 1, TODAY.month), [1000] * 12)
    # a low chance of being alive: the warning rule fires
    fit = store_scores({account: {"p_alive": 0.1, "p_alive_before": 0.9, "expected_value": Decimal("12345.67")}})
    warning_sweep(as_of=TODAY)
    health_sweep(as_of=TODAY)
    return account, released, contact, fit


def test_every_operation_answers_as_its_document_says(org, world):
    account, released, contact, fit = world
    api, spec, manager, hq, gm = Api(), org.specialist_a, org.manager_a, org.director, make_gm(org)
    website = LeadSource.objects.get(code="website").pk
    competitor = Competitor.objects.filter(is_active=True).first().pk

    # accounts, contacts and the account team
    api(spec, "GET", "/api/accounts", query={"q": "天河"})
    created = api(spec, "POST", "/api/accounts", {"name": "广州接口新建客户有限公司", "prepaid_only": False})
    api(spec, "GET", "/api/accounts/{account_id}", account_id=account.pk)
    api(spec, "PATCH", "/api/accounts/{account_id}", {"short_name": "天河智造"}, account_id=account.pk)
    api(spec, "GET", "/api/accounts/{account_id}/contacts", account_id=account.pk)
    other = api(spec, "POST", "/api/accounts/{account_id}/contacts", {"name": "王经理", "is_key": True},
                account_id=account.pk)
    api(spec, "GET", "/api/contacts/{contact_id}", contact_id=contact.pk)
    api(spec, "PATCH", "/api/contacts/{contact_id}", {"title": "总经理"}, contact_id=contact.pk)
    api(spec, "DELETE", "/api/contacts/{contact_id}", contact_id=other["id"])
    member = api(manager, "POST", "/api/accounts/{account_id}/team",
                 {"user": org.specialist_a2.pk, "team_role": "backup"}, account_id=account.pk)
    api(spec, "GET", "/api/accounts/{account_id}/team", account_id=account.pk)
    api(manager, "DELETE", "/api/accounts/{account_id}/team/{member_id}", account_id=account.pk,
        member_id=member["id"])
    api(spec, "DELETE", "/api/accounts/{account_id}", account_id=created["id"])
    # the recycle bin: listed, restored, and the contact deleted again
    api(spec, "GET", "/api/recycle-bin", query={"kind": "contact"})
    api(spec, "POST", "/api/contacts/{contact_id}/restore", contact_id=other["id"])
    api(spec, "DELETE", "/api/contacts/{contact_id}", contact_id=other["id"])
    api(spec, "POST", "/api/accounts/{account_id}/restore", account_id=created["id"])

    # revenue and tiers
    api(org.admin, "POST", "/api/revenue",
        {"lines": [{"account": account.code, "period": f"{TODAY:%Y-%m}", "amount": "1200"}]})
    api(spec, "GET", "/api/accounts/{account_id}/tiers", account_id=account.pk)

    # activities and tasks
    activity = api(spec, "POST", "/api/activities",
                   {"account": account.pk, "kind": "visit", "occurred_at": timezone.now().isoformat(),
                    "summary": "拜访李总", "contacts": [contact.pk], "next_step": "发送方案",
                    "next_step_due": (TODAY + timedelta(days=7)).isoformat()})
    api(spec, "GET", "/api/activities", query={"account": account.pk})
    api(spec, "GET", "/api/activities/{activity_id}", activity_id=activity["id"])
    tasks = api(spec, "GET", "/api/tasks")
    api(spec, "POST", "/api/tasks/{task_id}/complete", task_id=tasks["items"][0]["id"])

    # leads: each answer carries the lead's follow-ups
    lead = api(manager, "POST", "/api/leads", {"source": website, "company": "广州接口线索公司",
                                               "assignee": spec.pk})
    api(spec, "POST", "/api/leads/{lead_id}/follow-ups", {"note": "电话沟通", "plan": "上门拜访"}, lead_id=lead["id"])
    api(spec, "GET", "/api/leads", query={"unassigned": "false"})
    api(spec, "GET", "/api/leads/{lead_id}", lead_id=lead["id"])
    api(manager, "POST", "/api/leads/{lead_id}/assign", {"assignee": spec.pk}, lead_id=lead["id"])
    api(spec, "POST", "/api/leads/{lead_id}/qualify",
        {"outcome": "opportunity", "confirm_new_account": True, "amount": "80000",
         "expected_close": (TODAY + timedelta(days=60)).isoformat()}, lead_id=lead["id"])
    dropped = api(manager, "POST", "/api/leads", {"source": website, "company": "广州无效线索公司",
                                                  "assignee": spec.pk})
    api(spec, "POST", "/api/leads/{lead_id}/disqualify", {"note": "重复线索"}, lead_id=dropped["id"])

    # opportunities, their buying centre and rivals
    opportunity = api(spec, "POST", "/api/opportunities",
                      {"account": account.pk, "name": "园区专线扩容", "amount": "250000",
                       "expected_close": (TODAY + timedelta(days=90)).isoformat()})
    pk = opportunity["id"]
    api(spec, "GET", "/api/opportunities")
    api(spec, "GET", "/api/opportunities/pipeline")
    api(spec, "GET", "/api/opportunity-reasons")
    api(spec, "GET", "/api/competitors")
    api(spec, "GET", "/api/opportunities/{opportunity_id}", opportunity_id=pk)
    api(spec, "PATCH", "/api/opportunities/{opportunity_id}", {"version": opportunity["version"], "our_quote": "240000"},
        opportunity_id=pk)
    api(spec, "POST", "/api/opportunities/{opportunity_id}/move", {"stage": "review"}, opportunity_id=pk)
    buyer = api(spec, "POST", "/api/opportunities/{opportunity_id}/buying-centre",
                {"contact": contact.pk, "role": "leadership"}, opportunity_id=pk)
    api(spec, "GET", "/api/opportunities/{opportunity_id}/buying-centre", opportunity_id=pk)
    api(spec, "DELETE", "/api/opportunities/{opportunity_id}/buying-centre/{member_id}", opportunity_id=pk,
        member_id=buyer["id"])
    rival = api(spec, "POST", "/api/opportunities/{opportunity_id}/rivals", {"competitor": competitor, "quote": "230000"},
                opportunity_id=pk)
    api(spec, "GET", "/api/opportunities/{opportunity_id}/rivals", opportunity_id=pk)
    api(spec, "PATCH", "/api/opportunities/{opportunity_id}/rivals/{rival_id}", {"note": "报价更低"},
        opportunity_id=pk, rival_id=rival["id"])
    api(spec, "DELETE", "/api/opportunities/{opportunity_id}/rivals/{rival_id}", opportunity_id=pk,
        rival_id=rival["id"])
    api(spec, "DELETE", "/api/opportunities/{opportunity_id}", opportunity_id=pk)
    api(spec, "POST", "/api/opportunities/{opportunity_id}/restore", opportunity_id=pk)

    # deal reviews, then the opportunity is lost and reopened
    review = api(spec, "POST", "/api/reviews", {"opportunity": pk, **SHEET})
    api(spec, "GET", "/api/reviews")
    api(spec, "GET", "/api/reviews/{review_id}", review_id=review["id"])
    api(manager, "POST", "/api/reviews/{review_id}/recommend", {"recommendation": "建议跟进"}, review_id=review["id"])
    api(hq, "POST", "/api/reviews/{review_id}/recommend", {"recommendation": "同意"}, review_id=review["id"])
    api(gm, "POST", "/api/reviews/{review_id}/decide", {"decision": "立项", "follow_ups": ["安排高层拜访"]},
        review_id=review["id"])
    second = api(spec, "POST", "/api/opportunities",
                 {"account": account.pk, "name": "数据中心托管", "amount": "300000",
                  "expected_close": (TODAY + timedelta(days=120)).isoformat()})
    withdrawn = api(spec, "POST", "/api/reviews", {"opportunity": second["id"], **SHEET})
    api(gm, "POST", "/api/reviews/{review_id}/senior", {"reason": "金额大、竞争激烈"}, review_id=withdrawn["id"])
    api(spec, "POST", "/api/reviews/{review_id}/withdraw", review_id=withdrawn["id"])
    reason = OutcomeReason.objects.filter(is_active=True, applies_to__in=["lost", "any"]).first()
    api(spec, "POST", "/api/opportunities/{opportunity_id}/close",
        {"outcome": "lost", "reason": reason.pk if reason else None, "note": "价格"}, opportunity_id=second["id"])
    api(spec, "POST", "/api/opportunities/{opportunity_id}/reopen", {}, opportunity_id=second["id"])

    # the public pool
    api(spec, "POST", "/api/pool/{account_id}/release", {"note": "客户已迁出"}, account_id=released.pk)
    api(spec, "GET", "/api/pool")
    api(spec, "GET", "/api/pool/limit")
    api(spec, "GET", "/api/pool/{account_id}/events", account_id=released.pk)
    api(org.specialist_a2, "POST", "/api/pool/{account_id}/claim", account_id=released.pk)
    api(org.specialist_a2, "POST", "/api/pool/{account_id}/release", {"note": "不再跟进"}, account_id=released.pk)
    api(manager, "POST", "/api/pool/{account_id}/assign", {"owner": spec.pk}, account_id=released.pk)

    # forecasts
    api(spec, "GET", "/api/forecast/fits")
    api(spec, "GET", "/api/forecast/fits/{fit_id}", fit_id=fit.pk)
    api(spec, "GET", "/api/forecast/scores")
    api(spec, "GET", "/api/accounts/{account_id}/forecast", account_id=account.pk)

    # churn
    marked = api(spec, "POST", "/api/accounts/{account_id}/churn",
                 {"competitor": competitor, "reason": ChurnReason.objects.first().pk, "note": "转网"},
                 account_id=account.pk)
    api(spec, "GET", "/api/churn/events")
    api(spec, "GET", "/api/churn/events/{event_id}", event_id=marked["id"])
    api(spec, "PATCH", "/api/churn/events/{event_id}", {"note": "数据专线"}, event_id=marked["id"])
    api(spec, "GET", "/api/churn/rates", query={"start": f"{TODAY.year - 1}-01", "end": f"{TODAY:%Y-%m}"})
    api(hq, "GET", "/api/churn/definitions")
    api(hq, "PATCH", "/api/churn/definitions/{definition_id}", {"is_active": True},
        definition_id=ChurnDefinition.objects.first().pk)

    # early warnings, health and surveys
    warnings = api(spec, "GET", "/api/warnings")
    api(spec, "GET", "/api/warnings/rules")
    api(spec, "POST", "/api/warnings/evaluate", {"account": account.pk})
    api(spec, "GET", "/api/warnings/{warning_id}", warning_id=warnings["items"][0]["id"])
    api(spec, "POST", "/api/warnings/{warning_id}/retention", {"action": "上门拜访", "outcome": "retained"},
        warning_id=warnings["items"][0]["id"])
    api(spec, "GET", "/api/accounts/{account_id}/health", account_id=account.pk)
    api(spec, "POST", "/api/accounts/{account_id}/surveys", {"score": 8, "surveyed_on": TODAY.isoformat()},
        account_id=account.pk)
    api(spec, "GET", "/api/accounts/{account_id}/surveys", account_id=account.pk)

    documented = {(method.upper(), path) for path, item in SCHEMA.raw_schema["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    assert not api.problems, "\n\n".join(api.problems)
    assert documented - api.called == set(), "operations of the document without a call here"


def test_no_two_schemas_of_the_api_share_a_name():
    """The document names each schema by its class name: two classes of one name become one
    entry, and one of them then describes the other's answers (as lead follow-ups once
    were described as review follow-up tasks)."""
    from pydantic import BaseModel

    import kam.api.main  # noqa: F401 — every router module, so every schema class, is loaded

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    seen: dict[str, set[str]] = {}
    for cls in set(subclasses(BaseModel)):
        if cls.__module__.startswith("kam.api."):
            seen.setdefault(cls.__name__, set()).add(cls.__module__)
    assert {name: modules for name, modules in seen.items() if len(modules) > 1} == {}
