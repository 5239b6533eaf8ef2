"""Check 2: visibility across branches (IDOR).

The routes come from the URL conf (every pattern with an id converter) and from the OpenAPI
document (every operation with a path parameter, every method), so a new route is covered
without a new test. Each is requested by branch A's specialist and manager with branch B's ids
— and, for nested routes, with A's parent and B's child — for GET, POST, PATCH, PUT and DELETE:
the answer must be 404 (or 405 for a method the route never takes, the same for every id), and
the database must be unchanged. A route whose ids the generator cannot fill must be in
EXEMPT with a reason; a route neither covered nor exempt fails the test.

Then lists, search, counts, exports (CSV and XLSX), chart data and autocompletes — every
parameterless page and API read — must show exactly the visible set: none of B's names, and
A's where the page lists them.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

import pytest
from django.test import Client

from kam.core.services import api_token_issue
from tests.security.world import (
    SIDE_A_MARK,
    SIDE_B_MARK,
    build,
    changed_tables,
    example,
    fingerprint,
    url_routes,
)

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "patch", "put", "delete")

# The kind of object a path segment names, for the parameter right after it (URL conf and API).
SEGMENT_KINDS = {
    "accounts": "account", "contacts": "contact", "team": "team_member", "pool": "pool_account",
    "activities": "activity", "tasks": "task", "leads": "lead", "rules": "lead_rule",
    "opportunities": "opportunity", "buying-centre": "buying_member", "rivals": "rival",
    "reviews": "review", "meetings": "meeting", "warnings": "warning", "events": "churn_event",
    "imports": "import_job", "templates": "mapping_template",
}
# A parameter whose name says its kind whatever the segment before it.
PARAM_KINDS = {"opportunity_pk": "opportunity", "contact_id": "contact"}

# Routes whose ids name nothing that belongs to a branch: shared reference data and
# configuration, edited by the roles allowed to (checked by the role tests of each app).
EXEMPT = {
    "audit/locks/<id:pk>/unlock/": "a login lock record: administrators only, no branch data",
    "tiering/snapshots/<id:pk>/freeze/": "tier snapshots cover every account; HQ roles freeze them",
    "tiering/snapshots/<id:pk>/moves/": "tier snapshots cover every account; HQ roles decide moves",
    "tiering/snapshots/<id:pk>/resume/": "tier snapshots cover every account; HQ roles compute them again",
    "activities/standards/<id:pk>/": "service standards are company-wide configuration",
    "activities/playbooks/<id:pk>/steps/": "playbooks are company-wide configuration",
    "insight/churn/definitions/<id:pk>/": "churn definitions are company-wide configuration",
    "/api/churn/definitions/{definition_id}": "churn definitions are company-wide configuration",
    "/api/forecast/fits/{fit_id}": "a model fit is over the whole customer base, not one branch's",
}

# Routes to objects every user may read by design; writes by the wrong people are refused (403
# or 404) and change nothing — checked here like any route, except that GET may answer 200/403.
READABLE_BY_ALL = {
    "sales/leads/rules/<id:pk>/": "lead routing rules: everyone may read where a lead goes (lead_selectors.lead_rules)",
    "sales/leads/rules/<id:pk>/move/": "lead routing rules are readable by everyone; moving needs may_manage_rule",
    "sales/leads/rules/<id:pk>/active/": "lead routing rules are readable by everyone; toggling needs may_manage_rule",
    "sales/leads/rules/<id:pk>/delete/": "lead routing rules are readable by everyone; deleting needs may_manage_rule",
}
# Pages listing such objects (B's rule names appear on them for everyone).
READABLE_BY_ALL_PAGES = {"/sales/leads/rules/": "the rules page lists every assignment rule, as designed"}

# What a form on the pages might post: enough that a view reaching its object would act.
UI_BODY = {
    "name": "改名", "stage": "design", "version": "1", "note": "备注", "outcome": "lost", "reason": "1",
    "amount": "1000", "expected_close": "2027-01-01", "title": "标题", "summary": "摘要", "decision": "approve",
    "recommendation": "同意", "action": "call", "result": "retained", "score": "8", "surveyed_on": "2026-01-01",
    "competitor": "1", "role": "procurement", "team_role": "backup", "user": "1", "owner": "1", "plan": "x",
    "direction": "up", "active": "0", "notes": "纪要", "mode": "all", "kind": "visit", "meeting": "1",
    "occurred_at": "2026-01-01T10:00", "assignee": "1", "mobile": "13800000000", "product": "x", "quote": "1",
}


@dataclass(frozen=True)
class Route:
    source: str  # "url" or "api"
    template: str  # as written in the URL conf / the OpenAPI document
    params: tuple[str, ...]
    methods: tuple[str, ...]
    bodies: dict  # method → JSON body (API)

    def kinds(self) -> tuple[str | None, ...]:
        return tuple(_kind(self.template, p) for p in self.params)

    def url(self, ids: dict[str, int]) -> str:
        if self.source == "url":
            return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), self.template)
        return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), self.template)


def _kind(template: str, param: str) -> str | None:
    if param in PARAM_KINDS:
        return PARAM_KINDS[param]
    parts = [p for p in re.split(r"/", template) if p]
    for i, part in enumerate(parts):
        if re.fullmatch(rf"<(?:\w+:)?{param}>|\{{{param}\}}", part):
            return SEGMENT_KINDS.get(parts[i - 1]) if i else None
    return None


def url_conf_routes() -> list[Route]:
    """Every pattern of the URL conf with an id-like parameter (outside the admin and the API)."""
    found = []
    for route in url_routes():
        params = tuple(m.group(2) for m in re.finditer(r"<(\w+):(\w+)>", route) if m.group(1) in ("id", "int"))
        if params and not route.startswith(("admin/", "api/")):
            found.append(Route("url", route, params, METHODS, {}))
    return found


def api_routes(doc: dict, world) -> list[Route]:
    found = []
    for path, operations in doc["paths"].items():
        params = tuple(re.findall(r"\{(\w+)\}", path))
        if not params:
            continue
        bodies = {m: example(op["requestBody"]["content"]["application/json"]["schema"], doc, world.b)
                  for m, op in operations.items() if "requestBody" in op}
        found.append(Route("api", path, params, METHODS, bodies))
    return found


@pytest.fixture
def world(org):
    return build(org)


@pytest.fixture
def openapi(org):
    client = Client()
    client.force_login(org.admin)
    return client.get("/api/openapi.json").json()


def _clients(org):
    clients = {}
    for person in (org.specialist_a, org.manager_a):
        ui = Client(HTTP_ACCEPT_LANGUAGE="en")
        ui.force_login(person)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=person)}", HTTP_ACCEPT_LANGUAGE="en")
        clients[person.username] = {"url": ui, "api": api}
    return clients


def _id_sets(route: Route, world) -> list[dict[str, int]]:
    """B's ids for every parameter; for a nested route also A's parent with B's child."""
    kinds = route.kinds()
    sets = [{p: world.b.id(k) for p, k in zip(route.params, kinds, strict=True)}]
    if len(route.params) > 1:
        sets.append({p: (world.a if i < len(route.params) - 1 else world.b).id(k)
                     for i, (p, k) in enumerate(zip(route.params, kinds, strict=True))})
    return sets


def _request(client: Client, route: Route, method: str, url: str):
    if route.source == "api":
        body = route.bodies.get(method)
        if method == "get" or body is None:
            return getattr(client, method)(url)
        return getattr(client, method)(url, body, content_type="application/json")
    if method in ("get", "delete"):
        return getattr(client, method)(url)
    if method == "post":
        return client.post(url, UI_BODY)
    from urllib.parse import urlencode

    return getattr(client, method)(url, urlencode(UI_BODY), content_type="application/x-www-form-urlencoded")


def test_no_route_reads_or_writes_another_branchs_objects(org, world, openapi):
    # given every route taking an id, from the URL conf and the OpenAPI document
    routes = url_conf_routes() + api_routes(openapi, world)
    assert len(routes) > 60, len(routes)
    templates = {r.template for r in routes}
    stale = (set(EXEMPT) | set(READABLE_BY_ALL)) - templates
    assert not stale, f"exemptions for routes that no longer exist: {stale}"
    unfilled = [r.template for r in routes if r.template not in EXEMPT and None in r.kinds()]
    assert not unfilled, f"routes neither covered (SEGMENT_KINDS / PARAM_KINDS) nor in EXEMPT: {unfilled}"
    covered = [r for r in routes if r.template not in EXEMPT]
    clients = _clients(org)

    # when A's specialist and manager try each with B's ids, every method
    leaks, requests = [], 0
    for route in covered:
        for ids in _id_sets(route, world):
            url = route.url(ids)
            for username, pair in clients.items():
                before = fingerprint()
                for method in route.methods:
                    status = _request(pair[route.source], route, method, url).status_code
                    requests += 1
                    allowed = (404, 405) if route.template not in READABLE_BY_ALL else (
                        (200, 403, 404, 405) if method == "get" else (403, 404, 405))
                    if status not in allowed:
                        leaks.append(f"{username} {method.upper()} {url} ({route.template}) → {status}")
                if changed := changed_tables(before, fingerprint()):
                    leaks.append(f"{username} {url} ({route.template}) changed {changed}")

    # then nothing answered but 404 (or 405), and nothing changed
    assert not leaks, f"{len(leaks)} of {requests} requests leaked:\n" + "\n".join(leaks)


def test_the_same_routes_reach_the_own_branchs_objects(org, world, openapi):
    """The control: with A's own ids the routes find their objects, so the 404s above mean
    "not yours", not "no such id". Every kind is reached by some GET, or (kinds only ever named
    by a button) by a POST, by A's specialist or manager."""
    routes = [r for r in url_conf_routes() + api_routes(openapi, world)
              if r.template not in EXEMPT and r.template not in READABLE_BY_ALL]
    clients = _clients(org)
    reached = set()
    for method in ("get", "post"):
        for route in routes:
            kinds = route.kinds()
            if set(kinds) <= reached or (method == "post" and route.source == "api"):
                continue
            url = route.url({p: world.a.id(k) for p, k in zip(route.params, kinds, strict=True)})
            for pair in clients.values():
                status = (pair[route.source].get(url) if method == "get" else
                          pair["url"].post(url, UI_BODY)).status_code
                if (method == "get" and status == 200) or (method == "post" and status not in (404, 405)):
                    reached.update(kinds)
                    break
    used = {k for r in routes for k in r.kinds()}
    assert used == reached, f"kinds no request reaches with A's own ids: {used - reached}"


# --- lists, search, counts, exports, charts, autocomplete ---------------------------------------------


def _texts(response) -> str:
    """A response's text: HTML/JSON/CSV as is, an XLSX's shared and inline strings."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as book:
            return "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return body.decode(encoding)
        except UnicodeDecodeError:
            continue
    return body.decode("utf-8", "replace")


def _list_urls() -> list[str]:
    """Every parameterless GET page of the URL conf, exports in both formats, searches."""
    urls = ["/" + route for route in url_routes() if "<" not in route]
    skip = ("/admin/", "/api/", "/i18n/", "/logout/", "/login/")
    pages = [u for u in urls if not u.startswith(skip)]
    out = []
    for url in pages:
        if url.endswith("/export/"):
            out += [f"{url}?format=csv", f"{url}?format=xlsx"]
        else:
            out += [url, f"{url}?q=标记"]
    return out


def test_lists_exports_charts_and_autocomplete_show_only_the_visible_set(org, world):
    # given both branches' objects, names marked by branch
    leaks, shown = [], {}
    for person in (org.specialist_a, org.manager_a):
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(person)
        # when A's people open every list, search, export, chart and picker
        for url in _list_urls():
            response = client.get(url)
            if response.status_code != 200:
                continue
            text = _texts(response)
            shown[(person.username, url)] = text
            # then B's names never appear
            if SIDE_B_MARK in text and url.split("?")[0] not in READABLE_BY_ALL_PAGES:
                leaks.append(f"{person.username} GET {url}")
    assert not leaks, "pages showing branch B's rows:\n" + "\n".join(leaks)
    assert len(shown) > 60
    # and A's own rows do, where the page is a list of them
    missing = []
    for username in ("spec_a", "manager_a"):
        for url in ("/accounts/", "/accounts/?q=标记", "/accounts/pick/?q=标记", "/pickers/contacts/?q=标记",
                    "/accounts/export/?format=csv", "/accounts/export/?format=xlsx",
                    "/accounts/contacts/export/?format=xlsx", "/activities/",
                    "/sales/opportunities/", "/sales/opportunities/export/?format=csv", "/sales/leads/",
                    "/sales/reviews/", "/sales/pool/", "/insight/warnings/"):
            if SIDE_A_MARK not in shown.get((username, url), ""):
                missing.append(f"{username} {url}")
    if SIDE_A_MARK not in shown.get(("spec_a", "/activities/tasks/"), ""):  # one's own tasks
        missing.append("spec_a /activities/tasks/")
    assert not missing, f"A's own rows missing from: {missing}"


def test_api_lists_and_counts_show_only_the_visible_set(org, world, openapi):
    reads = [p for p, ops in openapi["paths"].items() if "{" not in p and "get" in ops]
    assert len(reads) > 15
    leaks = []
    for person in (org.specialist_a, org.manager_a):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=person)}")
        for path in reads:
            for query in ("", "?q=标记", "?page_size=200"):
                response = client.get(path + query)
                if response.status_code == 200 and SIDE_B_MARK in response.content.decode():
                    leaks.append(f"{person.username} GET {path}{query}")
    assert not leaks, "API reads showing branch B's rows:\n" + "\n".join(leaks)
    # the counts are the visible counts
    from kam.accounts.models import Account

    for person in (org.specialist_a, org.manager_a):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=person)}")
        body = client.get("/api/accounts?q=标记&page_size=200").json()
        visible = Account.objects.visible_to(person).filter(name__contains="标记")
        assert body["count"] == visible.count() == len(body["items"]) > 0
        assert {i["id"] for i in body["items"]} == set(visible.values_list("pk", flat=True))
