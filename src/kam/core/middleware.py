import time

from django.contrib.auth import logout

from kam.core.conf import config

# Seconds between two writes of the last-seen time: GETs stay free of session writes.
LAST_SEEN_RESOLUTION = 60


class SessionIdleTimeoutMiddleware:
    """End a session after KAM["SESSION_IDLE_SECONDS"] without a request, and
    KAM["SESSION_ABSOLUTE_SECONDS"] after its login however busy it is.

    Django's own expiry moves forward at every session write, so it cannot give an absolute
    lifetime; the login time is kept in the session (set at login, kam.core.audit)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get("kam_login_at")
            last = session.get("kam_last_seen", now)
            if now - last > config().SESSION_IDLE_SECONDS:
                request.kam_logout_reason = "idle"
                logout(request)
            elif started is not None and now - started > config().SESSION_ABSOLUTE_SECONDS:
                request.kam_logout_reason = "lifetime"
                logout(request)
            else:
                if started is None:
                    session["kam_login_at"] = now  # a session from before this rule: counts from now
                if now - last >= LAST_SEEN_RESOLUTION or "kam_last_seen" not in session:
                    session["kam_last_seen"] = now
        return self.get_response(request)
