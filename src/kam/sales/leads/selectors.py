"""Read side of leads. Every query starts from `Lead.objects.visible_to(user)`."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from kam.accounts.models import Account
from kam.accounts.services import assignable_owners, similar_accounts
from kam.core.conf import config
from kam.core.models import User
from kam.core.text import normalise_name
from kam.sales.leads.filters import LeadFilter
from kam.sales.models import OPEN_LEAD_STATUSES, Lead, LeadAssignmentRule, LeadFollowUp, LeadSource


def lead_sources() -> QuerySet[LeadSource]:
    """Every lead source, in the list's order (the filter bar offers retired ones too)."""
    return LeadSource.objects.order_by("sort_order", "code")


def overdue_q(now: datetime) -> Q:
    return Q(status__in=OPEN_LEAD_STATUSES, followed_up_at__isnull=True, follow_up_due_at__lte=now)


def lead_list(*, user: User, filters: LeadFilter | None = None, now: datetime | None = None) -> QuerySet[Lead]:
    filters = filters or LeadFilter()
    qs = Lead.objects.visible_to(user)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.source:
        qs = qs.filter(source_id=filters.source)
    if filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.overdue:
        qs = qs.filter(overdue_q(now or timezone.now()))
    if term := (filters.q or "").strip()[:100]:
        qs = qs.filter(Q(company__icontains=term) | Q(contact_name__icontains=term) | Q(phone__contains=term))
    return qs.select_related("source", "assignee", "unit", "escalated_to").order_by("-created_at", "-id")


def lead_get(*, user: User, pk: int) -> Lead | None:
    return (
        Lead.objects.visible_to(user)
        .select_related("source", "assignee", "unit", "escalated_to", "rule", "region", "industry", "account",
                        "opportunity", "created_by")
        .filter(pk=pk).first()
    )


def lead_follow_ups(*, lead: Lead) -> QuerySet[LeadFollowUp]:
    """The follow-ups of a lead the caller already got through `lead_get`."""
    return lead.follow_ups.select_related("by").order_by("-at", "-id")


def lead_account_candidates(*, user: User, lead: Lead, limit: int | None = None) -> list[Account]:
    """Accounts `user` sees that may be the lead's company (查重): the same USCC, the same
    normalised name, or a very similar name — the same USCC first."""
    limit = limit or config().AUTOCOMPLETE_LIMIT
    visible = Account.objects.visible_to(user).select_related("owner", "unit")
    found: list[Account] = []
    if lead.uscc:
        found += list(visible.filter(uscc=lead.uscc))
    if key := normalise_name(lead.company)[:200]:
        found += list(visible.filter(name_key=key).order_by("id")[:limit])
    similar = [a.pk for a in similar_accounts(name=lead.company, limit=limit)]
    if similar:
        found += list(visible.filter(pk__in=similar))
    unique: dict[int, Account] = {}
    for account in found:
        unique.setdefault(account.pk, account)
    return list(unique.values())[:limit]


def lead_assignees(*, user: User) -> QuerySet[User]:
    """People `user` may give a lead to (the units they manage; HQ: everyone)."""
    return assignable_owners(user).select_related("unit").order_by("unit__path", "username")


def lead_rules() -> QuerySet[LeadAssignmentRule]:
    """The assignment rules, in the order they are tried: everyone may read where a lead goes."""
    return LeadAssignmentRule.objects.select_related(
        "region", "industry", "source", "unit", "assignee", "last_assignee").order_by("sort_order", "id")
