"""Check 3: mass assignment. Writes that smuggle bookkeeping fields (`owner`, `unit`, `is_staff`,
`is_superuser`, `role`, `created_by`, `version`, `id`) or the ids of another branch's objects
(B's account in a contact or opportunity, B's group head as parent, B's people as owner or
assignee) are refused — a 4xx naming the field, or a 404 for an id that is not the caller's to
name — or ignored; none is accepted.

Generated from the OpenAPI document: every write operation (POST, PATCH, PUT with a JSON body)
is sent by A's specialist and A's manager on A's own objects, once with B's ids in every
property that names an object, once with valid A values plus the smuggled fields. After each,
the database is checked: no row the request wrote points at anything of branch B, no user's
flags or role changed, no version moved by more than one. The pages' forms get the same."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.core.services import api_token_issue
from kam.sales.models import Opportunity
from tests.security.test_check_02_idor import EXEMPT, READABLE_BY_ALL, api_routes
from tests.security.world import UNFINGERPRINTED, build, example, form_fields

pytestmark = pytest.mark.django_db

BOOKKEEPING = {"unit", "is_staff", "is_superuser", "role", "created_by", "id", "pk", "version", "deleted_at",
               "owner_id", "unit_id", "account_id", "created_at"}


@pytest.fixture
def world(org):
    return build(org)


def _forbidden(world) -> dict[str, set[int]]:
    """model label → ids of branch B's rows that nothing A writes may point at."""
    b = world.b
    units = set(b.specialist.unit.subtree_ids()) | {b.manager.unit_id}
    return {
        "core.orgunit": units,
        "core.user": set(User.objects.filter(unit_id__in=units).values_list("pk", flat=True)),
        "accounts.account": set(Account.objects.filter(unit_id__in=units).values_list("pk", flat=True)),
        "accounts.contact": set(Contact.objects.filter(account__unit_id__in=units).values_list("pk", flat=True)),
        "sales.opportunity": set(Opportunity.objects.filter(account__unit_id__in=units).values_list("pk", flat=True)),
    }


def _rows() -> dict[str, dict]:
    """label → {pk: row values} for every model (the tables are small here)."""
    out = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if label in UNFINGERPRINTED or model._meta.proxy:
            continue
        out[label] = {row["pk"]: row for row in model.objects.values("pk", *[
            f.attname for f in model._meta.concrete_fields])}
    return out


def _violations(before: dict, after: dict, forbidden: dict[str, set[int]]) -> list[str]:
    """Rows written between the two snapshots that point at B, or users whose flags changed."""
    found = []
    for label, rows in after.items():
        model = apps.get_model(label)
        fks = [(f.attname, f.related_model._meta.label_lower) for f in model._meta.concrete_fields
               if isinstance(f, models.ForeignKey)]
        for pk, row in rows.items():
            old = before.get(label, {}).get(pk)
            if old == row:
                continue
            for attname, target in fks:
                value = row[attname]
                if value in forbidden.get(target, ()) and (old is None or old[attname] != value):
                    found.append(f"{label} #{pk}.{attname} = B's {target} #{value}")
            if old is not None and "version" in row and row["version"] not in (old["version"], old["version"] + 1):
                found.append(f"{label} #{pk}.version {old['version']} → {row['version']}")
            if old is None and row.get("version", 1) != 1:
                found.append(f"{label} #{pk} created with version {row['version']}")
    for pk, row in after["core.user"].items():
        old = before["core.user"].get(pk)
        if old and any(old[f] != row[f] for f in ("is_staff", "is_superuser", "role", "unit_id", "is_active")):
            found.append(f"user #{pk} flags changed")
    return found


def _path_ids(route, side) -> str:
    return route.url({p: side.id(k) for p, k in zip(route.params, route.kinds(), strict=True)})


def _write_operations(doc, world):
    """(method, url, schema) of every JSON write, paths filled with A's ids."""
    by_template = {r.template: r for r in api_routes(doc, world)}
    out = []
    for path, operations in doc["paths"].items():
        if path in EXEMPT or path in READABLE_BY_ALL:
            continue
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if method not in ("post", "patch", "put") or content is None:
                continue
            url = _path_ids(by_template[path], world.a) if path in by_template else path
            out.append((method, url, content["schema"]))
    return out


def _names_field(response, fields: set[str]) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    named = set(body.get("errors", {})) | {k.split(".")[0] for k in body.get("errors", {})}
    return bool(named & fields) or response.status_code in (403, 404, 412)


def test_api_writes_never_accept_smuggled_fields_or_another_branchs_ids(org, world):
    client = Client()
    client.force_login(org.admin)
    doc = client.get("/api/openapi.json").json()
    operations = _write_operations(doc, world)
    assert len(operations) > 25, len(operations)
    forbidden = _forbidden(world)
    accepted, named, statuses = [], 0, {}
    for person in (org.specialist_a, org.manager_a):
        api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=person)}", HTTP_ACCEPT_LANGUAGE="en")
        for method, url, schema in operations:
            clean = example(schema, doc, world.a)
            with_b = example(schema, doc, world.b)
            b_fields = {k for k in with_b if with_b[k] != clean.get(k)} if isinstance(with_b, dict) else set()
            smuggled = {**clean, "unit": world.b.specialist.unit_id, "owner": world.b.specialist.pk,
                        "is_staff": True, "is_superuser": True, "role": "admin", "created_by": world.b.manager.pk,
                        "version": 99, "id": world.b.id("account")}
            for body, fields in ((with_b, b_fields), (smuggled, set(smuggled) - set(clean) | {"owner", "version"})):
                if body == clean:
                    continue
                before = _rows()
                response = getattr(api, method)(url, body, content_type="application/json")
                statuses[(method, url)] = response.status_code
                # whatever the answer, nothing of B's is pointed at and no flag moved
                if response.status_code >= 500:
                    accepted.append(f"{person.username} {method.upper()} {url} → {response.status_code}")
                elif problems := _violations(before, _rows(), forbidden):
                    accepted.append(f"{person.username} {method.upper()} {url} → {response.status_code}: {problems}")
                elif 400 <= response.status_code < 500 and _names_field(response, fields):
                    named += 1
    assert not accepted, "smuggled values accepted:\n" + "\n".join(accepted)
    # most are refused outright, naming the field (extra="forbid" schemas, 404 for B's ids)
    assert named > len(operations), (named, len(operations))


# --- named cases, API and forms ------------------------------------------------------------------------


def _json(client, method, url, body):
    return getattr(client, method)(url, body, content_type="application/json")


def test_the_named_cases_in_the_api(org, world):
    a, b = world.a, world.b
    api = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=org.specialist_a)}", HTTP_ACCEPT_LANGUAGE="en")
    # an account created with bookkeeping fields: refused, naming them; nothing created
    response = _json(api, "post", "/api/accounts", {"name": "夹带字段科技有限公司", "unit": b.specialist.unit_id,
                                                   "is_staff": True, "created_by": b.manager.pk, "version": 7})
    assert response.status_code == 422 and {"unit", "is_staff", "created_by"} <= set(response.json()["errors"])
    assert not Account.objects.filter(name="夹带字段科技有限公司").exists()
    # an account created with version: the version is the server's (1)
    response = _json(api, "post", "/api/accounts", {"name": "版本字段科技有限公司", "version": 7})
    assert response.status_code in (201, 422)
    if response.status_code == 201:
        assert Account.objects.get(name="版本字段科技有限公司").version == 1
    # B's specialist as the owner of one's account, B's group head as its parent
    for field, value in (("owner", b.specialist.pk), ("parent", b.id("account"))):
        response = _json(api, "patch", f"/api/accounts/{a.id('account')}", {field: value})
        assert response.status_code in (404, 422) and field in response.json().get("errors", {field: 1}), response.json()
    account = Account.objects.get(pk=a.id("account"))
    assert (account.owner_id, account.parent_id, account.unit_id) == (a.specialist.pk, None, a.specialist.unit_id)
    # a contact or an opportunity under B's account
    assert _json(api, "post", f"/api/accounts/{b.id('account')}/contacts", {"name": "张三"}).status_code == 404
    response = _json(api, "post", "/api/opportunities", {"account": b.id("account"), "name": "夹带项目",
                                                         "amount": "1000", "expected_close": "2027-01-01"})
    assert response.status_code in (404, 422)
    assert not Opportunity.objects.filter(name="夹带项目").exists()
    # an activity with B's contact, a buying-centre member from B, B's specialist on the team
    response = _json(api, "post", "/api/activities", {"account": a.id("account"), "kind": "visit",
                                                      "occurred_at": "2026-01-01T10:00:00+08:00", "summary": "拜访",
                                                      "contacts": [b.id("contact")]})
    assert response.status_code in (404, 422) and "contacts" in response.json().get("errors", {"contacts": 1})
    response = _json(api, "post", f"/api/opportunities/{a.id('opportunity')}/buying-centre",
                     {"contact": b.id("contact"), "role": "procurement"})
    assert response.status_code in (404, 422)
    manager = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=org.manager_a)}")
    response = _json(manager, "post", f"/api/accounts/{a.id('account')}/team", {"user": b.specialist.pk,
                                                                                 "team_role": "backup"})
    assert response.status_code in (404, 422)
    assert not a["account"].team_members.filter(user=b.specialist).exists()
    # a lead given to B's specialist
    response = _json(manager, "post", f"/api/leads/{a.id('lead')}/assign", {"assignee": b.specialist.pk})
    assert response.status_code in (404, 422)
    assert a["lead"].__class__.objects.get(pk=a.id("lead")).assignee_id == a.specialist.pk


def _browser(person) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(person)
    return client


def test_the_forms_ignore_or_refuse_smuggled_fields(org, world):
    a, b = world.a, world.b
    client = _browser(org.specialist_a)
    smuggled = {"unit": b.specialist.unit_id, "is_staff": "on", "is_superuser": "on", "role": "admin",
                "created_by": b.manager.pk, "version": "1", "id": b.id("account")}
    # the new-account form
    fields = form_fields(client.get("/accounts/new/").content.decode(), having="name")
    client.post("/accounts/new/", {**fields, **smuggled, "name": "表单夹带科技有限公司", "owner": b.specialist.pk})
    created = Account.objects.filter(name="表单夹带科技有限公司").first()
    assert created is None or (created.unit_id, created.owner_id, created.version) == (
        a.specialist.unit_id, a.specialist.pk, 1)
    # the account edit form: B's owner or parent is refused
    url = f"/accounts/{a.id('account')}/edit/"
    fields = form_fields(client.get(url).content.decode())
    for field, value in (("owner", b.specialist.pk), ("parent", b.id("account"))):
        response = client.post(url, {**fields, **smuggled, field: value})
        assert response.status_code in (200, 422) and "Select a valid choice" in response.content.decode(), field
    account = Account.objects.get(pk=a.id("account"))
    assert (account.owner_id, account.parent_id, account.unit_id, account.version) == (
        a.specialist.pk, None, a.specialist.unit_id, 1)
    # the contact form: B's contact as successor, B's person as relationship owner
    url = f"/accounts/{a.id('account')}/contacts/{a.id('contact')}/edit/"
    fields = form_fields(client.get(url).content.decode())
    for field, value in (("successor", b.id("contact")), ("relationship_owner", b.specialist.pk)):
        response = client.post(url, {**fields, field: value})
        assert "Select a valid choice" in response.content.decode(), field
    contact = Contact.objects.get(pk=a.id("contact"))
    assert (contact.successor_id, contact.relationship_owner_id, contact.account_id) == (
        None, None, a.id("account"))
    # the opportunity form: B's specialist as owner
    manager = _browser(org.manager_a)
    url = f"/sales/opportunities/{a.id('opportunity')}/edit/"
    fields = form_fields(manager.get(url).content.decode())
    manager.post(url, {**fields, **smuggled, "owner": b.specialist.pk, "account": b.id("account")})
    opportunity = Opportunity.objects.get(pk=a.id("opportunity"))
    assert (opportunity.owner_id, opportunity.account_id) == (a.specialist.pk, a.id("account"))
    # and no one's flags moved
    assert not User.objects.filter(is_staff=True).exclude(username="admin").exists()
    assert not User.objects.filter(is_superuser=True).exclude(username="admin").exists()
