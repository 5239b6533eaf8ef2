"""Compliance with the service standards: required vs done per account, person and unit.

The read side of the cadence. A handful of set-based queries, however many accounts, each
read as integers (`core.arrays`: on PostgreSQL packed into one binary value, not a tuple
per row): the visible accounts (id, owner, unit); the scheme's snapshots; the tiers of the
snapshots that decide the period, as small integers; per contact kind, the visits or calls
per account in the period; per contact kind, the latest one as a local day number the
database computes, looking back only as far as that kind's longest allowed gap. The
activity queries read the (occurred_at, account, kind) index alone. For the heat-map the
same counts per person or unit and week or month. `cadence.py` does the arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.activities.compliance import cadence
from kam.activities.compliance.cadence import Cadence, Segment, Source
from kam.activities.models import Activity, ServiceStandard
from kam.core.arrays import integer_rows, integer_sums
from kam.core.conf import config
from kam.core.sql import LocalDayNumber
from kam.tiering.models import (
    MoveDecision,
    Scheme,
    Snapshot,
    SnapshotEntry,
    SnapshotState,
    TierMove,
)

User = get_user_model()
VISIT, CALL = 1, 2
NO_OWNER = 0  # the owner of an account in the public pool, in Measure.owner


def contact_kinds() -> tuple[list[str], list[str]]:
    """The activity kinds that count as a visit and as a call (settings)."""
    settings = config()
    return list(settings.CADENCE_VISIT_KINDS), list(settings.CADENCE_CALL_KINDS)


# The standards' other cadences, measured beside visits and calls: (name, the standard's
# "every n months" field, the setting naming the activity kinds that count).
OTHER_CADENCES = (("report", "value_report_months", "CADENCE_REPORT_KINDS"),
                  ("executive", "executive_meeting_months", "CADENCE_EXECUTIVE_KINDS"))
CADENCE_MONTHS = (1, 2, 3, 4, 6, 12)


def other_cadences(scheme: Scheme, standards: list[ServiceStandard] | None = None
                   ) -> dict[str, dict[str, Cadence]]:
    """Per other cadence (report, executive), the tiers of `scheme` that ask for one every n
    months. A period that does not divide the year is read as the nearest that does, longer."""
    found: dict[str, dict[str, Cadence]] = {name: {} for name, _field, _setting in OTHER_CADENCES}
    for s in standards if standards is not None else ServiceStandard.objects.filter(scheme=scheme):
        for name, field_name, _setting in OTHER_CADENCES:
            months = getattr(s, field_name)
            if months:
                found[name][s.tier] = Cadence(1, next((m for m in CADENCE_MONTHS if m >= months), 12))
    return found


@dataclass
class Other:
    """One of the standards' other cadences over the accounts measured (arrays aligned with ids)."""

    cadences: dict[str, Cadence]
    required: np.ndarray
    done: np.ndarray
    last: np.ndarray
    gap: np.ndarray
    since: np.ndarray

    def overdue(self, as_of: date) -> np.ndarray:
        return cadence.overdue(self.last, self.gap, as_of, self.since)

    @property
    def credited(self) -> np.ndarray:
        return cadence.credited(self.required, self.done)


# --- periods ---------------------------------------------------------------------------------------

PERIOD = re.compile(r"^(\d{4})(?:-(Q[1-4]|H[12]|\d{2}))?$")


def parse_period(text: str) -> tuple[date, date] | None:
    """"2026" (year), "2026-H1" (half-year), "2026-Q2" (quarter) or "2026-06" (month) → (first, last)."""
    match = PERIOD.match((text or "").strip())
    if not match:
        return None
    year, part = int(match[1]), match[2]
    if not 1900 <= year <= 9998:
        return None
    if part is None:
        return date(year, 1, 1), date(year, 12, 31)
    if part[0] in "QH":
        months = 3 if part[0] == "Q" else 6
        first = (int(part[1]) - 1) * months + 1
    else:
        months, first = 1, int(part)
        if not 1 <= first <= 12:
            return None
    return cadence.period_of(date(year, first, 1), months)


def current_quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def period_choices(today: date) -> list[tuple[str, str]]:
    """The pickers' periods: this year's and last year's quarters, half-years and years, recent months."""
    out = []
    for year in (today.year, today.year - 1):
        out += [(f"{year}-Q{q}", _("%(year)d Q%(quarter)d") % {"year": year, "quarter": q})
                for q in range(4, 0, -1) if date(year, (q - 1) * 3 + 1, 1) <= today]
        out += [(f"{year}-H{h}", _("%(year)d H%(half)d") % {"year": year, "half": h})
                for h in (2, 1) if date(year, (h - 1) * 6 + 1, 1) <= today]
        out.append((str(year), str(year)))
    month = date(today.year, today.month, 1)
    for _n in range(12):
        out.append((f"{month:%Y-%m}", f"{month:%Y-%m}"))
        month = (month - timedelta(days=1)).replace(day=1)
    return out


# --- standards -----------------------------------------------------------------------------------


def cadences(scheme: Scheme, standards: list[ServiceStandard] | None = None
             ) -> tuple[dict[str, Cadence], dict[str, Cadence]]:
    """The scheme's visit and call cadences per tier code (from `standards` when read already)."""
    visits, calls = {}, {}
    for s in standards if standards is not None else ServiceStandard.objects.filter(scheme=scheme):
        if s.visits:
            visits[s.tier] = Cadence(s.visits, s.visit_period)
        if s.calls:
            calls[s.tier] = Cadence(s.calls, s.call_period)
    return visits, calls


# --- measuring -----------------------------------------------------------------------------------


def local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Measure:
    """Arrays aligned with `ids` (the accounts measured, ascending id)."""

    scheme: Scheme
    start: date
    end: date  # the last day measured: the period's end, or the reference day if earlier
    as_of: date
    ids: np.ndarray
    owner: np.ndarray
    unit: np.ndarray
    segments: list[Segment]
    tier: np.ndarray  # on as_of
    required_visits: np.ndarray
    required_calls: np.ndarray
    done_visits: np.ndarray
    done_calls: np.ndarray
    last_visit: np.ndarray  # day ordinals, cadence.NEVER when none within the look-back
    last_call: np.ndarray
    visit_gap: np.ndarray
    call_gap: np.ndarray
    visit_since: np.ndarray  # day ordinals: since when the tier has asked for visits (cadence.required_since)
    call_since: np.ndarray
    visit_cadences: dict[str, Cadence] = field(default_factory=dict)
    call_cadences: dict[str, Cadence] = field(default_factory=dict)
    # The value reports and executive meetings, measured beside the visits and calls (the
    # compliance rate and the overdue flag stay those of visits and calls).
    others: dict[str, Other] = field(default_factory=dict)

    @property
    def overdue_visit(self) -> np.ndarray:
        return cadence.overdue(self.last_visit, self.visit_gap, self.as_of, self.visit_since)

    @property
    def overdue_call(self) -> np.ndarray:
        return cadence.overdue(self.last_call, self.call_gap, self.as_of, self.call_since)

    @property
    def overdue(self) -> np.ndarray:
        return self.overdue_visit | self.overdue_call

    @property
    def required(self) -> np.ndarray:
        return self.required_visits + self.required_calls

    @property
    def credited(self) -> np.ndarray:
        return (cadence.credited(self.required_visits, self.done_visits)
                + cadence.credited(self.required_calls, self.done_calls))

    @property
    def compliance(self) -> np.ndarray:
        return cadence.compliance(self.required, self.credited)


def _sources(scheme: Scheme, start: date, end: date) -> list[Source]:
    rows = Snapshot.objects.filter(scheme=scheme, state=SnapshotState.DONE).filter(
        Q(as_of__lte=end) | Q(frozen_year__gte=start.year, frozen_year__lte=end.year)
    ).values_list("pk", "as_of", "frozen_year")
    return [Source(pk, as_of, year) for pk, as_of, year in rows]


def _tier_numbers(codes: list[str]) -> Case:
    """A tier code as its place in `codes` plus one (0 for a code not among them): small
    integers read far faster than strings."""
    return Case(*[When(tier=code, then=Value(i + 1)) for i, code in enumerate(codes)], default=Value(0),
                output_field=IntegerField())


def _place(ids: np.ndarray, account_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `account_ids` in the sorted `ids`, and which of them are there at all."""
    at = np.searchsorted(ids, account_ids)
    known = at < len(ids)
    known[known] = ids[at[known]] == account_ids[known]
    return at, known


def _segments(runs, sources: list[Source], ids: np.ndarray, visible, codes: list[str]) -> list[Segment]:
    """The tiers of each run's deciding snapshot, aligned with `ids`; approved moves applied to
    annual lists. Tier codes outside `codes` (the scheme's tiers and those with a standard)
    read as untiered: they require nothing."""
    keys = {key for _a, _b, key in runs if key is not None}
    numbers = {key: np.zeros(len(ids), dtype=np.int64) for key in keys}
    if keys and len(ids):
        entries = SnapshotEntry.objects.filter(snapshot_id__in=keys)
        if visible is not None:
            entries = entries.filter(account__in=visible)
        rows = integer_rows(entries.annotate(code=_tier_numbers(codes)).values_list("snapshot_id", "account_id", "code"), 3)
        frozen = [s.key for s in sources if s.key in keys and s.frozen_year is not None]
        if frozen:
            place = {code: i + 1 for i, code in enumerate(codes)}
            moves = [(key, account_id, place.get(tier, 0)) for key, account_id, tier in TierMove.objects.filter(
                annual_list_id__in=frozen, decision=MoveDecision.APPROVED).values_list("annual_list_id", "account_id",
                                                                                       "to_tier")]
            rows = np.concatenate([rows, np.array(moves, dtype=np.int64).reshape(-1, 3)])  # moves last: they win
        at, known = _place(ids, rows[:, 1])
        for key in keys:
            mine = known & (rows[:, 0] == key)
            numbers[key][at[mine]] = rows[mine, 2]
    labels = np.array(["", *codes], dtype=object)
    tiers = {key: labels[number] for key, number in numbers.items()}
    blank = np.full(len(ids), "", dtype=object)
    return [Segment(first, last, tiers[key] if key is not None else blank) for first, last, key in runs]


def _done(activities, ids: np.ndarray, start: date, last_day: date, visit_kinds, call_kinds) -> dict:
    """Visits and calls per account within start…last_day, one pass over the
    (occurred_at, account, kind) index per contact kind."""
    done = {VISIT: np.zeros(len(ids), dtype=np.int64), CALL: np.zeros(len(ids), dtype=np.int64)}
    if last_day < start:
        return done
    inside = activities.filter(occurred_at__gte=local_start(start), occurred_at__lt=local_start(last_day + timedelta(days=1)))
    for contact, kinds in ((VISIT, visit_kinds), (CALL, call_kinds)):
        if kinds:
            done[contact] = integer_sums(inside.filter(kind__in=kinds), "account_id", Value(1), ids)
    return done


def _last_contact(activities, ids: np.ndarray, kinds: list[str], longest_gap: int, as_of: date) -> np.ndarray:
    """Per account, the local day (ordinal) of its latest contact of `kinds` on or before
    `as_of`, looking back one day more than the longest allowed gap (anything older is
    overdue whatever its date); NEVER where there is none. The database turns the latest
    time into a local day number."""
    last = np.full(len(ids), cadence.NEVER, dtype=np.int64)
    if not longest_gap or not kinds or not len(ids):
        return last
    look_from = as_of - timedelta(days=longest_gap + 1)
    rows = integer_rows(
        activities.filter(occurred_at__gte=local_start(look_from),
                          occurred_at__lt=local_start(as_of + timedelta(days=1)), kind__in=kinds)
        .values("account_id").order_by()
        .annotate(day=LocalDayNumber(Max("occurred_at"), zone=timezone.get_current_timezone(), during=(look_from, as_of)))
        .values_list("account_id", "day"), 2)
    at, known = _place(ids, rows[:, 0])
    last[at[known]] = rows[known, 1]
    return last


def _longest_gap(cads: dict[str, Cadence]) -> int:
    return max((c.gap_days or 0 for c in cads.values()), default=0)


def measure(*, user, scheme: Scheme, start: date, end: date, as_of: date | None = None,
            accounts=None, look_back: Callable[[np.ndarray], int] | None = None) -> Measure:
    """Required and done visits and calls over `start`…min(end, as_of) for the accounts `user`
    sees (or the `accounts` queryset given, for the system's own reminders). The last visit
    and call are read back the scheme's longest gap of each kind, or `look_back(gaps)` days
    when it gives more than 0 (gaps: the allowed gap of each measured account)."""
    as_of = min(as_of or timezone.localdate(), end)
    last_day = max(min(end, as_of), start) if as_of >= start else start - timedelta(days=1)
    visible = Account.objects.visible_to(user) if accounts is None else accounts
    everything = accounts is None and user.sees_everything
    # An account in the public pool has no owner: it reads as owner 0, counts for its unit
    # and for nobody in person.
    table = (np.zeros((0, 3), dtype=np.int64) if visible.query.is_empty()  # .none(): no SQL to run
             else integer_rows(visible.values_list("pk", Coalesce("owner_id", Value(NO_OWNER)), "unit_id"), 3))
    table = table[np.argsort(table[:, 0], kind="stable")]
    ids, owner, unit = table[:, 0], table[:, 1], table[:, 2]
    n = len(ids)
    scope = None if everything or Account.objects.most_of_the_live(n) else visible.values("pk")

    standards = list(ServiceStandard.objects.filter(scheme=scheme))
    visit_cadences, call_cadences = cadences(scheme, standards)
    others = other_cadences(scheme, standards)
    codes = sorted(set(scheme.tier_codes) | set(visit_cadences) | set(call_cadences)
                   | {t for cads in others.values() for t in cads})
    # The tiers of the days before as_of, back one day beyond the longest gap, say since when
    # each account's tier has asked for visits and calls (see cadence.py, "Overdue").
    longest = max([c.gap_days or 0 for c in (*visit_cadences.values(), *call_cadences.values(),
                                                 *(c for cads in others.values() for c in cads.values()))], default=0)
    clock_from = as_of - timedelta(days=longest + 1)
    sources = _sources(scheme, min(start, clock_from), max(end, as_of))
    runs = cadence.decisive_sources(start, end, sources)
    clock_runs = cadence.decisive_sources(clock_from, as_of, sources) if start <= as_of else []
    read = _segments(runs + clock_runs, sources, ids, scope, codes)
    segments, clock = read[:len(runs)], read[len(runs):]
    required_v = cadence.rounded(cadence.required_exact(segments, visit_cadences, n, start, last_day))
    required_c = cadence.rounded(cadence.required_exact(segments, call_cadences, n, start, last_day))
    tier = cadence.tiers_on(as_of, segments, n) if start <= as_of else np.full(n, "", dtype=object)
    visit_gap, call_gap = cadence.gaps(tier, visit_cadences), cadence.gaps(tier, call_cadences)

    visit_kinds, call_kinds = contact_kinds()
    activities = Activity.objects.all()
    if scope is not None:
        activities = activities.filter(account__in=scope)
    done = _done(activities, ids, start, last_day if n else start - timedelta(days=1), visit_kinds, call_kinds)
    # Looking back the scheme's longest gap of each kind (not the measured accounts' longest):
    # an account's figures do not depend on which other accounts are measured with it.
    last = {contact: _last_contact(activities, ids, kinds, (look_back and look_back(gap)) or _longest_gap(cads), as_of)
            for contact, kinds, cads, gap in ((VISIT, visit_kinds, visit_cadences, visit_gap),
                                              (CALL, call_kinds, call_cadences, call_gap))}
    measured_others = {}
    closing = last_day if n else start - timedelta(days=1)
    for name, _field, setting in OTHER_CADENCES:
        cads = others[name]
        if not cads:
            continue
        kinds = list(getattr(config(), setting))
        gap = cadence.gaps(tier, cads)
        done_other = (integer_sums(activities.filter(kind__in=kinds, occurred_at__gte=local_start(start),
                                                     occurred_at__lt=local_start(closing + timedelta(days=1))),
                                   "account_id", Value(1), ids)
                      if kinds and closing >= start else np.zeros(n, dtype=np.int64))
        measured_others[name] = Other(
            cadences=cads, required=cadence.rounded(cadence.required_exact(segments, cads, n, start, last_day)),
            done=done_other, last=_last_contact(activities, ids, kinds, _longest_gap(cads), as_of), gap=gap,
            since=cadence.required_since(clock, cads, as_of, n))
    return Measure(others=measured_others, scheme=scheme, start=start, end=last_day, as_of=as_of, ids=ids, owner=owner, unit=unit,
                   segments=segments, tier=tier, required_visits=required_v, required_calls=required_c,
                   done_visits=done[VISIT], done_calls=done[CALL], last_visit=last[VISIT], last_call=last[CALL],
                   visit_gap=visit_gap, call_gap=call_gap,
                   visit_since=cadence.required_since(clock, visit_cadences, as_of, n),
                   call_since=cadence.required_since(clock, call_cadences, as_of, n), visit_cadences=visit_cadences, call_cadences=call_cadences)


def tiers_of(*, scheme: Scheme, day: date, ids: np.ndarray, standards: list[ServiceStandard] | None = None) -> np.ndarray:
    """The tier code in `scheme` on `day` of each account of `ids` (ascending), "" for none:
    read as `measure` reads it (the annual list of the day's year, else the latest finished
    snapshot on or before the day, approved moves applied)."""
    ids = np.asarray(ids, dtype=np.int64)
    visit_cadences, call_cadences = cadences(scheme, standards)
    codes = sorted(set(scheme.tier_codes) | set(visit_cadences) | set(call_cadences))
    sources = _sources(scheme, day, day)
    runs = cadence.decisive_sources(day, day, sources)
    # A page of accounts reads only its own entries; a sweep over all of them the whole snapshot.
    among = ids.tolist() if len(ids) <= 5000 else None
    segments = _segments(runs, sources, ids, among, codes)
    return cadence.tiers_on(day, segments, len(ids))


def tier_of_account(*, scheme: Scheme, day: date, account_id: int,
                    standards: list[ServiceStandard] | None = None) -> str:
    """`tiers_of` for one account in one query: the scheme's sources, each with the account's
    tier in it and the approved move on it (an account card's question)."""
    visit_cadences, call_cadences = cadences(scheme, standards)
    codes = set(scheme.tier_codes) | set(visit_cadences) | set(call_cadences)
    entry = SnapshotEntry.objects.filter(snapshot=OuterRef("pk"), account_id=account_id).values("tier")[:1]
    move = TierMove.objects.filter(annual_list=OuterRef("pk"), account_id=account_id,
                                   decision=MoveDecision.APPROVED).order_by("-id").values("to_tier")[:1]
    rows = (Snapshot.objects.filter(scheme=scheme, state=SnapshotState.DONE)
            .filter(Q(as_of__lte=day) | Q(frozen_year=day.year))
            .annotate(tier=Subquery(entry), moved=Subquery(move)).values_list("pk", "as_of", "frozen_year", "tier", "moved"))
    tiers = {}
    sources = []
    for pk, as_of, year, tier, moved in rows:
        sources.append(Source(pk, as_of, year))
        tiers[pk] = (moved if year is not None else None) or tier or ""
    runs = cadence.decisive_sources(day, day, sources)
    key = runs[0][2] if runs else None
    tier = tiers.get(key, "") if key is not None else ""
    return tier if tier in codes else ""


# --- shared with the read model (summary.py) ------------------------------------------------

def unit_level(user, units: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """The units a viewer's table shows: the children of their own unit (the branches for HQ),
    or their unit itself when it has none."""
    if user.sees_everything:
        roots = [u for u in units if u[1].count("/") == 2]
        base = roots[0][1] if roots else "/"
    else:
        base = next((u[1] for u in units if u[0] == user.unit_id), None)
        if base is None:
            return []
    children = [u for u in units if u[1].startswith(base) and u[1].count("/") == base.count("/") + 1]
    return children or [u for u in units if u[1] == base]


def latest_contacts(ids: list[int], as_of: date, chunk: int = 10_000) -> dict[tuple[int, int], int]:
    """(account id, VISIT or CALL) → the local day ordinal of the latest such contact on or
    before `as_of`, for a list of accounts (from the (account, occurred_at) index)."""
    visit_kinds, call_kinds = contact_kinds()
    contact = Case(When(kind__in=visit_kinds, then=Value(VISIT)), default=Value(CALL), output_field=IntegerField())
    found = {}
    for at in range(0, len(ids), chunk):
        rows = integer_rows(
            Activity.objects.filter(account_id__in=ids[at:at + chunk], kind__in=visit_kinds + call_kinds,
                                    occurred_at__lt=local_start(as_of + timedelta(days=1)))
            .annotate(contact=contact).values("account_id", "contact").order_by()
            .annotate(day=LocalDayNumber(Max("occurred_at"), zone=timezone.get_current_timezone()))
            .values_list("account_id", "contact", "day"), 3)
        found.update({(int(a), int(c)): int(d) for a, c, d in rows})
    return found
