"""The compliance page's read model: required vs done, the heat-map and the overdue accounts
of a scheme and period, read from ComplianceFigure rows instead of measured over every visible
account's tiers and contacts on each request (kam.core.summaries explains the mechanism).

Rows are kept per scheme and period — its first and last day and the day it was measured on
(today, or the period's last day once it is over) — for the periods somebody reads: this
quarter of every scheme with a standard always; any other period from its first read, which
measures it for every account and stores it (a marker row, unit -1, says it is there). A new
day measures the current periods afresh at their first read (the nightly rebuild does this
quarter's before anyone reads); the rebuild drops what was measured before today.

A contact logged, edited or deleted marks its account ("activities"); a new snapshot, a frozen
list or a decided move the tiers ("tiers"); a changed standard the whole model ("standards");
a change of an account's unit or owner moves it between groups ("accounts").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.compliance import cadence
from kam.activities.compliance.measure import (
    CALL,
    OTHER_CADENCES,
    VISIT,
    Measure,
    contact_kinds,
    current_quarter,
    latest_contacts,
    local_start,
    measure,
    other_cadences,
    parse_period,
    unit_level,
)
from kam.activities.models import Activity, ComplianceFigure, ComplianceSpan, ServiceStandard
from kam.core import summaries
from kam.core.arrays import integer_rows
from kam.core.conf import config
from kam.core.models import OrgUnit
from kam.core.sql import LocalDayNumber
from kam.tiering.models import Scheme

User = get_user_model()
COMPLIANCE = "compliance"
NEVER_WAITED = 10**9  # `waited` of an account never contacted: before every other
MARKER_UNIT = -1  # the unit of the row saying a period is stored: in no group
Key = tuple[int, date, date, date]  # scheme id, first and last day, measured on


def _key(scheme_id: int, start: date, end: date, today: date) -> Key:
    return scheme_id, start, end, min(today, end)


def _where(key: Key) -> dict[str, Any]:
    return dict(zip(("scheme_id", "start", "end", "as_of"), key, strict=True))


# --- computing ---------------------------------------------------------------------------------


def _kept_keys() -> list[Key]:
    """This quarter of every scheme with a standard, measured today, and every period stored
    (as it was stored: a group's recompute must replace exactly the rows it removes)."""
    today = timezone.localdate()
    start, end = parse_period(current_quarter(today)) or (today, today)
    keys = {_key(pk, start, end, today) for pk in ServiceStandard.objects.values_list("scheme_id", flat=True).distinct()}
    keys |= set(ComplianceFigure.objects.filter(span=ComplianceSpan.KEY).values_list("scheme_id", "start", "end", "as_of"))
    return sorted(keys)


def compute(accounts) -> list[ComplianceFigure]:
    """The rows of `accounts` (live ones) for every period kept."""
    keys = _kept_keys()
    schemes = Scheme.objects.in_bulk({key[0] for key in keys})
    return [row for key in keys if key[0] in schemes for row in measured_rows(accounts, schemes[key[0]], key)]


def _compute_where(accounts, where: dict[str, Any]) -> list[ComplianceFigure]:
    if not {"scheme_id", "start", "end", "as_of"} <= set(where):
        return compute(accounts)
    scheme = Scheme.objects.filter(pk=where["scheme_id"]).first()
    key = (where["scheme_id"], where["start"], where["end"], where["as_of"])
    return measured_rows(accounts, scheme, key) if scheme is not None else []


def measured_rows(accounts, scheme: Scheme, key: Key) -> list[ComplianceFigure]:
    """Measure `accounts` over the key's period and roll them up per unit and owner: totals,
    the other cadences, the heat-map's weeks and months, the overdue accounts, and the marker."""
    _scheme_id, start, end, as_of = key
    m = measure(user=None, scheme=scheme, start=start, end=end, as_of=as_of, accounts=accounts)
    base = _where(key)
    rows = [ComplianceFigure(**base, unit_id=MARKER_UNIT, owner_id=summaries.NO_OWNER, span=ComplianceSpan.KEY)]
    if not len(m.ids):
        return rows
    pairs, group = np.unique(np.stack([m.unit, m.owner], axis=1), axis=0, return_inverse=True)
    group = group.reshape(-1)
    size = len(pairs)

    def total(values) -> list[int]:
        return np.rint(np.bincount(group, weights=np.asarray(values, dtype=np.float64), minlength=size)).astype(np.int64).tolist()

    def of(i: int) -> dict[str, Any]:
        return {**base, "unit_id": int(pairs[i][0]), "owner_id": int(pairs[i][1])}

    served = (m.required > 0) | (m.visit_gap > 0) | (m.call_gap > 0)
    columns = zip(total(served), total(m.required_visits), total(cadence.credited(m.required_visits, m.done_visits)),
                  total(m.required_calls), total(cadence.credited(m.required_calls, m.done_calls)), total(m.overdue),
                  strict=True)
    rows += [ComplianceFigure(**of(i), span=ComplianceSpan.TOTAL, accounts=a, required_visits=rv, done_visits=dv,
                              required_calls=rc, done_calls=dc, overdue=o)
             for i, (a, rv, dv, rc, dc, o) in enumerate(columns)]
    for name, other in m.others.items():
        columns = zip(total(other.gap > 0), total(other.required), total(other.credited), total(other.overdue(m.as_of)),
                      strict=True)
        rows += [ComplianceFigure(**of(i), span=ComplianceSpan.OTHER, cadence=name, accounts=a, required=r, done=d,
                                  overdue=o) for i, (a, r, d, o) in enumerate(columns) if a or r or d or o]
    rows += _cells(m, accounts, pairs, group, base)
    rows += _overdue_rows(m, pairs, group, base)
    return rows


def _cells(m: Measure, accounts, pairs: np.ndarray, group: np.ndarray, base: dict) -> list[ComplianceFigure]:
    """Per group, week and month: the contacts falling due (pro rata, exact) and those done."""
    if m.end < m.start or not len(pairs):
        return []
    index = {(int(u), int(o)): i for i, (u, o) in enumerate(pairs)}
    visit_kinds, call_kinds = contact_kinds()
    day = LocalDayNumber("occurred_at", zone=timezone.get_current_timezone(), during=(m.start, m.end))
    counted = integer_rows(
        Activity.objects.filter(account__in=accounts.values("pk"), kind__in=visit_kinds + call_kinds,
                                occurred_at__gte=local_start(m.start), occurred_at__lt=local_start(m.end + timedelta(days=1)))
        .annotate(day=day, unit=Coalesce("account__unit_id", Value(0)),
                  owner=Coalesce("account__owner_id", Value(summaries.NO_OWNER)))
        .values_list("unit", "owner", "day").order_by().annotate(n=Count("id")), 4)
    rows = []
    for span, unit in ((ComplianceSpan.WEEK, "week"), (ComplianceSpan.MONTH, "month")):
        spans = cadence.buckets(m.start, m.end, unit)
        firsts = np.array([first.toordinal() for first, _last in spans], dtype=np.int64)
        done = np.zeros((len(pairs), len(spans)), dtype=np.int64)
        for u, o, d, n in counted.tolist():
            if (i := index.get((u, o))) is not None:
                done[i, int(np.searchsorted(firsts, d, side="right")) - 1] += n
        for j, (first, last) in enumerate(spans):
            need = (cadence.required_exact(m.segments, m.visit_cadences, len(m.ids), first, last)
                    + cadence.required_exact(m.segments, m.call_cadences, len(m.ids), first, last))
            due = np.bincount(group, weights=need, minlength=len(pairs))
            rows += [ComplianceFigure(**base, unit_id=int(pairs[i][0]), owner_id=int(pairs[i][1]), span=span, first=first,
                                      due=float(due[i]), contacts=int(done[i, j]))
                     for i in range(len(pairs)) if due[i] > 0 or done[i, j]]
    return rows


def _overdue_rows(m: Measure, pairs: np.ndarray, group: np.ndarray, base: dict) -> list[ComplianceFigure]:
    """One row per overdue account: how long the contact owed longest has waited, and why."""
    overdue = m.overdue
    positions = np.flatnonzero(overdue)
    since = np.maximum(np.where(m.overdue_visit, cadence.days_since(m.last_visit, m.as_of), -2),
                       np.where(m.overdue_call, cadence.days_since(m.last_call, m.as_of), -2))
    since = np.where(since == -1, NEVER_WAITED, since)
    required, credited = m.required, m.credited
    overdue_visit, overdue_call = m.overdue_visit, m.overdue_call

    def day(ordinal) -> int | None:
        return None if ordinal == cadence.NEVER else int(ordinal)

    return [ComplianceFigure(**base, unit_id=int(pairs[group[p]][0]), owner_id=int(pairs[group[p]][1]),
                             span=ComplianceSpan.ACCOUNT, account_id=int(m.ids[p]), tier=str(m.tier[p] or ""),
                             required=int(required[p]), done=int(credited[p]), waited=int(since[p]),
                             last_visit=day(m.last_visit[p]), last_call=day(m.last_call[p]),
                             overdue_visit=bool(overdue_visit[p]), overdue_call=bool(overdue_call[p]))
            for p in positions.tolist()]


def _prune() -> None:
    """Before a rebuild: periods measured before today are dropped — the current ones are
    measured today again when read, the finished ones on their last day."""
    ComplianceFigure.objects.filter(as_of__lt=timezone.localdate()).delete()


def _standards_changed(sender: Any, **kwargs: Any) -> None:
    summaries.invalidate("standards")


def register() -> None:
    summaries.register(summaries.Summary(
        code=COMPLIANCE, model=ComplianceFigure, facts=frozenset({"accounts", "activities", "tiers", "standards"}),
        compute=compute, compute_where=_compute_where, accounts=Account.objects.alive,
        visible=Account.objects.visible_to, team_only=Account.objects.seen_only_through_team, prune=_prune))
    summaries.watch(Activity, "activities")
    post_save.connect(_standards_changed, sender=ServiceStandard, dispatch_uid="compliance:standards")
    post_delete.connect(_standards_changed, sender=ServiceStandard, dispatch_uid="compliance:standards:del")


# --- reading ---------------------------------------------------------------------------------


def _stored(key: Key) -> bool:
    """Make sure the key's rows are stored (measuring every account if they are not); False
    when they could not be (a refresh ran while measuring): the caller reads raw facts."""
    return summaries.stored(COMPLIANCE, marker=Q(span=ComplianceSpan.KEY, **_where(key)),
                            replace=Q(scheme_id=key[0], start=key[1], end=key[2]),
                            rows=lambda: measured_rows(Account.objects.alive(), Scheme.objects.get(pk=key[0]), key))


def _read(user, key: Key, *, raw: bool | None = None, **options: Any) -> summaries.Figures:
    """The user's rows of the key (`raw`: from the raw facts; None: if they cannot be stored)."""
    if raw is None:
        raw = bool(config().READ_MODELS) and not _stored(key)
    return summaries.figures(COMPLIANCE, user, raw=raw, **_where(key), **options)


@dataclass
class Report:
    """A user's compliance figures for a scheme and period: the rows per unit and owner."""

    scheme: Scheme
    key: Key
    start: date
    end: date  # the last day measured: the period's end, or the day measured on if earlier
    as_of: date
    totals: list[Any]
    others: list[Any]
    cells: list[Any]
    true_at: datetime
    stored: bool


def report(*, user, scheme: Scheme, start: date, end: date, today: date | None = None) -> Report:
    """What the compliance page shows `user` of `scheme` over `start`…`end` (measured today)."""
    key = _key(scheme.pk, start, end, today or timezone.localdate())
    cell = ComplianceSpan.MONTH if user.sees_everything else ComplianceSpan.WEEK
    read = _read(user, key, span__in=[ComplianceSpan.TOTAL, ComplianceSpan.OTHER, cell])
    by_span: dict[str, list[Any]] = {ComplianceSpan.TOTAL: [], ComplianceSpan.OTHER: [], cell: []}
    for row in read.rows:
        by_span[row.span].append(row)
    as_of = key[3]
    last_day = max(min(end, as_of), start) if as_of >= start else start - timedelta(days=1)
    return Report(scheme=scheme, key=key, start=start, end=last_day, as_of=as_of, totals=by_span[ComplianceSpan.TOTAL],
                  others=by_span[ComplianceSpan.OTHER], cells=by_span[cell], true_at=read.as_of, stored=read.stored)


# --- roll-ups --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One person or unit: accounts with a standard, contacts required and credited, overdue accounts."""

    key: int
    name: str
    accounts: int = 0
    required_visits: int = 0
    done_visits: int = 0
    required_calls: int = 0
    done_calls: int = 0
    overdue: int = 0

    @property
    def compliance(self) -> float:
        need = self.required_visits + self.required_calls
        return 1.0 if need == 0 else (self.done_visits + self.done_calls) / need

    def add(self, row: Any) -> None:
        for name in ("accounts", "required_visits", "done_visits", "required_calls", "done_calls", "overdue"):
            setattr(self, name, getattr(self, name) + getattr(row, name))


@dataclass(frozen=True)
class ShownUnits:
    """The units a viewer's table and heat-map show, and which of them each unit lies in."""

    keys: list[int]
    names: dict[int, str]
    index: dict[int, int]  # unit id → position in `keys`, -1 outside them all

    def members(self, shown: int) -> list[int]:
        """The units inside the shown unit `shown` (its subtree)."""
        at = self.keys.index(shown) if shown in self.keys else -2
        return [pk for pk, i in self.index.items() if i == at]


def shown_units(user) -> ShownUnits:
    units = list(OrgUnit.objects.order_by("path").values_list("pk", "path", "name"))
    shown = unit_level(user, units)
    index = {pk: next((i for i, s in enumerate(shown) if path.startswith(s[1])), -1) for pk, path, _name in units}
    return ShownUnits([u[0] for u in shown], {u[0]: u[2] for u in shown}, index)


def per_unit(*, user, rep: Report) -> list[Row]:
    units = shown_units(user)
    rows = [Row(k, units.names[k]) for k in units.keys]
    for r in rep.totals:
        if (i := units.index.get(r.unit_id, -1)) >= 0:
            rows[i].add(r)
    return rows


def _names(keys) -> dict[int, str]:
    return {u.pk: str(u) for u in User.objects.filter(pk__in=list(keys)).only(
        "id", "username", "display_name", "first_name", "last_name")}


def _owners(rep: Report) -> list[int]:
    return sorted({r.owner_id for r in rep.totals if r.owner_id != summaries.NO_OWNER})


def per_person(*, rep: Report) -> list[Row]:
    names = _names(_owners(rep))
    rows = {k: Row(k, names.get(k, str(k))) for k in _owners(rep)}
    for r in rep.totals:
        if r.owner_id in rows:
            rows[r.owner_id].add(r)
    return sorted((r for r in rows.values() if r.accounts), key=lambda r: (r.compliance, r.name))


def total_row(rows: list[Row]) -> Row:
    out = Row(0, _("Total"))
    for r in rows:
        out.add(r)
    return out


def other_totals(rep: Report) -> list[dict]:
    """Per other cadence (value reports, executive meetings) of the scheme: the accounts asked
    for one, the contacts required and credited over the period, and the accounts overdue now."""
    labels = {"report": _("Value reports"), "executive": _("Executive meetings")}
    asked = other_cadences(rep.scheme)
    out = []
    for name, _field, _setting in OTHER_CADENCES:
        if not asked[name]:
            continue
        mine = [r for r in rep.others if r.cadence == name]
        out.append({"key": name, "label": labels[name], **{f: sum(getattr(r, f) for r in mine)
                                                           for f in ("accounts", "required", "done", "overdue")}})
    return out


def heatmap(*, user, rep: Report) -> dict:
    """People × weeks for a unit manager or specialist, units × months for HQ: per cell the
    contacts done ÷ the contacts falling due (pro rata, exact), capped at 100 %."""
    by_unit = user.sees_everything
    spans = cadence.buckets(rep.start, rep.end, "month" if by_unit else "week")
    column = {first: j for j, (first, _last) in enumerate(spans)}
    if by_unit:
        units = shown_units(user)
        keys, labels = units.keys, [units.names[k] for k in units.keys]
        place = units.index
        row_of = "unit_id"
    else:
        keys = _owners(rep)
        names = _names(keys)
        labels = [names.get(k, str(k)) for k in keys]
        place = {k: i for i, k in enumerate(keys)}
        row_of = "owner_id"
    due = np.zeros((len(keys), len(spans)))
    done = np.zeros((len(keys), len(spans)))
    for r in rep.cells:
        i, j = place.get(getattr(r, row_of), -1), column.get(r.first)
        if i >= 0 and j is not None:
            due[i, j] += r.due
            done[i, j] += r.contacts
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(due > 0, np.minimum(done / np.where(due > 0, due, 1), 1.0) * 100, np.nan)
    cells = [[j, i, None if np.isnan(share[i, j]) else round(float(share[i, j]))]
             for i in range(len(keys)) for j in range(len(spans))]
    columns = [f"{first:%m-%d}" if not by_unit else f"{first:%Y-%m}" for first, _last in spans]
    return {"x": columns, "y": labels, "keys": keys, "cells": cells, "by": "unit" if by_unit else "person",
            "done": done.astype(int).tolist()}


# --- drill-down ------------------------------------------------------------------------------------


@dataclass
class OverdueAccount:
    account: Account
    tier: str
    required: int
    done: int
    compliance: float
    last_visit: date | None
    last_call: date | None
    days_since_visit: int | None
    days_since_call: int | None
    overdue_visit: bool
    overdue_call: bool


def overdue_accounts(*, user, rep: Report, unit: int | None = None, person: int | None = None,
                     limit: int | None = None) -> list[OverdueAccount]:
    """The overdue accounts of the report (of one shown unit or one owner), longest without
    contact first."""
    where: dict[str, Any] = {"span": ComplianceSpan.ACCOUNT}
    if unit is not None:
        where["unit_id__in"] = shown_units(user).members(unit)
    if person is not None:
        where["owner_id"] = person
    rows = _read(user, rep.key, raw=not rep.stored, order_by=("-waited", "account_id"), limit=limit, **where).rows
    accounts = (Account.objects.visible_to(user).select_related("owner", "unit").in_bulk([r.account_id for r in rows])
                if rows else {})
    # The measure looks back only as far as each kind's longest gap; the accounts listed get
    # their last contact of any age.
    earlier = latest_contacts([r.account_id for r in rows if r.last_visit is None or r.last_call is None], rep.as_of)
    out = []
    for r in rows:
        account = accounts.get(r.account_id)
        if account is None:
            continue
        last_visit = r.last_visit if r.last_visit is not None else earlier.get((account.pk, VISIT))
        last_call = r.last_call if r.last_call is not None else earlier.get((account.pk, CALL))
        out.append(OverdueAccount(
            account=account, tier=rep.scheme.tier_label(r.tier) if r.tier else "", required=r.required, done=r.done,
            compliance=1.0 if r.required == 0 else min(r.done, r.required) / r.required,
            last_visit=None if last_visit is None else date.fromordinal(last_visit),
            last_call=None if last_call is None else date.fromordinal(last_call),
            days_since_visit=None if last_visit is None else rep.as_of.toordinal() - last_visit,
            days_since_call=None if last_call is None else rep.as_of.toordinal() - last_call,
            overdue_visit=r.overdue_visit, overdue_call=r.overdue_call))

    def waited(o: OverdueAccount) -> int:  # days since the contact owed longest; never contacted first
        days = [d if d is not None else NEVER_WAITED
                for d, late in ((o.days_since_visit, o.overdue_visit), (o.days_since_call, o.overdue_call)) if late]
        return max(days, default=-2)

    return sorted(out, key=waited, reverse=True)
