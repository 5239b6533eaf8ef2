import time

from django.conf import settings
from django.contrib.auth import logout


class SessionIdleTimeoutMiddleware:
    """Log a user out after KAM_SESSION_IDLE_SECONDS without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get("kam_last_seen", now)
            if now - last > settings.KAM_SESSION_IDLE_SECONDS:
                logout(request)
            else:
                # Only write the session when a minute has passed, to keep GETs cheap.
                if now - last >= 60 or "kam_last_seen" not in request.session:
                    request.session["kam_last_seen"] = now
        return self.get_response(request)
