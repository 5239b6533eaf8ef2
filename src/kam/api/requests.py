"""The type of a request the API's authentication let through (every operation but login)."""

from __future__ import annotations

from django.http import HttpRequest

from kam.core.models import User


class AuthedRequest(HttpRequest):
    """A request whose user is a signed-in KAM user (the API's auth refused anyone else)."""

    user: User
