"""Org units, users and roles, API tokens and the configurable reference lists."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import is_password_usable
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from kam.core.validators import validate_name


class OrgUnit(models.Model):
    """A node of the org tree: HQ → branch → office → outlet.

    `path` is the chain of ids from the root ("/1/4/17/"), so a subtree is one
    prefix query and needs no recursion.
    """

    class Kind(models.TextChoices):
        HQ = "hq", _("Headquarters")
        BRANCH = "branch", _("Branch")
        OFFICE = "office", _("Office")
        OUTLET = "outlet", _("Outlet")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, validators=[validate_name])
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent unit")
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def subtree(self):
        return OrgUnit.objects.filter(path__startswith=self.path)

    def subtree_ids(self) -> list[int]:
        return list(self.subtree().values_list("id", flat=True))


class Role(models.TextChoices):
    SPECIALIST = "specialist", _("Key-account specialist")
    MANAGER = "manager", _("Key-account manager")
    DIRECTOR = "director", _("Head of key accounts")
    GENERAL_MANAGER = "gm", _("General manager")
    ANALYST = "analyst", _("Sales-ops analyst")
    ADMIN = "admin", _("System administrator")


# The user fields whose change is a change of what the user may do (audited old → new), and
# the password (a new one revokes tokens and ends other sessions).
SECURITY_FIELDS = ("role", "unit_id", "is_active", "is_staff", "is_superuser", "password")


class KamUserManager(UserManager):
    def active(self):
        return self.filter(is_active=True)

    def _create_user_object(self, username, email, password, **extra_fields):
        # create_user() / create_superuser() (so `createsuperuser --noinput`) hash the password
        # without set_password(): the same rules apply to it.
        user = super()._create_user_object(username, email, password, **extra_fields)
        if password is not None:
            password_validation.validate_password(password, user)
        return user


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.SPECIALIST)
    unit = models.ForeignKey(
        OrgUnit, models.PROTECT, related_name="users", verbose_name=_("org unit"), null=True
    )
    display_name = models.CharField(_("display name"), max_length=50, blank=True, validators=[validate_name])
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)

    objects = KamUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def sees_everything(self) -> bool:
        """Admins and anyone attached to the root unit (HQ) see every record."""
        return self.is_superuser or self.role == Role.ADMIN or (
            self.unit_id is not None and self.unit.parent_id is None
        )

    @property
    def is_specialist(self) -> bool:
        return self.role == Role.SPECIALIST

    @cached_property
    def visible_unit_ids(self) -> list[int]:
        """Units whose records this user sees by position in the tree (empty for specialists)."""
        if self.unit_id is None or self.is_specialist:
            return []
        return self.unit.subtree_ids()

    def filter_units(self):
        """The active units this user may narrow a list to: all of them for HQ, else the units
        they see (a specialist: their own)."""
        units = OrgUnit.objects.filter(is_active=True)
        return units if self.sees_everything else units.filter(pk__in=self.visible_unit_ids or [self.unit_id])

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._remember_security_fields()
        return user

    def _remember_security_fields(self) -> None:
        # Deferred fields are left out: a save of a partly loaded user compares what it has.
        self._security_before = {name: self.__dict__[name] for name in SECURITY_FIELDS if name in self.__dict__}

    def save(self, *args, **kwargs):
        # Credentials and permissions are checked here, not in one service, because a password
        # or an account's standing changes through many doors — the admin's forms, `kam manage
        # changepassword`, set_password() + save() in a shell, the services. Whichever door:
        # a new password or a deactivation revokes the user's API tokens and ends their other
        # sessions, and a change of role, unit, active/staff/superuser flags is audited old → new.
        before = dict(getattr(self, "_security_before", {}))
        # set_password() leaves the raw password in _password until the save (a hash upgrade at
        # login clears it first, so it does not count); set_unusable_password() leaves none.
        password_set = self._password is not None or (
            before.get("password") is not None and is_password_usable(before["password"])
            and not self.has_usable_password()
        )
        if self._password is not None:
            # The same rules at the last door too (`createsuperuser --noinput`, a shell): the
            # services and forms have said why already; here a weak password is never stored.
            password_validation.validate_password(self._password, self)
        created = self._state.adding
        if (update_fields := kwargs.get("update_fields")) is not None:
            saved = {self._meta.get_field(name).attname for name in update_fields}
            before = {name: value for name, value in before.items() if name in saved}
            password_set = password_set and "password" in saved
        super().save(*args, **kwargs)
        from kam.core.services import user_security_after_save

        user_security_after_save(user=self, before=before, created=created, password_set=password_set)
        self._remember_security_fields()

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._remember_security_fields()


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A bearer token for the API. Only its SHA-256 is stored; it expires and can be revoked."""

    class RevokedBecause(models.TextChoices):
        ASKED = "asked", _("revoked on request")
        PASSWORD = "password", _("password changed")
        DEACTIVATED = "deactivated", _("user deactivated")
        LOGGED_OUT = "logged_out", _("logged out everywhere")

    user = models.ForeignKey(User, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="cli")
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_because = models.CharField(max_length=12, choices=RevokedBecause.choices, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= timezone.now() else "active"

    @staticmethod
    def digest_of(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def new_raw() -> str:
        return "kam_" + secrets.token_urlsafe(32)


class ReferenceItem(models.Model):
    """A configurable list entry (industry, region…): code, name, order, active."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100, validators=[validate_name])
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class Industry(ReferenceItem):
    class Meta(ReferenceItem.Meta):
        verbose_name = _("industry")
        verbose_name_plural = _("industries")


class Region(ReferenceItem):
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent region")
    )

    class Meta(ReferenceItem.Meta):
        verbose_name = _("region")
        verbose_name_plural = _("regions")


class AuditEvent(models.Model):
    """Security-relevant events that are not field changes: logins, reads of account cards and
    API lists, exports and downloads, permission changes, API tokens.

    Field changes of domain records live in their django-simple-history tables.
    Rows are only ever inserted (and removed after AUDIT_RETENTION_DAYS by the nightly sweep);
    the admin and the audit page show them read-only.
    `user`/`username` is who acted (for a login: who tried); `target` says what it concerned.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Login locked")
        UNLOCKED = "unlocked", _("Login unlocked")
        LOGOUT = "logout", _("Logout")
        ACCOUNT_VIEW = "account_view", _("Account card viewed")
        API_LIST = "api_list", _("API list read")
        EXPORT = "export", _("Export")
        DOWNLOAD = "download", _("File downloaded")
        PERMISSION = "permission", _("Permission change")
        PASSWORD = "password", _("Password changed")
        TOKEN = "token", _("API token issued")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")
        PURGED = "purged", _("Old audit events removed")
        BINNED = "binned", _("Moved to the recycle bin")
        RESTORED = "restored", _("Restored from the recycle bin")
        BIN_PURGED = "bin_purged", _("Removed from the recycle bin for good")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    user = models.ForeignKey(User, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("user"))
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    target = models.CharField(_("concerning"), max_length=255, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["kind", "at"], name="core_audit_kind_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.username}"


class NightlyRun(models.Model):
    """The day the nightly jobs were enqueued: one row a day, so that two schedulers, or one
    restarted, never run them twice."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(auto_now_add=True)
    jobs = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.day}"


class WorkerHeartbeat(models.Model):
    """A `kam worker` process. It registers on start and beats from a thread of its own; it
    counts as alive while it has not stopped and its last beat is recent (kam.core.workers).
    A job records the id of the process running it, so a job whose worker died can be told
    from one still running."""

    # host:pid — also the id the worker claims tasks with, and what an import job records.
    worker_id = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=64)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # "stopped" for a clean exit; otherwise what `kam serve` saw, e.g. "killed by SIGKILL".
    stop_reason = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("background worker")
        verbose_name_plural = _("background workers")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.worker_id


class SummaryState(models.Model):
    """A read model (kam.core.summaries): when it was last rebuilt and last brought up to date."""

    code = models.CharField(max_length=40, primary_key=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.code


class SummaryDirty(models.Model):
    """An account whose facts changed since a read model last counted it: written in the same
    transaction as the change, so a crash between the change and the refresh loses nothing."""

    summary = models.CharField(max_length=40)
    account_id = models.BigIntegerField()  # no foreign key: the account may be gone for good

    class Meta:
        indexes = [models.Index(fields=["summary", "id"], name="core_summary_dirty")]

    def __str__(self) -> str:
        return f"{self.summary} {self.account_id}"


class SummaryMember(models.Model):
    """Where a read model last counted an account (its unit and owner, 0 for none): a change of
    either refreshes both the group it left and the one it joined."""

    summary = models.CharField(max_length=40)
    account_id = models.BigIntegerField()
    unit_id = models.BigIntegerField()
    owner_id = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["summary", "account_id"], name="core_summary_member_once")]

    def __str__(self) -> str:
        return f"{self.summary} {self.account_id}"
