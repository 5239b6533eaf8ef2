"""Login throttling: three counters of failed logins, each with a limit of its own, on django-axes.

Within LOGIN_COOLOFF_MINUTES:
- one username from one address: locked after LOGIN_FAILURE_LIMIT failures (someone guessing
  a password);
- one address, whatever the usernames: locked after LOGIN_IP_FAILURE_LIMIT (one password
  sprayed over many usernames);
- one username, whatever the addresses: locked after LOGIN_USERNAME_FAILURE_LIMIT (one account
  attacked from many addresses).

So that an attacker cannot lock everyone out, the address and username counters do not apply
to a username trying from an address it logged in from successfully within LOGIN_TRUSTED_DAYS:
an attacker who floods every username from anywhere locks those usernames only for addresses
their owners have never used, and their owners keep logging in from their usual desks; only
the username+address counter, which only the same address can fill, still applies there.

axes compares the largest failure count over its parameter sets with one AXES_FAILURE_LIMIT;
the handler below tells it, per attempt, the counter closest to its limit and that counter's
limit (`failure_limit`), so "locked" means "some counter reached its own limit".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from django.db.models import Sum
from django.utils import timezone

from kam.core.conf import config


@dataclass(frozen=True)
class Counter:
    name: str
    failures: int
    limit: int

    @property
    def share(self) -> float:
        return self.failures / self.limit


def cool_off(request=None) -> timedelta:
    """AXES_COOLOFF_TIME: failures older than this are forgotten, and a lock lifts after it."""
    return timedelta(minutes=config().LOGIN_COOLOFF_MINUTES)


def trusted(username: str | None, ip_address: str | None) -> bool:
    """Has this username logged in successfully from this address lately?"""
    if not username or not ip_address:
        return False
    since = timezone.now() - timedelta(days=config().LOGIN_TRUSTED_DAYS)
    return AccessLog.objects.filter(username=username, ip_address=ip_address, attempt_time__gte=since).exists()


def counters(username: str | None, ip_address: str | None, *, at=None) -> list[Counter]:
    """The counters that apply to a login by `username` from `ip_address`, with their failures."""
    since = (at or timezone.now()) - cool_off()
    recent = AccessAttempt.objects.filter(attempt_time__gte=since)

    def failures(**match) -> int:
        return recent.filter(**match).aggregate(n=Sum("failures_since_start"))["n"] or 0

    found = [Counter("username+ip", failures(username=username, ip_address=ip_address),
                     config().LOGIN_FAILURE_LIMIT)]
    if not trusted(username, ip_address):
        found.append(Counter("ip", failures(ip_address=ip_address), config().LOGIN_IP_FAILURE_LIMIT))
        if username:
            found.append(Counter("username", failures(username=username), config().LOGIN_USERNAME_FAILURE_LIMIT))
    return found


def failure_limit(request, credentials=None) -> int:
    """AXES_FAILURE_LIMIT: the limit of the counter the handler last found closest to its limit."""
    return getattr(request, "kam_login_limit", None) or config().LOGIN_FAILURE_LIMIT


class LoginThrottle(AxesDatabaseHandler):
    """axes' database handler with a limit per counter (see the module's docstring)."""

    def get_failures(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        found = counters(username, request.axes_ip_address, at=getattr(request, "axes_attempt_time", None))
        nearest = max(found, key=lambda counter: counter.share)
        # axes compares these failures with failure_limit(request) right after this call.
        request.kam_login_limit, request.kam_login_rule = nearest.limit, nearest.name
        return nearest.failures

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A successful login clears only its own username+address failures: logging in to one's
        # own account must not wipe the address's count of guesses at other usernames, nor the
        # failures against this username from other addresses.
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the locked-out page (429), saying for how long."""
    from django.conf import settings
    from django.shortcuts import render

    minutes = int(cool_off(request).total_seconds() // 60)
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, {"minutes": minutes}, status=settings.AXES_HTTP_RESPONSE_CODE)
