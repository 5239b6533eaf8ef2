"""Write audit events, and record logins, logouts and failed logins from Django's auth signals."""

from __future__ import annotations

import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kam.core.models import AuditEvent

log = logging.getLogger("kam.audit")


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(*, kind: str, user=None, username: str = "", request=None, **detail) -> AuditEvent:
    event = AuditEvent.objects.create(
        kind=kind,
        user=user if user is not None and user.pk else None,
        username=username or (user.get_username() if user is not None else ""),
        ip_address=client_ip(request),
        detail=detail,
    )
    log.info("%s user=%s ip=%s %s", kind, event.username, event.ip_address, detail or "")
    return event


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    audit_record(kind=AuditEvent.Kind.LOGIN, user=user, request=request)


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(kind=AuditEvent.Kind.LOGOUT, user=user, request=request)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    # Never store the attempted password; the username alone shows a guessing pattern.
    log.warning("login failed for %r", credentials.get("username", ""))
    audit_record(kind=AuditEvent.Kind.LOGIN_FAILED, username=str(credentials.get("username", ""))[:150], request=request)
