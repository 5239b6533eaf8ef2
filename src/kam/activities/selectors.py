"""Read side for activities and tasks. Every query starts from `visible_to(user)`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from kam.accounts.models import Account, Contact
from kam.accounts.selectors import colleagues
from kam.activities.models import Activity, Task, TaskStatus

User = get_user_model()


@dataclass
class ActivityFilters:
    """One filter definition shared by the web list, its export and the API."""

    kind: str = ""
    date_from: date | None = None
    date_to: date | None = None
    account: int | None = None
    person: int | None = None  # one of our participants


# Filter dates are clamped to days whose local midnight converts to UTC without overflowing.
EARLIEST, LATEST = date(1900, 1, 1), date(9999, 12, 30)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(max(day, EARLIEST), time.min))


def _day_end(day: date) -> datetime:
    return _day_start(min(day, LATEST) + timedelta(days=1))


def _with_people(qs: QuerySet[Activity]) -> QuerySet[Activity]:
    # Only what a name and the decision-maker badge need: lists and exports hold thousands.
    return qs.select_related("account", "created_by").prefetch_related(
        Prefetch("participants", queryset=User.objects.only(
            "id", "username", "display_name", "first_name", "last_name").order_by("id")),
        Prefetch("contacts", queryset=Contact.objects.only("id", "account_id", "name", "decision_role")
                 .order_by("name", "id")),
    )


def activity_list(*, user, filters: ActivityFilters | None = None) -> QuerySet[Activity]:
    filters = filters or ActivityFilters()
    qs = Activity.objects.visible_to(user)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.date_from:
        qs = qs.filter(occurred_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        qs = qs.filter(occurred_at__lt=_day_end(filters.date_to))
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    if filters.person:
        qs = qs.filter(participants__id=filters.person)
    return _with_people(qs).order_by("-occurred_at", "-id")


def activity_get(*, user, pk: int) -> Activity | None:
    return _with_people(Activity.objects.visible_to(user)).filter(pk=pk).first()


def activity_timeline(*, user, account: Account) -> QuerySet[Activity]:
    """The account's activities, newest first."""
    return _with_people(Activity.objects.visible_to(user).filter(account=account)).order_by("-occurred_at", "-id")


def participant_choices(*, user, account: Account) -> QuerySet:
    """Who may be named among our participants: colleagues of the user's branch and the
    account's owner and team, who may sit in other branches or at HQ."""
    return User.objects.filter(is_active=True).filter(
        Q(pk__in=colleagues(user=user).values("pk"))
        | Q(pk=account.owner_id)
        | Q(account_teams__account=account)
    ).distinct().select_related("unit").order_by("username")


def my_tasks(*, user, status: str = TaskStatus.OPEN) -> QuerySet[Task]:
    qs = Task.objects.visible_to(user).filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    order = ("due_on", "id") if status == TaskStatus.OPEN else ("-due_on", "-id")
    return qs.select_related("account").order_by(*order)


def task_get(*, user, pk: int) -> Task | None:
    return Task.objects.visible_to(user).select_related("account", "owner").filter(pk=pk).first()


# --- visit plans and staffing -------------------------------------------------------------------


def plannable_people(*, user) -> QuerySet:
    """Whose visits `user` may plan: themselves, and for managers and HQ the active people
    of the units they see."""
    from kam.activities.services import MANAGING_ROLES

    people = User.objects.filter(is_active=True)
    if user.sees_everything:
        return people.select_related("unit").order_by("username")
    mine = Q(pk=user.pk)
    if user.role in MANAGING_ROLES and user.visible_unit_ids:
        mine |= Q(unit_id__in=user.visible_unit_ids)
    return people.filter(mine).select_related("unit").order_by("username")


def visit_plan_inputs(*, actor, user, month: date, as_of: date) -> list:
    """`user`'s accounts (those `actor` also sees) with the visits each owes in `month`, its
    region and its last visit up to `as_of`. The visits owed come from the service standard of
    the account's tier in the cadence scheme (CADENCE_SCHEME); a key account without one owes
    PLAN_KEY_ACCOUNT_VISITS_PER_MONTH."""
    from collections import Counter

    from kam.accounts.models import Channel
    from kam.activities.compliance import measure as compliance
    from kam.activities.planning.planner import PlanAccount, visits_due_in_month
    from kam.core.calendar import month_days
    from kam.core.conf import kam_setting
    from kam.tiering.models import Scheme

    accounts = Account.objects.visible_to(actor).filter(owner=user)
    rows = {pk: (region, channel) for pk, region, channel in
            accounts.order_by("pk").values_list("pk", "region__name", "channel")}
    if not rows:
        return []
    end = month_days(month.year, month.month)[-1]
    scheme = Scheme.objects.filter(code=kam_setting("CADENCE_SCHEME")).first()
    tiers: dict[int, str] = {}
    cadences: dict = {}
    if scheme is not None:
        m = compliance.measure(user=actor, scheme=scheme, start=month, end=end, as_of=as_of, accounts=accounts)
        tiers = {int(pk): tier for pk, tier in zip(m.ids, m.tier, strict=True) if tier}
        cadences = m.visit_cadences
    visit_kinds, _calls = compliance.contact_kinds()

    def period_start(months: int) -> date:
        first = (month.month - 1) // months * months + 1
        return date(month.year, first, 1)

    starts = {pk: period_start(cadences[tiers[pk]].months) if tiers.get(pk) in cadences else month for pk in rows}
    earliest = min(starts.values())
    visits = Activity.objects.filter(account__in=list(rows), kind__in=visit_kinds,
                                     occurred_at__lt=_day_end(as_of)).order_by()
    last = dict(visits.values("account_id").annotate(last=Max("occurred_at")).values_list("account_id", "last"))
    done: Counter = Counter()
    for pk, at in visits.filter(occurred_at__gte=_day_start(earliest)).values_list("account_id", "occurred_at"):
        if timezone.localdate(at) >= starts[pk]:
            done[pk] += 1
    result = []
    for pk, (region, channel) in rows.items():
        cadence = cadences.get(tiers.get(pk, ""))
        if cadence is not None:
            index = month.month - starts[pk].month
            required = visits_due_in_month(count=cadence.count, period_months=cadence.months, month_index=index,
                                           done_in_period=done[pk])
        elif channel == Channel.KEY:
            required = max(0, kam_setting("PLAN_KEY_ACCOUNT_VISITS_PER_MONTH") - done[pk])
        else:
            required = 0
        result.append(PlanAccount(account_id=pk, required=required, region=region or "",
                                  last_visit=timezone.localdate(last[pk]) if pk in last else None))
    return result


def tier_loads(scheme) -> dict:
    """What one account of each tier of `scheme` asks for in a year, from its service standard:
    visits and calls per period scaled to twelve months, value reports, support hours."""
    from decimal import Decimal

    from kam.activities.models import ServiceStandard
    from kam.activities.staffing.workload import TierLoad

    loads = {}
    for s in ServiceStandard.objects.filter(scheme=scheme):
        loads[s.tier] = TierLoad(
            tier=s.tier, visits=Decimal(s.visits * 12) / s.visit_period, calls=Decimal(s.calls * 12) / s.call_period,
            reports=Decimal(12) / s.value_report_months if s.value_report_months else Decimal(0),
            support_hours=Decimal(s.support_hours_per_year),
        )
    return loads


def work_hours():
    from decimal import Decimal

    from kam.activities.staffing.workload import WorkHours
    from kam.core.conf import kam_setting

    return WorkHours(per_visit=Decimal(kam_setting("STAFFING_HOURS_PER_VISIT")),
                     per_call=Decimal(kam_setting("STAFFING_HOURS_PER_CALL")),
                     per_report=Decimal(kam_setting("STAFFING_HOURS_PER_REPORT")),
                     per_manager_year=Decimal(kam_setting("STAFFING_HOURS_PER_MANAGER_YEAR")))


@dataclass
class UnitStaffing:
    unit: object
    now: object  # staffing.Staffing
    next_year: object | None = None


def staffing_units(*, user, unit=None) -> list:
    """The unit `user` asks about (default: their own) and its direct sub-units, if `user` sees
    that unit; [] otherwise. Specialists see no staffing."""
    from kam.core.models import OrgUnit

    unit = unit or user.unit
    if unit is None or not (user.sees_everything or unit.pk in user.visible_unit_ids):
        return []
    return [unit, *OrgUnit.objects.filter(parent=unit, is_active=True).order_by("code")]


def staffing_for(*, user, unit, scheme, growth: dict[str, int] | int | None = None) -> list[UnitStaffing]:
    """Managers required vs present for `unit` (first) and each of its sub-units, each over its
    subtree: accounts per tier from the scheme's latest finished snapshot, managers present =
    active specialists and key-account managers. With `growth` (per tier, or a total shared
    like today's counts), the first row also carries next year's need."""
    from collections import Counter

    from kam.activities.staffing.workload import grown, spread_growth, staffing_need
    from kam.core.models import OrgUnit, Role
    from kam.tiering.models import Snapshot, SnapshotEntry, SnapshotState

    units = staffing_units(user=user, unit=unit)
    if not units:
        return []
    top = units[0]
    paths = dict(OrgUnit.objects.filter(path__startswith=top.path).values_list("pk", "path"))

    def owners(unit_id: int) -> list:
        # the listed units whose subtree holds `unit_id`
        path = paths.get(unit_id, "")
        return [u for u in units if path.startswith(u.path)]

    snapshot = (Snapshot.objects.filter(scheme=scheme, state=SnapshotState.DONE).order_by("-as_of", "-id").first())
    tiers: dict[int, Counter] = {u.pk: Counter() for u in units}
    if snapshot is not None:
        rows = (SnapshotEntry.objects.filter(snapshot=snapshot, account__deleted_at__isnull=True,
                                             account__unit_id__in=list(paths))
                .values("account__unit_id", "tier").order_by().annotate(n=Count("id"))
                .values_list("account__unit_id", "tier", "n"))
        for unit_id, tier, n in rows:
            for u in owners(unit_id):
                tiers[u.pk][tier] += n
    present: Counter = Counter()
    people = (User.objects.filter(is_active=True, role__in=[Role.SPECIALIST, Role.MANAGER], unit_id__in=list(paths))
              .values("unit_id").order_by().annotate(n=Count("id")).values_list("unit_id", "n"))
    for unit_id, n in people:
        for u in owners(unit_id):
            present[u.pk] += n
    loads, hours = tier_loads(scheme), work_hours()
    order = {code: i for i, code in enumerate(scheme.tier_codes)}

    def ordered(counts: dict) -> dict:
        return dict(sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))

    result = [UnitStaffing(unit=u, now=staffing_need(accounts=ordered(tiers[u.pk]), loads=loads, hours=hours,
                                                   present=present[u.pk])) for u in units]
    if growth is not None:
        counts = ordered(tiers[top.pk])
        if isinstance(growth, int):
            growth = spread_growth({t: n for t, n in counts.items() if t in loads} or counts, growth)
        result[0].next_year = staffing_need(accounts=ordered(grown(counts, growth)), loads=loads, hours=hours,
                                            present=present[top.pk])
    return result
