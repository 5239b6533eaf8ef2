"""A world of every kind of object in both branches, for the visibility checks (2, 3, 7).

`build(org)` returns a `World` with one `Side` per branch ("a" and "b"); each side holds one
object of every kind a URL or API path can name, owned as usual (the branch's specialist owns
the account, its manager made the rules and meetings). Names carry a marker — `SIDE_A_MARK` or
`SIDE_B_MARK` — so a page or an export that shows the other branch's rows is easy to catch.

Also here: the fingerprint of the database (`fingerprint()`), to show that a refused request
changed nothing, and `form_fields(html)`, the values a browser would post from a page's form.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from django.apps import apps
from django.db import connection
from django.db.models import CompositePrimaryKey
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from factories import AccountFactory, ContactFactory, Role, user
from kam.accounts.services import team_member_add
from kam.activities import services as activities
from kam.imports import services as imports
from kam.insight.churn.services import churn_mark
from kam.insight.models import SatisfactionSurvey, Warning, WarningRule
from kam.revenue.models import MonthlyRevenue
from kam.sales.leads import rules as lead_rules
from kam.sales.leads import services as leads
from kam.sales.models import Competitor, LeadSource
from kam.sales.opportunities import services as opportunities
from kam.sales.pool import services as pool
from kam.sales.reviews import services as reviews
from spreadsheets import csv_bytes

SIDE_A_MARK = "甲方标记"
SIDE_B_MARK = "乙方标记"

SHEET = {
    "brief": "华南地区制造业龙头，年营收约 30 亿元",
    "core_needs": "园区专线扩容与双路由备份",
    "main_problems": "竞争对手报价低 15%",
    "proposed_strategy": "高层拜访 + 技术交流会",
}


@dataclass
class Side:
    """One branch's objects, by kind (the kinds URL segments and path parameters name)."""

    name: str
    mark: str
    specialist: object
    manager: object
    objects: dict[str, object] = field(default_factory=dict)

    def __getitem__(self, kind: str):
        return self.objects[kind]

    def id(self, kind: str) -> int:
        return self.objects[kind].pk


@dataclass
class World:
    a: Side
    b: Side


def _side(org, name: str) -> Side:
    if name == "a":
        spec, colleague, manager = org.specialist_a, org.specialist_a2, org.manager_a
        mark = SIDE_A_MARK
    else:
        spec, manager = org.specialist_b, org.manager_b
        colleague = user("spec_b2", Role.SPECIALIST, org.office_b1, display_name=f"{SIDE_B_MARK}同事")
        mark = SIDE_B_MARK
    side = Side(name=name, mark=mark, specialist=spec, manager=manager)
    o = side.objects
    today = timezone.localdate()
    o["account"] = account = AccountFactory(owner=spec, name=f"{mark}智造科技有限公司")
    o["contact"] = contact = ContactFactory(actor=spec, account=account, name=f"{mark}李总",
                                            decision_role="decision_maker")
    o["team_member"] = team_member_add(actor=manager, account=account, user=colleague, team_role="backup")
    o["pool_account"] = pooled = AccountFactory(owner=spec, name=f"{mark}公海商贸有限公司")
    pool.pool_release(actor=spec, account=pooled, note=f"{mark}长期未合作")
    o["activity"] = activities.activity_log(actor=spec, account=account, kind="visit",
                                            occurred_at=timezone.now() - timedelta(hours=2),
                                            summary=f"{mark}介绍专线方案", contacts=[contact])
    o["task"] = activities.task_create(actor=spec, title=f"{mark}整理资料", due_on=today + timedelta(days=3),
                                       account=account)
    o["lead"] = leads.lead_create(actor=manager, assignee=spec.pk, data={
        "company": f"{mark}线索公司", "source": LeadSource.objects.filter(is_active=True).first().pk,
        "contact_name": f"{mark}王经理"})
    o["lead_rule"] = lead_rules.lead_rule_save(actor=manager, data={"name": f"{mark}规则", "unit": spec.unit})
    o["opportunity"] = opp = opportunities.opportunity_create(
        actor=spec, account=account, name=f"{mark}专线扩容项目", amount=Decimal("250000"),
        expected_close=today + timedelta(days=90))
    o["buying_member"] = opportunities.buying_centre_add(actor=spec, opportunity=opp, contact=contact,
                                                         role="procurement")
    o["rival"] = opportunities.rival_add(actor=spec, opportunity=opp, competitor=Competitor.objects.first(),
                                         product=f"{mark}云专线")
    o["review"] = reviews.review_submit(actor=spec, opportunity=opp, **SHEET)
    o["meeting"] = reviews.meeting_create(actor=manager, title=f"{mark}研讨会", held_on=today + timedelta(days=7))
    o["warning"] = Warning.objects.create(account=account, rule=WarningRule.objects.order_by("pk").first(),
                                          severity="medium", evidence={}, opened_at=timezone.now(),
                                          checked_at=timezone.now())
    lost = AccountFactory(owner=spec, name=f"{mark}流失客户有限公司")
    o["churn_event"] = churn_mark(actor=spec, account=lost, competitor=Competitor.objects.first(), on=today)
    o["survey"] = SatisfactionSurvey.objects.create(account=account, surveyed_on=today, score=Decimal("8.5"),
                                                    recorded_by=spec)
    first = date(today.year - 1, today.month, 1)
    MonthlyRevenue.objects.bulk_create(
        MonthlyRevenue(account=account, month=date(first.year + (first.month + i - 1) // 12,
                                                   (first.month + i - 1) % 12 + 1, 1),
                       amount=Decimal(10000 + i * 500), lines=1)
        for i in range(12))
    data = csv_bytes([["公司", "信用码"], [f"{mark}导入公司", ""]])
    o["import_job"] = job = imports.import_job_create(actor=spec, kind="accounts", filename=f"{mark}.csv", data=data)
    imports.import_job_map(actor=spec, job=job, mapping={"公司": "name", "信用码": "uscc"},
                           template_name=f"{mark}格式")
    o["mapping_template"] = spec.mapping_templates.get()
    return side


def build(org) -> World:
    """Both branches' worlds, A's first (so A's ids are the smaller ones)."""
    return World(a=_side(org, "a"), b=_side(org, "b"))


# --- request bodies from the OpenAPI document -------------------------------------------------------

# The kind of object a body property names (ids filled from one side of the world).
BODY_KINDS = {"account": "account", "parent": "account", "contact": "contact", "contacts": "contact",
              "successor": "contact", "opportunity": "opportunity", "user": "user", "owner": "user",
              "assignee": "user", "relationship_owner": "user", "participants": "user", "unit": "unit"}


def resolve(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example(schema: dict, doc: dict, side: Side, name: str = ""):
    """A value the schema accepts, ids taken from `side` where a property names a kind of object."""
    schema = resolve(schema, doc)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if resolve(s, doc).get("type") != "null"]
            return example(options[0], doc, side, name)
    if "allOf" in schema:
        return example(schema["allOf"][0], doc, side, name)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {key: example(props[key], doc, side, key) for key in schema.get("required", []) if key in props}
    if kind == "array":
        return [example(schema.get("items", {}), doc, side, name)] * schema.get("minItems", 0)
    if kind == "integer":
        kind_of = BODY_KINDS.get(name, "?")
        if kind_of == "user":
            return side.specialist.pk
        if kind_of == "unit":
            return side.specialist.unit_id
        if kind_of != "?":
            return side.id(kind_of)
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date":
            return (timezone.localdate() - timedelta(days=1)).isoformat()
        if fmt == "date-time":
            return (timezone.now() - timedelta(hours=1)).isoformat()
        if fmt == "email":
            return "a@example.com"
        if schema.get("pattern") and re.fullmatch(schema["pattern"], "1") is not None:
            return "1"
        return "测试" if schema.get("minLength", 1) <= 2 else "测" * schema["minLength"]
    return None



# --- the database's fingerprint -------------------------------------------------------------------

# Rows a refused request may legitimately add: the audit trail of reads and refusals, sessions,
# login records. Everything else must be byte-for-byte the same.
UNFINGERPRINTED = {"core.auditevent", "sessions.session", "axes.accessattempt", "axes.accesslog",
                   "axes.accessfailurelog", "core.apitoken"}


def fingerprint() -> dict[str, str]:
    """table → a digest of all its rows, for every model's table."""
    digests = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.label_lower in UNFINGERPRINTED or model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            if table in digests:
                continue
            pk = model._meta.pk
            order = ", ".join(f'"{f.column}"' for f in (pk.fields if isinstance(pk, CompositePrimaryKey) else (pk,)))
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY {order}')  # noqa: S608 — names from the models
            digest = hashlib.sha256()
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
            digests[table] = digest.hexdigest()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


# --- forms as a browser posts them ----------------------------------------------------------------


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select = None
        self._chosen = False
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": (a.get("method") or "get").lower(),
                               "fields": {}})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name and a.get("type", "text") not in ("submit", "button", "file", "reset"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value", "on")
            else:
                fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._chosen = False
            fields.pop(name, None)
        elif tag == "option" and self._select:
            # a browser posts the selected option, else the first one
            if "selected" in a or (self._select not in fields and not self._chosen):
                fields[self._select] = a.get("value", "")
                self._chosen = self._chosen or "selected" in a
        elif tag == "textarea" and name:
            self._textarea = name
            fields[name] = ""

    def handle_data(self, data):
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html: str, *, having: str = "version") -> dict[str, str]:
    """The fields of the page's first POST form that has a field named `having`."""
    parser = _FormParser()
    parser.feed(html)
    for form in parser.forms:
        if form["method"] == "post" and having in form["fields"]:
            return dict(form["fields"])
    raise AssertionError(f"no POST form with a {having!r} field on the page")


def url_routes() -> list[str]:
    """The route of every pattern of the URL conf, prefixes joined ("accounts/<id:pk>/edit/")."""
    found = []

    def walk(resolver, prefix):
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                walk(p, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                found.append(prefix + str(p.pattern))

    walk(get_resolver(), "")
    return found
