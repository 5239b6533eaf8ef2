"""The warning sweep with explicit days: a warning and one task when a rule starts firing,
nothing new the next night, closing when the condition clears or a rule is switched off,
retention actions and the quiet period after them, pool accounts, concurrency."""

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from factories import AccountFactory
from kam.accounts.models import Account
from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core.errors import Conflict, NotVisible, ValidationFailed
from kam.insight.models import AccountScore, RetentionAction, Warning, WarningRule, WarningState
from kam.insight.warnings.services import (
    retention_record,
    rule_update,
    sweep_visible,
    warning_sweep,
)

from ..warning_world import only_rules, score

pytestmark = pytest.mark.django_db
DAY = date(2026, 7, 15)


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


@pytest.fixture
def low(org):
    """Only p_alive_low on; an account of specialist_a with P(alive) 0.1."""
    only_rules("p_alive_low")
    account = AccountFactory(owner=org.specialist_a, name="广州天河智造科技有限公司")
    score(account, 0.1)
    return account


def test_a_firing_rule_opens_one_warning_with_one_task_and_the_next_night_adds_nothing(org, low):
    counts = warning_sweep(as_of=DAY)
    assert (counts["fired"], counts["opened"], counts["tasks"]) == (1, 1, 1)
    warning = Warning.objects.get()
    assert warning.state == WarningState.OPEN and warning.severity == "high"
    assert warning.evidence == {"p_alive": 0.1, "threshold": 0.3}
    task = Task.objects.get()
    assert (task.owner, task.account_id, task.source_kind, task.source_id, task.due_on) == (
        org.specialist_a, low.pk, TaskSource.WARNING, warning.pk, DAY + timedelta(days=3))
    assert warning.task_id == task.pk
    # the next night: still firing, the same warning and task, evidence refreshed
    AccountScore.objects.filter(account=low).update(p_alive=0.05)
    counts = warning_sweep(as_of=DAY + timedelta(days=1))
    assert (counts["opened"], counts["tasks"], counts["kept"]) == (0, 0, 1)
    assert Warning.objects.count() == 1 and Task.objects.count() == 1
    warning.refresh_from_db()
    assert warning.evidence["p_alive"] == 0.05 and warning.checked_at == at(DAY + timedelta(days=1), 0)


def test_a_cleared_condition_closes_the_warning_and_cancels_its_task(org, low):
    warning_sweep(as_of=DAY)
    AccountScore.objects.filter(account=low).update(p_alive=0.9)
    counts = warning_sweep(as_of=DAY + timedelta(days=1))
    assert counts["cleared"] == 1
    warning = Warning.objects.get()
    assert warning.state == WarningState.CLEARED and warning.closed_at == at(DAY + timedelta(days=1), 0)
    task = Task.objects.get()
    assert task.status == TaskStatus.CANCELLED
    assert task.history.first().history_change_reason == "Early warning cleared"
    # firing again later opens a new warning with a new task
    AccountScore.objects.filter(account=low).update(p_alive=0.1)
    assert warning_sweep(as_of=DAY + timedelta(days=2))["opened"] == 1
    assert Warning.objects.open().count() == 1 and Task.objects.filter(status=TaskStatus.OPEN).count() == 1


def test_a_switched_off_rule_closes_its_open_warnings(org, low):
    warning_sweep(as_of=DAY)
    WarningRule.objects.filter(code="p_alive_low").update(is_enabled=False)
    counts = warning_sweep(as_of=DAY + timedelta(days=1))
    assert counts["switched_off"] == 1 and counts["fired"] == 0
    assert Warning.objects.get().state == WarningState.SWITCHED_OFF
    assert Task.objects.get().status == TaskStatus.CANCELLED


def test_retention_closes_the_warning_and_the_quiet_period_holds_then_ends(org, low, settings):
    settings.KAM = {**settings.KAM, "WARNING_QUIET_DAYS": 30}
    warning_sweep(as_of=DAY)
    warning = Warning.objects.get()
    record = retention_record(actor=org.specialist_a, warning=warning, action="赠送一个月专线带宽升级",
                              outcome="retained", now=at(DAY, 15))
    assert RetentionAction.objects.get() == record and record.recorded_by == org.specialist_a
    warning.refresh_from_db()
    assert warning.state == WarningState.RETAINED and warning.closed_at == at(DAY, 15)
    task = Task.objects.get()
    assert task.status == TaskStatus.DONE and task.done_at == at(DAY, 15)
    # the condition is still the same: nothing reopens for 30 days (day 0 … day 29)
    for offset in (1, 29):
        counts = warning_sweep(as_of=DAY + timedelta(days=offset))
        assert counts["opened"] == 0 and counts["quiet"] == 1
    assert Warning.objects.count() == 1 and Task.objects.count() == 1
    # on the 30th day after it, it reopens with a new task
    assert warning_sweep(as_of=DAY + timedelta(days=30))["opened"] == 1
    assert Warning.objects.open().count() == 1 and Task.objects.count() == 2


def test_retention_refuses_bad_input_and_other_branches(org, low):
    warning_sweep(as_of=DAY)
    warning = Warning.objects.get()
    with pytest.raises(ValidationFailed) as bad:
        retention_record(actor=org.specialist_a, warning=warning, action="上门拜访", outcome="")
    assert "outcome" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        retention_record(actor=org.specialist_a, warning=warning, action="  ", outcome="retained")
    assert "action" in bad.value.errors
    with pytest.raises(NotVisible):
        retention_record(actor=org.specialist_b, warning=warning, action="上门拜访", outcome="retained")
    assert not RetentionAction.objects.exists() and Warning.objects.get().state == WarningState.OPEN
    retention_record(actor=org.manager_a, warning=warning, action="上门拜访", outcome="partly")
    with pytest.raises(Conflict):
        retention_record(actor=org.specialist_a, warning=warning, action="再次拜访", outcome="retained")


def test_a_pool_account_task_goes_to_the_unit_manager(org):
    only_rules("p_alive_low")
    pooled = AccountFactory(owner=org.specialist_a)
    Account.objects.filter(pk=pooled.pk).update(owner=None, pooled_at=timezone.now())
    score(pooled, 0.1)
    warning_sweep(as_of=DAY)
    # the account's unit is specialist_a's office; the nearest manager up the tree is manager_a
    assert Task.objects.get().owner == org.manager_a


def test_an_inactive_owner_hands_the_task_to_the_manager(org, low):
    type(org.specialist_a).objects.filter(pk=org.specialist_a.pk).update(is_active=False)
    warning_sweep(as_of=DAY)
    assert Task.objects.get().owner == org.manager_a


def test_a_sweep_for_some_accounts_leaves_the_others_alone(org, low):
    other = AccountFactory(owner=org.specialist_b)
    score(other, 0.1)
    assert warning_sweep(as_of=DAY, account_ids=[low.pk])["opened"] == 1
    assert list(Warning.objects.values_list("account_id", flat=True)) == [low.pk]
    # the nightly sweep for all does not clear the first one and opens the other's
    counts = warning_sweep(as_of=DAY)
    assert (counts["opened"], counts["kept"], counts["cleared"]) == (1, 1, 0)


def test_evaluate_now_is_scoped(org, low):
    other = AccountFactory(owner=org.specialist_b)
    score(other, 0.1)
    sweep_visible(actor=org.manager_a, as_of=DAY)
    assert list(Warning.objects.values_list("account_id", flat=True)) == [low.pk]
    # a specialist evaluates one of their own accounts, not another branch's
    sweep_visible(actor=org.specialist_b, account_ids=[low.pk], as_of=DAY)
    assert Warning.objects.count() == 1


def test_two_sweeps_racing_the_same_pair_make_one_warning_and_one_task(org, low):
    # The second sweep read no open warning before the first wrote one: its insert meets the
    # unique index and it finds the first sweep's task.
    from kam.insight.warnings import services as module

    rules = {r.pk: r for r in WarningRule.objects.all()}
    rule = WarningRule.objects.get(code="p_alive_low")
    pairs = [(low.pk, rule.pk, {"p_alive": 0.1, "threshold": 0.3})]
    assert module._open(pairs, rules, DAY, at(DAY, 0)) == (1, 1)
    assert module._open(pairs, rules, DAY, at(DAY, 0, )) == (0, 0)
    assert Warning.objects.count() == 1 and Task.objects.count() == 1


def test_rules_are_changed_by_headquarters_only_with_checked_params(org):
    from kam.core.errors import PermissionDenied

    rule = WarningRule.objects.get(code="spend_drop")
    with pytest.raises(PermissionDenied):
        rule_update(actor=org.manager_a, rule=rule, is_enabled=False, severity="low", params=rule.params)
    with pytest.raises(ValidationFailed) as bad:
        rule_update(actor=org.admin, rule=rule, is_enabled=True, severity="high",
                    params={**rule.params, "recent_months": 0})
    assert "params.recent_months" in bad.value.errors
    with pytest.raises(ValidationFailed) as bad:
        rule_update(actor=org.admin, rule=rule, is_enabled=True, severity="urgent", params=rule.params)
    assert "severity" in bad.value.errors
    rule_update(actor=org.admin, rule=rule, is_enabled=False, severity="low", params={**rule.params, "drop_percent": "40"})
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.severity, rule.params["drop_percent"]) == (False, "low", 40)
