"""Read side of tiering. Account-level rows always pass through the viewer's visibility."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet

from kam.accounts.models import Account
from kam.core.models import User
from kam.tiering.explain import why
from kam.tiering.models import (
    TIER_GROUPS,
    MoveDecision,
    Scheme,
    Snapshot,
    SnapshotEntry,
    SnapshotState,
    TierMove,
)


def schemes() -> QuerySet[Scheme]:
    return Scheme.objects.filter(is_active=True).order_by("id")


def latest_snapshot(scheme: Scheme) -> Snapshot | None:
    return scheme.snapshots.filter(state=SnapshotState.DONE).order_by("-as_of", "-id").first()


def annual_list(scheme: Scheme, year: int | None = None) -> Snapshot | None:
    lists = scheme.snapshots.filter(frozen_year__isnull=False)
    if year is not None:
        lists = lists.filter(frozen_year=year)
    return lists.order_by("-frozen_year").first()


def distribution(*, user: User, snapshot: Snapshot, counts: dict[str, tuple[int, Decimal]] | None = None) -> list[dict]:
    """Count and revenue per tier, over the accounts the user sees (all of them for HQ: the
    snapshot's own summary; for others the read model, or `counts` read for several snapshots
    at once by `visible_tier_counts`)."""
    scheme = snapshot.scheme
    if user.sees_everything:
        rows = {code: {"count": v["count"], "revenue": v["revenue"], "share": v.get("share", 0)}
                for code, v in snapshot.summary.items()}
    else:
        if counts is None:
            counts = visible_tier_counts(user=user, snapshots=[snapshot]).get(snapshot.pk, {})
        rows = {tier: {"count": n, "revenue": str(revenue), "share": None} for tier, (n, revenue) in counts.items()}
    codes = list(dict.fromkeys([*scheme.tier_codes, *rows]))
    return [{"code": c, "label": scheme.tier_label(c), **rows.get(c, {"count": 0, "revenue": "0", "share": 0})}
            for c in codes if c in rows or c in scheme.tier_codes]


def visible_tier_counts(*, user: User, snapshots: list[Snapshot]) -> dict[int, dict[str, tuple[int, Decimal]]]:
    """Per snapshot, per tier: how many of the accounts `user` sees are in it, and their revenue."""
    from kam.tiering.summaries import visible_counts

    return visible_counts(user, [s.pk for s in snapshots])[0] if snapshots else {}


def group_rows(scheme: Scheme, distribution: list[dict]) -> list[dict]:
    """Each tier group of the scheme (the value customers: 明星 + 金牛) summed from the
    distribution rows, for the table under the distribution."""
    found = []
    for group in scheme.groups:
        codes = scheme.group_codes(group)
        rows = [d for d in distribution if d["code"] in codes]
        shares = [d["share"] for d in rows]
        found.append({
            "code": f"group:{group}", "label": str(TIER_GROUPS[group]),
            "tiers": " + ".join(d["label"] for d in rows),
            "count": sum(d["count"] for d in rows),
            "revenue": str(sum(Decimal(str(d["revenue"])) for d in rows)),
            "share": None if any(s is None for s in shares) else round(sum(shares), 4),
        })
    return found


def _visible_entries(user: User, snapshot: Snapshot) -> QuerySet[SnapshotEntry]:
    return snapshot.entries.filter(account__in=Account.objects.visible_to(user).values("pk"))


def portfolio_cells(*, user: User, snapshot: Snapshot) -> dict[tuple[str, str], int]:
    """Accounts the user sees per (attractiveness, relationship) cell of a portfolio snapshot."""
    rows = (_visible_entries(user, snapshot).values_list("inputs__attractiveness", "inputs__relationship")
            .annotate(count=Count("id")).order_by())
    return {(attractiveness, relationship): count for attractiveness, relationship, count in rows}


def entries(*, user: User, snapshot: Snapshot, tier: str = "") -> QuerySet[SnapshotEntry]:
    """The snapshot's rows the user sees, of one tier, or of a group of tiers ("group:value")."""
    qs = _visible_entries(user, snapshot)
    if tier.startswith("group:"):
        qs = qs.filter(tier__in=snapshot.scheme.group_codes(tier.removeprefix("group:")))
    elif tier:
        qs = qs.filter(tier=tier)
    return qs.select_related("account", "account__owner", "account__unit").order_by("rank", "account__code")


@dataclass
class AccountTier:
    scheme: Scheme
    snapshot: Snapshot
    tier: str
    label: str
    why: str
    annual: str | None  # the tier in the current annual list, if one is fixed


# A snapshot's report (its charts alone are some 15 KB of JSON): what a card showing an
# account's tiers never reads.
_BULKY = ("summary", "charts", "flags", "message")


def account_tiers(*, account: Account) -> list[AccountTier]:
    """The account's tier under each active scheme (latest snapshot), with the reason and its
    tier on the scheme's annual list (approved moves applied): three queries however many schemes
    (the schemes come with their snapshots: one without a snapshot has no tier to show)."""
    latest: dict[int, Snapshot] = {}
    annual: dict[int, Snapshot] = {}
    by_id: dict[int, Scheme] = {}
    candidates = (Snapshot.objects.filter(scheme__is_active=True)
                  .filter(Q(state=SnapshotState.DONE) | Q(frozen_year__isnull=False))
                  .select_related("scheme").defer(*_BULKY).order_by("-as_of", "-id"))
    for snapshot in candidates:
        by_id[snapshot.scheme_id] = snapshot.scheme
        if snapshot.state == SnapshotState.DONE:
            latest.setdefault(snapshot.scheme_id, snapshot)
        if snapshot.frozen_year is not None:
            held = annual.get(snapshot.scheme_id)
            if held is None or (snapshot.frozen_year, snapshot.pk) > (held.frozen_year, held.pk):
                annual[snapshot.scheme_id] = snapshot
    active = [by_id[pk] for pk in sorted(by_id)]
    entries = {e.snapshot_id: e for e in SnapshotEntry.objects.filter(
        account=account, snapshot_id__in=[s.pk for s in (*latest.values(), *annual.values())])}
    moved = dict(TierMove.objects.filter(annual_list_id__in=[s.pk for s in annual.values()], account=account,
                                         decision=MoveDecision.APPROVED).values_list("annual_list_id", "to_tier"))
    found = []
    for scheme in active:
        current = latest.get(scheme.pk)
        entry = entries.get(current.pk) if current is not None else None
        if current is None or entry is None:
            continue
        snapshot = current
        snapshot.scheme = scheme
        listed: Snapshot | None = annual.get(scheme.pk)
        on_list = None
        if listed is not None:
            on_list = moved.get(listed.pk) or (entries[listed.pk].tier if listed.pk in entries else None)
        entry.snapshot = snapshot
        found.append(AccountTier(scheme, snapshot, entry.tier, scheme.tier_label(entry.tier), why(snapshot, entry),
                                 scheme.tier_label(on_list) if on_list else None))
    return found


def account_tier_history(*, account: Account, limit: int = 60) -> list[tuple[Snapshot, str]]:
    rows = (
        SnapshotEntry.objects.filter(account=account, snapshot__state=SnapshotState.DONE)
        .select_related("snapshot", "snapshot__scheme").defer("inputs", *(f"snapshot__{f}" for f in _BULKY))
        .order_by("-snapshot__as_of", "-snapshot_id")[:limit]
    )
    return [(r.snapshot, r.snapshot.scheme.tier_label(r.tier)) for r in rows]


def tier_choices() -> list[tuple[str, str]]:
    """("scheme:tier", label) for every active scheme that has a snapshot (one query): the
    account list's tier filter."""
    tiered = Scheme.objects.filter(is_active=True, snapshots__state=SnapshotState.DONE).distinct().order_by("id")
    return [(f"{scheme.code}:{code}", f"{scheme.display_name} · {scheme.tier_label(code)}")
            for scheme in tiered for code in scheme.tier_codes]


def accounts_in_tier(accounts: QuerySet[Account], value: str) -> QuerySet[Account]:
    """The accounts of `accounts` in tier `value` ("scheme-code:tier") of the scheme's latest
    snapshot; none when the scheme has no snapshot."""
    code, _sep, tier = value.partition(":")
    scheme = Scheme.objects.filter(code=code, is_active=True).first()
    snapshot = latest_snapshot(scheme) if scheme else None
    if snapshot is None:
        return accounts.none()
    return accounts.filter(pk__in=snapshot.entries.filter(tier=tier).values("account_id"))
