"""A deterministic demo dataset: a provincial operator's key-account organisation.

`build_demo(accounts=2000, seed=2026)` creates HQ, four branches, twelve offices, users of
every role, and accounts with contacts, groups and account teams (kam.demo.accounts), two
years of revenue and the tier snapshots it gives (kam.demo.revenue), a year of activities
(kam.demo.activities), leads, opportunities, the pool and deal reviews (kam.demo.sales),
and surveys, churn, model fits, warnings and health (kam.demo.insight). The same seed
always gives the same data (everything ends on the day of the build). Rows go in through
the bulk path a batch at a time, each builder with its progress bar, so 100,000 accounts
load in a few minutes and a million fit in memory.
"""

from __future__ import annotations

import time

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from kam.accounts.models import Account, Contact
from kam.core import summaries
from kam.core.bulk import bulk_session
from kam.core.conf import config
from kam.core.models import OrgUnit, User
from kam.demo.accounts import build_accounts
from kam.demo.activities import build_activities
from kam.demo.insight import build_insight
from kam.demo.org import build_org, build_regions
from kam.demo.progress import Phases
from kam.demo.revenue import build_revenue, build_snapshots
from kam.demo.sales import build_sales


def build_demo(*, accounts: int = 2000, seed: int = 2026, progress: bool = True, only_if_empty: bool = False) -> str:
    if Account.objects.exists() or OrgUnit.objects.filter(code="HQ").exists():
        if only_if_empty:
            return "Demo data not loaded: the database already holds data."
        return "Demo data not loaded: the database already holds data. Use an empty database (KAM_HOME or DATABASE_URL)."
    started = time.monotonic()
    phases = Phases()
    counts: dict[str, int] = {}
    # One day for every builder: revenue, snapshots, activities and the models all end today,
    # so no analysis reads a month the demo has no revenue for.
    now = timezone.now()
    today = timezone.localdate(now)
    with phases.phase("org"):
        password_hash = make_password(config().DEMO_PASSWORD)
        with transaction.atomic():
            users = build_org(password_hash)
            regions = build_regions()
    with bulk_session(rebuildable=True):  # an empty database: a failed build is run again
        _build(phases, seed=seed, accounts=accounts, users=users, regions=regions, today=today, now=now,
               progress=progress, counts=counts)
    elapsed = time.monotonic() - started
    lines = [
        f"Demo data: {Account.objects.count():,} accounts, {Contact.objects.count():,} contacts, "
        f"{User.objects.count()} users, {OrgUnit.objects.count()} org units, "
        f"{counts['revenue lines']:,} revenue lines, {counts['snapshots']} tier snapshots, "
        f"{counts['activities']:,} activities, {counts['open tasks']:,} open tasks, {counts['leads']:,} leads, "
        f"{counts['opportunities']:,} opportunities, {counts['reviews']} deal reviews and "
        f"{counts['pool']} accounts in the public pool, {counts['surveys']:,} satisfaction surveys, "
        f"{counts['churn_events']:,} churn events, {counts['scored']:,} accounts scored and "
        f"{counts['warnings']:,} open warnings in {elapsed:.1f} s.",
        phases.line(),
        f"Password for every demo user: {config().DEMO_PASSWORD!r}",
    ]
    for user in demo_logins():
        lines.append(f"  {user.username:<16} {user.get_role_display():<28} {user.unit.name}")
    return "\n".join(lines)


def _build(phases: Phases, *, seed: int, accounts: int, users, regions, today, now, progress: bool,
           counts: dict[str, int]) -> None:
    """The builders in order, each a phase; their counts go into `counts`."""
    with phases.phase("accounts"):
        build_accounts(seed=seed, count=accounts, users=users, regions=regions, today=today, now=now, progress=progress)
    with phases.phase("revenue"):
        counts["revenue lines"] = build_revenue(seed=seed + 2, today=today, progress=progress)
    with phases.phase("snapshots"):
        counts["snapshots"] = build_snapshots(actor=User.objects.get(username="director"), today=today,
                                              progress=progress)
    with phases.phase("activities"):
        counts["activities"], counts["open tasks"] = build_activities(
            seed=seed + 1, managers_by_branch=users.managers_by_branch, end=today, progress=progress)
    with phases.phase("sales"):
        counts.update(build_sales(seed=seed + 3, now=now, progress=progress))
    with phases.phase("insight"):
        counts.update(build_insight(seed=seed + 4, today=today, progress=progress))
    with phases.phase("summaries"):
        summaries.rebuild()  # the pages' read models, counted once from everything just written


def demo_logins() -> list[User]:
    """One user per role (and per branch for managers): the ones a newcomer tries first."""
    wanted = ["admin", "director", "gm", "analyst", "gz_manager", "sz_manager", "gz_th_spec1", "gz_th_spec2", "sz_ns_spec1"]
    found = {u.username: u for u in User.objects.filter(username__in=wanted).select_related("unit")}
    return [found[name] for name in wanted if name in found]
