"""Read side of the account team: the colleagues a user may put on a team or name as a
contact's relationship owner."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kam.core.conf import config
from kam.core.models import User
from kam.core.text import normalise_query


def colleagues(*, user: User) -> QuerySet[User]:
    """Active users `user` may pick as team member or relationship owner.

    HQ and admins pick anyone; everyone else picks within their own branch (the unit
    directly under HQ), since account teams cross offices but are staffed by the branch.
    """
    qs = User.objects.filter(is_active=True, unit__isnull=False).select_related("unit")
    if user.sees_everything:
        return qs
    if user.unit is None:
        return qs.filter(pk=user.pk)
    # The branch is the unit directly under HQ on the way to the user's: its path is the
    # first two ids of the user's unit's path ("/1/10/11/" → "/1/10/").
    branch = "/" + "/".join(user.unit.path.strip("/").split("/")[:2]) + "/"
    return qs.filter(unit__path__startswith=branch)


def user_autocomplete(*, user: User, q: str, limit: int | None = None) -> QuerySet[User]:
    limit = limit or config().AUTOCOMPLETE_LIMIT
    qs = colleagues(user=user)
    if term := normalise_query(q):
        qs = qs.filter(Q(username__icontains=term) | Q(display_name__icontains=term))
    return qs.order_by("username")[:limit]

