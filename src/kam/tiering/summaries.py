"""The tiering pages' read model: how many of the accounts a user sees are in each tier of a
finished snapshot, and their revenue — summed from TierCount rows rather than counted over a
snapshot's entries on every request (kam.core.summaries explains the mechanism). A snapshot
finishing, an annual list frozen or a move decided mark the model stale ("tiers"); a change of
an account's unit or owner moves it between groups ("accounts")."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Sum, Value
from django.db.models.functions import Coalesce

from kam.accounts.models import Account
from kam.core import summaries
from kam.tiering.models import SnapshotEntry, SnapshotState, TierCount

TIER_COUNTS = "tier-counts"
ZERO = Decimal("0.00")


def tier_counts(accounts, snapshot_ids: list[int] | None = None) -> list[TierCount]:
    """The rows of `accounts` (live ones) in every finished snapshot (those of `snapshot_ids`)."""
    entries = SnapshotEntry.objects.filter(snapshot__state=SnapshotState.DONE, account__in=accounts.values("pk"))
    if snapshot_ids is not None:
        entries = entries.filter(snapshot_id__in=snapshot_ids)
    rows = (entries.annotate(unit=Coalesce("account__unit_id", Value(0)),
                             owner=Coalesce("account__owner_id", Value(summaries.NO_OWNER)))
            .values_list("snapshot_id", "unit", "owner", "tier").annotate(n=Count("id"), revenue=Sum("revenue"))
            .order_by())
    return [TierCount(snapshot_id=snapshot, unit_id=unit, owner_id=owner, tier=tier, accounts=n,
                      revenue=revenue or ZERO) for snapshot, unit, owner, tier, n, revenue in rows]


def _counts_where(accounts, where: dict) -> list[TierCount]:
    ids = where.get("snapshot_id__in", [where["snapshot_id"]] if "snapshot_id" in where else None)
    return tier_counts(accounts, None if ids is None else list(ids))


def register() -> None:
    summaries.register(summaries.Summary(
        code=TIER_COUNTS, model=TierCount, facts=frozenset({"accounts", "tiers"}), compute=tier_counts,
        accounts=Account.objects.alive, visible=Account.objects.visible_to,
        team_only=Account.objects.seen_only_through_team, compute_where=_counts_where))


def visible_counts(user, snapshot_ids: list[int]) -> tuple[dict[int, dict[str, tuple[int, Decimal]]], object]:
    """Per snapshot of `snapshot_ids`, per tier: the accounts `user` sees and their revenue; and
    when the figures were true."""
    read = summaries.figures(TIER_COUNTS, user, snapshot_id__in=sorted(set(snapshot_ids)))
    found: dict[int, dict[str, tuple[int, Decimal]]] = {pk: {} for pk in snapshot_ids}
    for row in read.rows:
        held = found.setdefault(row.snapshot_id, {}).get(row.tier, (0, ZERO))
        found[row.snapshot_id][row.tier] = (held[0] + row.accounts, held[1] + row.revenue)
    return found, read.as_of
