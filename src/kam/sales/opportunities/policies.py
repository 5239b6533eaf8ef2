"""Who may do what with an opportunity beyond seeing it: services enforce, pages and the API ask."""

from __future__ import annotations

from typing import Any

from kam.sales.models import Opportunity


def may_reopen(user: Any, opportunity: Opportunity) -> bool:
    """A closed opportunity goes back to an open stage by its owner or a manager; a specialist
    who only sees it (an account team member) may not."""
    return not (user.is_specialist and opportunity.owner_id != user.pk)
