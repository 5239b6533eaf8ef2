"""Churn: the definitions' checks, the nightly sweep that opens and closes churn events, the
mark "moved to a competitor", the classification of an event, and the definitions' editing.

The rules, exactly (money in whole fen, so every comparison is exact):

- **spend_drop** (`drop_percent` p, `baseline_months` B, `recent_months` R): the recent window
  is the R full calendar months before the month of `as_of`, the baseline window the B months
  before those. With S_r and S_b the account's revenue in them, the averages are S_r / R and
  S_b / B. The account has churned when S_b > 0 and S_r / R ≤ S_b / B × (1 − p / 100),
  computed as S_r × B × 100 ≤ S_b × R × (100 − p): exactly at the threshold counts. The
  event keeps baseline = S_b / B, recent = S_r / R and loses (baseline − recent) × 12 a year.
  It recovers when the recent average (same R months, moving with `as_of`) is back above
  the event's baseline × (1 − p / 100).
- **no_revenue** (`days` N): the account had revenue (a line with a positive amount) on or
  before `as_of` and none in the N days up to `as_of` (the days as_of − N + 1 … as_of), that
  is its last revenue day L satisfies as_of − L ≥ N. Baseline = the monthly average of the
  12 full months up to and including the month of L (CHURN_BASELINE_MONTHS); recent = 0;
  lost = baseline × 12. It recovers when a line with a positive amount dated after L appears.
- **competitor**: marked by hand (`churn_mark`) on a day `on` by the owner, the account team
  or a manager who sees the account. Baseline = the monthly average of the 12 full months
  before the month of `on` (CHURN_BASELINE_MONTHS); recent = 0; lost = baseline × 12. The
  sweep does not close it: it is a person's judgement, not a number.

At most one open event per account and definition (a partial unique constraint); the sweep
is idempotent (a second run on the same day writes nothing). Reads are set-based: the
monthly sums (`MonthlyRevenue`) as integer arrays, the last revenue day per account in one
grouped query; events are written in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models import FloatField as FloatOut
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.lifecycle import lifecycle_follow
from kam.accounts.models import Account
from kam.core import summaries
from kam.core.arrays import integer_rows, integer_sums
from kam.core.conf import config
from kam.core.errors import Conflict, NotVisible, PermissionDenied, ValidationFailed, refused
from kam.core.models import User
from kam.insight.churn import policies
from kam.insight.models import ChurnDefinition, ChurnEvent, ChurnReason, ChurnRule
from kam.revenue.models import MonthlyRevenue, RevenueFact
from kam.sales.models import Competitor

FEN = Decimal("0.01")
BATCH = 2000
NOTE_MAX = 2000
# Up to this many accounts, month_sums reads only their rows (one `__in` lookup).
FEW_ACCOUNTS = 500
EARLIEST_YEAR = 1900  # a day before it is a typo, and its baseline months would leave the calendar
# The parameters of each rule and the range each may take (whole numbers).
PARAM_RANGES: dict[str, dict[str, tuple[int, int]]] = {
    ChurnRule.SPEND_DROP: {"drop_percent": (1, 100), "baseline_months": (1, 36), "recent_months": (1, 36)},
    ChurnRule.NO_REVENUE: {"days": (1, 3660)},
    ChurnRule.COMPETITOR: {},
}


def month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s to `last`'s, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [month_start(first, -n) for n in range(max(count, 0))]


def fen_of(field: str) -> Cast:
    """A money column in whole fen as a 64-bit integer (NULL as 0), rounded by the database."""
    scaled = ExpressionWrapper(Coalesce(F(field), Value(0)) * 100, output_field=FloatOut())
    return Cast(Round(scaled), output_field=BigIntegerField())


def yuan(fen: Fraction | int) -> Decimal:
    """Fen (possibly a fraction) as yuan to the fen, rounded half up."""
    value = Fraction(fen) / 100
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(FEN, rounding=ROUND_HALF_UP)


def month_sums(ids: np.ndarray, first: date, last: date) -> np.ndarray:
    """Per account of `ids` (sorted), its revenue in fen in the months `first`…`last` (first days)."""
    months = months_between(first, last)
    if not months or not len(ids):
        return np.zeros(len(ids), dtype=np.int64)
    rows = MonthlyRevenue.objects.filter(month__gte=months[0], month__lte=months[-1])
    if len(ids) <= FEW_ACCOUNTS:  # one account marked by hand: its own rows in one read, not every account's
        return integer_sums(rows.filter(account_id__in=ids.tolist()), "account_id", fen_of("amount"), ids)
    return integer_sums(rows, "account_id", fen_of("amount"), ids, parts=[Q(month=m) for m in months])


def _live_ids() -> np.ndarray:
    return np.sort(integer_rows(Account.objects.alive().values_list("id"), 1)[:, 0])


# --- definitions ---------------------------------------------------------------------------------


def checked_params(rule: str, params: Any) -> dict[str, int]:
    """The rule's parameters as whole numbers in range; a refusal names `params.<name>`."""
    ranges = PARAM_RANGES.get(rule)
    if ranges is None:
        raise refused("rule", _("Unknown churn rule."))
    if not isinstance(params, dict):
        raise refused("params", _("Give the parameters as a mapping of names to numbers."))
    if unknown := sorted(set(params) - set(ranges)):
        raise ValidationFailed(_("Please correct the errors below."), errors={
            f"params.{name}": [_("This rule has no such parameter.")] for name in unknown})
    out = {}
    for name, (low, high) in ranges.items():
        value = params.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise refused(f"params.{name}", _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high})
        out[name] = value
    return out


@transaction.atomic
def churn_definition_update(*, actor: User, definition: ChurnDefinition | int, name: str, is_active: bool,
                            params: dict[str, Any]) -> ChurnDefinition:
    """Rename, switch on or off and set the parameters of a churn definition (HQ only)."""
    if not policies.may_edit_definitions(actor):
        raise PermissionDenied(_("Only headquarters may change the churn definitions."),
                               errors={"definition": [_("Only headquarters may change the churn definitions.")]})
    pk = definition.pk if isinstance(definition, ChurnDefinition) else definition
    found = ChurnDefinition.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotVisible(_("No such churn definition."))
    name = (name or "").strip()
    if not name:
        raise refused("name", _("This field is required."))
    if len(name) > (ChurnDefinition._meta.get_field("name").max_length or len(name)):
        raise refused("name", _("At most 100 characters."))
    if not isinstance(is_active, bool):
        raise refused("is_active", _("Give true or false."))
    found.params = checked_params(found.rule, params)
    found.name, found.is_active = name, is_active
    found.save(update_fields=["name", "is_active", "params", "updated_at"])
    return found


# --- the sweep -----------------------------------------------------------------------------------


@dataclass
class Finding:
    """One account found churned by a definition."""

    account_id: int
    baseline: Fraction  # fen a month
    recent: Fraction  # fen a month
    evidence: dict
    churned_on: date | None = None  # when the spend fell or stopped; the day found when None

    def event(self, definition: ChurnDefinition, on: date) -> ChurnEvent:
        baseline, recent = yuan(self.baseline), yuan(self.recent)
        lost = yuan(max(self.baseline - self.recent, Fraction(0)) * 12)
        return ChurnEvent(account_id=self.account_id, definition=definition, detected_on=on,
                          churned_on=self.churned_on or on, baseline_amount=baseline,
                          recent_amount=recent, amount_lost=lost, evidence=self.evidence)


def _ym(day: date) -> str:
    return f"{day:%Y-%m}"


def _spend_drop(definition: ChurnDefinition, ids: np.ndarray, as_of: date, open_events: dict[int, ChurnEvent]
                ) -> tuple[list[Finding], list[int]]:
    p = checked_params(definition.rule, definition.params)
    drop, base_n, recent_n = p["drop_percent"], p["baseline_months"], p["recent_months"]
    recent_first, recent_last = month_start(as_of, recent_n), month_start(as_of, 1)
    base_first, base_last = month_start(as_of, recent_n + base_n), month_start(as_of, recent_n + 1)
    recent = month_sums(ids, recent_first, recent_last).astype(object)
    base = month_sums(ids, base_first, base_last).astype(object)
    # Python integers in object arrays: no overflow whatever the amounts.
    churned = (base > 0) & (recent * base_n * 100 <= base * recent_n * (100 - drop))
    findings = []
    for i in np.flatnonzero(churned):
        account_id = int(ids[i])
        if account_id in open_events:
            continue
        b, r = int(base[i]), int(recent[i])
        findings.append(Finding(account_id, Fraction(b, base_n), Fraction(r, recent_n), {
            "rule": ChurnRule.SPEND_DROP, "drop_percent": drop,
            "baseline_months": [_ym(base_first), _ym(base_last)], "baseline_total": str(yuan(b)),
            "recent_months": [_ym(recent_first), _ym(recent_last)], "recent_total": str(yuan(r)),
            "threshold": str(yuan(Fraction(b, base_n) * (100 - drop) / 100)),
        }, churned_on=recent_first))  # the spend fell in the recent window: dated at its start
    # Recovered: the recent average is back above the event's baseline × (1 − p/100).
    position = {int(a): n for n, a in enumerate(ids.tolist())}
    recovered = []
    for account_id, event in open_events.items():
        n = position.get(account_id)
        if n is None:
            continue
        baseline_fen = int((event.baseline_amount * 100).to_integral_value())
        if int(recent[n]) * 100 > baseline_fen * recent_n * (100 - drop):
            recovered.append(event.pk)
    return findings, recovered


def _last_revenue_days(as_of: date) -> dict[int, date]:
    """Per account, the last day on or before `as_of` with a line of positive amount. Asked
    per account, newest line first along the (account, date, product) key, so the database
    stops at the account's last positive line instead of grouping every line it has."""
    last = (RevenueFact.objects.filter(account_id=OuterRef("pk"), date__lte=as_of, amount__gt=0)
            .order_by("-date").values("date")[:1])
    rows = Account.objects.order_by().annotate(last=Subquery(last)).values_list("pk", "last")
    return {pk: day for pk, day in rows.iterator(chunk_size=10_000) if day is not None}


def _baselines(account_months: dict[int, date], months: int) -> dict[int, Fraction]:
    """Per account, the monthly average (fen) over the `months` full months ending with its month."""
    out: dict[int, Fraction] = {a: Fraction(0) for a in account_months}
    by_last: dict[date, list[int]] = {}
    for account_id, last in account_months.items():
        by_last.setdefault(last, []).append(account_id)
    for last, accounts in by_last.items():
        first = month_start(last, months - 1)
        for k in range(0, len(accounts), BATCH):
            chunk = accounts[k:k + BATCH]
            rows = (MonthlyRevenue.objects.filter(account_id__in=chunk, month__gte=first, month__lte=last).order_by()
                    .values_list("account_id").annotate(total=fen_sum()))
            for account_id, total in rows:
                out[account_id] = Fraction(int(total or 0), months)
    return out


def fen_sum() -> Sum:
    return Sum(fen_of("amount"))


def _no_revenue(definition: ChurnDefinition, ids: np.ndarray, as_of: date, open_events: dict[int, ChurnEvent]
                ) -> tuple[list[Finding], list[int]]:
    days = checked_params(definition.rule, definition.params)["days"]
    cutoff = as_of - timedelta(days=days)  # churned: last revenue day on or before it
    last = _last_revenue_days(as_of)
    live = set(ids.tolist())
    new = {a: d for a, d in last.items() if d <= cutoff and a not in open_events and a in live}
    months = config().CHURN_BASELINE_MONTHS
    baselines = _baselines({a: month_start(d) for a, d in new.items()}, months)
    findings = [Finding(a, baselines[a], Fraction(0), {
        "rule": ChurnRule.NO_REVENUE, "days": days, "last_revenue_on": d.isoformat(),
        "days_without_revenue": (as_of - d).days,
        "baseline_months": [_ym(month_start(d, months - 1)), _ym(d)], "baseline_total": str(yuan(baselines[a] * months)),
    }, churned_on=d + timedelta(days=1)) for a, d in sorted(new.items())]  # it stopped the day after the last line
    recovered = []
    for account_id, event in open_events.items():
        since = (event.evidence or {}).get("last_revenue_on")
        now = last.get(account_id)
        if since and now is not None and now > date.fromisoformat(since):
            recovered.append(event.pk)
    return findings, recovered


CHECKS = {ChurnRule.SPEND_DROP: _spend_drop, ChurnRule.NO_REVENUE: _no_revenue}


def churn_sweep(as_of: date | None = None) -> dict[str, Any]:
    """Run every active detected definition (spend_drop, no_revenue) over every live account
    on `as_of` (default today, Asia/Shanghai): open one event per newly churned (account,
    definition), dated `as_of`; close (recovered_on = as_of) the open events of those
    definitions whose account recovered (see the module for each rule). Events already open,
    and pairs recovered on `as_of` itself, are left alone, so running twice changes nothing.
    Returns {"created": n, "recovered": n, "definitions": n checked}, and "skipped": [codes]
    when a definition's parameters are out of range (set outside the app) and it was left out."""
    as_of = as_of or timezone.localdate()
    ids = _live_ids()
    created = recovered = 0
    skipped: list[str] = []
    definitions = [d for d in ChurnDefinition.objects.filter(is_active=True).order_by("sort_order", "pk")
                   if d.rule in CHECKS]
    for definition in definitions:
        events = ChurnEvent.objects.filter(definition=definition)
        open_events = {e.account_id: e for e in events.filter(recovered_on__isnull=True, detected_on__lte=as_of)
                       .only("pk", "account_id", "baseline_amount", "evidence")}
        blocked = set(events.filter(Q(recovered_on__isnull=True) | Q(recovered_on=as_of))
                      .values_list("account_id", flat=True))
        try:
            findings, closing = CHECKS[ChurnRule(definition.rule)](definition, ids, as_of, open_events)
        except ValidationFailed:
            skipped.append(definition.code)  # parameters broken outside the app: the others still run
            continue
        rows = [f.event(definition, as_of) for f in findings if f.account_id not in blocked]
        with transaction.atomic():
            for k in range(0, len(closing), BATCH):
                recovered += ChurnEvent.objects.filter(pk__in=closing[k:k + BATCH], recovered_on__isnull=True).update(
                    recovered_on=as_of)
            # A concurrent sweep may have opened the same pair meanwhile: the constraint keeps one.
            ChurnEvent.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)
            summaries.touch("churn", (r.account_id for r in rows))
            _follow_states(definition, churned=[r.account_id for r in rows], closing=closing)
        created += len(rows)
    result: dict[str, Any] = {"created": created, "recovered": recovered,
                              "definitions": len(definitions) - len(skipped)}
    if skipped:
        result["skipped"] = skipped
    return result


def _follow_states(definition: ChurnDefinition, *, churned: list[int], closing: list[int]) -> None:
    """The customer states follow the events: churned on an event, active again when an
    account's last open event closes."""
    lifecycle_follow(event="churned", accounts=churned,
                     cause=_("Churn detected: %(definition)s") % {"definition": definition.name})
    back = set(ChurnEvent.objects.filter(pk__in=closing).values_list("account_id", flat=True)) if closing else set()
    if back:
        still = set(ChurnEvent.objects.filter(account_id__in=back, recovered_on__isnull=True)
                    .values_list("account_id", flat=True))
        lifecycle_follow(event="recovered", accounts=back - still,
                         cause=_("Recovered: %(definition)s") % {"definition": definition.name})


# --- by hand -------------------------------------------------------------------------------------


def _reason(value: Any) -> ChurnReason | None:
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, ChurnReason) else value
    found = ChurnReason.objects.filter(pk=pk, is_active=True).first() if isinstance(pk, int) and pk > 0 else None
    if found is None:
        raise refused("reason", _("Choose one of the active churn reasons."))
    return found


def _competitor(value: Any, *, required: bool) -> Competitor | None:
    if value in (None, ""):
        if required:
            raise refused("competitor", _("This field is required."))
        return None
    pk = value.pk if isinstance(value, Competitor) else value
    found = Competitor.objects.filter(pk=pk, is_active=True).first() if isinstance(pk, int) and pk > 0 else None
    if found is None:
        raise refused("competitor", _("Choose one of the active competitors."))
    return found


def _note(value: Any) -> str:
    note = (value or "").strip()
    if len(note) > NOTE_MAX:
        raise refused("note", _("At most %(n)d characters.") % {"n": NOTE_MAX})
    return note


def _visible_account(actor: User, account: Account | int) -> Account:
    pk = account.pk if isinstance(account, Account) else account
    found = Account.objects.visible_to(actor).select_for_update().filter(pk=pk).first()
    if found is None:
        raise NotVisible(_("No such account."))
    return found


@transaction.atomic
def churn_mark(*, actor: User, account: Account | int, competitor: Competitor | int, reason: ChurnReason | int | None = None,
               note: str = "", on: date | None = None) -> ChurnEvent:
    """Record that `account` moved its business to `competitor` on `on` (default today), under
    the active competitor definition. Baseline: the monthly average of the
    CHURN_BASELINE_MONTHS full months before the month of `on`; lost a year: baseline × 12."""
    account = _visible_account(actor, account)
    if not policies.may_mark(actor, account):
        raise PermissionDenied(_("Only the owner, the account team or a manager may mark this account."),
                               errors={"account": [_("Only the owner, the account team or a manager may mark this account.")]})
    definition = ChurnDefinition.objects.filter(rule=ChurnRule.COMPETITOR, is_active=True).order_by("sort_order", "pk").first()
    if definition is None:
        raise refused("competitor", _("Marking accounts as moved to a competitor is switched off."))
    rival = _competitor(competitor, required=True)
    why = _reason(reason)
    note = _note(note)
    today = timezone.localdate()
    on = on or today
    if not isinstance(on, date):
        raise refused("on", _("Enter a date."))
    if on > today:
        raise refused("on", _("The day cannot be in the future."))
    if on.year <= EARLIEST_YEAR:
        raise refused("on", _("Enter a day after %(year)d.") % {"year": EARLIEST_YEAR})
    if ChurnEvent.objects.filter(account=account, definition=definition, recovered_on__isnull=True).exists():
        raise Conflict(_("This account is already marked as moved to a competitor."),
                       errors={"account": [_("This account is already marked as moved to a competitor.")]})
    months = config().CHURN_BASELINE_MONTHS
    first, last = month_start(on, months), month_start(on, 1)
    total = int(month_sums(np.array([account.pk], dtype=np.int64), first, last)[0])
    finding = Finding(account.pk, Fraction(total, months), Fraction(0), {
        "rule": ChurnRule.COMPETITOR, "baseline_months": [_ym(first), _ym(last)], "baseline_total": str(yuan(total))})
    event = finding.event(definition, on)
    event.competitor, event.reason, event.note, event.recorded_by = rival, why, note, actor
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        raise Conflict(_("This account is already marked as moved to a competitor."),
                       errors={"account": [_("This account is already marked as moved to a competitor.")]}) from None
    lifecycle_follow(event="churned", accounts=[account.pk], actor=actor,
                     cause=_("Moved to a competitor: %(competitor)s") % {"competitor": rival})
    return event


UNSET: Any = object()


@transaction.atomic
def churn_event_update(*, actor: User, event: ChurnEvent | int, reason: Any = UNSET, competitor: Any = UNSET,
                       note: Any = UNSET) -> ChurnEvent:
    """Set an event's reason (None: unclassified), competitor and note; only what is given changes."""
    pk = event.pk if isinstance(event, ChurnEvent) else event
    found = ChurnEvent.objects.visible_to(actor).select_for_update().filter(pk=pk).first() if actor is not None else None
    if found is None:
        raise NotVisible(_("No such churn event."))
    if not policies.may_classify(actor, found.account):
        raise PermissionDenied(_("You may not change this account."), errors={"event": [_("You may not change this account.")]})
    fields = []
    if reason is not UNSET:
        found.reason = _reason(reason)
        fields.append("reason")
    if competitor is not UNSET:
        found.competitor = _competitor(competitor, required=False)
        fields.append("competitor")
    if note is not UNSET:
        found.note = _note(note)
        fields.append("note")
    if fields:
        found.save(update_fields=fields)
    return found
