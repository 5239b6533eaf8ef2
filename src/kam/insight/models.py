"""Insight: fitted customer-base models and the scores they give each account; churn
definitions, reasons and events; satisfaction surveys; the health score; early-warning
rules, the warnings they raise and the retention actions recorded against them.

A score, churn event, survey, health row or warning is visible exactly when its account is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kam.accounts.models import MONEY, Account
from kam.core.models import ReferenceItem


class AccountBoundQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(Account.objects.seen_along(user))

    def visible_in_order(self, user):
        """`visible_to` for a list cut to a page in an order an index keeps (Account.objects.seen_in_order)."""
        return self.filter(Account.objects.seen_in_order(user))


# --- customer-base models ---------------------------------------------------------------------


class CountModel(models.TextChoices):
    BGNBD = "bgnbd", _("BG/NBD")
    PARETONBD = "paretonbd", _("Pareto/NBD")


class Period(models.TextChoices):
    WEEK = "week", _("Week")
    MONTH = "month", _("Month")


class ModelFit(models.Model):
    """One fit of a count model (and the gamma-gamma spend model) on the revenue facts from
    `window_start` to `calibration_end`, counted in `period`s."""

    count_model = models.CharField(_("count model"), max_length=10, choices=CountModel.choices,
                                   default=CountModel.BGNBD)
    period = models.CharField(_("period"), max_length=5, choices=Period.choices, default=Period.WEEK)
    window_start = models.DateField(_("data from"))
    calibration_end = models.DateField(_("data up to"))
    count_params = models.JSONField(_("count model parameters"), default=dict)
    count_log_likelihood = models.FloatField(_("log-likelihood (count model)"))
    spend_params = models.JSONField(_("spend model parameters"), null=True, blank=True)
    spend_log_likelihood = models.FloatField(_("log-likelihood (spend model)"), null=True, blank=True)
    customers = models.PositiveIntegerField(_("customers"))
    repeat_customers = models.PositiveIntegerField(_("repeat customers"))
    converged = models.BooleanField(_("converged"), default=True)
    seconds = models.FloatField(_("seconds to fit"), default=0)
    scored_accounts = models.PositiveIntegerField(_("accounts scored"), default=0)
    created_at = models.DateTimeField(_("fitted at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("fitted by"))

    class Meta:
        verbose_name = _("model fit")
        verbose_name_plural = _("model fits")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_count_model_display()} {self.window_start}–{self.calibration_end}"


class AccountScore(models.Model):
    """An account's current forecast from the latest fit. `p_alive_before` keeps the value
    the fit before gave, so a sharp fall can be seen."""

    account = models.OneToOneField(Account, models.CASCADE, primary_key=True, related_name="score",
                                   verbose_name=_("account"))
    fit = models.ForeignKey(ModelFit, models.CASCADE, related_name="scores", verbose_name=_("model fit"))
    frequency = models.PositiveIntegerField(_("repeat purchases"))
    recency = models.FloatField(_("recency (periods)"))
    age = models.FloatField(_("age (periods)"))
    p_alive = models.FloatField(_("probability still active"))
    p_alive_before = models.FloatField(_("probability still active, previous fit"), null=True, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"))
    expected_spend = models.DecimalField(_("expected spend per purchase (yuan)"), null=True, blank=True, **MONEY)
    expected_value = models.DecimalField(_("expected value over the horizon (yuan)"), null=True, blank=True, **MONEY)
    clv = models.DecimalField(_("lifetime value (yuan)"), null=True, blank=True, **MONEY)
    scored_at = models.DateTimeField(_("scored at"))

    objects = AccountBoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("account score")
        verbose_name_plural = _("account scores")
        indexes = [models.Index(fields=["fit"]), models.Index(fields=["p_alive"]),
                   models.Index(fields=["-expected_value", "account"], name="insight_score_value_order"),
                   models.Index(fields=["-clv", "account"], name="insight_score_clv_order")]

    def __str__(self) -> str:
        return f"{self.account_id} P(alive) {self.p_alive:.2f}"


# --- churn ------------------------------------------------------------------------------------


class ChurnReason(ReferenceItem):
    """Why an account churned (使用对手长话业务, 使用对手数据业务, 客户自身经营问题, 其他…)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("churn reason")
        verbose_name_plural = _("churn reasons")


class ChurnRule(models.TextChoices):
    SPEND_DROP = "spend_drop", _("Spend fell against its baseline")
    NO_REVENUE = "no_revenue", _("No revenue for a number of days")
    COMPETITOR = "competitor", _("Moved to a competitor")


class ChurnDefinition(models.Model):
    """A rule that says an account has churned. `params` by rule: spend_drop —
    {"drop_percent", "baseline_months", "recent_months"}; no_revenue — {"days"};
    competitor — {} (an account is marked by hand)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    rule = models.CharField(_("rule"), max_length=12, choices=ChurnRule.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("churn definition")
        verbose_name_plural = _("churn definitions")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class ChurnEvent(models.Model):
    """An account found churned by a definition on `detected_on`, dated `churned_on` (when its
    spend fell or stopped: the churn rates count it in that month), with the yearly amount
    lost (the baseline's monthly average × 12). At most one open event per account and
    definition; `recovered_on` closes it when the account's revenue comes back."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="churn_events", verbose_name=_("account"))
    definition = models.ForeignKey(ChurnDefinition, models.PROTECT, related_name="events",
                                   verbose_name=_("churn definition"))
    reason = models.ForeignKey(ChurnReason, models.PROTECT, null=True, blank=True, related_name="events",
                               verbose_name=_("reason"))
    competitor = models.ForeignKey("sales.Competitor", models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name=_("competitor"))
    detected_on = models.DateField(_("detected on"))
    churned_on = models.DateField(_("churned on"), null=True, blank=True)
    baseline_amount = models.DecimalField(_("baseline monthly spend (yuan)"), **MONEY)
    recent_amount = models.DecimalField(_("recent monthly spend (yuan)"), **MONEY)
    amount_lost = models.DecimalField(_("amount lost a year (yuan)"), **MONEY)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    recovered_on = models.DateField(_("recovered on"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountBoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("churn event")
        verbose_name_plural = _("churn events")
        ordering = ["-detected_on", "-id"]
        indexes = [models.Index(fields=["detected_on"]), models.Index(fields=["churned_on"])]
        constraints = [
            models.UniqueConstraint(fields=["account", "definition"], condition=Q(recovered_on__isnull=True),
                                    name="churn_event_open_once"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.definition_id} {self.detected_on}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.churned_on is None:  # an event recorded by hand is dated the day it names
            self.churned_on = self.detected_on
        super().save(*args, **kwargs)


# --- satisfaction and health --------------------------------------------------------------------


class SatisfactionSurvey(models.Model):
    """A satisfaction score (0–10) an account gave on a day."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="surveys", verbose_name=_("account"))
    surveyed_on = models.DateField(_("surveyed on"))
    score = models.DecimalField(_("score (0–10)"), max_digits=4, decimal_places=1)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AccountBoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-surveyed_on", "-id"]
        indexes = [models.Index(fields=["account", "surveyed_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=10), name="survey_score_0_10"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.surveyed_on} {self.score}"


class HealthScore(models.Model):
    """An account's health (0–100) in a month, with its parts (each 0–100, None where the
    account gives nothing to judge by). The nightly run rewrites the current month's row;
    earlier rows are the trend."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="health", verbose_name=_("account"),
                                db_index=False)
    month = models.DateField(_("month"))
    score = models.PositiveSmallIntegerField(_("health"))
    parts = models.JSONField(_("parts"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    objects = AccountBoundQuerySet.as_manager()

    class Meta:
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        ordering = ["-month"]
        indexes = [models.Index(fields=["month", "score"])]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="health_once_a_month"),
            models.CheckConstraint(condition=Q(score__lte=100), name="health_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m} {self.score}"


# --- early warning -------------------------------------------------------------------------------


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class WarningRule(models.Model):
    """One early-warning rule. `code` selects the check (spend_drop, payment_overdue,
    no_contact, key_contact_left, competitor_quote, p_alive_low, p_alive_fall,
    satisfaction_drop); `params` holds its thresholds."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_enabled = models.BooleanField(_("switched on"), default=True)
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices, default=Severity.MEDIUM)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("warning rule")
        verbose_name_plural = _("warning rules")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class WarningState(models.TextChoices):
    OPEN = "open", pgettext_lazy("warning", "Open")
    CLEARED = "cleared", _("Cleared")
    RETAINED = "retained", _("Closed by a retention action")
    SWITCHED_OFF = "off", _("Rule switched off")


class WarningQuerySet(AccountBoundQuerySet):
    def open(self):
        return self.filter(state=WarningState.OPEN)


class Warning(models.Model):
    """A rule firing on an account: opened once, kept while the condition holds (its
    evidence refreshed), closed when it clears or a retention action is recorded. One
    task for the account's owner when it opens."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="warnings", verbose_name=_("account"),
                                db_index=False)
    rule = models.ForeignKey(WarningRule, models.PROTECT, related_name="warnings", verbose_name=_("rule"))
    severity = models.CharField(_("severity"), max_length=6, choices=Severity.choices)
    evidence = models.JSONField(_("evidence"), default=dict)
    state = models.CharField(_("state"), max_length=8, choices=WarningState.choices, default=WarningState.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    checked_at = models.DateTimeField(_("last checked at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    task = models.ForeignKey("activities.Task", models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("task"))

    objects = WarningQuerySet.as_manager()

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["account", "state"]),
            models.Index(fields=["state", "opened_at"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "rule"], condition=Q(state="open"), name="warning_open_once"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.rule_id} {self.state}"


class RetentionOutcome(models.TextChoices):
    RETAINED = "retained", _("Retained")
    PARTLY = "partly", _("Partly retained")
    LOST = "lost", _("Lost")


class RetentionAction(models.Model):
    """What the owner did about a warning (a free upgrade, a price lock…) and how it ended."""

    warning = models.ForeignKey(Warning, models.CASCADE, related_name="actions", verbose_name=_("warning"))
    action = models.TextField(_("retention action"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=RetentionOutcome.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                    verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("retention action")
        verbose_name_plural = _("retention actions")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.warning_id} {self.outcome}"


class ChurnSpan(models.Model):
    """A span the churn page has asked for, kept in the churn read model: a month or quarter of
    the rates per period ("period"), or a whole range broken down by tier as of `tier_day` ("range")."""

    kind = models.CharField(max_length=10)
    start = models.DateField()
    end = models.DateField()
    tier_day = models.DateField(null=True, blank=True)
    last_used_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "start", "end", "tier_day"], name="insight_churn_span_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.start}…{self.end}"


class WarningCount(models.Model):
    """The warnings page's read model (kam.insight.warnings.summary): the open warnings of the
    live accounts per unit, owner (0: in the public pool) and severity."""

    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    severity = models.CharField(max_length=6)
    warnings = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="insight_warning_count_group")]

    def __str__(self) -> str:
        return f"unit {self.unit_id} owner {self.owner_id} {self.severity}: {self.warnings}"


class ChurnFigure(models.Model):
    """The churn page's read model (kam.insight.churn.summary): per span, unit, owner, industry,
    tier (range spans only), definition (0: all) and reason of the counting event (-1: not
    churned; 0: unclassified), the accounts of the active base, their base revenue (fen), the
    churned accounts and the amount lost a year (fen, capped at the base revenue)."""

    span_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    industry_id = models.BigIntegerField()
    tier = models.CharField(max_length=20)
    definition_id = models.BigIntegerField()
    reason_id = models.BigIntegerField()
    base = models.PositiveIntegerField()
    base_fen = models.BigIntegerField()
    churned = models.PositiveIntegerField()
    lost_fen = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["span_id", "definition_id"], name="insight_churn_figure_span"),
                   models.Index(fields=["unit_id", "owner_id"], name="insight_churn_figure_group")]

    def __str__(self) -> str:
        return f"span {self.span_id} unit {self.unit_id} owner {self.owner_id}"


class ScoreTenth(models.Model):
    """The models page's read model (kam.insight.forecast.summary): per unit and owner (0: in
    the public pool), how many accounts' current scores fall in each tenth of P(alive)."""

    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    tenth = models.PositiveSmallIntegerField()  # 0: 0–0.1 … 9: 0.9–1
    accounts = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="insight_score_tenth_group")]

    def __str__(self) -> str:
        return f"unit {self.unit_id} owner {self.owner_id} tenth {self.tenth}: {self.accounts}"
