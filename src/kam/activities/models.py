"""Activities (跟进记录): every contact with an account; tasks (待办): what someone must do next."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.accounts.models import Account, Contact, RelationshipStage


class ActivityKind(models.TextChoices):
    VISIT = "visit", _("On-site visit")
    CALL = "call", _("Phone call")
    LETTER = "letter", _("Letter or mail")
    MEETING = "meeting", _("Meeting")
    DEMO = "demo", _("Demonstration")
    QUOTE = "quote", _("Quote")
    BID = "bid", _("Bid")
    EVENT = "event", _("Hospitality or event")
    VALUE_REPORT = "value_report", _("Value report delivered")
    EXECUTIVE = "executive", _("Executive meeting")


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """An activity is visible exactly when its account is."""
        return self.filter(Account.objects.seen_along(user))


class Activity(models.Model):
    account = models.ForeignKey(
        Account, models.CASCADE, related_name="activities", verbose_name=_("account"), db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("when"))
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="activities", verbose_name=_("our participants")
    )
    contacts = models.ManyToManyField(
        Contact, related_name="activities", blank=True, verbose_name=_("contacts met")
    )
    # Derived from the contacts' decision roles when the activity is logged, never taken as input.
    decision_maker_met = models.BooleanField(_("decision maker met"), default=False, editable=False)
    summary = models.TextField(_("summary"))
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    location = models.CharField(_("check-in location"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False, verbose_name=_("logged by")
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)

    history = HistoricalRecords(no_db_index=["account", "created_by"])
    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            # One account's timeline, newest first.
            models.Index(fields=["account", "occurred_at"], name="activity_account_time_idx"),
            # Counts per period by account and kind (cadence compliance) read from the index alone.
            models.Index(fields=["occurred_at", "account", "kind"], name="activity_period_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="activity_lat_lng_together",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.account}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    ACTIVITY = "activity", _("Next step of an activity")
    PLAN = "plan", _("Visit plan")
    PLAYBOOK = "playbook", _("Relationship playbook")
    REMINDER = "reminder", _("Cadence reminder")
    LEAD = "lead", _("Lead follow-up")
    POOL = "pool", _("Public pool notice")
    OPPORTUNITY = "opportunity", _("Sales opportunity (project)")
    REVIEW = "review", _("Deal review decision")
    SENIOR_REVIEW = "senior", _("Senior deal review")
    WARNING = "warning", _("Early warning")
    SAMPLE = "sample", _("Sample call (C accounts)")


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user, *, joined: bool = False):
        """Tasks of the accounts `user` sees; a task without an account is seen by its owner
        and by those who see the owner's unit. `joined`: the account's terms on the joined
        account for everyone (one person's own tasks, read in their due order from its index:
        the database then walks that order and stops at the page instead of gathering the
        tasks of every account the person owns)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.sees_everything:
            return self.filter(Q(account__isnull=True) | Q(account__deleted_at__isnull=True))
        loose = Q(owner_id=user.pk)
        if unit_ids := user.visible_unit_ids:
            loose |= Q(owner__unit_id__in=unit_ids)
        # The account's terms on the joined account for those who see units (a branch's
        # accounts are not listed for every query); by account for the others.
        seen = Account.objects.seen_through(user, joined=True) if joined else Account.objects.seen_along(user)
        return self.filter(seen | (Q(account__isnull=True) & loose))


class Task(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="tasks", verbose_name=_("owner"), db_index=False
    )
    account = models.ForeignKey(
        Account, models.CASCADE, null=True, blank=True, related_name="tasks", verbose_name=_("account")
    )
    title = models.CharField(_("task"), max_length=200)
    due_on = models.DateField(_("due on"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    # Where the task came from: a kind and the id of the row in that kind's table, so that
    # plans, playbooks and reminders can link their tasks without a generic relation.
    source_kind = models.CharField(_("source"), max_length=12, choices=TaskSource.choices, default=TaskSource.MANUAL)
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, editable=False)

    history = HistoricalRecords(no_db_index=["owner", "account", "created_by"])
    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="task_owner_status_due_idx"),
            models.Index(fields=["source_kind", "source_id"], name="task_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=TaskStatus.DONE, done_at__isnull=False) | (
                    ~Q(status=TaskStatus.DONE) & Q(done_at__isnull=True)
                ),
                name="task_done_at_only_when_done",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN


class CadencePeriod(models.IntegerChoices):
    """The calendar period a standard counts contacts over, in months."""

    MONTH = 1, _("month")
    QUARTER = 3, _("quarter")
    HALF_YEAR = 6, _("half-year")
    YEAR = 12, _("year")


class ServiceStandard(models.Model):
    """The service standard (走访标准) of one tier of a tiering scheme: how often its accounts
    are visited and called, how often they get a value report and an executive meeting,
    how fast we answer, and the support hours a year it takes (for staffing)."""

    scheme = models.ForeignKey(
        "tiering.Scheme", models.PROTECT, related_name="service_standards", verbose_name=_("scheme")
    )
    tier = models.CharField(_("tier"), max_length=16)
    visits = models.PositiveSmallIntegerField(_("visits"), default=0)
    visit_period = models.PositiveSmallIntegerField(
        _("visits per"), choices=CadencePeriod.choices, default=CadencePeriod.QUARTER
    )
    calls = models.PositiveSmallIntegerField(_("calls"), default=0)
    call_period = models.PositiveSmallIntegerField(
        _("calls per"), choices=CadencePeriod.choices, default=CadencePeriod.MONTH
    )
    value_report_months = models.PositiveSmallIntegerField(
        _("value report every (months)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    executive_meeting_months = models.PositiveSmallIntegerField(
        _("executive meeting every (months)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    response_hours = models.PositiveSmallIntegerField(_("response within (hours)"), default=24,
                                                      validators=[MinValueValidator(1)])
    support_hours_per_year = models.PositiveSmallIntegerField(_("support hours per year"), default=0)
    # The tier's member programme (会员计划, the Pareto B accounts') and its benefits; empty: none.
    member_benefits = models.CharField(_("member programme benefits"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("service standard")
        verbose_name_plural = _("service standards")
        ordering = ["scheme_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "tier"], name="one_standard_per_scheme_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.scheme} · {self.scheme.tier_label(self.tier)}"


class CadenceKind(models.TextChoices):
    VISIT = "visit", _("visit")
    CALL = "call", _("call")
    REPORT = "report", _("value report")
    EXECUTIVE = "executive", _("executive meeting")


class Reminder(models.Model):
    """A contact the cadence says falls due; its task (source_kind=reminder) points here."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="cadence_reminders", verbose_name=_("account"))
    kind = models.CharField(_("kind"), max_length=10, choices=CadenceKind.choices)
    due_on = models.DateField(_("due on"))
    task = models.OneToOneField(Task, models.CASCADE, related_name="reminder")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("cadence reminder")
        verbose_name_plural = _("cadence reminders")
        indexes = [models.Index(fields=["account", "kind"], name="reminder_account_kind_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.kind} {self.due_on}"


# --- relationship playbooks -----------------------------------------------------------------


class PlaybookStepKind(models.TextChoices):
    MEETING = "meeting", _("Meeting")
    DELIVERY = "delivery", _("Delivery")
    SYNC = "sync", _("Regular sync")
    REPORT = "report", _("Value report")
    REVIEW = "review", _("Business review")
    EXECUTIVE = "executive", _("Executive meeting")
    INNOVATION = "innovation", _("Joint innovation")
    ECOSYSTEM = "ecosystem", _("Industry ecosystem")
    SHARED_DEAL = "shared_deal", _("Shared revenue or cost deal")
    CASE = "case", _("Success case")


class Playbook(models.Model):
    """What the account owner does in one relationship stage (全生命周期): its steps become
    tasks when an account enters the stage. HQ edits them."""

    stage = models.CharField(_("relationship stage"), max_length=12, unique=True,
                             choices=[c for c in RelationshipStage.choices if c[0]])
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    """A task `offset_days` after the account enters the stage; with `repeat_days`, again
    every so many days until `until_days` after entry or, without it, until the stage ends."""

    playbook = models.ForeignKey(Playbook, models.CASCADE, related_name="steps", verbose_name=_("playbook"))
    title = models.CharField(_("task"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=PlaybookStepKind.choices)
    offset_days = models.PositiveIntegerField(_("days after entering the stage"), default=0)
    repeat_days = models.PositiveIntegerField(_("repeat every (days)"), null=True, blank=True,
                                              validators=[MinValueValidator(1)])
    until_days = models.PositiveIntegerField(_("repeat until day"), null=True, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")
        ordering = ["playbook_id", "sort_order", "offset_days", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(repeat_days__isnull=True) | Q(repeat_days__gte=1),
                                   name="playbook_step_repeat_positive"),
            models.CheckConstraint(condition=Q(until_days__isnull=True) | Q(until_days__gte=models.F("offset_days")),
                                   name="playbook_step_until_after_offset"),
        ]

    def __str__(self) -> str:
        return self.title


class ComplianceSpan(models.TextChoices):
    """What a ComplianceFigure row holds."""

    TOTAL = "t", "total"  # per unit and owner: accounts with a standard, visits and calls due and done, overdue
    OTHER = "o", "other cadence"  # the same for a value report or executive meeting cadence (`cadence`)
    WEEK = "w", "week"  # a heat-map cell: contacts falling due (pro rata) and done in the week from `first`
    MONTH = "m", "month"  # the same per calendar month
    ACCOUNT = "a", "overdue account"  # one overdue account (`account_id`) and why
    KEY = "k", "key"  # the period is stored (unit -1: no group's recompute removes it)


class ComplianceFigure(models.Model):
    """The compliance page's read model (kam.activities.compliance.summary): per scheme and
    period measured on `as_of`, per unit and owner (0: in the public pool), the rows `span` says."""

    scheme_id = models.BigIntegerField()
    start = models.DateField()
    end = models.DateField()
    as_of = models.DateField()
    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()
    span = models.CharField(max_length=1, choices=ComplianceSpan.choices)
    cadence = models.CharField(max_length=16, blank=True)
    first = models.DateField(null=True)
    account_id = models.BigIntegerField(null=True)
    accounts = models.PositiveIntegerField(default=0)
    required_visits = models.PositiveIntegerField(default=0)
    done_visits = models.PositiveIntegerField(default=0)  # credited: no more than required, per account
    required_calls = models.PositiveIntegerField(default=0)
    done_calls = models.PositiveIntegerField(default=0)
    required = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    due = models.FloatField(default=0)
    contacts = models.PositiveIntegerField(default=0)
    tier = models.CharField(max_length=16, blank=True)
    waited = models.BigIntegerField(default=0)  # days since the contact owed longest; never contacted: NEVER_WAITED
    last_visit = models.IntegerField(null=True)  # local day ordinals within the look-back
    last_call = models.IntegerField(null=True)
    overdue_visit = models.BooleanField(default=False)
    overdue_call = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["unit_id", "owner_id"], name="activities_compliance_group"),
                   models.Index(fields=["scheme_id", "start", "end", "as_of", "span", "waited"],
                                name="activities_compliance_key")]

    def __str__(self) -> str:
        return f"{self.scheme_id} {self.start}…{self.end} on {self.as_of} {self.span} unit {self.unit_id} owner {self.owner_id}"
