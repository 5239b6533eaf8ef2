"""Views of the core: logging out everywhere."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.core.services import user_log_out_everywhere


@login_required
@require_POST
def logout_everywhere(request):
    """Log out here and on every other device, and revoke the user's API tokens."""
    sessions, tokens = user_log_out_everywhere(user=request.user, keep=request.session.session_key)
    request.kam_logout_reason = "everywhere"
    logout(request)
    messages.success(request, _("Logged out everywhere. Other sessions ended: %(sessions)d; API tokens "
                                "revoked: %(tokens)d.") % {"sessions": sessions, "tokens": tokens})
    return redirect("login")
