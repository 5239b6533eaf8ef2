"""Read models: the figures pages aggregate, kept in summary tables instead of counted from
the raw facts on every request.

A summary is a table of rows grouped by the account's unit and owner (0 for none) and by
whatever else its page breaks figures down by (industry, status, tier, month …), with the
sums it shows. Its `compute(accounts)` says how rows come from the raw facts for a set of
accounts; the same function serves three paths, so they cannot disagree:

- **rebuild** (`kam rebuild-summaries`, the nightly job): every group computed afresh;
- **incremental**: a change to an account's facts marks the account (SummaryDirty, in the
  change's own transaction); the next refresh recomputes only the groups those accounts were
  and are in (SummaryMember remembers where each was counted), before the page reads —
  so a page always shows its user's latest write, and a crash between the change and the
  refresh loses nothing;
- **per request**, with KAM_READ_MODELS=0: computed from the visible accounts' raw facts
  (the benchmarks' baseline).

A user's part of a summary is the rows of the units they see and of the accounts they own,
plus — computed on the spot, as they are few — the accounts they see only through an
account team. The sums of these rows are exactly the sums over the visible accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from kam.core.bulk import chunks, insert_rows, insert_values
from kam.core.conf import config
from kam.core.models import SummaryDirty, SummaryMember, SummaryState

NO_OWNER = 0
# A refresh of more groups than this recomputes the whole summary instead (an import, a sweep).
REBUILD_ABOVE_GROUPS = 400

Group = tuple[int, int]  # (unit id, owner id or NO_OWNER)


@dataclass(frozen=True)
class Summary:
    """One read model. `model`'s rows carry `unit_id` and `owner_id` (NO_OWNER for none);
    `compute(accounts)` returns unsaved rows for the accounts of the queryset given, grouped
    by unit and owner (and the summary's own keys); `facts` are the kinds of change that
    alter it ("accounts" always: a change of unit or owner moves an account between groups);
    `accounts()` is every live account and `visible(user)` those a user sees."""

    code: str
    model: type[models.Model]
    facts: frozenset[str]
    compute: Callable[[Any], list[models.Model]]
    accounts: Callable[[], Any]
    visible: Callable[[Any], Any]
    # The accounts `visible(user)` holds beyond the user's units and own accounts (their team's).
    team_only: Callable[[Any], Any]
    # Run before a full rebuild (the nightly one, `kam rebuild-summaries`): drop what nobody reads.
    prune: Callable[[], Any] | None = None
    # compute(accounts) for only the rows a read asks for (`where`, as `figures` takes it), when
    # the summary can skip the others' work (the churn spans a page does not show).
    compute_where: Callable[[Any, dict[str, Any]], list[models.Model]] | None = None
    # The summed columns (the others are keys): a read may have the database sum them over owners.
    measures: tuple[str, ...] = ()

    def computed(self, accounts: Any, where: dict[str, Any]) -> list[models.Model]:
        """The rows of `accounts` that meet `where`, computed from the raw facts."""
        rows = self.compute_where(accounts, where) if self.compute_where else self.compute(accounts)
        return _matching(rows, where)


_summaries: dict[str, Summary] = {}


def register(summary: Summary) -> Summary:
    """Declared by the app that owns the summary's table (its AppConfig.ready)."""
    _summaries[summary.code] = summary
    return summary


def registered() -> list[Summary]:
    return list(_summaries.values())


def get(code: str) -> Summary:
    return _summaries[code]


# --- marking changes ---------------------------------------------------------------------------


def touch(fact: str, account_ids: Iterable[int | None]) -> None:
    """The facts of kind `fact` of these accounts changed (or are about to, in this
    transaction): every summary that reads them will recompute their groups."""
    ids = sorted({int(i) for i in account_ids if i})
    codes = [s.code for s in _summaries.values() if fact in s.facts]
    if ids and codes:
        insert_values(SummaryDirty, ("summary", "account_id"), ((code, i) for code in codes for i in ids), prepared=True)


def invalidate(fact: str) -> None:
    """Facts of kind `fact` changed for (nearly) every account — a new tier snapshot, a changed
    definition: the summaries that read them are rebuilt at their next read."""
    codes = [s.code for s in _summaries.values() if fact in s.facts]
    SummaryState.objects.filter(code__in=codes).update(rebuilt_at=None)


def watch(model: type[models.Model], fact: str, account: str = "account_id") -> None:
    """Touch `fact` of the row's account whenever a `model` row is saved or deleted through
    the ORM (bulk paths call `touch` themselves)."""

    def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        touch(fact, [getattr(instance, account, None)])

    post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"summaries:{model._meta.label}:{fact}")
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"summaries:{model._meta.label}:{fact}:del")


# --- refreshing --------------------------------------------------------------------------------


def _groups_q(groups: Iterable[Group], unit: str = "unit_id", owner: str = "owner_id", *, none_owner: bool = False) -> Q:
    """Rows of these (unit, owner) groups; with `none_owner` owner 0 reads as NULL (the accounts' own column)."""
    q = Q(pk__in=[])
    for unit_id, owner_id in groups:
        if none_owner and owner_id == NO_OWNER:
            q |= Q(**{unit: unit_id, f"{owner}__isnull": True})
        else:
            q |= Q(**{unit: unit_id, owner: owner_id})
    return q


def _group_of(unit_id: int | None, owner_id: int | None) -> Group:
    return int(unit_id or 0), int(owner_id or NO_OWNER)


def _recompute(summary: Summary, groups: Sequence[Group]) -> None:
    """Replace the rows and the memberships of these groups by freshly computed ones."""
    for part in chunks(list(groups), 100):
        summary.model._default_manager.filter(_groups_q(part)).delete()
        accounts = summary.accounts().filter(_groups_q(part, none_owner=True))
        # Only these groups' rows: a summary may compute rows of no group (a stored key's marker).
        wanted = set(part)
        insert_rows(summary.model, (r for r in summary.compute(accounts) if _group_of(r.unit_id, r.owner_id) in wanted))
        members = list(accounts.values_list("pk", "unit_id", "owner_id"))
        SummaryMember.objects.filter(summary=summary.code).filter(_groups_q(part)).delete()
        SummaryMember.objects.filter(summary=summary.code, account_id__in=[m[0] for m in members]).delete()
        _insert_members(summary.code, members)


def _insert_members(code: str, members: Iterable[tuple[int, int | None, int | None]]) -> None:
    """(account, unit, owner) as the summary's members: plain values, not a model instance per
    account (eight summaries hold 800,000 members at 100,000 accounts)."""
    insert_values(SummaryMember, ("summary", "account_id", "unit_id", "owner_id"),
                  ((code, pk, unit or 0, owner or NO_OWNER) for pk, unit, owner in members), prepared=True)


def _state(code: str) -> SummaryState:
    """The summary's state row, locked for this transaction (one refresh at a time)."""
    SummaryState.objects.get_or_create(code=code)
    return SummaryState.objects.select_for_update().get(code=code)


def refresh(code: str) -> int:
    """Bring one summary up to date with the changes marked since its last refresh; returns
    the groups recomputed. A summary never built (or marked stale) is rebuilt."""
    summary = _summaries[code]
    built = SummaryState.objects.filter(code=code, rebuilt_at__isnull=False).exists()
    if built and not SummaryDirty.objects.filter(summary=code).exists():
        return 0
    if not built:
        return rebuild([code])[code]
    with transaction.atomic():
        state = _state(code)
        marks = list(SummaryDirty.objects.filter(summary=code).values_list("pk", "account_id"))
        if state.rebuilt_at is not None and not marks:
            return 0
        ids = sorted({account_id for _pk, account_id in marks})
        groups: set[Group] = set()
        for part in chunks(ids):
            groups.update(_group_of(u, o) for u, o in SummaryMember.objects.filter(
                summary=code, account_id__in=part).values_list("unit_id", "owner_id"))
            groups.update(_group_of(u, o) for u, o in summary.accounts().filter(pk__in=part).values_list("unit_id", "owner_id"))
        if state.rebuilt_at is not None and len(groups) <= REBUILD_ABOVE_GROUPS:
            _recompute(summary, sorted(groups))
            SummaryMember.objects.filter(summary=code, account_id__in=ids).exclude(
                account_id__in=summary.accounts().filter(pk__in=ids).values("pk")).delete()
            SummaryDirty.objects.filter(summary=code, pk__lte=max(pk for pk, _a in marks)).delete()
            state.refreshed_at = timezone.now()
            state.save(update_fields=["refreshed_at"])
            return len(groups)
    return rebuild([code])[code]  # stale since, or too many groups: every group afresh


@dataclass
class _Computed:
    """A summary's rows and memberships for every live account, computed before the swap."""

    started: datetime
    last_mark: int | None
    rows: list[Any]
    members: list[tuple[int, int | None, int | None]]
    groups: int


def _compute_all(summary: Summary) -> _Computed:
    """Read only, so that it runs outside the transaction that swaps the rows in: on SQLite
    a write transaction holds the database's one write lock from its start, and a rebuild's
    computing (seconds at 100,000 accounts) would hold every writer — a login too — waiting."""
    started = timezone.now()
    last_mark = SummaryDirty.objects.filter(summary=summary.code).order_by("-pk").values_list("pk", flat=True).first()
    accounts = summary.accounts()
    members = list(accounts.values_list("pk", "unit_id", "owner_id"))
    groups = len({_group_of(u, o) for _pk, u, o in members})
    return _Computed(started, last_mark, summary.compute(accounts), members, groups)


def _swap_in(summary: Summary, state: SummaryState, computed: _Computed) -> int:
    summary.model._default_manager.all().delete()
    SummaryMember.objects.filter(summary=summary.code).delete()
    insert_rows(summary.model, computed.rows)
    _insert_members(summary.code, computed.members)
    # Marks made while computing stay: the next refresh recomputes their groups.
    if computed.last_mark is not None:
        SummaryDirty.objects.filter(summary=summary.code, pk__lte=computed.last_mark).delete()
    state.rebuilt_at = state.refreshed_at = computed.started
    state.save(update_fields=["rebuilt_at", "refreshed_at"])
    return computed.groups


def rebuild(codes: Iterable[str] | None = None) -> dict[str, int]:
    """Every group of these summaries (all without codes) computed afresh, then swapped in in
    one short transaction; returns the groups per summary."""
    done = {}
    for code in codes or list(_summaries):
        summary = _summaries[code]
        if summary.prune is not None:
            summary.prune()
        computed = _compute_all(summary)
        with transaction.atomic():
            done[code] = _swap_in(summary, _state(code), computed)
    return done


def refresh_all() -> dict[str, int]:
    return {code: refresh(code) for code in _summaries}


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """A user's rows of a summary and when they were true."""

    rows: list[Any]
    as_of: datetime
    stored: bool  # False: computed from the raw facts for this request


def team_rows(code: str, user: Any, **where: Any) -> list[Any]:
    """The rows of summary `code`, computed from the raw facts, of the accounts `user` sees only
    through an account team, meeting `where`: for a page that reads several breakdowns of the
    same rows (`figures(team=…)`), computed once."""
    summary = _summaries[code]
    if user.sees_everything or not (ids := list(summary.team_only(user).order_by().values_list("pk", flat=True))):
        return []
    return summary.computed(summary.accounts().filter(pk__in=ids), where)


def figures(code: str, user: Any, *, by_owner: bool = True, keys: Sequence[str] | None = None,
            order_by: Sequence[str] = (), limit: int | None = None, raw: bool = False,
            team: list[Any] | None = None, **where: Any) -> Figures:
    """The rows of summary `code` that make up the accounts `user` sees (see the module),
    narrowed by `where` — equality (or `__in`) conditions on the summary's own keys. Without
    `by_owner` (a page that never breaks its figures down per person) the database sums the
    stored rows' `measures` over their owners: fewer rows, each with owner_id NO_OWNER — or,
    given `keys`, over everything but those keys (one breakdown of a page: its rows hold only
    the keys and the measures, and, like computed rows, are to be summed per key). `team`:
    the user's `team_rows` for a `where` at least as wide, computed already. With
    `order_by` (fields, "-" for descending) and `limit`, the first `limit` rows in that order.
    With `raw` (or KAM_READ_MODELS=0) computed from the visible accounts' raw facts."""
    summary = _summaries[code]
    if raw or not config().READ_MODELS:
        return Figures(_first(summary.computed(summary.visible(user), where), order_by, limit), timezone.now(), False)
    refresh(code)
    state = SummaryState.objects.get(code=code)
    rows = summary.model._default_manager.filter(**where)
    extra: list[Any] = []
    if not user.sees_everything:
        reach = Q(owner_id=user.pk)
        if unit_ids := list(user.visible_unit_ids or []):
            reach |= Q(unit_id__in=unit_ids)
        rows = rows.filter(reach)
        # The residue is the accounts seen through a team only: few, so read their ids once
        # rather than have every query of the computation repeat the visibility test.
        if team is not None:
            extra = _matching(team, where)
        elif residue_ids := list(summary.team_only(user).order_by().values_list("pk", flat=True)):
            extra = summary.computed(summary.accounts().filter(pk__in=residue_ids), where)
    if not by_owner and summary.measures:
        rows = _owners_folded(summary, rows, keys)
    if order_by or limit is not None:
        rows = rows.order_by(*order_by)[:limit] if limit is not None else rows.order_by(*order_by)
        return Figures(_first([*rows, *extra], order_by, limit), state.refreshed_at or timezone.now(), True)
    return Figures([*rows, *extra], state.refreshed_at or timezone.now(), True)


def _first(rows: list[Any], order_by: Sequence[str], limit: int | None) -> list[Any]:
    """`rows` in the order `order_by` names (as the database orders stored rows), the first `limit`."""
    for key in reversed(order_by):  # stable sorts, the last key first
        name = key.lstrip("-")
        rows = sorted(rows, key=lambda r, name=name: getattr(r, name), reverse=key.startswith("-"))
    return rows if limit is None else rows[:limit]


def store(code: str, rows: list[models.Model], *, replace: Q, started: datetime) -> bool:
    """Put rows computed since `started` for every account in place of the stored rows
    `replace` selects (a summary that keeps rows only for the keys somebody reads, adding one).
    Refused — False, nothing written — when a refresh or rebuild ran meanwhile: the marks it
    consumed may have changed what was computed."""
    with transaction.atomic():
        state = _state(code)
        if state.rebuilt_at is None or max(state.rebuilt_at, state.refreshed_at or state.rebuilt_at) > started:
            return False
        _summaries[code].model._default_manager.filter(replace).delete()
        insert_rows(_summaries[code].model, rows)
    return True


def stored(code: str, *, marker: Q, replace: Q, rows: Callable[[], list[models.Model]]) -> bool:
    """Make sure a key somebody reads is stored — `marker` selects the row saying it is —
    computing its `rows()` for every account and storing them (in place of `replace`) if not.
    False when they could not be stored (a refresh ran while computing): read raw facts."""
    refresh(code)
    if _summaries[code].model._default_manager.filter(marker).exists():
        return True
    started = timezone.now()
    return store(code, rows(), replace=replace, started=started)


def _owners_folded(summary: Summary, rows: Any, only: Sequence[str] | None = None) -> list[Any]:
    """The stored rows summed over owners (over all but the keys `only` names) by the database,
    each a plain record with the row's kept keys, its measures and owner_id NO_OWNER (building
    model instances would cost more than the sum saves)."""
    keys = list(only) if only is not None else [
        f.attname for f in summary.model._meta.concrete_fields
        if not f.primary_key and f.attname not in summary.measures and f.attname != "owner_id"]
    sums = [models.Sum(m) for m in summary.measures]
    names = (*keys, *summary.measures)
    return [SimpleNamespace(owner_id=NO_OWNER, **dict(zip(names, r, strict=True)))
            for r in rows.order_by().values_list(*keys).annotate(*sums).values_list(*keys, *(f"{m}__sum" for m in summary.measures))]


def _matching(rows: list[Any], where: dict[str, Any]) -> list[Any]:
    """The computed rows that meet `where` (as the database would apply it to stored rows)."""
    def holds(row: Any, key: str, value: Any) -> bool:
        name, _sep, lookup = key.partition("__")
        return getattr(row, name) in value if lookup == "in" else getattr(row, name) == value

    return [r for r in rows if all(holds(r, key, value) for key, value in where.items())]


def total(rows: Iterable[Any], field: str) -> int:
    return sum(getattr(r, field) for r in rows)


def by(rows: Iterable[Any], key: str, field: str) -> dict[Any, int]:
    """Σ `field` per value of `key`."""
    out: dict[Any, int] = {}
    for row in rows:
        out[getattr(row, key)] = out.get(getattr(row, key), 0) + getattr(row, field)
    return out


