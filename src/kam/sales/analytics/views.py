"""The sales analytics page and its Excel workbook. Thin: parse the period and the filters,
call kam.sales.analytics, render."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import LifecycleStatus
from kam.activities.compliance.measure import current_quarter, parse_period, period_choices
from kam.core.audit import audit_record
from kam.core.exports import workbook_response
from kam.core.models import AuditEvent, OrgUnit
from kam.core.web import MAX_ID
from kam.sales.analytics import selectors as analytics
from kam.sales.analytics import summary
from kam.sales.models import Stage

MAX_DAYS = 3660  # the longest period one may ask for


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _period(request) -> tuple[str, analytics.Period]:
    """A named period ("2026-Q2", "2026-H1", "2026", "2026-06") or `start` and `end` days."""
    start, end = _day(request.GET.get("start", "")), _day(request.GET.get("end", ""))
    if start and end and start <= end and (end - start).days <= MAX_DAYS:
        return "", analytics.Period(start, end)
    name = request.GET.get("period") or current_quarter(timezone.localdate())
    bounds = parse_period(name)
    if bounds is None:
        name = current_quarter(timezone.localdate())
        bounds = parse_period(name)
    return name, analytics.Period(*bounds)


def _units(user) -> list[OrgUnit]:
    if user.sees_everything:
        return list(OrgUnit.objects.filter(is_active=True))
    return list(OrgUnit.objects.filter(pk__in=user.visible_unit_ids, is_active=True))


def _owners(user, units: list[OrgUnit]):
    people = get_user_model().objects.filter(is_active=True).order_by("display_name", "username")
    if user.sees_everything:
        return people
    if not units:
        return people.filter(pk=user.pk)
    return people.filter(unit__in=units)


def _filters(request) -> dict:
    """The unit and owner chosen, each only from the user's own choices (404 otherwise, so ids do not leak)."""
    user = request.user
    units = _units(user)
    unit = owner = None
    if code := request.GET.get("unit", ""):
        unit = next((u for u in units if u.code == code), None)
        if unit is None:
            raise Http404
    owners = _owners(user, units)
    if raw := request.GET.get("owner", ""):
        if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
            raise Http404
        owner = owners.filter(pk=int(raw)).first()
        if owner is None:
            raise Http404
    return {"unit": unit, "owner": owner, "units": units, "owners": owners}


def _analyse(request):
    name, period = _period(request)
    chosen = _filters(request)
    scope = analytics.scope_for(user=request.user, unit=chosen["unit"], owner=chosen["owner"])
    return name, period, chosen, summary.page(scope, period)


def _charts(result: analytics.Analytics) -> dict:
    stages = dict(Stage.choices)
    states = dict(LifecycleStatus.choices)
    return {
        "funnel": [{"name": str(stages[s.stage]), "value": s.count, "amount": float(s.amount)}
                   for s in result.funnel if s.stage != Stage.LOST],
        "conversion": {"x": [str(stages[r.stage]) for r in result.conversion], "series": [
            {"name": _("Moved on %"), "data": [_percent(r.moved_on_rate) for r in result.conversion]},
            {"name": _("Won %"), "data": [_percent(r.won_rate) for r in result.conversion]}]},
        "days": {"x": [str(stages[d.stage]) for d in result.days], "series": [
            {"name": _("Mean days"), "data": [None if d.mean_days is None else round(d.mean_days, 1) for d in result.days]}]},
        "competitors": {"x": [r.competitor for r in result.competitors], "series": [
            {"name": _("Win rate %"), "data": [_percent(r.win_rate) for r in result.competitors]}]},
        "states": {"x": [f"{states[c.state]} → {states[c.next_state]}" for c in result.states], "series": [
            {"name": _("Moved on %"), "data": [_percent(c.rate) for c in result.states]}]},
    }


@login_required
def analytics_page(request):
    """Funnel, conversion, days per stage, competitors, quotes, customer states and people for a period."""
    name, period, chosen, result = _analyse(request)
    query = request.GET.copy()
    query.pop("format", None)
    context = {
        "result": result, "period_name": name, "period": period, "periods": period_choices(timezone.localdate()),
        "unit": chosen["unit"], "owner": chosen["owner"], "units": chosen["units"], "owners": chosen["owners"],
        "charts": _charts(result), "query": query.urlencode(),
    }
    return render(request, "sales/analytics/analytics.html", context)


def _sheets(result: analytics.Analytics, chosen: dict) -> list[tuple[str, list, list[list]]]:
    """(title, headers, rows) per table of the page, in its order."""
    stages = dict(Stage.choices)
    states = dict(LifecycleStatus.choices)
    outcome = {Stage.WON: _("won"), Stage.LOST: _("lost")}
    p = result.period
    return [
        (_("Period"), [_("first day"), _("last day"), _("org unit"), _("owner")],
         [[p.start, p.end, str(chosen["unit"] or _("all")), str(chosen["owner"] or _("all"))]]),
        (_("Funnel"), [_("stage"), _("opportunities"), _("amount (yuan)")],
         [[stages[s.stage], s.count, s.amount] for s in result.funnel]),
        (_("Stage conversion"), [_("stage"), _("entered"), _("moved on"), _("moved on %"), _("won"), _("won %")],
         [[stages[r.stage], r.entered, r.moved_on, _percent(r.moved_on_rate), r.won, _percent(r.won_rate)]
          for r in result.conversion]),
        (_("Days per stage"), [_("stage"), _("stays ended"), _("mean days")],
         [[stages[d.stage], d.stays, None if d.mean_days is None else round(d.mean_days, 2)] for d in result.days]),
        (_("Win rate by competitor"), [_("competitor"), _("deals closed"), _("won"), _("win rate %")],
         [[r.competitor, r.deals, r.won, _percent(r.win_rate)] for r in result.competitors]),
        (_("Quote comparison"), [_("outcome"), _("competitor"), _("pairs"), _("our mean quote"), _("their mean quote"),
                                 _("mean difference (ours − theirs)"), _("our quote higher"), _("our quote higher, %")],
         [[outcome[q.outcome], q.competitor or _("all"), q.pairs, q.our_mean, q.their_mean, q.difference_mean, q.dearer,
           _percent(q.dearer_share)] for q in result.quotes]),
        (_("Customer states"), [_("from state"), _("to state"), _("accounts in the state"), _("moved on"), _("moved on %")],
         [[states[c.state], states[c.next_state], c.held, c.moved_on, _percent(c.rate)] for c in result.states]),
        (_("Process metrics"), [_("person"), _("activities"), _("visits"), _("decision-maker meetings"), _("quotes"),
                                _("open opportunities"), _("won"), _("follow-ups"), _("follow-ups per open opportunity")],
         [[m.name, m.activities, m.visits, m.decision_maker_meetings, m.quotes, m.open_opportunities, m.won,
           m.follow_ups, None if m.follow_ups_per_opportunity is None else round(m.follow_ups_per_opportunity, 2)]
          for m in result.people]),
    ]


@login_required
def analytics_export(request):
    """The page's tables as one Excel workbook, a sheet per table."""
    name, period, chosen, result = _analyse(request)
    audit_record(kind=AuditEvent.Kind.EXPORT, user=request.user, request=request, what="sales-analytics",
                 format="xlsx", query=request.GET.urlencode()[:500])
    label = name or f"{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    return workbook_response(_sheets(result, chosen), filename=f"sales-analytics-{label}.xlsx")
