"""API authentication: `Authorization: Bearer <token>` or the browser session (with CSRF)."""

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from kam.core.models import User
from kam.core.services import api_token_user


class TokenAuth(HttpBearer):
    """Tokens are accepted only in the Authorization header, never in the URL."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_user(token)
        if user is None:
            return None
        request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


api_auth = [TokenAuth(), ActiveSessionAuth()]
