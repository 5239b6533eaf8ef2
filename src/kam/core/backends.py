"""Password login against KAM's users, reading a signed-in user's unit with the user: every page
asks who the user is and what they may see, and the unit decides the second."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from kam.core.models import User


class UserAndUnitBackend(ModelBackend):
    def get_user(self, user_id):
        user = User._default_manager.select_related("unit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
