"""Read side of opportunities: the filtered list, the board, the pipeline per stage, the
stage history. Every query starts from `Opportunity.objects.visible_to(user)`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from kam.accounts import search
from kam.accounts.models import Account
from kam.core.conf import config
from kam.core.models import OrgUnit, User
from kam.core.paging import Keyset, KeysetPage
from kam.core.text import normalise_query
from kam.sales.models import CLOSED_STAGES, Opportunity, Stage
from kam.sales.opportunities.filters import OpportunityFilter
from kam.sales.opportunities.stages import STAGE_ORDER, stage_probabilities
from kam.sales.opportunities.summary import visible_stage_counts

ZERO = Decimal("0.00")
# The board shows won and lost deals closed within this many days unless the request asks for
# another window (?closed_days=…); there is no site setting for it.
DEFAULT_CLOSED_DAYS = 90


def opportunity_list(*, user: User, filters: OpportunityFilter | None = None) -> QuerySet[Opportunity]:
    filters = filters or OpportunityFilter()
    qs = Opportunity.objects.visible_to(user)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.owner:
        qs = qs.filter(owner_id=filters.owner)
    if filters.account:
        qs = qs.filter(account_id=filters.account)
    if filters.unit:
        unit = OrgUnit.objects.filter(pk=filters.unit).first()
        qs = qs.filter(account__unit__path__startswith=unit.path) if unit else qs.none()
    if filters.close_from:
        qs = qs.filter(expected_close__gte=filters.close_from)
    if filters.close_to:
        qs = qs.filter(expected_close__lte=filters.close_to)
    if filters.amount_min is not None:
        qs = qs.filter(amount__gte=filters.amount_min)
    if filters.amount_max is not None:
        qs = qs.filter(amount__lte=filters.amount_max)
    if term := normalise_query(filters.q):
        qs = qs.filter(Q(name__icontains=term) | search.matching(term, "account__"))
    return qs.select_related("account", "owner", "outcome_reason").order_by("expected_close", "-id")


def opportunity_get(*, user: User, pk: int) -> Opportunity | None:
    return (Opportunity.objects.visible_to(user)
            .select_related("account", "owner", "outcome_reason", "created_by", "lead")
            .filter(pk=pk).first())


def account_opportunities(*, user: User, account: Account) -> QuerySet[Opportunity]:
    """The account's opportunities, open ones first, then the most recently closed."""
    return (Opportunity.objects.visible_to(user).filter(account=account).select_related("owner")
            .order_by("closed_on", "expected_close", "-id"))


# --- totals per stage ---------------------------------------------------------------------------


@dataclass
class StageTotal:
    stage: str
    label: str
    probability: Decimal  # a fraction
    count: int = 0
    amount: Decimal = ZERO
    weighted: Decimal = ZERO


@dataclass
class Pipeline:
    stages: list[StageTotal]

    def _open(self) -> list[StageTotal]:
        return [s for s in self.stages if s.stage not in CLOSED_STAGES]

    @property
    def open_count(self) -> int:
        return sum(s.count for s in self._open())

    @property
    def open_amount(self) -> Decimal:
        return sum((s.amount for s in self._open()), ZERO)

    @property
    def weighted(self) -> Decimal:
        """The weighted pipeline: every open deal's amount times its stage's probability."""
        return sum((s.weighted for s in self._open()), ZERO)


def stage_totals(qs: QuerySet[Opportunity]) -> Pipeline:
    """Count, amount and weighted amount per stage of `qs`, in board order (one query)."""
    return _pipeline({row["stage"]: (row["n"], row["amount"] or ZERO) for row in
                      qs.order_by().values("stage").annotate(n=Count("id"), amount=Sum("amount"))})


def list_totals(*, user: User, filters: OpportunityFilter, qs: QuerySet[Opportunity]) -> Pipeline:
    """The totals above the opportunity list `qs`: of the whole list from its read model
    (kam.sales.opportunities.summary), counted for a filtered one."""
    if filters.is_active():
        return stage_totals(qs)
    return _pipeline(visible_stage_counts(user))


def _pipeline(counts: dict[str, tuple[int, Decimal]]) -> Pipeline:
    probabilities = stage_probabilities()
    labels = dict(Stage.choices)
    stages = []
    for stage in STAGE_ORDER:
        count, amount = counts.get(stage, (0, ZERO))
        amount = amount.quantize(ZERO)
        stages.append(StageTotal(stage=stage, label=str(labels[stage]), probability=probabilities[stage],
                                 count=count, amount=amount, weighted=(amount * probabilities[stage]).quantize(ZERO)))
    return Pipeline(stages=stages)


# --- the board ------------------------------------------------------------------------------------


@dataclass
class Column:
    total: StageTotal
    cards: list[Opportunity] = field(default_factory=list)
    next_cursor: str | None = None  # where the column's next cards start (None: all shown)

    @property
    def stage(self) -> str:
        return self.total.stage

    @property
    def is_closed(self) -> bool:
        return self.total.stage in CLOSED_STAGES

    @property
    def more(self) -> int:
        return self.total.count - len(self.cards)


def _board_deals(*, user: User, filters: OpportunityFilter, closed_days: int, today: date | None) -> QuerySet[Opportunity]:
    """What the board shows: the open deals matching the filters, won and lost ones closed in
    the last `closed_days` days."""
    today = today or timezone.localdate()
    base = opportunity_list(user=user, filters=filters.model_copy(update={"stage": None}))
    since = today - timedelta(days=max(0, closed_days))
    shown = base.filter(Q(stage__in=[s for s in STAGE_ORDER if s not in CLOSED_STAGES])
                        | Q(stage__in=CLOSED_STAGES, closed_on__gte=since))
    return shown.filter(stage=filters.stage) if filters.stage else shown


def _column_cards(deals: QuerySet[Opportunity], stage: str) -> Keyset:
    """A column's cards in their order: the nearest expected close first, the latest closed
    first in won and lost."""
    order = ("-closed_on", "-id") if stage in CLOSED_STAGES else ("expected_close", "id")
    return Keyset(deals.filter(stage=stage).order_by(*order))


def board(*, user: User, filters: OpportunityFilter | None = None, closed_days: int = DEFAULT_CLOSED_DAYS,
          per_column: int | None = None, today: date | None = None) -> list[Column]:
    """One column per stage, its totals counting the whole column and its first `per_column`
    cards (BOARD_COLUMN_SIZE) listed, with the cursor of the next ones (`board_column`)."""
    filters = filters or OpportunityFilter()
    per_column = per_column or config().BOARD_COLUMN_SIZE
    deals = _board_deals(user=user, filters=filters, closed_days=closed_days, today=today)
    columns = []
    for total in stage_totals(deals).stages:
        column = Column(total=total)
        if total.count:
            page = _column_cards(deals, total.stage).page(None, per_column)
            column.cards, column.next_cursor = page.rows, page.next_cursor
        columns.append(column)
    return columns


def board_column(*, user: User, stage: str, cursor: str, filters: OpportunityFilter | None = None,
                 closed_days: int = DEFAULT_CLOSED_DAYS, per_column: int | None = None,
                 today: date | None = None) -> KeysetPage:
    """The next cards of one column of the board, after `cursor` (a column's `next_cursor`);
    InvalidCursor for a cursor the column did not make."""
    filters = filters or OpportunityFilter()
    deals = _board_deals(user=user, filters=filters, closed_days=closed_days, today=today)
    return _column_cards(deals, stage).page(cursor, per_column or config().BOARD_COLUMN_SIZE)


# --- stage history --------------------------------------------------------------------------------


@dataclass
class StageStay:
    stage: str
    label: str
    entered_at: datetime
    left_at: datetime | None
    by: User | None
    from_stage: str

    @property
    def days(self) -> int:
        end = self.left_at or timezone.now()
        return max(0, (timezone.localdate(end) - timezone.localdate(self.entered_at)).days)


def stage_history(opportunity: Opportunity) -> list[StageStay]:
    """Every stage the opportunity entered, when, by whom, and the days it stayed there
    (until now for the current one)."""
    labels = dict(Stage.choices)
    changes = list(opportunity.stage_changes.select_related("by").order_by("at", "id"))
    stays = []
    for i, change in enumerate(changes):
        left = changes[i + 1].at if i + 1 < len(changes) else None
        if left is None and change.to_stage in CLOSED_STAGES:
            left = change.at  # a closed deal stays nowhere
        stays.append(StageStay(stage=change.to_stage, label=str(labels.get(change.to_stage, change.to_stage)),
                               entered_at=change.at, left_at=left, by=change.by, from_stage=change.from_stage))
    return stays
