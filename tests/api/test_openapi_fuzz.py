"""schemathesis against /api/openapi.json: generated requests never get a 500 or an
undocumented answer, schema-violating requests are refused, and requests without
credentials are refused.

One check is left out: positive data acceptance. A request can match the schema and
still break a domain rule the schema cannot express (a USCC check digit, an owner
outside the caller's unit), and the API answers those with 422 on purpose.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from factories import AccountFactory, ContactFactory
from kam.core.services import api_token_issue
from kam.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture(autouse=True)
def connection_kept_open():
    """Each test runs in a transaction rolled back at its end, so the requests must not close
    the connection when they finish (Django's test client disconnects the same handlers)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(org):
    account = AccountFactory(owner=org.specialist_a, name="中国移动通信集团广东有限公司")
    ContactFactory(actor=org.specialist_a, account=account)
    AccountFactory(owner=org.specialist_b)  # another branch's row, never to be reached
    return api_token_issue(user=org.specialist_a)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}", "Host": "127.0.0.1"},
        excluded_checks=[positive_data_acceptance],
    )
