"""The early-warning rules: each reads whole tables set-based (one query or a few per rule)
and returns, for the accounts it fires on, the evidence — a small dict of the numbers that
made it fire. `warnings.warning_sweep` opens, refreshes and closes warnings from them.

Thresholds (the rule's `params`), and where each rule fires:

- spend_drop {drop_percent, baseline_months, recent_months}: the average monthly spend of
  the `recent_months` whole months before the month of the day evaluated, against that of
  the `baseline_months` before those; fires when the baseline average is above zero and
  the recent one fell by drop_percent % or more (exactly 30 % fires at 30).
- payment_overdue {min_amount, share_of_credit_percent}: the amount overdue is the larger
  of `overdue_amount` and `receivables_over_90_days` (they overlap; adding them would count
  one debt twice); fires when it is at least min_amount (and above zero) and, when
  share_of_credit_percent is above zero and the account has a credit limit, at least that
  share of the credit limit.
- no_contact {grace_days}: the tier of the account in the CADENCE_SCHEME scheme allows a gap
  between visits (and between calls); the clock starts at the later of the last contact and
  the day the tier began asking for it (as the compliance page reads it); fires when it
  started more than gap + grace_days days ago, or never.
- key_contact_left {}: a key contact marked as left on `left_on`, no successor named, and
  more than KEY_CONTACT_HANDOVER_HOURS passed since the start of that day (whole days
  counted: with 24 hours, a contact who left on the 1st fires on the 3rd).
- competitor_quote {}: an open opportunity (not won or lost) with a competitor in the race
  (in it or leading) that has given a quote.
- p_alive_low {threshold}: the account's latest P(alive) is below the threshold.
- p_alive_fall {drop}: P(alive) fell by `drop` or more since the fit before.
- satisfaction_drop {drop, below}: the latest survey's score is below `below`, or fell by
  `drop` or more from the survey before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import numpy as np
from django.db.models import F, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account, Contact, ContactStatus
from kam.activities.compliance import cadence
from kam.activities.compliance import measure as compliance
from kam.core.conf import config
from kam.core.errors import refused
from kam.insight.models import AccountScore, SatisfactionSurvey
from kam.revenue.models import MonthlyRevenue
from kam.sales.models import OPEN_STAGES, Rival, RivalStatus
from kam.tiering.models import Scheme

EPS = 1e-9  # float thresholds: 0.8 − 0.5 is 0.30000000000000004, 0.7 − 0.4 is 0.29999999999999993


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# --- parameters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    label: object  # lazy text
    kind: type  # int, float or Decimal
    low: float = 0
    high: float | None = None


PARAMS: dict[str, list[Param]] = {
    "spend_drop": [Param("drop_percent", gettext_lazy("Drop (%)"), int, 1, 100),
                   Param("baseline_months", gettext_lazy("Baseline months"), int, 1, 36),
                   Param("recent_months", gettext_lazy("Recent months"), int, 1, 12)],
    "payment_overdue": [Param("min_amount", gettext_lazy("Smallest overdue amount (yuan)"), Decimal, 0),
                        Param("share_of_credit_percent", gettext_lazy("Share of the credit limit (%)"), int, 0, 1000)],
    "no_contact": [Param("grace_days", gettext_lazy("Grace days"), int, 0, 365)],
    "key_contact_left": [],
    "competitor_quote": [],
    "p_alive_low": [Param("threshold", gettext_lazy("Threshold"), float, 0, 1)],
    "p_alive_fall": [Param("drop", gettext_lazy("Drop"), float, 0.01, 1)],
    "satisfaction_drop": [Param("drop", gettext_lazy("Drop (points)"), float, 0.1, 10),
                          Param("below", gettext_lazy("Below (score)"), float, 0, 10)],
}


def clean_params(code: str, raw: dict) -> dict:
    """The rule's parameters from `raw` (strings or numbers), checked; a bad one is refused
    naming its field ("params.<name>")."""
    out = {}
    for p in PARAMS.get(code, []):
        value = raw.get(p.name)
        field = f"params.{p.name}"
        if value is None or str(value).strip() == "":
            raise refused(field, _("%(name)s is required.") % {"name": p.label})
        try:
            number = p.kind(str(value).strip()) if p.kind is not float else float(str(value).strip())
        except (ValueError, InvalidOperation):
            raise refused(field, _("%(name)s must be a number.") % {"name": p.label}) from None
        if p.kind is Decimal and not number.is_finite():
            raise refused(field, _("%(name)s must be a number.") % {"name": p.label})
        if number < p.low or (p.high is not None and number > p.high):
            bounds = {"name": p.label, "low": p.low, "high": p.high}
            raise refused(field, (_("%(name)s must be between %(low)s and %(high)s.") if p.high is not None
                                  else _("%(name)s must be at least %(low)s.")) % bounds)
        out[p.name] = str(number) if p.kind is Decimal else number
    return out


def _number(params: dict, name: str, kind=float):
    return kind(str(params[name]))


# --- the evaluation context ------------------------------------------------------------------------


def account_scope(account_ids=None, accounts=None):
    """The accounts a sweep is limited to, as a queryset (None: every live account): a
    queryset given (such as a user's visible accounts) or a list of ids."""
    if accounts is not None:
        return accounts
    if account_ids is None:
        return None
    return Account.objects.filter(pk__in=sorted({int(a) for a in account_ids}))


@dataclass
class Context:
    """The day evaluated and the accounts in scope (ids ascending, None = every live account)."""

    as_of: date
    ids: np.ndarray
    only: object | None  # a queryset of the accounts when a sweep is limited to some (None: all)

    def scoped(self, queryset, field: str = "account_id"):
        return queryset if self.only is None else queryset.filter(**{f"{field}__in": self.only.values("pk")})

    def alive(self):
        return self.scoped(Account.objects.alive(), "pk")


# --- the rules ------------------------------------------------------------------------------------------


def spend_windows(as_of: date, baseline_months: int, recent_months: int) -> tuple[date, date, date]:
    """(baseline's first month, recent window's first month, the month after it)."""
    end = month_start(as_of)
    recent = add_months(end, -recent_months)
    return add_months(recent, -baseline_months), recent, end


def spend_averages(ctx: Context, baseline_months: int, recent_months: int) -> dict[int, tuple[Decimal, Decimal]]:
    """Per account with any spend in the windows: (baseline monthly average, recent monthly average)."""
    base_from, recent_from, end = spend_windows(ctx.as_of, baseline_months, recent_months)
    rows = (ctx.scoped(MonthlyRevenue.objects.filter(month__gte=base_from, month__lt=end))
            .values("account_id").order_by()
            .annotate(base=Sum("amount", filter=Q(month__lt=recent_from)), recent=Sum("amount", filter=Q(month__gte=recent_from)))
            .values_list("account_id", "base", "recent"))
    return {pk: ((base or Decimal(0)) / baseline_months, (recent or Decimal(0)) / recent_months)
            for pk, base, recent in rows}


def spend_drop(ctx: Context, params: dict) -> dict[int, dict]:
    drop = _number(params, "drop_percent", Decimal)
    baseline, recent = int(params["baseline_months"]), int(params["recent_months"])
    base_from, recent_from, end = spend_windows(ctx.as_of, baseline, recent)
    out = {}
    for pk, (base, now) in spend_averages(ctx, baseline, recent).items():
        if base > 0 and (base - now) * 100 >= drop * base:
            out[pk] = {"baseline": str(base.quantize(Decimal("0.01"))), "recent": str(now.quantize(Decimal("0.01"))),
                       "drop_percent": float(((base - now) * 100 / base).quantize(Decimal("0.1"))),
                       "baseline_from": base_from.isoformat(), "recent_from": recent_from.isoformat(),
                       "recent_to": (end - timedelta(days=1)).isoformat()}
    return out


def overdue_amounts(ctx: Context):
    """Per account with credit fields: (overdue, over 90 days, credit limit, prepaid only)."""
    return ctx.alive().filter(
        Q(overdue_amount__isnull=False) | Q(receivables_over_90_days__isnull=False) | Q(prepaid_only=True)
    ).values_list("pk", "overdue_amount", "receivables_over_90_days", "credit_limit", "receivables", "prepaid_only")


def payment_overdue(ctx: Context, params: dict) -> dict[int, dict]:
    least = _number(params, "min_amount", Decimal)
    share = _number(params, "share_of_credit_percent", Decimal)
    out = {}
    for pk, overdue, over_90, limit, _receivables, _prepaid in overdue_amounts(ctx).filter(
            Q(overdue_amount__gt=0) | Q(receivables_over_90_days__gt=0)):
        amount = max(overdue or Decimal(0), over_90 or Decimal(0))
        if amount <= 0 or amount < least:
            continue
        if share > 0 and limit and limit > 0 and amount * 100 < share * limit:
            continue
        out[pk] = {"overdue": str(overdue or 0), "over_90_days": str(over_90 or 0),
                   "credit_limit": str(limit) if limit is not None else None}
    return out


def contact_clock(ctx: Context, extra_days: int = 0, *, twice: bool = False):
    """The cadence measure of the accounts in scope on `as_of` (compliance.measure), with the
    last visits and calls read `extra_days` further back than the longest allowed gap (or
    back twice that gap with `twice`)."""
    scheme = Scheme.objects.filter(code=config().CADENCE_SCHEME).first()
    if scheme is None:
        return None
    def look_back(gaps: np.ndarray) -> int:
        longest = int(gaps.max(initial=0))
        if not longest or not (extra_days > 0 or twice):
            return 0  # the measure's own look-back
        return longest * 2 if twice else longest + extra_days

    return compliance.measure(user=None, scheme=scheme, start=ctx.as_of, end=ctx.as_of, as_of=ctx.as_of,
                              accounts=ctx.alive(), look_back=look_back)


def no_contact(ctx: Context, params: dict) -> dict[int, dict]:
    grace = int(params.get("grace_days", 0))
    m = contact_clock(ctx, grace)
    if m is None:
        return {}
    out: dict[int, dict] = {}
    today = ctx.as_of.toordinal()
    for kind, last, gap, since in (("visit", m.last_visit, m.visit_gap, m.visit_since),
                                   ("call", m.last_call, m.call_gap, m.call_since)):
        clock = np.maximum(last, since)
        late = (gap > 0) & ((clock == cadence.NEVER) | (today - clock > gap + grace))
        for p in np.flatnonzero(late):
            pk = int(m.ids[p])
            if pk in out:
                continue
            out[pk] = {"kind": kind, "allowed_days": int(gap[p]), "grace_days": grace,
                       "last_contact": date.fromordinal(int(last[p])).isoformat() if last[p] != cadence.NEVER else None,
                       "clock_from": date.fromordinal(int(clock[p])).isoformat() if clock[p] != cadence.NEVER else None}
    return out


def key_contact_left(ctx: Context, params: dict) -> dict[int, dict]:
    hours = config().KEY_CONTACT_HANDOVER_HOURS
    # hours since the start of left_on, in whole days, must exceed `hours`
    days = hours // 24 + 1
    latest = ctx.as_of - timedelta(days=days)
    rows = (ctx.scoped(Contact.objects.alive().filter(
        is_key=True, status=ContactStatus.LEFT, successor__isnull=True, left_on__isnull=False, left_on__lte=latest,
        account__deleted_at__isnull=True))
        .order_by("account_id", "left_on", "id").values_list("account_id", "name", "left_on"))
    out: dict[int, dict] = {}
    for pk, name, left_on in rows:
        found = out.setdefault(pk, {"contacts": [], "left_on": left_on.isoformat(), "handover_hours": hours})
        if len(found["contacts"]) < 5:
            found["contacts"].append(name)
    return out


def competitor_quote(ctx: Context, params: dict) -> dict[int, dict]:
    rows = (ctx.scoped(Rival.objects.filter(
        opportunity__stage__in=OPEN_STAGES, status__in=[RivalStatus.ACTIVE, RivalStatus.LEADING], quote__isnull=False,
        opportunity__deleted_at__isnull=True, opportunity__account__deleted_at__isnull=True), "opportunity__account_id")
        .order_by("opportunity__account_id", "-quote", "id")
        .values_list("opportunity__account_id", "opportunity_id", "opportunity__name", "competitor__name", "quote"))
    out: dict[int, dict] = {}
    for pk, opp, opp_name, competitor, quote in rows:
        if pk in out:
            out[pk]["quotes"] += 1
            continue
        out[pk] = {"opportunity": opp, "opportunity_name": opp_name, "competitor": competitor, "quote": str(quote),
                   "quotes": 1}
    return out


def _scores(ctx: Context):
    return ctx.scoped(AccountScore.objects.filter(account__deleted_at__isnull=True))


def p_alive_low(ctx: Context, params: dict) -> dict[int, dict]:
    threshold = _number(params, "threshold")
    rows = _scores(ctx).filter(p_alive__lt=threshold - EPS).values_list("account_id", "p_alive")
    return {pk: {"p_alive": round(p, 4), "threshold": threshold} for pk, p in rows}


def p_alive_fall(ctx: Context, params: dict) -> dict[int, dict]:
    drop = _number(params, "drop")
    rows = _scores(ctx).filter(p_alive_before__isnull=False).filter(
        p_alive_before__gte=F("p_alive") + drop - EPS).values_list("account_id", "p_alive", "p_alive_before")
    return {pk: {"p_alive": round(p, 4), "p_alive_before": round(before, 4), "drop": drop} for pk, p, before in rows}


def latest_surveys(ctx: Context) -> dict[int, list[tuple[date, Decimal]]]:
    """Per account, its latest survey on or before `as_of` and the one before (newest first)."""
    ranked = (ctx.scoped(SatisfactionSurvey.objects.filter(surveyed_on__lte=ctx.as_of, account__deleted_at__isnull=True))
              .annotate(place=Window(RowNumber(), partition_by=[F("account_id")],
                                     order_by=[F("surveyed_on").desc(), F("id").desc()]))
              .filter(place__lte=2).values_list("account_id", "place", "surveyed_on", "score"))
    out: dict[int, list] = {}
    for pk, _place, day, score in sorted(ranked, key=lambda r: (r[0], r[1])):
        out.setdefault(pk, []).append((day, score))
    return out


def satisfaction_drop(ctx: Context, params: dict) -> dict[int, dict]:
    drop, below = _number(params, "drop", Decimal), _number(params, "below", Decimal)
    out = {}
    for pk, surveys in latest_surveys(ctx).items():
        (day, score), before = surveys[0], (surveys[1] if len(surveys) > 1 else None)
        fell = before is not None and before[1] - score >= drop
        if score < below or fell:
            out[pk] = {"score": str(score), "surveyed_on": day.isoformat(), "below": str(below), "drop": str(drop),
                       "previous": str(before[1]) if before else None,
                       "previous_on": before[0].isoformat() if before else None}
    return out


RULES = {
    "spend_drop": spend_drop,
    "payment_overdue": payment_overdue,
    "no_contact": no_contact,
    "key_contact_left": key_contact_left,
    "competitor_quote": competitor_quote,
    "p_alive_low": p_alive_low,
    "p_alive_fall": p_alive_fall,
    "satisfaction_drop": satisfaction_drop,
}


# --- evidence as a sentence --------------------------------------------------------------------------


def _amount(value) -> str:
    """A yuan amount from the evidence with thousands separators: 58000.00 → 58,000.00."""
    return f"{Decimal(str(value)):,.2f}"


def describe(code: str, e: dict) -> str:
    """The evidence of a warning as one readable sentence."""
    try:
        if code == "spend_drop":
            return _("Average monthly spend %(recent)s yuan from %(from)s to %(to)s against %(base)s yuan before: "
                     "down %(drop)s %%.") % {"recent": _amount(e["recent"]), "from": e["recent_from"][:7],
                                             "to": e["recent_to"][:7], "base": _amount(e["baseline"]),
                                             "drop": e["drop_percent"]}
        if code == "payment_overdue":
            return _("Overdue %(overdue)s yuan, over 90 days %(over90)s yuan, credit limit %(limit)s.") % {
                "overdue": _amount(e["overdue"]), "over90": _amount(e["over_90_days"]),
                "limit": _amount(e["credit_limit"]) if e.get("credit_limit") is not None else _("none")}
        if code == "no_contact":
            kind = _("visit") if e["kind"] == "visit" else _("call")
            if e.get("last_contact"):
                return _("Last %(kind)s on %(day)s; the service standard allows %(gap)d days (grace %(grace)d).") % {
                    "kind": kind, "day": e["last_contact"], "gap": e["allowed_days"], "grace": e["grace_days"]}
            return _("No %(kind)s on record; the service standard allows %(gap)d days (grace %(grace)d).") % {
                "kind": kind, "gap": e["allowed_days"], "grace": e["grace_days"]}
        if code == "key_contact_left":
            return _("Key contact %(names)s left on %(day)s and no successor was named within %(hours)d hours.") % {
                "names": "、".join(e["contacts"]), "day": e["left_on"], "hours": e["handover_hours"]}
        if code == "competitor_quote":
            return _("%(competitor)s quoted %(quote)s yuan on the open deal %(deal)s.") % {
                "competitor": e["competitor"], "quote": _amount(e["quote"]), "deal": e["opportunity_name"]}
        if code == "p_alive_low":
            return _("Probability still active %(p).0f %%, below %(t).0f %%.") % {
                "p": e["p_alive"] * 100, "t": e["threshold"] * 100}
        if code == "p_alive_fall":
            return _("Probability still active fell from %(before).0f %% to %(p).0f %%.") % {
                "before": e["p_alive_before"] * 100, "p": e["p_alive"] * 100}
        if code == "satisfaction_drop":
            if e.get("previous") is not None:
                return _("Satisfaction %(score)s on %(day)s, %(previous)s before.") % {
                    "score": e["score"], "day": e["surveyed_on"], "previous": e["previous"]}
            return _("Satisfaction %(score)s on %(day)s.") % {"score": e["score"], "day": e["surveyed_on"]}
    except (KeyError, TypeError, ValueError, ArithmeticError):
        pass
    return ", ".join(f"{k}: {v}" for k, v in e.items())
