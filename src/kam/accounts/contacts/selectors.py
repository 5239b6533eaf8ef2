"""Read side of contacts. Every query starts from `visible_to(user)`."""

from __future__ import annotations

from django.db.models import QuerySet

from kam.accounts.models import Account, Contact
from kam.core.conf import config
from kam.core.models import User
from kam.core.text import normalise_query


def account_contacts(*, user: User, account: Account) -> QuerySet[Contact]:
    return (
        Contact.objects.visible_to(user)
        .filter(account=account)
        .select_related("relationship_owner", "successor")
        .order_by("status", "name", "id")
    )


def contact_get(*, user: User, pk: int) -> Contact | None:
    return Contact.objects.visible_to(user).select_related("account", "relationship_owner").filter(pk=pk).first()


def contact_list(*, user: User, account: Account | None = None) -> QuerySet[Contact]:
    qs = Contact.objects.visible_to(user)
    if account is not None:
        qs = qs.filter(account=account)
    return qs.select_related("account", "relationship_owner").order_by("account__code", "name", "id")


def contact_search(*, user: User, q: str, account: Account | None = None, limit: int | None = None) -> QuerySet[Contact]:
    limit = limit or config().AUTOCOMPLETE_LIMIT
    qs = Contact.objects.visible_to(user)
    if account is not None:
        qs = qs.filter(account=account)
    if term := normalise_query(q):
        qs = qs.filter(search_text__contains=term)
    return qs.select_related("account").order_by("name")[:limit]

