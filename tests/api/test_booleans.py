"""Every boolean the API takes is true or false, nothing else: 0, 1, "yes" or "true" in a JSON
body, and 1, yes or True in a query string, are refused with a 422 naming the field. The
booleans are read from the OpenAPI document, so a new one is covered without a test."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from kam.api.main import api
from kam.core.services import api_token_issue

pytestmark = pytest.mark.django_db
DOCUMENT = api.get_openapi_schema()
SCHEMAS = DOCUMENT["components"]["schemas"]
WRONG_IN_BODY = [0, 1, "yes", "true", "false", None]
WRONG_IN_QUERY = ["1", "0", "yes", "no", "True", "on", ""]


def _is_boolean(schema: dict) -> bool:
    if "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema.get("type") == "boolean" or any(_is_boolean(s) for s in schema.get("anyOf", []))


def _nullable(schema: dict) -> bool:
    return any(s.get("type") == "null" for s in schema.get("anyOf", []))


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _booleans():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and _is_boolean(parameter["schema"]):
                    yield pytest.param(method, path, "query", parameter["name"], False,
                                       id=f"{method} {path} ?{parameter['name']}")
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is None:
                continue
            body = SCHEMAS[body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
            for name, schema in body.get("properties", {}).items():
                if _is_boolean(schema):
                    yield pytest.param(method, path, "body", name, _nullable(schema), id=f"{method} {path} {name}")


BOOLEANS = list(_booleans())


def test_the_document_has_booleans_to_check():
    assert len(BOOLEANS) >= 10


@pytest.fixture
def client(org):
    return Client(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=org.admin)}", HTTP_ACCEPT_LANGUAGE="en")


def _send(client, method, path, where, name, value):
    if where == "query":
        return getattr(client, method)(_url(path), {name: value})
    return getattr(client, method)(_url(path), json.dumps({name: value}), content_type="application/json")


def _field_errors(response, name) -> list[str]:
    if response.status_code != 422:
        return []
    return [message for field, messages in response.json().get("errors", {}).items()
            if field.split(".")[-1] == name for message in messages]


@pytest.mark.parametrize(("method", "path", "where", "name", "nullable"), BOOLEANS)
def test_only_true_and_false_are_taken(client, method, path, where, name, nullable):
    for value in WRONG_IN_QUERY if where == "query" else WRONG_IN_BODY:
        if value is None and nullable:
            continue  # "no change" where the document allows null
        response = _send(client, method, path, where, name, value)
        assert response.status_code == 422 and _field_errors(response, name), (value, response.content[:300])
    for value in (["true", "false"] if where == "query" else [True, False]):
        assert not _field_errors(_send(client, method, path, where, name, value), name), value
