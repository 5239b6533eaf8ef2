"""What the navigation offers: a link appears only when the policy of its page allows the user
to open it (the page's own policy). The base template reads `menu.<page>`; each answer is asked once per request."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.http import HttpRequest

from kam.activities.playbooks.policies import may_view_playbooks
from kam.activities.staffing.policies import may_view_staffing
from kam.core.policies import may_open_admin, may_read_audit


class Menu:
    def __init__(self, user: Any) -> None:
        self.user = user

    @cached_property
    def staffing(self) -> bool:
        return may_view_staffing(self.user)

    @cached_property
    def playbooks(self) -> bool:
        return may_view_playbooks(self.user)

    @cached_property
    def admin(self) -> bool:
        return may_open_admin(self.user)

    @cached_property
    def audit(self) -> bool:
        return may_read_audit(self.user)


def menu(request: HttpRequest) -> dict[str, Menu]:
    """The context processor (settings.TEMPLATES)."""
    return {"menu": Menu(getattr(request, "user", None))}
