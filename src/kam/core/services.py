"""Writes for org units, users and API tokens, and what follows a change of credentials."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.core.audit import acting_as, audit_as_actor, audit_record, current_request, user_label
from kam.core.conf import config
from kam.core.errors import NotVisible, ValidationFailed
from kam.core.login_throttle import cool_off
from kam.core.models import SECURITY_FIELDS, ApiToken, AuditEvent, OrgUnit, Role, User


@transaction.atomic
def orgunit_create(*, code: str, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent)
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


def password_check(*, password: str, user: User | None) -> None:
    """The password validators of AUTH_PASSWORD_VALIDATORS, as a domain error naming each rule
    the password breaks."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationFailed(
            _("The password is not accepted: %(rules)s") % {"rules": " ".join(exc.messages)},
            errors={"password": list(exc.messages)},
        ) from None


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    unit: OrgUnit,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    if role not in Role.values:
        raise ValidationFailed(
            _("Unknown role %(role)s.") % {"role": role}, errors={"role": [", ".join(Role.values)]}
        )
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(
            _("User %(username)s already exists.") % {"username": username},
            errors={"username": [_("already taken")]},
        )
    user = User(username=username, role=role, unit=unit, display_name=display_name, email=email)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.full_clean(exclude=["password"])
    if password:
        # Checked on the user as it will be, so a password like the username is refused.
        password_check(password=password, user=user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    with acting_as(actor):
        user.save()
    return user


@transaction.atomic
def user_set_password(*, actor: User | None = None, user: User, password: str) -> User:
    """A new password: validated; the user's API tokens are revoked and other sessions end (User.save)."""
    password_check(password=password, user=user)
    user.set_password(password)
    with acting_as(actor):
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def user_deactivate(*, actor: User | None = None, user: User) -> None:
    """Deactivate a user and end everything that lets them in: sessions and tokens (User.save)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return
    user.is_active = False
    with acting_as(actor):
        user.save(update_fields=["is_active"])


def _shown(name: str, value: Any) -> Any:
    """A user field's value as the audit log shows it: units by code, choices by their value."""
    if name == "unit_id":
        return str(OrgUnit.objects.filter(pk=value).values_list("code", flat=True).first() or "") if value else None
    return str(value) if isinstance(value, str) else value


def user_security_after_save(*, user: User, before: dict[str, Any], created: bool, password_set: bool) -> None:
    """Called by User.save: audit a change of role, unit or flags (old → new), and when the password
    changed or the user was deactivated revoke their tokens and end their sessions."""
    if created:
        audit_as_actor(kind=AuditEvent.Kind.PERMISSION, target=user_label(user), change="created",
                       fields={name.removesuffix("_id"): [None, _shown(name, getattr(user, name))]
                               for name in SECURITY_FIELDS if name != "password"})
        return
    changes = {
        name.removesuffix("_id"): [_shown(name, before[name]), _shown(name, getattr(user, name))]
        for name in SECURITY_FIELDS
        if name != "password" and name in before and before[name] != getattr(user, name)
    }
    if changes:
        audit_as_actor(kind=AuditEvent.Kind.PERMISSION, target=user_label(user), change="updated", fields=changes)
    deactivated = before.get("is_active") is True and not user.is_active
    if password_set:
        audit_as_actor(kind=AuditEvent.Kind.PASSWORD, target=user_label(user))
    if deactivated:
        api_tokens_revoke(user=user, because=ApiToken.RevokedBecause.DEACTIVATED)
        user_sessions_end(user=user)
    elif password_set:
        api_tokens_revoke(user=user, because=ApiToken.RevokedBecause.PASSWORD)
        # Django already refuses the user's other sessions (their stored password hash no longer
        # matches); removing them also frees the rows. The session of this request stays.
        request = current_request()
        own = getattr(getattr(request, "session", None), "session_key", None)
        user_sessions_end(user=user, keep=own if getattr(request, "user", None) == user else None)


def user_sessions_end(*, user: User, keep: str | None = None) -> int:
    """Delete the user's sessions (but `keep`). Sessions are signed blobs, so each live one is read."""
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key != keep and str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def user_log_out_everywhere(*, user: User, keep: str | None = None) -> tuple[int, int]:
    """退出所有设备: end every session of the user (but `keep`, the one about to be closed by
    the caller) and revoke all their API tokens. Returns (sessions ended, tokens revoked)."""
    tokens = api_tokens_revoke(user=user, because=ApiToken.RevokedBecause.LOGGED_OUT, actor=user)
    return user_sessions_end(user=user, keep=keep), tokens


# --- API tokens ----------------------------------------------------------------------------


def _token_label(token: ApiToken) -> str:
    return f"{token.prefix}… «{token.name}» {token.user.get_username()}"


@transaction.atomic
def api_token_issue(*, user: User, name: str = "cli", days: int | None = None,
                    actor: User | None = None) -> str:
    """Create a token valid for `days` (default API_TOKEN_DAYS) and return the raw value; it is
    shown once and never stored."""
    days = config().API_TOKEN_DAYS if days is None else days
    longest = config().API_TOKEN_MAX_DAYS
    if not 1 <= days <= longest:
        raise ValidationFailed(
            _("A token is valid for 1 to %(max)s days, not %(days)s.") % {"max": longest, "days": days},
            errors={"days": [_("from 1 to %(max)s") % {"max": longest}]},
        )
    if not user.is_active:
        raise ValidationFailed(_("%(user)s is not active.") % {"user": user.get_username()},
                               errors={"user": [_("not active")]})
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "cli", prefix=raw[4:12], digest=ApiToken.digest_of(raw),
        expires_at=timezone.now() + timedelta(days=days),
    )
    with acting_as(actor):
        audit_as_actor(kind=AuditEvent.Kind.TOKEN, target=_token_label(token), token=token.pk,
                       token_prefix=token.prefix, token_name=token.name, owner=user.get_username(),
                       expires_at=token.expires_at.isoformat())
    return raw


def api_token_issued(raw: str) -> ApiToken:
    """The token row of a raw value just issued (to print its expiry)."""
    return ApiToken.objects.get(digest=ApiToken.digest_of(raw))


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


@transaction.atomic
def api_tokens_revoke(*, user: User, token_id: int | None = None, because: str = ApiToken.RevokedBecause.ASKED,
                      actor: User | None = None) -> int:
    """Revoke one of the user's tokens (`token_id`) or all their live ones; each is audited with
    who, which token and why. Returns how many were revoked."""
    tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).select_related("user")
    if token_id is not None:
        if not ApiToken.objects.filter(user=user, pk=token_id).exists():
            raise NotVisible(_("%(user)s has no token %(id)s.") % {"user": user.get_username(), "id": token_id})
        tokens = tokens.filter(pk=token_id)
    now = timezone.now()
    revoked = list(tokens.select_for_update())
    with acting_as(actor):
        for token in revoked:
            token.revoked_at, token.revoked_because = now, because
            token.save(update_fields=["revoked_at", "revoked_because"])
            audit_as_actor(kind=AuditEvent.Kind.TOKEN_REVOKED, target=_token_label(token), token=token.pk,
                           token_prefix=token.prefix, token_name=token.name, owner=user.get_username(),
                           because=because)
    return len(revoked)


def api_token_user(raw: str) -> User | None:
    token = (
        ApiToken.objects.usable().select_related("user", "user__unit").filter(digest=ApiToken.digest_of(raw)).first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a while: a hot token must not turn every GET into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > config().API_TOKEN_TOUCH_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# --- login locks ------------------------------------------------------------------------------


def login_locks() -> QuerySet[Any]:
    """The current login lock counters (axes' attempts within the cool-off), newest first."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off()).order_by("-attempt_time")


@transaction.atomic
def login_unlock(*, actor: User, attempt_id: int) -> None:
    """Clear the failures of one username from one address, and the address's and the username's
    counters, so that the person can log in again at once."""
    attempt = AccessAttempt.objects.filter(pk=attempt_id).first()
    if attempt is None:
        raise NotVisible(_("No such lock."))
    cleared, _count = AccessAttempt.objects.filter(username=attempt.username).delete()
    more, _count = AccessAttempt.objects.filter(ip_address=attempt.ip_address).delete()
    audit_record(kind=AuditEvent.Kind.UNLOCKED, user=actor, target=f"{attempt.username} @ {attempt.ip_address}",
                 locked_username=attempt.username, locked_ip=attempt.ip_address, cleared=cleared + more)
