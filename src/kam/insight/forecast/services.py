"""Fitting the customer-base models on the revenue facts and scoring every account.

The data: the revenue facts of the live accounts over the INSIGHT_HISTORY_MONTHS months up
to the calibration end. The lines of one account on one day are summed; a day whose sum is
above zero is one purchase (a refund that cancels the day's sales leaves no purchase). The
rows go from the database straight into numpy arrays — no object per line — and
`kam.insight.forecast.maths.transactions` turns them into each account's (x, t_x, T, mean repeat value)
in INSIGHT_PERIOD units.

The fit: the count model (INSIGHT_COUNT_MODEL: BG/NBD or Pareto/NBD) on every account that
bought in the window, the gamma-gamma spend model on those that bought again. The fit is
stored (`ModelFit`) with its window, parameters, log-likelihoods and time; then every
account that bought in the window gets its `AccountScore`: P(alive), expected purchases
and value over INSIGHT_HORIZON_MONTHS, and its lifetime value over INSIGHT_CLV_MONTHS at
INSIGHT_MONTHLY_DISCOUNT a month. Without a usable spend model (too few repeat buyers, or
q ≤ 1: no finite mean spend) the purchases are valued at each account's own mean spend. Scores are written in batches as upserts, each keeping
the P(alive) of the fit before in `p_alive_before`; accounts that no longer bought in the
window lose their score.
"""

from __future__ import annotations

import calendar
import itertools
import logging
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connections, router, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, Value
from django.db.models import FloatField as FloatOut
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account
from kam.core import summaries
from kam.core.arrays import integer_rows
from kam.core.bulk import copy_fast, copy_to_temp
from kam.core.conf import config
from kam.core.errors import ValidationFailed
from kam.core.models import User
from kam.core.policies import require
from kam.core.sql import EpochDay
from kam.insight.forecast import policies
from kam.insight.forecast.maths import bgnbd, gammagamma, paretonbd
from kam.insight.forecast.maths.bgnbd import BgNbdFit
from kam.insight.forecast.maths.clv import MONTH_DAYS, customer_lifetime_value
from kam.insight.forecast.maths.gammagamma import GammaGammaFit
from kam.insight.forecast.maths.paretonbd import ParetoNbdFit
from kam.insight.forecast.maths.transactions import (
    PERIOD_DAYS,
    CustomerSummary,
    Transactions,
    summarise,
)
from kam.insight.models import AccountScore, CountModel, ModelFit, Period
from kam.revenue.models import RevenueFact

log = logging.getLogger(__name__)

# Statistical floors, not business numbers: below them maximum likelihood has too little
# to go on (a handful of customers per parameter) and returns whatever the optimiser
# stopped at. The count model has four parameters, the spend model three.
MIN_CUSTOMERS = 20
MIN_REPEAT_CUSTOMERS = 10
SCORE_BATCH = 2000
READ_MONTHS = 12
EPOCH = np.datetime64("1970-01-01", "D")
# The money columns hold 16 digits, two after the point.
MONEY_LIMIT = 10.0**14


class NotEnoughData(ValidationFailed):
    """The revenue facts do not give enough to fit a model on; nothing was stored."""


# --- reading the revenue facts --------------------------------------------------------------------


def _fen(field_name: str) -> Cast:
    """A money column in whole fen as a 64-bit integer (rounded, so exact)."""
    scaled = ExpressionWrapper(Coalesce(F(field_name), Value(0)) * 100, output_field=FloatOut())
    return Cast(Round(scaled), output_field=BigIntegerField())


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def history_window(calibration_end: date, months: int) -> tuple[date, date]:
    """The `months` months up to and including `calibration_end`: (first day, last day)."""
    return months_before(calibration_end, months) + timedelta(days=1), calibration_end


def _date_parts(start: date, end: date) -> list[Q]:
    """[start, end] cut into spans of READ_MONTHS months: each read walks the date index
    over its own span only, and on PostgreSQL each packed transfer stays a few tens of MB."""
    parts, first = [], start
    while first <= end:
        following = months_before(first, -READ_MONTHS)
        parts.append(Q(date__gte=first, date__lt=following))
        first = following
    return parts


def transactions_from_revenue(*, start: date, end: date) -> Transactions:
    """The purchases of the live accounts from `start` to `end` (both included): one per
    account and day whose lines sum to more than zero, amounts in yuan."""
    alive = np.sort(integer_rows(Account.objects.alive().values_list("id"), 1)[:, 0])
    facts = RevenueFact.objects.annotate(day=EpochDay("date"), fen=_fen("amount"))
    if connections[facts.db].vendor == "sqlite":
        # SQLite keeps the lines in the order they came (an import's, by account): walking the
        # date index fetches each line from anywhere in the table, several times slower than
        # one pass over it, which a condition on the computed day gives.
        epoch = date(1970, 1, 1)
        span = facts.filter(day__gte=(start - epoch).days, day__lte=(end - epoch).days)
        chunks = [integer_rows(span.values_list("account_id", "day", "fen"), 3)]
    else:
        dated = facts.filter(date__lte=end).values_list("account_id", "day", "fen")
        chunks = [integer_rows(dated.filter(part), 3) for part in _date_parts(start, end)]
    rows = np.concatenate(chunks) if chunks else np.zeros((0, 3), dtype=np.int64)
    where = np.searchsorted(alive, rows[:, 0])
    live = where < len(alive)
    live[live] = alive[where[live]] == rows[live, 0]
    rows = rows[live]
    merged = Transactions.from_rows(rows[:, 0], EPOCH + rows[:, 1], rows[:, 2].astype(np.float64))
    bought = merged.amount > 0
    return Transactions(customers=merged.customers, customer=merged.customer[bought], day=merged.day[bought],
                        amount=merged.amount[bought] / 100)


# --- fitting --------------------------------------------------------------------------------------


@dataclass
class Fitted:
    """A stored fit and what scoring it did."""

    fit: ModelFit
    scored: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)


def _count_module(name: str) -> Any:
    """The module (bgnbd or paretonbd) whose `fit` fits the count model `name`."""
    return {CountModel.BGNBD.value: bgnbd, CountModel.PARETONBD.value: paretonbd}[name]


def _finite(parameters: dict[str, float]) -> bool:
    return all(np.isfinite(v) and v > 0 for v in parameters.values())


def fit_from_database(*, calibration_end: date, period: str | None = None, count_model: str | None = None,
                      actor: User | None = None) -> Fitted:
    """Fit the models on the revenue facts up to `calibration_end`, store the fit and score
    every account that bought in the window. Raises `NotEnoughData` (nothing stored) when
    the facts are too few to fit on, `ValidationFailed` for an unknown model or period."""
    period = period or config().INSIGHT_PERIOD
    count_model = count_model or config().INSIGHT_COUNT_MODEL
    if period not in Period.values:
        raise ValidationFailed(_("The period must be week or month, not %(value)s.") % {"value": period},
                               errors={"period": [_("Choose week or month.")]})
    if count_model not in CountModel.values:
        raise ValidationFailed(_("The count model must be bgnbd or paretonbd, not %(value)s.") % {"value": count_model},
                               errors={"model": [_("Choose bgnbd or paretonbd.")]})
    started = time.perf_counter()
    start, end = history_window(calibration_end, config().INSIGHT_HISTORY_MONTHS)
    transactions = transactions_from_revenue(start=start, end=end)
    summary = summarise(transactions, calibration_end=end, period=period)
    customers, repeat = len(summary), int(summary.repeat.sum())
    if customers < MIN_CUSTOMERS or repeat == 0:
        raise NotEnoughData(
            _("Too little revenue to fit a model on: %(customers)d accounts bought between %(start)s and %(end)s, "
              "%(repeat)d of them more than once; a fit needs at least %(min)d accounts and one that bought again.")
            % {"customers": customers, "repeat": repeat, "start": start, "end": end, "min": MIN_CUSTOMERS},
            errors={"calibration_end": [_("Too little revenue up to this day.")]},
        )
    notes: list[str] = []
    count = _count_module(count_model).fit(summary.frequency, summary.recency, summary.age)
    if not count.converged:
        # The other count model may converge where this one does not (Pareto/NBD often does).
        other = CountModel.PARETONBD.value if count_model == CountModel.BGNBD.value else CountModel.BGNBD.value
        second = _count_module(other).fit(summary.frequency, summary.recency, summary.age)
        if second.converged and _finite(second.parameters):
            notes.append(_("%(model)s did not converge on these data; %(other)s did and is used.")
                         % {"model": CountModel(count_model).label, "other": CountModel(other).label})
            count, count_model = second, other
    if not _finite(count.parameters):
        raise NotEnoughData(_("The count model found no finite estimate on these data; nothing was stored."),
                            errors={"calibration_end": [_("No estimate.")]})
    spend = stored_spend = None
    if repeat < MIN_REPEAT_CUSTOMERS:
        notes.append(_("The spend model was not fitted: %(repeat)d accounts bought more than once, it needs "
                       "%(min)d. Expected value uses each account's own mean spend per purchase.")
                     % {"repeat": repeat, "min": MIN_REPEAT_CUSTOMERS})
    else:
        spend = stored_spend = gammagamma.fit(summary.frequency, summary.mean_value)
        if not spend.converged:
            notes.append(_("The spend model did not converge. Expected value uses each account's own mean spend "
                           "per purchase."))
            spend = None
        elif not _finite(spend.parameters):
            stored_spend = spend = None
            notes.append(_("The spend model found no finite estimate. Expected value uses each account's own "
                           "mean spend per purchase."))
        elif not spend_usable(spend.parameters):
            notes.append(_("The spend model gives no finite mean spend (q = %(q).3g, at most 1): spend varies "
                           "between accounts more than it allows. Expected value uses each account's own mean "
                           "spend per purchase.") % {"q": spend.q})
            spend = None
    values = forecast(summary=summary, count=count, spend=spend or OwnMean(transactions, summary))
    if not (np.all(np.isfinite(values["p_alive"])) and np.all(np.isfinite(values["expected_purchases"]))):
        raise NotEnoughData(_("The count model's estimate gives no finite forecast on these data; nothing was "
                              "stored."), errors={"calibration_end": [_("No forecast.")]})
    seconds = time.perf_counter() - started
    with transaction.atomic():
        # Two refits at once (the nightly run and a button) take turns here: each waits for
        # the latest fit's row, so one writes all its scores before the other starts.
        list(ModelFit.objects.select_for_update().order_by("-id").values_list("id", flat=True)[:1])
        fit = ModelFit.objects.create(
            count_model=count_model, period=period, window_start=start, calibration_end=end,
            count_params=count.parameters, count_log_likelihood=count.log_likelihood,
            spend_params=stored_spend.parameters if stored_spend else None,
            spend_log_likelihood=stored_spend.log_likelihood if stored_spend else None,
            customers=customers, repeat_customers=repeat, converged=count.converged,
            seconds=0, created_by=actor,
        )
        if count.converged:
            scored, removed = score_accounts(fit=fit, summary=summary, values=values)
        else:
            # A fit that did not converge is kept for the record, never made current: the
            # scores stay those of the last converged fit.
            scored = removed = 0
            notes.append(_("Neither count model converged on these data: the fit is kept for the record and "
                           "the scores stay those of the last fit that converged."))
        fit.seconds = round(time.perf_counter() - started, 3)
        fit.scored_accounts = scored
        fit.save(update_fields=["seconds", "scored_accounts"])
    log.info("insight fit %s: %d customers, %d scored, %d scores removed, %.1f s (fit %.1f s)", fit.pk, customers,
             scored, removed, fit.seconds, seconds)
    return Fitted(fit=fit, scored=scored, removed=removed, notes=notes)


# --- scoring --------------------------------------------------------------------------------------


def _money(values: np.ndarray) -> list[Decimal | None]:
    """Yuan as Decimal rounded to the fen; None where the value is not a finite amount."""
    usable = np.isfinite(values) & (np.abs(values) < MONEY_LIMIT)
    fen = np.round(np.where(usable, values, 0.0) * 100).astype(np.int64).tolist()
    return [Decimal(f).scaleb(-2) if ok else None for f, ok in zip(fen, usable.tolist(), strict=True)]


PARAMETER_ORDER = ("r", "alpha", "a", "b", "s", "beta", "p", "q", "gamma")


def ordered_parameters(parameters: dict[str, float] | None) -> dict[str, float]:
    """The parameters in the papers' order (PostgreSQL's jsonb keeps keys in an order of its own)."""
    parameters = parameters or {}
    return {k: parameters[k] for k in sorted(parameters, key=lambda k: (PARAMETER_ORDER + (k,)).index(k))}


def spend_usable(parameters: dict[str, float] | None) -> bool:
    """Whether gamma-gamma parameters give a finite mean spend (q > 1) to forecast with."""
    return bool(parameters) and parameters is not None and parameters["q"] > 1


class OwnMean:
    """The spend per purchase to forecast with when there is no usable spend model: each
    account's own mean over its purchases in the window (first one included)."""

    def __init__(self, transactions: Transactions, summary: CustomerSummary) -> None:
        within = transactions.day <= summary.calibration_end
        totals = np.bincount(transactions.customer[within], weights=transactions.amount[within],
                             minlength=len(transactions.customers))
        counts = np.bincount(transactions.customer[within], minlength=len(transactions.customers))
        where = np.searchsorted(transactions.customers, summary.customers)
        self.mean = totals[where] / np.maximum(counts[where], 1)

    def expected_spend(self, frequency: np.ndarray, mean_value: np.ndarray) -> np.ndarray:
        return self.mean


def forecast(*, summary: CustomerSummary, count: BgNbdFit | ParetoNbdFit,
             spend: GammaGammaFit | OwnMean) -> dict[str, Any]:
    """Per customer of `summary`: P(alive), expected purchases over the horizon, expected
    spend per purchase (from `spend`: the gamma-gamma fit or `OwnMean`), expected value over
    the horizon and lifetime value (money as Decimal)."""
    x, t_x, T = summary.frequency, summary.recency, summary.age
    per_month = MONTH_DAYS / PERIOD_DAYS[summary.period]
    horizon = config().INSIGHT_HORIZON_MONTHS * per_month
    purchases = count.expected_transactions(horizon, x, t_x, T)
    per_purchase = spend.expected_spend(x, summary.mean_value)
    clv = customer_lifetime_value(count, spend, frequency=x, recency=t_x, age=T, mean_value=summary.mean_value,
                                  months=config().INSIGHT_CLV_MONTHS,
                                  monthly_discount=float(config().INSIGHT_MONTHLY_DISCOUNT),
                                  period=summary.period)
    return {"p_alive": count.p_alive(x, t_x, T), "expected_purchases": purchases,
            "expected_spend": _money(per_purchase), "expected_value": _money(purchases * per_purchase),
            "clv": _money(clv)}


SCORE_COLUMNS = ("account_id", "fit_id", "frequency", "recency", "age", "p_alive", "expected_purchases",
                 "expected_spend", "expected_value", "clv", "scored_at")
# Their types in PostgreSQL, for the temporary table the rows go through.
SCORE_TYPES = ("bigint", "bigint", "integer", "double precision", "double precision", "double precision",
               "double precision", "numeric(16, 2)", "numeric(16, 2)", "numeric(16, 2)", "timestamptz")


def score_accounts(*, fit: ModelFit, summary: CustomerSummary, values: dict[str, Any]) -> tuple[int, int]:
    """Upsert one score per customer of `summary` (account ids) from `fit` with its
    `forecast` values, the P(alive) a row held before moving to `p_alive_before`; remove the
    scores of accounts not in `summary`. Returns (scored, removed). Runs inside the caller's
    transaction.

    One prepared INSERT … ON CONFLICT DO UPDATE (SQLite ≥ 3.24) run with executemany in
    batches: bulk_create would compile a statement for every 90 rows on SQLite; on PostgreSQL
    the same statement reads the rows from a temporary table filled over COPY. The previous
    P(alive) is moved by the database itself, not read out first."""
    connection = connections[router.db_for_write(AccountScore)]
    ops, quote = connection.ops, connection.ops.quote_name
    table = quote(AccountScore._meta.db_table)
    updates = [f"{quote('p_alive_before')} = {table}.{quote('p_alive')}"]
    updates += [f"{quote(c)} = excluded.{quote(c)}" for c in SCORE_COLUMNS[1:]]
    sql = (f"INSERT INTO {table} ({', '.join(quote(c) for c in SCORE_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(SCORE_COLUMNS))}) "
           f"ON CONFLICT ({quote('account_id')}) DO UPDATE SET {', '.join(updates)}")

    def money(value: Decimal | None) -> Any:
        return None if value is None else ops.adapt_decimalfield_value(value, 16, 2)

    now = ops.adapt_datetimefield_value(timezone.now())
    ids = summary.customers.astype(np.int64).tolist()
    rows = zip(ids, [fit.pk] * len(ids), summary.frequency.astype(np.int64).tolist(), summary.recency.tolist(),
               summary.age.tolist(), np.clip(values["p_alive"], 0.0, 1.0).tolist(),
               np.asarray(values["expected_purchases"]).tolist(), map(money, values["expected_spend"]),
               map(money, values["expected_value"]), map(money, values["clv"]), [now] * len(ids), strict=True)
    if copy_fast(AccountScore):
        # PostgreSQL: the rows over COPY into a temporary table and one INSERT … SELECT from
        # there (100,000 upserts one by one, even pipelined, take several times longer).
        connection.ensure_connection()
        columns = ", ".join(quote(c) for c in SCORE_COLUMNS)
        with connection.connection.cursor() as raw:
            copy_to_temp(raw, "kam_new_score", list(zip(SCORE_COLUMNS, SCORE_TYPES, strict=True)), rows)
            raw.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM kam_new_score "
                        f"ON CONFLICT ({quote('account_id')}) DO UPDATE SET {', '.join(updates)}")
    else:
        with connection.cursor() as cursor:
            while batch := list(itertools.islice(rows, SCORE_BATCH)):
                cursor.executemany(sql, batch)
    removed, _by_model = AccountScore.objects.exclude(fit=fit).delete()
    summaries.invalidate("scores")  # (nearly) every account's score moved: the histogram is rebuilt at its next read
    return len(ids), removed


# --- the nightly job ------------------------------------------------------------------------------


def refit_and_score(as_of: date | None = None) -> dict[str, Any]:
    """The nightly refit: the models on the revenue facts up to the day before `as_of`
    (default today in Asia/Shanghai), every account scored. With too little revenue it logs
    why and stores nothing."""
    as_of = as_of or timezone.localdate()
    try:
        fitted = fit_from_database(calibration_end=as_of - timedelta(days=1))
    except NotEnoughData as exc:
        log.info("insight refit as of %s skipped: %s", as_of, exc.message)
        return {"fit": None, "customers": 0, "scored": 0, "removed": 0, "skipped": exc.message}
    for note in fitted.notes:
        log.info("insight refit as of %s: %s", as_of, note)
    return {"fit": fitted.fit.pk, "customers": fitted.fit.customers, "scored": fitted.scored,
            "removed": fitted.removed, "seconds": fitted.fit.seconds}


def refit_now(*, actor: User, calibration_end: date | None = None) -> Fitted:
    """Headquarters refit the models now (the models page's button): to `calibration_end`,
    default yesterday."""
    require(policies.may_refit(actor), _("Only headquarters refit the customer-base models."))
    return fit_from_database(calibration_end=calibration_end or timezone.localdate() - timedelta(days=1), actor=actor)
