"""The churn services enforce the churn policies whoever calls them: a refused role gets
PermissionDenied from the service itself and nothing is written."""

from __future__ import annotations

from datetime import date

import pytest

from factories import AccountFactory
from kam.core.errors import PermissionDenied
from kam.insight.churn import policies, services
from kam.insight.models import ChurnDefinition, ChurnEvent
from kam.sales.models import Competitor

pytestmark = pytest.mark.django_db


def test_an_analyst_may_not_mark_through_the_service(org):
    account = AccountFactory(owner=org.specialist_a)
    rival = Competitor.objects.filter(is_active=True).first()
    assert not policies.may_mark(org.analyst_hq, account) and policies.may_mark(org.specialist_a, account)
    with pytest.raises(PermissionDenied):
        services.churn_mark(actor=org.analyst_hq, account=account, competitor=rival, on=date(2026, 7, 1))
    assert not ChurnEvent.objects.exists()


def test_only_headquarters_change_a_definition_through_the_service(org):
    definition = ChurnDefinition.objects.get(code="no-revenue")
    assert not policies.may_edit_definitions(org.manager_a)
    with pytest.raises(PermissionDenied):
        services.churn_definition_update(actor=org.manager_a, definition=definition, name="changed",
                                         is_active=False, params={"days": 30})
    definition.refresh_from_db()
    assert definition.name != "changed" and definition.is_active
