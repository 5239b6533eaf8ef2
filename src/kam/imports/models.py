"""Import jobs and saved column mappings."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    REVENUE = "revenue", _("Revenue")
    LEADS = "leads", _("Leads")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all", _("All or nothing")
    VALID_ONLY = "valid", _("Valid rows only")


class JobState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected: nothing written")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_STATES = (JobState.CHECKING, JobState.QUEUED, JobState.RUNNING)


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Own jobs; admins see every job (they help others with failed imports)."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.role == "admin" or user.is_superuser:
            return self
        return self.filter(user=user)


class ImportJob(models.Model):
    kind = models.CharField(_("what"), max_length=16, choices=ImportKind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="import_jobs",
                             verbose_name=_("user"))
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    # File header → column name ("" = ignore the column), as the user confirmed it.
    mapping = models.JSONField(default=dict, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=ImportMode.choices, default=ImportMode.ALL_OR_NOTHING)
    include_duplicates = models.BooleanField(_("import likely duplicates too"), default=False)
    # Importer-specific choices, e.g. {"create_accounts": true} for revenue.
    options = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=JobState.choices, default=JobState.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    # Rows (in writing order) whose batches are committed: a resumed run starts here.
    rows_done = models.PositiveIntegerField(default=0)
    progress_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    # The last check: counts and the first issues, for the preview page.
    preview = models.JSONField(default=dict, blank=True)
    report = models.FileField(upload_to="imports/reports/%Y/%m/", blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # host:pid of the process running the job, so a run that died can be told from a live one.
    worker = models.CharField(max_length=120, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(rows_done__lte=models.F("total_rows")) | Q(total_rows=0),
                                   name="import_rows_done_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.filename}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        return int(100 * self.progress_done / self.total_rows) if self.total_rows else 0


class MappingTemplate(models.Model):
    """A named column mapping a user saved for files that keep coming in the same layout."""

    kind = models.CharField(_("what"), max_length=16, choices=ImportKind.choices)
    name = models.CharField(_("name"), max_length=80)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="mapping_templates")
    mapping = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("column mapping template")
        verbose_name_plural = _("column mapping templates")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "name"], name="mapping_template_name_once"),
        ]

    def __str__(self) -> str:
        return self.name
