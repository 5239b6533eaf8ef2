"""Sales: leads (线索) and their assignment, the public pool (公海), opportunities (项目) with
their buying centre and competitors, and deal reviews (大客户开发研讨会).

An opportunity, a pool event and a deal review are visible exactly when their account is;
a lead (which may have no account yet) is visible to its assignee, to those who see the
lead's unit, and to HQ.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.accounts.models import MONEY, Account, Contact
from kam.core.models import Industry, OrgUnit, ReferenceItem, Region
from kam.core.validators import validate_name

# --- configurable lists ---------------------------------------------------------------------


class LeadSource(ReferenceItem):
    """Where a lead came from (direct contact, media, website, phone enquiry, exhibition…)."""

    class Meta(ReferenceItem.Meta):
        verbose_name = _("lead source")
        verbose_name_plural = _("lead sources")


class Competitor(ReferenceItem):
    class Meta(ReferenceItem.Meta):
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")


class OutcomeReason(ReferenceItem):
    """A reason a deal was won or lost (解析成败原因); `applies_to` says for which outcome."""

    class AppliesTo(models.TextChoices):
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        BOTH = "both", _("Won or lost")

    applies_to = models.CharField(_("applies to"), max_length=4, choices=AppliesTo.choices, default=AppliesTo.BOTH)

    class Meta(ReferenceItem.Meta):
        verbose_name = _("win/loss reason")
        verbose_name_plural = _("win/loss reasons")


# --- leads ------------------------------------------------------------------------------------


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    FOLLOWING = "following", _("Being followed up")
    ESCALATED = "escalated", _("Escalated")
    QUALIFIED = "qualified", _("Qualified: opportunity")
    NURTURE = "nurture", _("Nurtured prospect")
    DISQUALIFIED = "disqualified", _("Disqualified")


OPEN_LEAD_STATUSES = (LeadStatus.NEW, LeadStatus.FOLLOWING, LeadStatus.ESCALATED)


class LeadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Leads assigned to `user`, leads of the units `user` sees, everything for HQ."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        scope = Q(assignee_id=user.pk)
        if unit_ids := user.visible_unit_ids:
            scope |= Q(unit_id__in=unit_ids)
        return self.filter(scope)

    def open(self):
        return self.filter(status__in=OPEN_LEAD_STATUSES)


class Lead(models.Model):
    source = models.ForeignKey(LeadSource, models.PROTECT, related_name="leads", verbose_name=_("source"))
    company = models.CharField(_("company"), max_length=200, validators=[validate_name])
    uscc = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True, validators=[validate_name])
    contact_title = models.CharField(_("contact's title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    need = models.TextField(_("need"), blank=True)
    estimated_amount = models.DecimalField(_("estimated amount (yuan)"), null=True, blank=True, **MONEY)
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("region"))
    industry = models.ForeignKey(Industry, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("industry"))

    # Assignment: the unit whose people work the lead, and the person (none while unassigned).
    unit = models.ForeignKey(OrgUnit, models.PROTECT, null=True, blank=True, related_name="leads",
                             verbose_name=_("org unit"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                 related_name="leads", verbose_name=_("assignee"))
    rule = models.ForeignKey("LeadAssignmentRule", models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("assignment rule"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # The SLA clock: a follow-up is due by `follow_up_due_at`; past it the lead escalates to the
    # assignee's manager (`escalated_to`), and one more period later it is reassigned.
    follow_up_due_at = models.DateTimeField(_("follow-up due"), null=True, blank=True)
    followed_up_at = models.DateTimeField(_("first follow-up"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("escalated to"))
    reassignments = models.PositiveSmallIntegerField(_("reassignments"), default=0)

    status = models.CharField(_("status"), max_length=12, choices=LeadStatus.choices, default=LeadStatus.NEW)
    account = models.ForeignKey(Account, models.SET_NULL, null=True, blank=True, related_name="leads",
                                verbose_name=_("account"))
    opportunity = models.ForeignKey("Opportunity", models.SET_NULL, null=True, blank=True, related_name="+",
                                    verbose_name=_("opportunity"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_note = models.CharField(_("note"), max_length=500, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, related_name="+",
                                   editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords(no_db_index=["source", "region", "industry", "unit", "assignee", "rule",
                                             "escalated_to", "account", "opportunity", "created_by"])
    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The SLA sweep reads open leads by deadline.
            models.Index(fields=["status", "follow_up_due_at"], name="lead_sla_idx"),
            models.Index(fields=["assignee", "status"], name="lead_assignee_idx"),
            models.Index(fields=["unit", "status"], name="lead_unit_idx"),
        ]

    def __str__(self) -> str:
        return self.company

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES


class LeadFollowUp(models.Model):
    """A follow-up of a lead: what was done and the plan. The first one stops the SLA clock."""

    lead = models.ForeignKey(Lead, models.CASCADE, related_name="follow_ups", verbose_name=_("lead"))
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"))
    note = models.TextField(_("what was done"))
    plan = models.CharField(_("follow-up plan"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("lead follow-up")
        verbose_name_plural = _("lead follow-ups")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.lead} · {self.at:%Y-%m-%d}"


class LeadAssignmentRule(models.Model):
    """Rules are tried in order; the first whose conditions match a lead assigns it. A rule
    names a unit and either a person or, without one, a round robin among the unit's active
    specialists (`last_assignee` remembers where the round stands)."""

    name = models.CharField(_("name"), max_length=100, validators=[validate_name])
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    region = models.ForeignKey(Region, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("region"))
    industry = models.ForeignKey(Industry, models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name=_("industry"))
    source = models.ForeignKey(LeadSource, models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("source"))
    unit = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name=_("assign to unit"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("assign to person"))
    last_assignee = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True,
                                      related_name="+", editable=False)

    history = HistoricalRecords(excluded_fields=["last_assignee"])

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


# --- the public pool -------------------------------------------------------------------------


class PoolEventKind(models.TextChoices):
    NOTICE = "notice", _("Return notice to the owner")
    RETURNED = "returned", _("Returned to the pool")
    RELEASED = "released", _("Released to the pool by hand")
    CLAIMED = "claimed", _("Claimed from the pool")
    ASSIGNED = "assigned", _("Assigned from the pool")


class PoolEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(account__in=Account.objects.visible_to(user).values("pk"))


class PoolEvent(models.Model):
    """Every notice, return and claim of the public pool, kept with the account."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="pool_events", verbose_name=_("account"))
    kind = models.CharField(_("event"), max_length=10, choices=PoolEventKind.choices)
    at = models.DateTimeField(_("when"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
                             verbose_name=_("by"))
    former_owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("former owner"))
    # Days without a follow-up at the time, and the limit that applied.
    idle_days = models.PositiveIntegerField(_("days without follow-up"), null=True, blank=True)
    limit_days = models.PositiveIntegerField(_("allowed days"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = PoolEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "kind", "at"], name="pool_event_account_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.at:%Y-%m-%d}"


# --- opportunities ---------------------------------------------------------------------------


class Stage(models.TextChoices):
    CONTACT = "contact", _("Contact")
    DESIGN = "design", _("Solution design")
    REVIEW = "review", _("Solution review")
    TENDER = "tender", _("Tender and bid")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


OPEN_STAGES = (Stage.CONTACT, Stage.DESIGN, Stage.REVIEW, Stage.TENDER)
CLOSED_STAGES = (Stage.WON, Stage.LOST)


class OpportunityQuerySet(models.QuerySet):
    def alive(self):
        """Not in the recycle bin: every query that counts or shows opportunities starts here."""
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user):
        """An opportunity is visible exactly when its account is (and it is not in the recycle bin)."""
        return self.alive().filter(Account.objects.seen_through(user, joined=True))

    def in_recycle_bin_of(self, user):
        """Opportunities deleted on their own (not with their account) whose account `user` may
        reach, still within RECYCLE_BIN_DAYS."""
        from kam.accounts.recycle import bin_cutoff

        return self.filter(deleted_at__gte=bin_cutoff(), deleted_with_account=False,
                           account__merged_into__isnull=True,
                           account__in=Account.objects.within_reach_of(user).values("pk"))

    def open(self):
        return self.filter(stage__in=OPEN_STAGES)


class Opportunity(models.Model):
    account = models.ForeignKey(Account, models.CASCADE, related_name="opportunities", verbose_name=_("account"),
                                db_index=False)
    name = models.CharField(_("project"), max_length=200, validators=[validate_name])
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="opportunities",
                              verbose_name=_("owner"), db_index=False)
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices, default=Stage.CONTACT)
    stage_entered_at = models.DateTimeField(_("in this stage since"))
    amount = models.DecimalField(_("intended amount (yuan)"), **MONEY)
    our_quote = models.DecimalField(_("our quote (yuan)"), null=True, blank=True, **MONEY)
    expected_close = models.DateField(_("expected close"))
    description = models.TextField(_("description"), blank=True)
    lead = models.ForeignKey(Lead, models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("from lead"))
    # Set when won or lost: the reason from the configured list and a note are both required.
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    outcome_reason = models.ForeignKey(OutcomeReason, models.PROTECT, null=True, blank=True, related_name="+",
                                       verbose_name=_("reason"))
    outcome_note = models.TextField(_("what decided it"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", null=True,
                                   blank=True, editable=False, db_index=False, verbose_name=_("deleted by"))
    # True when it went to the recycle bin because its account did: it comes back with it.
    deleted_with_account = models.BooleanField(default=False, editable=False)

    history = HistoricalRecords(no_db_index=["account", "owner", "lead", "outcome_reason", "created_by",
                                             "deleted_by"])
    objects = OpportunityQuerySet.as_manager()

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["account", "stage"], name="opportunity_account_idx"),
            models.Index(fields=["owner", "stage"], name="opportunity_owner_idx"),
            models.Index(fields=["stage", "expected_close"], name="opportunity_stage_idx"),
            models.Index(fields=["created_at"], name="opportunity_created_idx"),
            # The list's order (nearest close first) and the board's won and lost columns (latest
            # closed first): read in index order, a page stops after its rows instead of sorting all.
            models.Index(fields=["expected_close", "-id"], name="opportunity_list_order_idx"),
            models.Index(fields=["stage", "-closed_on", "-id"], name="opportunity_closed_order_idx"),
            # The board's totals per stage read this index alone, not the rows.
            models.Index(fields=["stage", "closed_on", "deleted_at", "account", "amount"],
                         name="opportunity_stage_totals_idx"),
            # The recycle bin: the few deleted opportunities, by when they went.
            models.Index(fields=["deleted_at"], condition=Q(deleted_at__isnull=False), name="opportunity_binned_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(stage__in=CLOSED_STAGES, closed_on__isnull=False, outcome_reason__isnull=False)
                | (~Q(stage__in=CLOSED_STAGES) & Q(closed_on__isnull=True)),
                name="opportunity_closed_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES


class StageChange(models.Model):
    """One move of an opportunity between stages (the first row has no `from_stage`)."""

    opportunity = models.ForeignKey(Opportunity, models.CASCADE, related_name="stage_changes",
                                    verbose_name=_("opportunity"), db_index=False)
    from_stage = models.CharField(_("from stage"), max_length=8, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=8, choices=Stage.choices)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("by"),
                           db_index=False)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["opportunity", "at"], name="stage_change_opportunity_idx"),
            # Conversion over a period reads the moves of the period.
            models.Index(fields=["at", "to_stage"], name="stage_change_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage or '∅'} → {self.to_stage}"


class BuyingRole(models.TextChoices):
    USER_DEPARTMENT = "user_dept", _("User department")
    PROCUREMENT = "procurement", _("Procurement department")
    EXPERT = "expert", _("Expert with veto")
    LEADERSHIP = "leadership", _("Leadership group")
    TENDER_AGENCY = "agency", _("Tender agency")


class BuyingCentreMember(models.Model):
    opportunity = models.ForeignKey(Opportunity, models.CASCADE, related_name="buying_centre",
                                    verbose_name=_("opportunity"))
    contact = models.ForeignKey(Contact, models.CASCADE, related_name="buying_roles", verbose_name=_("contact"))
    role = models.CharField(_("role in the purchase"), max_length=12, choices=BuyingRole.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("buying-centre member")
        verbose_name_plural = _("buying centre")
        ordering = ["opportunity_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact", "role"], name="one_buying_role_per_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.contact} · {self.get_role_display()}"


class RivalStatus(models.TextChoices):
    ACTIVE = "active", _("In the race")
    LEADING = "leading", _("Leading")
    DROPPED = "dropped", _("Dropped out")
    WON = "won", _("Won the deal")
    LOST = "lost", _("Lost the deal")


class Rival(models.Model):
    """A competitor on one deal: their product, their quote and where they stand."""

    opportunity = models.ForeignKey(Opportunity, models.CASCADE, related_name="rivals",
                                    verbose_name=_("opportunity"))
    competitor = models.ForeignKey(Competitor, models.PROTECT, related_name="rivals", verbose_name=_("competitor"))
    product = models.CharField(_("their product"), max_length=200, blank=True)
    quote = models.DecimalField(_("their quote (yuan)"), null=True, blank=True, **MONEY)
    status = models.CharField(_("status"), max_length=8, choices=RivalStatus.choices, default=RivalStatus.ACTIVE)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("competitor on a deal")
        verbose_name_plural = _("competitors on deals")
        ordering = ["opportunity_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "competitor"], name="one_rival_per_competitor"),
        ]
        indexes = [models.Index(fields=["competitor", "opportunity"], name="rival_competitor_idx")]

    def __str__(self) -> str:
        return f"{self.competitor} · {self.opportunity_id}"


# --- deal reviews ----------------------------------------------------------------------------


class ReviewMeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self
        unit_ids = user.visible_unit_ids or ([user.unit_id] if user.unit_id else [])
        # A meeting is seen in the units it belongs to and in those above them (its unit's
        # path starts with theirs), and by everyone whose item is on it.
        return self.filter(Q(unit_id__in=unit_ids) | Q(unit__in=_units_above(user))
                           | Q(items__in=DealReview.objects.visible_to(user).values("pk"))).distinct()


def _units_above(user):
    if user.unit_id is None:
        return OrgUnit.objects.none()
    ids = [int(part) for part in user.unit.path.strip("/").split("/") if part]
    return OrgUnit.objects.filter(pk__in=ids)


class ReviewMeeting(models.Model):
    """A deal-review meeting (研讨会), held 1–3 times a month; its items are reviews."""

    title = models.CharField(_("meeting title"), max_length=200, validators=[validate_name])
    held_on = models.DateField(_("held on"))
    unit = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name=_("org unit"))
    is_senior = models.BooleanField(_("senior review"), default=False)
    notes = models.TextField(_("minutes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewMeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("review meeting")
        verbose_name_plural = _("review meetings")
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.title}"


class ReviewStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    MANAGER = "manager", _("Recommended by the manager")
    DIRECTOR = "director", _("Recommended by the director")
    DECIDED = "decided", _("Decided")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_REVIEW_STATUSES = (ReviewStatus.SUBMITTED, ReviewStatus.MANAGER, ReviewStatus.DIRECTOR)


class DealReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A review is visible exactly when its opportunity is (its account visible, neither in
        the recycle bin). For those who see units the account's terms on the joined account
        (reviews are few, and a branch's accounts are not listed for each query); by account
        for the others, whose accounts are few."""
        return self.alive().filter(Account.objects.seen_along(user, "opportunity__account"))

    def alive(self):
        """Reviews of opportunities not in the recycle bin."""
        return self.filter(opportunity__deleted_at__isnull=True)

    def open(self):
        return self.filter(status__in=OPEN_REVIEW_STATUSES)


class DealReview(models.Model):
    """An opportunity submitted for review with its tracking sheet (《大客户开发跟踪表》).

    The manager recommends, then the director, then the general manager decides (开发决议);
    the order is enforced by the services. The general manager may send an item at or above
    the senior threshold to a senior review, with a reason; an automatic escalation after
    REVIEW_SENIOR_AFTER_DAYS undecided days is a setting, off by default.
    """

    opportunity = models.ForeignKey(Opportunity, models.CASCADE, related_name="reviews",
                                    verbose_name=_("opportunity"))
    meeting = models.ForeignKey(ReviewMeeting, models.SET_NULL, null=True, blank=True, related_name="items",
                                verbose_name=_("meeting"))
    status = models.CharField(_("status"), max_length=10, choices=ReviewStatus.choices,
                              default=ReviewStatus.SUBMITTED)
    # The tracking sheet.
    brief = models.TextField(_("account brief"))
    core_needs = models.TextField(_("core needs"))
    project = models.CharField(_("project"), max_length=200)
    amount = models.DecimalField(_("amount (yuan)"), **MONEY)
    main_problems = models.TextField(_("main problems"))
    proposed_strategy = models.TextField(_("proposed strategy"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                                     verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    # The three opinions, in this order.
    manager_recommendation = models.TextField(_("manager's recommendation"), blank=True)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("manager"))
    manager_at = models.DateTimeField(null=True, blank=True)
    director_recommendation = models.TextField(_("director's recommendation"), blank=True)
    director = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name=_("director"))
    director_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("development decision"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated to senior review"), null=True, blank=True)
    # Who sent it there and why (the general manager's choice); empty for the automatic escalation.
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("sent to senior review by"))
    escalation_reason = models.TextField(_("why a senior review"), blank=True)

    history = HistoricalRecords(no_db_index=["opportunity", "meeting", "submitted_by", "manager", "director",
                                             "decided_by", "escalated_by"])
    objects = DealReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("deal review")
        verbose_name_plural = _("deal reviews")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["status", "submitted_at"], name="deal_review_status_idx")]

    def __str__(self) -> str:
        return f"{self.project} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REVIEW_STATUSES


ZERO = Decimal("0.00")


class AnalyticsSpan(models.TextChoices):
    """What an AnalyticsFigure row holds; `person_id` is the opportunities' owner or the participant."""

    FUNNEL = "n", "funnel"  # per `stage`: open opportunities now, or won or lost in the period (count, amount)
    CONVERSION = "c", "stage conversion"  # per open `stage`: entered in the period, moved on, won
    DAYS = "d", "days per stage"  # per open `stage`: the stays that ended in the period, their seconds
    OWNED = "o", "owned"  # per `person`: opportunities open now, won in the period
    STATE = "s", "customer state"  # accounts in `state` during the period, and those that moved on
    PERSON = "p", "participant"  # the period's activities `person` took part in: all, visits, decision makers met, quotes
    FOLLOW_UP = "f", "follow-ups"  # the period's activities on the accounts of `person`'s open opportunities
    KEY = "k", "key"  # the period is stored (unit -1: no group's recompute removes it)


class AnalyticsFigure(models.Model):
    """The sales analytics' read model (kam.sales.analytics.summary): per period and per the
    account's unit and owner (0: in the public pool), the rows `span` says."""

    start = models.DateField()
    end = models.DateField()
    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    span = models.CharField(max_length=1, choices=AnalyticsSpan.choices)
    stage = models.CharField(max_length=16, blank=True)
    state = models.CharField(max_length=16, blank=True)
    person_id = models.BigIntegerField(default=0)
    opportunities = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    entered = models.PositiveIntegerField(default=0)
    won = models.PositiveIntegerField(default=0)
    stays = models.PositiveIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)
    open_opportunities = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    moved_on = models.PositiveIntegerField(default=0)
    activities = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    decision_maker_meetings = models.PositiveIntegerField(default=0)
    quotes = models.PositiveIntegerField(default=0)
    follow_ups = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["start", "end", "span", "unit_id", "owner_id"], name="sales_analytics_key"),
                   models.Index(fields=["unit_id", "owner_id"], name="sales_analytics_group")]

    def __str__(self) -> str:
        return f"{self.start}…{self.end} {self.span} unit {self.unit_id} owner {self.owner_id} person {self.person_id}"


class StageCount(models.Model):
    """The opportunity list's read model (kam.sales.opportunities.summary): per stage and per the
    account's unit and owner (0: in the public pool), the live opportunities and their amount."""

    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    stage = models.CharField(max_length=16)
    opportunities = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="sales_stage_count_group")]

    def __str__(self) -> str:
        return f"unit {self.unit_id} owner {self.owner_id} {self.stage}: {self.opportunities}"
