"""Tiering pages: schemes, a scheme's snapshot with its charts and lists, the annual list,
migration, what-if. HQ computes, freezes and decides; everyone sees their own accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kam.accounts.models import Account
from kam.core.errors import DomainError
from kam.core.exports import list_export
from kam.core.web import form_errors, is_htmx, message_errors, paginate
from kam.tiering import policies, selectors, services
from kam.tiering.explain import level_label, why
from kam.tiering.exports import entry_columns, entry_lines
from kam.tiering.models import Assessment, Method, Scheme, Snapshot, SnapshotState
from kam.tiering.params import numeric_leaves, with_values
from kam.tiering.rules import INDICATORS
from kam.tiering.tasks import compute_snapshot


def _scheme_or_404(code: str) -> Scheme:
    return get_object_or_404(Scheme, code=code, is_active=True)


def _governs(user: Any) -> bool:
    """The governing forms show, and their URLs exist, for headquarters only (404 for others)."""
    return policies.may_compute_snapshot(user)


@login_required
def scheme_list(request):
    rows = []
    latest = {scheme: selectors.latest_snapshot(scheme) for scheme in selectors.schemes()}
    counts = {} if request.user.sees_everything else selectors.visible_tier_counts(
        user=request.user, snapshots=[s for s in latest.values() if s is not None])
    for scheme, snapshot in latest.items():
        rows.append({"scheme": scheme, "latest": snapshot, "annual": selectors.annual_list(scheme),
                     "distribution": selectors.distribution(user=request.user, snapshot=snapshot,
                                                            counts=counts.get(snapshot.pk, {}) if counts else None)
                     if snapshot else []})
    return render(request, "tiering/list.html", {"rows": rows})


def _matrix_chart(migration: services.Migration, labels) -> dict:
    codes = migration.codes
    return {
        "codes": [labels(c) for c in codes],
        "cells": [[codes.index(t), codes.index(f), n] for (f, t), n in migration.counts.items()],
        "max": max(migration.counts.values(), default=1),
    }


def _portfolio_chart(cells: dict[tuple[str, str], int], params: dict, labels, level_label) -> dict:
    """The attractiveness × relationship grid: accounts per cell and the strategy it gives."""
    relationship, attractiveness = ["poor", "fair", "good"], ["low", "medium", "high"]
    grid = params.get("grid", {})
    return {
        "x": [level_label(r) for r in relationship],
        "y": [level_label(a) for a in attractiveness],
        "cells": [[x, y, cells.get((a, r), 0), labels(grid.get(a, {}).get(r, "")), grid.get(a, {}).get(r, "")]
                  for y, a in enumerate(attractiveness) for x, r in enumerate(relationship)],
        "max": max(cells.values(), default=1),
    }


@login_required
def scheme_detail(request, code: str):
    scheme = _scheme_or_404(code)
    snapshots = scheme.snapshots.order_by("-as_of", "-id")
    chosen = request.GET.get("snapshot", "")
    snapshot = (snapshots.filter(pk=int(chosen), state=SnapshotState.DONE).first() if chosen.isdigit() and len(chosen) < 18
                else selectors.latest_snapshot(scheme))
    started = list(snapshots.filter(state=SnapshotState.RUNNING)[:5])
    interrupted = [s for s in started if services.snapshot_interrupted(s)]
    running = [s for s in started if s not in interrupted]
    context = {"scheme": scheme, "snapshot": snapshot, "snapshots": snapshots.filter(state=SnapshotState.DONE)[:30],
               "running": running, "interrupted": interrupted, "governs": _governs(request.user),
               "today": timezone.localdate()}
    if is_htmx(request) and request.GET.get("part") == "running":
        return render(request, "tiering/detail.html#running", {**context, "polled": True})
    if snapshot is not None:
        tier = request.GET.get("tier", "")
        page = paginate(request, selectors.entries(user=request.user, snapshot=snapshot, tier=tier))
        for entry in page:
            entry.why = why(snapshot, entry)
            entry.label = scheme.tier_label(entry.tier)
        distribution = selectors.distribution(user=request.user, snapshot=snapshot)
        charts = {"distribution": [{"name": d["label"], "value": d["count"]} for d in distribution]}
        if policies.may_see_whole_curve(request.user, snapshot) and "curve" in snapshot.charts:
            charts["pareto"] = {**snapshot.charts["curve"],
                                "cuts": [float(c) * 100 for c in snapshot.params.get("cuts", [])]}
        if "points" in snapshot.charts:
            visible = set(Account.objects.visible_to(request.user)
                          .filter(pk__in=[p[0] for p in snapshot.charts["points"]]).values_list("pk", flat=True))
            names = dict(Account.objects.filter(pk__in=visible).values_list("pk", "name"))
            charts["scatter"] = {
                "tiers": [{"code": c, "label": scheme.tier_label(c)} for c in scheme.tier_codes],
                "points": [[p[1], p[2] if p[2] is not None else 100.0, p[3], p[0], names.get(p[0], "")]
                           for p in snapshot.charts["points"] if p[0] in visible],
            }
        if snapshot.method == Method.PORTFOLIO:
            charts["grid"] = _portfolio_chart(selectors.portfolio_cells(user=request.user, snapshot=snapshot),
                                              snapshot.params, scheme.tier_label, level_label)
        annual = selectors.annual_list(scheme)
        context.update(page=page, tier=tier, distribution=distribution, annual=annual, charts=charts,
                       groups=selectors.group_rows(scheme, distribution),
                       params=numeric_leaves(scheme.params))
        if annual is not None and annual.pk != snapshot.pk:
            migration = services.snapshot_migration(annual, snapshot)
            charts["matrix"] = _matrix_chart(migration, scheme.tier_label)
            context["migration"] = migration
            moved_ids = [m[0] for m in migration.moved]
            visible_moved = Account.objects.visible_to(request.user).filter(pk__in=moved_ids)
            accounts = {a.pk: a for a in visible_moved.select_related("owner")[:200]}
            decisions = {m.account_id: m for m in annual.moves.filter(account_id__in=accounts)}
            context["moves"] = [
                {"account": accounts[i], "from": scheme.tier_label(f), "to": scheme.tier_label(t),
                 "decision": decisions.get(i)}
                for i, f, t in migration.moved if i in accounts
            ]
    return render(request, "tiering/detail.html", context)


@login_required
@require_POST
def snapshot_compute(request, code: str):
    scheme = _scheme_or_404(code)
    if not _governs(request.user):
        raise Http404
    try:
        as_of = date.fromisoformat(request.POST.get("as_of", ""))
    except ValueError:
        messages.error(request, _("Enter the as-of date as 2026-06-30."))
        return redirect("tiering:detail", scheme.code)
    with message_errors(request), transaction.atomic():
        snapshot = services.snapshot_start(actor=request.user, scheme=scheme, as_of=as_of)
        transaction.on_commit(lambda: compute_snapshot.enqueue(snapshot.pk))
    return redirect("tiering:detail", scheme.code)


@login_required
@require_POST
def snapshot_resume(request, pk: int):
    snapshot = get_object_or_404(Snapshot, pk=pk)
    if not _governs(request.user):
        raise Http404
    with message_errors(request):
        services.snapshot_resume(actor=request.user, snapshot=snapshot)
        messages.success(request, _("The snapshot is being computed again."))
    return redirect("tiering:detail", snapshot.scheme.code)


@login_required
@require_POST
def snapshot_freeze(request, pk: int):
    snapshot = get_object_or_404(Snapshot, pk=pk)
    year = request.POST.get("year", "0")[:4]
    with message_errors(request):
        services.snapshot_freeze(actor=request.user, snapshot=snapshot, year=int(year) if year.isdigit() else 0)
        messages.success(request, _("The annual key-account list is fixed."))
    return redirect(f"/tiering/{snapshot.scheme.code}/?snapshot={snapshot.pk}")


@login_required
@require_POST
def move_decide(request, pk: int):
    fresh = get_object_or_404(Snapshot, pk=pk, state=SnapshotState.DONE)
    annual = selectors.annual_list(fresh.scheme)
    account = Account.objects.visible_to(request.user).filter(pk=request.POST.get("account", "0")[:18] or 0).first()
    if annual is None or account is None:
        raise Http404
    with message_errors(request):
        services.tier_move_decide(actor=request.user, annual_list=annual, fresh=fresh, account=account,
                                  decision=request.POST.get("decision", ""), reason=request.POST.get("reason", ""))
    return redirect(f"/tiering/{fresh.scheme.code}/?snapshot={fresh.pk}#moves")


@login_required
@require_POST
def scheme_save(request, code: str):
    scheme = _scheme_or_404(code)
    if not _governs(request.user):
        raise Http404
    with message_errors(request):
        params = with_values(scheme.params, {k[2:]: v for k, v in request.POST.items() if k.startswith("p:")})
        services.scheme_update(actor=request.user, scheme=scheme, params=params)
        messages.success(request, _("The scheme's numbers are saved; compute a snapshot to apply them."))
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("tiering:detail", args=[scheme.code])
        return response
    return redirect("tiering:detail", scheme.code)


@login_required
@require_POST
def what_if(request, code: str):
    scheme = _scheme_or_404(code)
    if not _governs(request.user):
        raise Http404
    context = {"scheme": scheme}
    try:
        as_of = date.fromisoformat(request.POST.get("as_of", ""))
        params = with_values(scheme.params, {k[2:]: v for k, v in request.POST.items() if k.startswith("p:")})
        annual = selectors.annual_list(scheme)
        result = services.what_if(actor=request.user, scheme=scheme, as_of=as_of, params=params, compare_with=annual)
    except ValueError:
        context["error"] = _("Enter the as-of date as 2026-06-30.")
    except DomainError as exc:
        context["error"] = exc.message
        context["errors"] = exc.errors
    else:
        total = sum(v["count"] for v in result.summary.values())
        context.update(
            result=result, compared=annual, total=total,
            rows=[{"label": scheme.tier_label(c), **result.summary[c]}
                  for c in dict.fromkeys([*scheme.tier_codes, *result.summary]) if c in result.summary],
            charts={"whatif_matrix": _matrix_chart(result.migration, scheme.tier_label)},
        )
    return render(request, "tiering/what_if.html", context)



class AssessmentForm(forms.ModelForm):
    class Meta:
        model = Assessment
        fields = list(INDICATORS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-select")


@login_required
def account_assessment(request, pk: int):
    """Rate an account on the scorecard's attractiveness indicators (the portfolio reads them)."""
    account = Account.objects.visible_to(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    assessment = Assessment.objects.filter(account=account).first()
    form = AssessmentForm(request.POST or None, instance=assessment)
    if request.method == "POST" and form.is_valid():
        with form_errors(form):
            services.assessment_save(actor=request.user, account=account,
                                     values={name: form.cleaned_data.get(name) for name in INDICATORS})
            messages.success(request, _("Changes saved."))
            return redirect(account)
    return render(request, "tiering/assessment.html", {"account": account, "form": form,
                                                       "may_rate": policies.may_rate_account(request.user, account)})


@login_required
def snapshot_export(request, code: str):
    """The tier list of a snapshot (one tier or group, or all) as Excel or CSV: the accounts the user sees."""
    scheme = _scheme_or_404(code)
    snapshot = Snapshot.objects.filter(scheme=scheme, pk=request.GET.get("snapshot") or 0, state=SnapshotState.DONE) \
        .select_related("scheme").first() if (request.GET.get("snapshot") or "").isdigit() else None
    if snapshot is None:
        raise Http404
    entries = selectors.entries(user=request.user, snapshot=snapshot, tier=request.GET.get("tier", ""))
    return list_export(request, what="tiers", queryset=entries, columns=entry_columns(),
                       filename=f"{scheme.display_name}-{snapshot.as_of:%Y%m%d}", lines=entry_lines(snapshot))
