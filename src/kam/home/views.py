"""The home page — the user's part of the organisation at a glance — and the people and contact
pickers every form shares. It reads several apps, so it sits above them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kam.accounts.models import Account, Channel, LifecycleStatus
from kam.accounts.selectors import contact_search, user_autocomplete
from kam.accounts.summaries import ACCOUNT_COUNTS
from kam.core import summaries
from kam.core.models import Industry


def _home_figures(user) -> dict:
    """Counts over the user's visible accounts, read from the accounts' read model."""
    read = summaries.figures(ACCOUNT_COUNTS, user)
    rows = read.rows
    industries = dict(Industry.objects.values_list("pk", "name"))
    by_industry = sorted(summaries.by(rows, "industry_id", "accounts").items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    labels = dict(LifecycleStatus.choices)
    by_status = sorted(summaries.by(rows, "lifecycle_status", "accounts").items())
    total = summaries.total(rows, "accounts")
    return {
        "total": total,
        "mine": summaries.total((r for r in rows if r.owner_id == user.pk), "accounts"),
        "key": summaries.total((r for r in rows if r.channel == Channel.KEY), "accounts"),
        "single_threaded": total - summaries.total(rows, "well_covered"),
        "departed": summaries.total(rows, "departed_key_contacts"),
        "by_industry": [{"name": industries.get(pk) or "—", "value": n} for pk, n in by_industry if n],
        "by_status": [{"name": str(labels.get(code, code)), "value": n} for code, n in by_status if n],
        "as_of": read.as_of,
    }


@login_required
def home(request):
    figures = _home_figures(request.user)
    recent = Account.objects.visible_in_order(request.user).select_related("owner", "industry").order_by("-updated_at", "-id")[:8]
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
