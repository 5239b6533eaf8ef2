"""The audit log: writing events (one INSERT each), who acted, the auth signals, reading the log
for the audit page, and removing events past AUDIT_RETENTION_DAYS."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from axes.signals import user_locked_out
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import Q
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.utils import timezone
from simple_history.models import HistoricalRecords

from kam.core.conf import config
from kam.core.models import AuditEvent, User
from kam.core.policies import may_read_audit

log = logging.getLogger("kam.audit")

_acting: ContextVar = ContextVar("kam_audit_actor", default=None)


@contextmanager
def acting_as(actor) -> Iterator[None]:
    """Changes made inside are recorded as made by `actor` (a service passes its actor=); with
    no actor, whoever was acting already still is."""
    if actor is None:
        yield
        return
    token = _acting.set(actor)
    try:
        yield
    finally:
        _acting.reset(token)


def current_request():
    """The request being served, if any (simple-history's middleware keeps it for the thread)."""
    return getattr(HistoricalRecords.context, "request", None)


def current_actor():
    """Who is making a model-level change: the actor a service named, else the request's user."""
    if (actor := _acting.get()) is not None:
        return actor
    user = getattr(current_request(), "user", None)
    return user if user is not None and user.is_authenticated else None


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, kind: str, user=None, username: str = "", request=None, target: str = "",
                 **detail) -> AuditEvent:
    """One event, one INSERT. `user` is who acted; with no request given, the current one's address."""
    if request is None:
        request = current_request()
    event = AuditEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=(username or (user.get_username() if user is not None else ""))[:150],
        ip_address=client_ip(request),
        target=str(target)[:255],
        detail=detail,
    )
    log.info("%s user=%s ip=%s %s %s", kind, event.username, event.ip_address, event.target, detail or "")
    return event


def audit_as_actor(*, kind: str, target: str = "", **detail) -> AuditEvent:
    """An event for a change whose actor is known only from the context (service, request or
    none: the command line)."""
    actor = current_actor()
    if actor is None:
        detail.setdefault("via", "command line")
    return audit_record(kind=kind, user=actor, target=target, **detail)


def user_label(user) -> str:
    return f"{user.get_username()} ({user})" if str(user) != user.get_username() else user.get_username()


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        # The absolute session lifetime counts from here (kam.core.middleware).
        request.session["kam_login_at"] = int(timezone.now().timestamp())
    audit_record(kind=AuditEvent.Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        reason = getattr(request, "kam_logout_reason", "")
        audit_record(kind=AuditEvent.Kind.LOGOUT, user=user, request=request, **({"reason": reason} if reason else {}))


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Never store the attempted password; the username alone shows a guessing pattern.
    username = str(credentials.get("username", ""))[:150]
    log.warning("login failed for %r", username)
    audit_record(kind=AuditEvent.Kind.LOGIN_FAILED, username=username, request=request)


@receiver(user_locked_out)
def _on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    rule = getattr(request, "kam_login_rule", None)
    audit_record(kind=AuditEvent.Kind.LOCKED_OUT, username=str(username or "")[:150], request=request,
                 target=str(username or ""), **({"rule": rule} if rule else {}))


def _m2m_names(model, pks) -> list[str]:
    if model is Group:
        return sorted(Group.objects.filter(pk__in=pks).values_list("name", flat=True))
    return sorted(model.objects.filter(pk__in=pks).values_list("codename", flat=True))


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def _on_membership_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Groups and permissions granted or withdrawn, from either side of the relation."""
    if action == "pre_clear":
        # A clear does not say what it removed; remember it before it happens.
        related = getattr(instance, _m2m_attribute(sender, reverse))
        instance._kam_cleared = set(related.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    pks = instance.__dict__.pop("_kam_cleared", set()) if action == "post_clear" else set(pk_set or ())
    if not pks:
        return
    field = _m2m_attribute(sender, reverse)
    change = "added" if action == "post_add" else "removed"
    if reverse:
        # e.g. group.user_set.add(user): one event per user whose permissions changed.
        for user in model.objects.filter(pk__in=pks):
            audit_as_actor(kind=AuditEvent.Kind.PERMISSION, target=user_label(user) if isinstance(user, User) else str(user),
                           field=field, change=change, values=[str(instance)])
        return
    target = user_label(instance) if isinstance(instance, User) else f"group {instance}"
    audit_as_actor(kind=AuditEvent.Kind.PERMISSION, target=target, field=field, change=change,
                   values=_m2m_names(model, pks))


def _m2m_attribute(sender, reverse: bool) -> str:
    if sender is User.groups.through:
        return "user_set" if reverse else "groups"
    if sender is User.user_permissions.through:
        return "user_set" if reverse else "user_permissions"
    return "group_set" if reverse else "permissions"


# --- reading: the audit page -----------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    person: str = ""
    kind: str = ""
    since: date | None = None
    until: date | None = None
    ip: str = ""
    text: str = ""


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_event_list(*, user, filters: AuditFilters):
    """The audit log for the audit page and its export, newest first; nothing for non-admins."""
    if not may_read_audit(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.all()
    if filters.person:
        events = events.filter(username__icontains=filters.person)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.since:
        events = events.filter(at__gte=_day_start(filters.since))
    if filters.until:
        events = events.filter(at__lt=_day_start(filters.until + timedelta(days=1)))
    if filters.ip:
        try:
            events = events.filter(ip_address=str(ipaddress.ip_address(filters.ip)))
        except ValueError:
            events = events.filter(ip_address__startswith=filters.ip)
    if filters.text:
        events = events.filter(Q(target__icontains=filters.text) | Q(username__icontains=filters.text))
    return events.order_by("-at", "-id")


# --- retention ----------------------------------------------------------------------------


def audit_events_purge(*, now: datetime | None = None) -> int:
    """Remove audit events (and axes' login records) older than AUDIT_RETENTION_DAYS; the removal
    itself is recorded. Returns how many events went."""
    from axes.models import AccessLog

    days = config().AUDIT_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed, _ = AuditEvent.objects.filter(at__lt=cutoff).delete()
    AccessLog.objects.filter(attempt_time__lt=cutoff).delete()
    if removed:
        audit_record(kind=AuditEvent.Kind.PURGED, via="nightly", retention_days=days, removed=removed,
                     before=cutoff.isoformat())
    return removed
