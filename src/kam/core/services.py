"""Writes for org units, users and API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.core.audit import audit_record
from kam.core.errors import ValidationFailed
from kam.core.models import ApiToken, AuditEvent, OrgUnit, Role

User = get_user_model()


@transaction.atomic
def orgunit_create(*, code: str, name: str, kind: str, parent: OrgUnit | None = None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, kind=kind, parent=parent)
    unit.full_clean(exclude=["path"])
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    return unit


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    unit: OrgUnit,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
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
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def api_token_issue(*, user: User, name: str = "cli") -> str:
    """Create a token and return the raw value; it is shown once and never stored."""
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[4:12], digest=ApiToken.digest_of(raw))
    audit_record(kind=AuditEvent.Kind.TOKEN, user=user, token_prefix=token.prefix, token_name=name)
    return raw


def api_token_user(raw: str) -> User | None:
    token = (
        ApiToken.objects.usable().select_related("user", "user__unit").filter(digest=ApiToken.digest_of(raw)).first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a hot token must not turn every GET into a write.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Deactivate a user and end everything that lets them in: sessions and tokens."""
    User.objects.filter(pk=user.pk).update(is_active=False)
    audit_record(kind=AuditEvent.Kind.PERMISSION, user=user, change="deactivated")
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
