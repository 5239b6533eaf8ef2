"""Check 4: schemathesis against /api/openapi.json — every phase (examples, coverage, fuzzing and
the stateful phase over the links schemathesis infers between operations), every check: 0 server
errors, 0 schema violations, 0 ignored_auth.

Left out, with the reason:
- positive_data_acceptance: a request can match the schema and still break a domain rule the
  schema cannot express (a USCC check digit, an owner outside the caller's units, a stage that
  needs a reason), and the API answers those with 422 on purpose.

Bounded in time: few examples per operation and short stateful runs, so the whole module stays
well under two minutes; a longer run is `KAM_FUZZ_EXAMPLES=200 pytest tests/security/test_check_04…`.
"""

import os
from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from factories import AccountFactory, ContactFactory
from kam.core.services import api_token_issue
from kam.sales.opportunities.services import opportunity_create
from kam.wsgi import application

EXAMPLES = int(os.environ.get("KAM_FUZZ_EXAMPLES", "6"))
LEFT_OUT = [positive_data_acceptance]
# Bodies uncompressed: the schema speaks of JSON, and the WSGI call does not undo gzip.
HEADERS = {"Host": "127.0.0.1", "Accept-Encoding": "identity"}

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
    opportunity_create(actor=org.specialist_a, account=account, name="专线扩容项目", amount=Decimal("250000"),
                       expected_close=date(2027, 3, 31))
    AccountFactory(owner=org.specialist_b)  # another branch's row, never to be reached
    return api_token_issue(user=org.specialist_a)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target])
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", **HEADERS}, excluded_checks=LEFT_OUT)


@pytest.mark.django_db
def test_api_sequences_over_the_links_conform(token):
    """The stateful phase: chains such as POST /accounts → GET /accounts/{id} → PATCH → DELETE,
    following the links schemathesis infers from the responses and path parameters."""
    workflow = schema.as_state_machine()
    assert len(workflow.bundles) > 20  # links were found: the phase has something to run

    class Workflow(workflow):
        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}", **HEADERS}}

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, excluded_checks=LEFT_OUT, headers=self.get_call_kwargs(case)["headers"])

    Workflow.run(settings=settings(max_examples=max(EXAMPLES, 10), stateful_step_count=6, deadline=None,
                                   suppress_health_check=list(HealthCheck)))


def test_every_phase_and_check_is_on():
    # examples, coverage and fuzzing run in test_api_conforms_to_its_schema, stateful in the test above
    phases = schema.config.phases
    assert all(phases.get_by_name(name=name).enabled for name in ("examples", "coverage", "fuzzing", "stateful"))
    from schemathesis.checks import CHECKS

    left_out = {check.__name__ for check in LEFT_OUT}
    assert left_out == {"positive_data_acceptance"}
    assert {"not_a_server_error", "response_schema_conformance", "ignored_auth", "negative_data_rejection",
            "use_after_free", "ensure_resource_availability"} <= set(CHECKS.get_all_names()) - left_out
