"""The account card (核心客户管理卡), the account team, contacts and the decision chain."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.lookups import Exact, In
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.core.models import Industry, OrgUnit, Region
from kam.core.sql import ScannedInOrder
from kam.core.validators import validate_cn_mobile, validate_cn_phone, validate_name, validate_uscc

# A book this large is read in a list's index order with its owner compared row by row
# (`AccountQuerySet.seen_in_order`): one page of it lies within the first few thousand rows.
BOOK_IN_ORDER = 500

MONEY = {"max_digits": 16, "decimal_places": 2}


class EnterpriseType(models.TextChoices):
    STATE_OWNED = "soe", _("State-owned enterprise")
    PRIVATE = "private", _("Private enterprise")
    FOREIGN = "foreign", _("Foreign-invested enterprise")
    JOINT_VENTURE = "jv", _("Joint venture")
    GOVERNMENT = "gov", _("Government body")
    INSTITUTION = "institution", _("Public institution")
    SOCIAL = "social", _("Social organisation")
    INDIVIDUAL = "individual", _("Individual business")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    KEY = "key", _("Key account")
    COMMERCIAL = "commercial", _("Commercial customer")
    PUBLIC = "public", _("Public customer")
    TRANSIENT = "transient", _("Transient customer")


class LifecycleStatus(models.TextChoices):
    UNIDENTIFIED = "unidentified", _("Unidentified")
    PROSPECT = "prospect", _("Prospect")
    OPPORTUNITY = "opportunity", _("Opportunity")
    ORDERED = "ordered", _("Ordered")
    ACTIVE = "active", _("Active")
    CHURNED = "churned", _("Churned")


class RelationshipStage(models.TextChoices):
    NONE = "", _("Not yet signed")
    INITIAL = "initial", _("Initial cooperation")
    STABLE = "stable", _("Stable cooperation")
    DEEP = "deep", _("Deep binding")
    SYMBIOSIS = "symbiosis", _("Value symbiosis")


class Level(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


# Above this many accounts, a read over their rows may take every row rather than test each.
SCOPED_READS = 5000


class AccountQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def most_of_the_live(self, n: int) -> bool:
        """Whether `n` accounts are more than half of the live ones (and more than a few
        thousand): a read of their rows in another table (contacts, activities, snapshot
        entries) then takes every row and leaves out the others' — at 100,000 accounts 2–3×
        faster than testing each row against the accounts (a sweep, a read model's rebuild)."""
        return n > SCOPED_READS and 2 * n > self.model.objects.alive().count()

    def visible_to(self, user):
        """The accounts `user` may see: the only way a user-facing query starts.

        Everything for admins and HQ; the unit subtree for managers, directors,
        analysts; for everyone their own accounts and those whose team they are on.
        """
        return self.alive().within_reach_of(user)

    def seen_through(self, user, path: str = "account", *, joined: bool = False) -> Q:
        """For a related model's query: "the account at `path` is one `user` sees". For those
        who see everything it is a join on the account (so the database may walk the related
        table in the list's own order and stop at the page); for everyone else the ids of
        their accounts, a subquery — or, `joined`, the same conditions on the joined account,
        for a table whose rows per account are few (the database then need not list a
        branch's accounts again for each query of a page)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return Q(pk__in=[])
        if user.sees_everything:
            return Q(**{f"{path}__deleted_at__isnull": True})
        if not joined:
            return Q(**{f"{path}__in": self.visible_to(user).values("pk")})
        scope = Q(**{f"{path}__owner_id": user.pk})
        if team_ids := team_account_ids(user):
            scope |= Q(**{f"{path}__in": team_ids})
        if unit_ids := user.visible_unit_ids:
            scope |= Q(**{f"{path}__unit_id__in": unit_ids})
        return Q(**{f"{path}__deleted_at__isnull": True}) & scope

    def visible_in_order(self, user):
        """`visible_to` for a list read in an order an index keeps (newest first): for those who
        see whole units the visibility terms are compared row by row (core.sql.ScannedInOrder),
        so that the database walks the order and stops at the page instead of gathering all of a
        branch's accounts to sort them. The same accounts as `visible_to`."""
        if user is None or not user.is_authenticated or not user.is_active or user.sees_everything \
                or not user.visible_unit_ids:
            return self.visible_to(user)
        scope = Q(Exact(ScannedInOrder(F("owner_id")), user.pk)) | Q(In(ScannedInOrder(F("unit_id")),
                                                                         list(user.visible_unit_ids)))
        if team_ids := team_account_ids(user):
            scope |= Q(In(ScannedInOrder(F("id")), team_ids))
        return self.alive().filter(scope)

    def visible_parts(self, user) -> list[AccountQuerySet]:
        """`visible_to` as disjoint parts — the accounts in the user's units, those they own
        outside them, those they see only through a team — each counted from an index of its
        own, where one OR over the three makes the database gather a branch's rows to merge them
        (the sum of the parts' counts is the count of `visible_to`)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return []
        if user.sees_everything:
            return [self.alive()]
        parts = []
        owned = self.alive().filter(owner_id=user.pk)
        if unit_ids := user.visible_unit_ids:
            parts.append(self.alive().filter(unit_id__in=unit_ids))
            owned = owned.exclude(unit_id__in=unit_ids)
        return [*parts, owned, self.seen_only_through_team(user)]

    def seen_only_through_team(self, user):
        """The accounts `user` sees neither as their owner nor within their units: those whose
        team they are on (the rest of `visible_to`) — few, read from the team's ids rather than
        by listing every account the user sees and taking the others away."""
        if user is None or not user.is_authenticated or not user.is_active or user.sees_everything:
            return self.none()
        team_ids = team_account_ids(user)
        if not team_ids:
            return self.none()
        qs = self.alive().filter(pk__in=team_ids).exclude(owner_id=user.pk)
        if unit_ids := user.visible_unit_ids:
            qs = qs.exclude(unit_id__in=unit_ids)
        return qs

    def seen_along(self, user, path: str = "account") -> Q:
        """`seen_through` for a related table listed in an indexed order (newest first): joined
        for those who see whole units, so that the list walks the table in its order and stops
        at its page rather than gather every row of a branch's accounts to sort them; by account
        for the others, whose accounts are few."""
        units = user is not None and user.is_authenticated and bool(user.visible_unit_ids)
        return self.seen_through(user, path, joined=units)

    def seen_in_order(self, user, path: str = "account") -> Q:
        """`seen_along` for a related table read in an order an index keeps and cut to a page (a
        top ten): those who own a large book (BOOK_IN_ORDER accounts or more) have the terms on
        the joined account compared row by row too (core.sql.ScannedInOrder), so that the
        database walks the order until the page is full rather than gather every row of their
        book to sort it; a small book is still looked up by account."""
        if user is None or not user.is_authenticated or not user.is_active or user.sees_everything \
                or user.visible_unit_ids:
            return self.seen_along(user, path)
        if self.alive().filter(owner_id=user.pk)[:BOOK_IN_ORDER].count() < BOOK_IN_ORDER:
            return self.seen_through(user, path)
        scope = Q(Exact(ScannedInOrder(F(f"{path}__owner_id")), user.pk))
        if team_ids := team_account_ids(user):
            scope |= Q(In(ScannedInOrder(F(f"{path}_id")), team_ids))
        return Q(**{f"{path}__deleted_at__isnull": True}) & scope

    def binned(self):
        """Accounts in the recycle bin (merged ones are gone for good: they are tombstones)."""
        return self.filter(deleted_at__isnull=False, merged_into__isnull=True)

    def in_recycle_bin_of(self, user):
        """Deleted accounts `user` would see if they were restored, still within RECYCLE_BIN_DAYS."""
        from kam.accounts.recycle.clock import bin_cutoff

        return self.binned().filter(deleted_at__gte=bin_cutoff()).within_reach_of(user)

    def within_reach_of(self, user):
        qs = self
        if user is None or not user.is_authenticated or not user.is_active:
            return qs.none()
        if user.sees_everything:
            return qs
        # Team memberships are few per user: reading their ids first lets the database
        # combine three index lookups (owner, unit, id) instead of scanning every account.
        team_ids = team_account_ids(user)
        scope = Q(owner_id=user.pk)
        if team_ids:
            scope |= Q(pk__in=team_ids)
        if unit_ids := user.visible_unit_ids:
            scope |= Q(unit_id__in=unit_ids)
        return qs.filter(scope)


class Account(models.Model):
    # --- identity -----------------------------------------------------------
    code = models.CharField(_("account code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200, validators=[validate_name])
    short_name = models.CharField(_("short name"), max_length=50, blank=True, validators=[validate_name])
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, null=True, blank=True,
        validators=[validate_uscc],
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    enterprise_type = models.CharField(
        _("enterprise type"), max_length=16, choices=EnterpriseType.choices, blank=True
    )
    # Foreign keys indexed by Meta.indexes (industry, region, owner; unit first in unit+owner)
    # get no index of their own: a second copy would only slow every write.
    industry = models.ForeignKey(
        Industry, models.PROTECT, null=True, blank=True, related_name="accounts", verbose_name=_("industry"),
        db_index=False,
    )
    region = models.ForeignKey(
        Region, models.PROTECT, null=True, blank=True, related_name="accounts", verbose_name=_("region"),
        db_index=False,
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_cn_phone])
    website = models.URLField(_("website"), blank=True)
    bank_name = models.CharField(_("opening bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=40, blank=True)
    staff_size = models.PositiveIntegerField(_("staff size"), null=True, blank=True)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="subsidiaries",
        verbose_name=_("parent account (group)"),
    )

    # --- characteristics -------------------------------------------------------
    market_region = models.CharField(_("market region"), max_length=200, blank=True)
    sales_capacity = models.CharField(_("sales capacity"), max_length=200, blank=True)
    financial_status = models.CharField(_("financial status"), max_length=200, blank=True)
    growth_potential = models.CharField(_("growth potential"), max_length=10, choices=Level.choices, blank=True)
    key_technology = models.CharField(_("key technology"), max_length=200, blank=True)
    asset_scale = models.DecimalField(_("asset scale (yuan)"), null=True, blank=True, **MONEY)
    annual_revenue = models.DecimalField(_("annual revenue (yuan)"), null=True, blank=True, **MONEY)

    # --- business status -------------------------------------------------------
    problems = models.TextField(_("problems"), blank=True)
    advantages = models.TextField(_("advantages"), blank=True)
    future_strategy = models.TextField(_("future strategy"), blank=True)
    brand_reputation = models.TextField(_("brand reputation"), blank=True)
    trade_terms = models.TextField(_("trade terms"), blank=True)

    # --- credit -----------------------------------------------------------------
    bank_rating = models.CharField(_("bank rating"), max_length=10, blank=True)
    credit_limit = models.DecimalField(_("credit limit (yuan)"), null=True, blank=True, **MONEY)
    payment_term_days = models.PositiveIntegerField(_("payment term (days)"), null=True, blank=True)
    rolling_credit = models.DecimalField(_("rolling credit (yuan)"), null=True, blank=True, **MONEY)
    receivables = models.DecimalField(_("receivables (yuan)"), null=True, blank=True, **MONEY)
    receivables_over_90_days = models.DecimalField(
        _("receivables over 90 days (yuan)"), null=True, blank=True, **MONEY
    )
    overdue_amount = models.DecimalField(_("overdue amount (yuan)"), null=True, blank=True, **MONEY)
    prepaid_only = models.BooleanField(_("prepaid / cash only"), default=False)

    # --- ownership and status -------------------------------------------------
    # No owner while the account is in the public pool (公海); `pooled_at` says since when.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="owned_accounts", verbose_name=_("owner"),
        db_index=False, null=True,
    )
    pooled_at = models.DateTimeField(_("in the public pool since"), null=True, blank=True, editable=False)
    unit = models.ForeignKey(OrgUnit, models.PROTECT, related_name="accounts", verbose_name=_("org unit"),
                             db_index=False)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices, default=Channel.KEY)
    lifecycle_status = models.CharField(
        _("lifecycle status"), max_length=16, choices=LifecycleStatus.choices,
        default=LifecycleStatus.PROSPECT,
    )
    relationship_stage = models.CharField(
        _("relationship stage"), max_length=12, choices=RelationshipStage.choices, blank=True
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    # --- bookkeeping -------------------------------------------------------------
    search_text = models.TextField(editable=False, default="")
    name_key = models.CharField(max_length=200, editable=False, default="", db_index=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True, editable=False
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True, blank=True, editable=False,
        db_index=False, verbose_name=_("deleted by"),
    )
    # Set when this account was merged into another: imports and links by its old code
    # or USCC then reach the survivor.
    merged_into = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, editable=False, related_name="merged_accounts",
        verbose_name=_("merged into"),
    )

    # History is read per account (by id); indexes on its other keys would only slow every write.
    history = HistoricalRecords(
        excluded_fields=["search_text", "name_key", "updated_at"],
        no_db_index=["code", "uscc", "industry", "region", "unit", "owner", "parent", "created_by", "merged_into",
                     "deleted_by"],
    )
    objects = AccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["unit", "owner"]),
            # One's own accounts newest first (the list's default order) without sorting them all.
            models.Index(fields=["owner", "updated_at", "id"], name="account_owner_updated_idx"),
            # Live accounts only: counts of the whole visible set become index-only scans.
            models.Index(fields=["id"], condition=Q(deleted_at__isnull=True), name="account_alive_idx"),
            # A unit's live accounts counted from the index alone (a branch's list and API count).
            models.Index(fields=["unit"], condition=Q(deleted_at__isnull=True), name="account_alive_unit_idx"),
            # Live accounts in code order (tiering's tie-break), read from the index alone.
            models.Index(fields=["code", "id"], condition=Q(deleted_at__isnull=True), name="account_alive_code_idx"),
            # The public pool: the few accounts without an owner, by when they entered it.
            models.Index(fields=["pooled_at"], condition=Q(pooled_at__isnull=False), name="account_pooled_idx"),
            models.Index(fields=["industry"]),
            models.Index(fields=["region"]),
            models.Index(fields=["lifecycle_status"]),
            models.Index(fields=["channel"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="account_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:detail", args=[self.pk])

    @property
    def stage_today(self) -> str:
        """The relationship stage its signing date gives today (the stored stage is the one
        whose playbook was last applied; the nightly run brings it up to date)."""
        from django.utils import timezone

        from kam.accounts.stages import StageBoundaries, stage_on

        return stage_on(self.signed_on, timezone.localdate(), StageBoundaries.from_settings())

    def get_stage_today_display(self) -> str:
        return RelationshipStage(self.stage_today).label


class AccountPair(models.Model):
    """Two adjacent Chinese (non-ASCII) characters of an account's search text (粤海 of
    东莞南粤海农业): the index a search of Chinese characters reads instead of every live
    account's search text (kam.accounts.search)."""

    pk = models.CompositePrimaryKey("pair", "account")
    pair = models.CharField(max_length=2)
    account = models.ForeignKey(Account, models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("search pair")
        verbose_name_plural = _("search pairs")

    def __str__(self) -> str:
        return self.pair


class TeamRole(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive counterpart")
    CONSULTANT = "consultant", _("Dedicated consultant")
    BACKUP = "backup", _("Backup specialist")
    SERVICE = "service", _("Service manager")


class AccountTeamMember(models.Model):
    """A member of an account's virtual team, possibly from another branch or HQ."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="team_members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="account_teams", verbose_name=_("member")
    )
    team_role = models.CharField(_("team role"), max_length=20, choices=TeamRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("account team member")
        verbose_name_plural = _("account team members")
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="team_member_once_per_account"),
        ]
        indexes = [models.Index(fields=["user", "account"])]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_team_role_display()})"


class DecisionRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    USER = "user", _("User")
    PROCUREMENT = "procurement", _("Procurement")
    GATEKEEPER = "gatekeeper", _("Technical gatekeeper")
    EXPERT = "expert", _("Expert with veto")
    UNKNOWN = "unknown", _("Not yet known")


class Attitude(models.TextChoices):
    SUPPORTIVE = "supportive", _("Supportive")
    NEUTRAL = "neutral", _("Neutral")
    OPPOSED = "opposed", _("Opposed")


class RelationshipStrength(models.TextChoices):
    STRONG = "strong", _("Strong")
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    WEAK = "weak", _("Weak")
    NONE = "none", _("No relationship")


class ContactStatus(models.TextChoices):
    ACTIVE = "active", _("In post")
    LEFT = "left", _("Left the company")


class ContactQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user):
        """A contact is visible exactly when its account is."""
        return self.alive().filter(Account.objects.seen_through(user))

    def in_recycle_bin_of(self, user):
        """Contacts deleted on their own (not with their account) whose account `user` may reach,
        still within RECYCLE_BIN_DAYS."""
        from kam.accounts.recycle.clock import bin_cutoff

        return self.filter(deleted_at__gte=bin_cutoff(), deleted_with_account=False, account__merged_into__isnull=True,
                           account__in=Account.objects.within_reach_of(user).values("pk"))


class Contact(models.Model):
    account = models.ForeignKey(Account, models.PROTECT, related_name="contacts", verbose_name=_("account"))
    name = models.CharField(_("name"), max_length=50, validators=[validate_name])
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, validators=[validate_cn_mobile])
    office_phone = models.CharField(_("office phone"), max_length=30, blank=True, validators=[validate_cn_phone])
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=50, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=16, choices=DecisionRole.choices, default=DecisionRole.UNKNOWN
    )
    attitude = models.CharField(_("attitude to us"), max_length=12, choices=Attitude.choices, default=Attitude.NEUTRAL)
    influence = models.CharField(_("influence"), max_length=10, choices=Level.choices, default=Level.MEDIUM)
    relationship_strength = models.CharField(
        _("relationship strength"), max_length=10, choices=RelationshipStrength.choices,
        default=RelationshipStrength.FAIR,
    )
    relationship_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="owned_contacts",
        verbose_name=_("relationship owner"),
    )
    is_key = models.BooleanField(_("key contact"), default=False)
    status = models.CharField(_("status"), max_length=8, choices=ContactStatus.choices, default=ContactStatus.ACTIVE)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    successor = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="predecessors", verbose_name=_("successor")
    )
    notes = models.TextField(_("notes"), blank=True)

    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True, blank=True, editable=False,
        db_index=False, verbose_name=_("deleted by"),
    )
    # True when it went to the recycle bin because its account did: it comes back with it.
    deleted_with_account = models.BooleanField(default=False, editable=False)

    history = HistoricalRecords(excluded_fields=["search_text", "updated_at"])
    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["account", "name", "id"]
        indexes = [models.Index(fields=["account", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(successor=models.F("id")), name="contact_not_own_successor"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == ContactStatus.ACTIVE


class AccountCount(models.Model):
    """The home page's read model (kam.accounts.summaries): live accounts per unit, owner,
    industry, lifecycle status and channel, with how many of them have a well-covered
    decision chain and how many key contacts left without a successor."""

    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()  # 0: in the public pool
    industry_id = models.BigIntegerField()  # 0: none
    lifecycle_status = models.CharField(max_length=20)
    channel = models.CharField(max_length=20)
    accounts = models.PositiveIntegerField()
    well_covered = models.PositiveIntegerField()
    departed_key_contacts = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="accounts_count_group")]

    def __str__(self) -> str:
        return f"unit {self.unit_id} owner {self.owner_id}: {self.accounts}"


# Bumped whenever a team membership is saved or deleted in this process (a deleted account's
# included): a user's team accounts, read once for the user object, are read again after it.
_team_changes = [0]


def team_account_ids(user) -> list[int]:
    """The accounts `user` is on the team of. A request's user object reads them once, however
    many lists and checks the page makes."""
    held = getattr(user, "_kam_team_ids", None)
    if held is not None and held[0] == _team_changes[0]:
        return held[1]
    ids = list(AccountTeamMember.objects.filter(user=user).values_list("account_id", flat=True))
    user._kam_team_ids = (_team_changes[0], ids)
    return ids


@receiver([post_save, post_delete], sender=AccountTeamMember, dispatch_uid="kam.accounts.team_changed")
def _team_changed(**_kwargs) -> None:
    _team_changes[0] += 1
