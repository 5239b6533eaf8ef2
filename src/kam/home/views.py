"""The home page — the user's part of the organisation at a glance — and the people and contact
pickers every form shares. It reads several apps, so it sits above them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, Q
from django.shortcuts import render

from kam.accounts.models import (
    Account,
    Channel,
    Contact,
    ContactStatus,
    DecisionRole,
    LifecycleStatus,
)
from kam.accounts.selectors import contact_search, user_autocomplete
from kam.core.conf import config

HOME_CACHE_SECONDS = 120


def _home_figures(user) -> dict:
    """Counts over the user's visible accounts: a few aggregate queries, cached briefly."""
    key = f"kam:home:{user.pk}"
    if (cached := cache.get(key)) is not None:
        return cached
    visible = Account.objects.visible_to(user)
    totals = visible.aggregate(
        total=Count("id"),
        mine=Count("id", filter=Q(owner_id=user.pk)),
        key=Count("id", filter=Q(channel=Channel.KEY)),
    )
    contacts = Contact.objects.alive().filter(account__in=visible.values("pk"))
    active = contacts.filter(status=ContactStatus.ACTIVE)
    per_account = active.values("account_id").annotate(
        n=Count("id"), dm=Count("id", filter=Q(decision_role=DecisionRole.DECISION_MAKER))
    )
    well_covered = per_account.filter(n__gte=config().MIN_ACTIVE_CONTACTS, dm__gt=0).count()
    departed = contacts.filter(status=ContactStatus.LEFT, is_key=True, successor__isnull=True).count()
    by_industry = list(
        visible.values("industry__name").annotate(n=Count("id")).order_by("-n")[:12]
    )
    labels = dict(LifecycleStatus.choices)
    by_status = [
        {"name": str(labels.get(row["lifecycle_status"], row["lifecycle_status"])), "value": row["n"]}
        for row in visible.values("lifecycle_status").annotate(n=Count("id")).order_by("lifecycle_status")
    ]
    figures = {
        **totals,
        "single_threaded": totals["total"] - well_covered,
        "departed": departed,
        "by_industry": [{"name": r["industry__name"] or "—", "value": r["n"]} for r in by_industry],
        "by_status": by_status,
    }
    cache.set(key, figures, HOME_CACHE_SECONDS)
    return figures


@login_required
def home(request):
    figures = _home_figures(request.user)
    recent = Account.objects.visible_to(request.user).select_related("owner", "industry").order_by("-updated_at", "-id")[:8]
    charts = {"by_industry": figures["by_industry"], "by_status": figures["by_status"]}
    return render(request, "home/home.html", {"figures": figures, "recent": recent, "charts": charts})


@login_required
def users_autocomplete(request):
    users = user_autocomplete(user=request.user, q=request.GET.get("q", ""))
    items = [{"id": u.pk, "label": str(u), "hint": f"{u.username} · {u.unit.name if u.unit else ''}"} for u in users]
    return render(request, "widgets/autocomplete_results.html", {"items": items})


@login_required
def contacts_autocomplete(request):
    contacts = contact_search(user=request.user, q=request.GET.get("q", ""))
    items = [{"id": c.pk, "label": c.name, "hint": f"{c.title} · {c.account.name}"} for c in contacts]
    return render(request, "widgets/autocomplete_results.html", {"items": items})
