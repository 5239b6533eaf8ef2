"""The early-warning and health services enforce their policies whoever calls them: a refused
role gets PermissionDenied from the service itself and nothing is written."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.utils import timezone

from factories import AccountFactory
from kam.core.errors import PermissionDenied
from kam.insight.health import policies as health_policies
from kam.insight.health.services import survey_add
from kam.insight.models import (
    RetentionAction,
    SatisfactionSurvey,
    Warning,
    WarningRule,
    WarningState,
)
from kam.insight.warnings import policies
from kam.insight.warnings.services import (
    retention_record,
    rule_update,
    sweep_visible,
    warning_sweep,
)

from ..warning_world import only_rules, score

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 1)


def _open_warning(org) -> Warning:
    only_rules("p_alive_low")
    account = AccountFactory(owner=org.specialist_a)
    score(account, 0.1)
    warning_sweep(as_of=DAY, now=timezone.make_aware(datetime.combine(DAY, time(9))))
    return Warning.objects.get(account=account, state=WarningState.OPEN)


def test_an_analyst_may_not_record_a_retention_action_through_the_service(org):
    warning = _open_warning(org)
    assert not policies.may_record(org.analyst_hq, warning) and policies.may_record(org.specialist_a, warning)
    with pytest.raises(PermissionDenied):
        retention_record(actor=org.analyst_hq, warning=warning, action="visited", outcome="retained")
    warning.refresh_from_db()
    assert warning.state == WarningState.OPEN and not RetentionAction.objects.exists()


def test_only_headquarters_change_a_rule_through_the_service(org):
    rule = WarningRule.objects.get(code="p_alive_low")
    assert not policies.may_edit_rules(org.manager_a) and policies.may_edit_rules(org.director)
    with pytest.raises(PermissionDenied):
        rule_update(actor=org.manager_a, rule=rule, is_enabled=not rule.is_enabled, severity=rule.severity, params={})
    assert WarningRule.objects.get(pk=rule.pk).is_enabled == rule.is_enabled


def test_a_specialist_may_not_evaluate_many_accounts_through_the_service(org):
    _open_warning(org)
    before = list(Warning.objects.values_list("pk", "state", "checked_at"))
    assert not policies.may_evaluate_many(org.specialist_a) and policies.may_evaluate_many(org.manager_a)
    with pytest.raises(PermissionDenied):
        sweep_visible(actor=org.specialist_a)
    assert list(Warning.objects.values_list("pk", "state", "checked_at")) == before


def test_an_analyst_may_not_record_a_survey_through_the_service(org):
    account = AccountFactory(owner=org.specialist_a)
    assert not health_policies.may_add_survey(org.analyst_hq, account)
    assert health_policies.may_add_survey(org.specialist_a, account)
    with pytest.raises(PermissionDenied):
        survey_add(actor=org.analyst_hq, account=account, score="8", surveyed_on=DAY, today=DAY)
    assert not SatisfactionSurvey.objects.exists()
