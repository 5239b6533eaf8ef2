"""Tiering schemes, the snapshots they produce, and the frozen annual key-account list."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.accounts.models import MONEY, Account


class Method(models.TextChoices):
    PARETO = "pareto", _("Pareto ABC (cumulative revenue share)")
    MONTHLY_SPEND = "monthly_spend", _("Thresholds on average monthly spend")
    ANNUAL_VALUE = "annual_value", _("Thresholds on annual value")
    VALUE_POTENTIAL = "value_potential", _("Value × potential matrix")
    BCG = "bcg", _("BCG matrix (value × growth)")
    PORTFOLIO = "portfolio", _("Attractiveness × relationship portfolio")
    SCORECARD = "scorecard", _("Weighted scorecard")


# Tier groups a scheme's tiers may belong to ("group" in a tier), with what the pages call them.
TIER_GROUPS = {"value": _("Value customers")}


class Scheme(models.Model):
    """One way of tiering accounts. Its numbers are parameters HQ edits, not code."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    method = models.CharField(_("method"), max_length=20, choices=Method.choices)
    window_months = models.PositiveSmallIntegerField(_("window (months)"), default=12)
    params = models.JSONField(_("parameters"), default=dict)
    # [{"code": "A", "label": "A 类", "label_en": "A"}, …] in display order
    tiers = models.JSONField(_("tiers"), default=list)
    # {"tiers": ["A"], "max_share": "0.30", "capacity": 1000000, "measure": "revenue"|"quantity"}
    cap = models.JSONField(_("concentration cap"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("tiering scheme")
        verbose_name_plural = _("tiering schemes")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") and self.name_en else self.name

    def tier_label(self, code: str) -> str:
        english = (get_language() or "").startswith("en")
        for tier in self.tiers:
            if tier["code"] == code:
                return (tier.get("label_en") if english else None) or tier.get("label") or code
        return str(_("Not tiered")) if code == "-" else code

    @property
    def tier_codes(self) -> list[str]:
        return [t["code"] for t in self.tiers]

    def group_codes(self, group: str) -> list[str]:
        """The tiers a group gathers (the BCG matrix's 明星 and 金牛 are the value customers)."""
        return [t["code"] for t in self.tiers if t.get("group") == group]

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(t["group"] for t in self.tiers if t.get("group") in TIER_GROUPS))


class SnapshotState(models.TextChoices):
    RUNNING = "running", _("Computing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Snapshot(models.Model):
    """The tiers of every account under one scheme as of a date, with the parameters used."""

    scheme = models.ForeignKey(Scheme, models.PROTECT, related_name="snapshots", verbose_name=_("scheme"))
    as_of = models.DateField(_("as of"))
    window_start = models.DateField(_("window from"))
    method = models.CharField(max_length=20, choices=Method.choices)
    params = models.JSONField(default=dict)
    cap = models.JSONField(null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=SnapshotState.choices, default=SnapshotState.RUNNING)
    accounts = models.PositiveIntegerField(_("accounts"), default=0)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, while computing
    # The process computing it (kam.core.workers.worker_id), so one whose worker died shows
    # as interrupted; empty while it waits for a worker.
    worker = models.CharField(max_length=120, blank=True)
    message = models.TextField(blank=True)
    # {tier: {"count": n, "revenue": "yuan", "share": fraction}}, and nothing else
    summary = models.JSONField(default=dict, blank=True)
    # What the scheme page draws, computed with the tiers: {"curve": …, "points": …}
    charts = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The annual key-account list (大客户名单): a frozen snapshot is never recomputed.
    frozen_year = models.PositiveSmallIntegerField(_("annual list of"), null=True, blank=True)
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tier snapshot")
        verbose_name_plural = _("tier snapshots")
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "frozen_year"], condition=Q(frozen_year__isnull=False),
                                    name="one_annual_list_per_scheme_and_year"),
        ]
        indexes = [models.Index(fields=["scheme", "as_of"])]

    def __str__(self) -> str:
        return f"{self.scheme.code} @ {self.as_of}"


class SnapshotEntry(models.Model):
    snapshot = models.ForeignKey(Snapshot, models.CASCADE, related_name="entries")
    account = models.ForeignKey(Account, models.CASCADE, related_name="tier_entries")
    tier = models.CharField(_("tier"), max_length=16)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    revenue = models.DecimalField(_("revenue (yuan)"), **MONEY)
    # What decided the tier: share, cumulative share, growth, score… (the "why").
    inputs = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "account"], name="one_entry_per_account")]
        indexes = [models.Index(fields=["account", "snapshot"]), models.Index(fields=["snapshot", "tier"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.tier}"


class TierCount(models.Model):
    """The tiering pages' read model (kam.tiering.summaries): per finished snapshot, the live
    accounts of each unit and owner in each tier, and their revenue."""

    snapshot_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()  # 0: in the public pool
    tier = models.CharField(max_length=16)
    accounts = models.PositiveIntegerField()
    revenue = models.DecimalField(**MONEY)

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="tiering_count_group"),
                   models.Index(fields=["snapshot_id"], name="tiering_count_snapshot")]

    def __str__(self) -> str:
        return f"snapshot {self.snapshot_id} unit {self.unit_id} owner {self.owner_id} {self.tier}: {self.accounts}"


class MoveDecision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class TierMove(models.Model):
    """HQ's decision on one account moving between the annual list and a fresh computation."""

    annual_list = models.ForeignKey(Snapshot, models.CASCADE, related_name="moves")
    compared_with = models.ForeignKey(Snapshot, models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, models.CASCADE, related_name="tier_moves")
    from_tier = models.CharField(max_length=16)
    to_tier = models.CharField(max_length=16)
    decision = models.CharField(_("decision"), max_length=10, choices=MoveDecision.choices)
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["annual_list", "account"], name="one_decision_per_account")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_tier} → {self.to_tier} ({self.decision})"


class Rating(models.IntegerChoices):
    VERY_LOW = 1, _("very low")
    LOW = 2, _("low")
    MEDIUM = 3, _("medium")
    HIGH = 4, _("high")
    VERY_HIGH = 5, _("very high")


# The attractiveness indicators of the sources' scorecard (吸引力), each rated 1–5 per account.
ATTRACTIVENESS_INDICATORS = ("differentiation", "value_for_price", "preference", "key_people", "buying_rules")


class Assessment(models.Model):
    """The account's attractiveness to us as its owner rates it on the sources' scorecard:
    差异性 how far our offer differs from the others', 价值/价格 the value the customer gets for
    the price, 偏好 its preference for us, 接近关键人物 our access to its key people, 购买规则
    how well its buying rules suit us. The attractiveness × relationship portfolio reads them."""

    account = models.OneToOneField(Account, models.CASCADE, related_name="assessment", verbose_name=_("account"))
    differentiation = models.PositiveSmallIntegerField(_("differentiation (差异性)"), choices=Rating.choices,
                                                       null=True, blank=True)
    value_for_price = models.PositiveSmallIntegerField(_("value for the price (价值/价格)"), choices=Rating.choices,
                                                       null=True, blank=True)
    preference = models.PositiveSmallIntegerField(_("preference for us (偏好)"), choices=Rating.choices,
                                                  null=True, blank=True)
    key_people = models.PositiveSmallIntegerField(_("access to key people (接近关键人物)"), choices=Rating.choices,
                                                  null=True, blank=True)
    buying_rules = models.PositiveSmallIntegerField(_("buying rules (购买规则)"), choices=Rating.choices,
                                                    null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("attractiveness assessment")
        verbose_name_plural = _("attractiveness assessments")

    def __str__(self) -> str:
        return f"{self.account_id}"
