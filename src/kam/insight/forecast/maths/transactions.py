"""From purchase rows (customer, date, amount) to the per-customer summary the models use.

For each customer, over the calibration window that ends on `calibration_end` (inclusive):

- frequency x: the number of repeat purchase days (days with a purchase, less the first);
- recency t_x: time from the first purchase to the last one;
- age T: time from the first purchase to the calibration end;
- mean value: the mean amount of the repeat purchase days (0 when x = 0).

Times are in periods: a week is 7 days, as in the literature; a month is a twelfth of
365.25 days. Several lines of one customer on one day are one transaction with the
summed amount. Customers whose first purchase falls after the calibration end are left out.

Everything is vectorised (sorting and `np.unique`), so millions of rows are cheap.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PERIOD_DAYS = {"week": 7.0, "month": 365.25 / 12}
COLUMNS = ("customer", "date", "amount")
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Transactions:
    """Purchases, one per customer and day, sorted by customer then day."""

    customers: np.ndarray  # the distinct customer codes, sorted
    customer: np.ndarray  # per transaction: index into `customers`
    day: np.ndarray  # per transaction: datetime64[D]
    amount: np.ndarray  # per transaction: float64, the day's lines summed

    @classmethod
    def from_rows(cls, customer, day, amount) -> Transactions:
        """Merge the lines of one customer on one day into one transaction."""
        customers, index = np.unique(np.asarray(customer), return_inverse=True)
        index = index.ravel()
        day = np.asarray(day, dtype="datetime64[D]")
        amount = np.asarray(amount, dtype=np.float64)
        if not (len(index) == len(day) == len(amount)):
            raise ValueError("customer, day and amount must have the same length")
        order = np.lexsort((day, index))
        index, day, amount = index[order], day[order], amount[order]
        first_of_day = np.ones(len(index), dtype=bool)
        first_of_day[1:] = (index[1:] != index[:-1]) | (day[1:] != day[:-1])
        starts = np.flatnonzero(first_of_day)
        summed = np.add.reduceat(amount, starts) if len(starts) else amount
        return cls(customers=customers, customer=index[starts], day=day[starts], amount=summed)

    def __len__(self) -> int:
        return len(self.day)


@dataclass(frozen=True)
class CustomerSummary:
    """Per customer (x, t_x, T, mean repeat value) over a calibration window."""

    customers: np.ndarray  # customer codes
    frequency: np.ndarray  # x: repeat purchase days
    recency: np.ndarray  # t_x, in periods
    age: np.ndarray  # T, in periods
    mean_value: np.ndarray  # mean amount of the repeat purchase days; 0 when x = 0
    first_purchase: np.ndarray  # datetime64[D]
    calibration_end: np.datetime64
    period: str

    def __len__(self) -> int:
        return len(self.customers)

    @property
    def repeat(self) -> np.ndarray:
        """Mask of the customers with at least one repeat purchase (the spend model's data)."""
        return self.frequency > 0


def summarise(transactions: Transactions, *, calibration_end, period: str = "week") -> CustomerSummary:
    """The calibration-window summary of every customer who had bought by `calibration_end`."""
    if period not in PERIOD_DAYS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_DAYS)}, not {period!r}")
    end = np.datetime64(calibration_end, "D")
    within = transactions.day <= end
    customer = transactions.customer[within]
    day = transactions.day[within]
    amount = transactions.amount[within]
    # Sorted by customer then day, so each customer's rows are one run: first and last.
    boundary = np.flatnonzero(customer[1:] != customer[:-1]) + 1
    first = np.concatenate(([0], boundary)) if len(customer) else np.array([], dtype=np.intp)
    last = np.concatenate((boundary - 1, [len(customer) - 1])) if len(customer) else first
    counts = last - first + 1
    totals = np.add.reduceat(amount, first) if len(first) else np.array([], dtype=np.float64)
    frequency = counts - 1
    repeat_total = totals - amount[first]
    mean_value = np.divide(repeat_total, frequency, out=np.zeros(len(first)), where=frequency > 0)
    days = PERIOD_DAYS[period]
    first_day = day[first]
    return CustomerSummary(
        customers=transactions.customers[customer[first]],
        frequency=frequency.astype(np.float64),
        recency=(day[last] - first_day).astype(np.float64) / days,
        age=(end - first_day).astype(np.float64) / days,
        mean_value=mean_value,
        first_purchase=first_day,
        calibration_end=end,
        period=period,
    )


# --- reading a CSV file ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


class TransactionFileError(ValueError):
    """A transaction file that cannot be read; names each bad line, its column and the rule."""

    def __init__(self, problems: list[Problem], more: int = 0):
        self.problems, self.more = problems, more
        text = "; ".join(map(str, problems))
        super().__init__(text + (f" (and {more} more)" if more else ""))


def read_transactions_csv(source: str | Path | bytes) -> Transactions:
    """Read `customer,date,amount` (header required, any column order, extra columns ignored).

    Dates are YYYY-MM-DD or YYYYMMDD; amounts are numbers, not negative. Blank lines are
    skipped. Raises `TransactionFileError` naming the first bad lines.
    """
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TransactionFileError([Problem(line, "-", "the file must be UTF-8 text")]) from None
    lines = text.splitlines()
    header = [name.strip().lower() for name in next(csv.reader(lines[:1]), [])]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise TransactionFileError([Problem(1, ", ".join(missing), "the first line must be a header naming "
                                            "the columns customer, date and amount")])
    body = np.array(lines[1:], dtype=str) if len(lines) > 1 else np.array([], dtype=str)
    numbers = np.arange(2, len(body) + 2)
    filled = np.strings.str_len(np.strings.strip(body)) > 0
    body, numbers = body[filled], numbers[filled]
    if not len(body):
        raise TransactionFileError([Problem(2, "-", "there are no transactions after the header")])

    fields, problems = _split(body, numbers, len(header))
    if problems:
        raise TransactionFileError(problems)
    customer, when, amount = (np.strings.strip(fields[header.index(name)]) for name in COLUMNS)
    problems += [Problem(int(n), "customer", "the customer code is empty")
                 for n in numbers[np.strings.str_len(customer) == 0][:MAX_PROBLEMS]]
    days, bad_day = _parse_dates(when)
    problems += [Problem(int(n), "date", f"{v!r} is not a date written YYYY-MM-DD or YYYYMMDD")
                 for n, v in zip(numbers[bad_day][:MAX_PROBLEMS].tolist(), when[bad_day][:MAX_PROBLEMS].tolist(), strict=True)]
    values, bad_amount = _parse_amounts(amount)
    problems += [Problem(int(n), "amount", f"{v!r} is not an amount (a number, not negative)")
                 for n, v in zip(numbers[bad_amount][:MAX_PROBLEMS].tolist(), amount[bad_amount][:MAX_PROBLEMS].tolist(),
                                 strict=True)]
    if problems:
        count = len(problems)
        problems = sorted(problems, key=lambda p: (p.line, COLUMNS.index(p.column) if p.column in COLUMNS else -1))
        raise TransactionFileError(problems[:MAX_PROBLEMS], more=max(0, count - MAX_PROBLEMS))
    return Transactions.from_rows(customer, days, values)


def _split(body: np.ndarray, numbers: np.ndarray, width: int) -> tuple[list[np.ndarray], list[Problem]]:
    """Split lines on commas, vectorised; only the lines with quotes go through the csv module."""
    quoted = np.strings.find(body, '"') >= 0
    wrong = ~quoted & (np.strings.count(body, ",") != width - 1)
    fields, rest = [], body
    for _ in range(width):  # one pass per column, not per line
        head, _sep, rest = np.strings.partition(rest, ",")
        fields.append(head)
    if quoted.any():
        at = np.flatnonzero(quoted)
        parsed = list(csv.reader(body[at].tolist()))
        fits = np.array([len(row) == width for row in parsed])
        wrong[at[~fits]] = True
        kept = [row for row, ok in zip(parsed, fits, strict=True) if ok]
        for column in range(width):
            merged = fields[column].astype(object)
            merged[at[fits]] = [row[column] for row in kept]
            fields[column] = merged.astype(str)
    problems = [Problem(int(n), "-", f"expected {width} comma-separated fields, as in the header")
                for n in numbers[wrong][:MAX_PROBLEMS]]
    return fields, problems


def _parse_dates(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """datetime64[D] per entry, and the mask of entries that are not valid dates."""
    length = np.strings.str_len(text)
    compact = np.strings.replace(text, "-", "")
    dashed_ok = (length == 10) & (np.strings.slice(text, 4, 5) == "-") & (np.strings.slice(text, 7, 8) == "-")
    shaped = (dashed_ok | (length == 8)) & (np.strings.str_len(compact) == 8) & np.strings.isdigit(compact)
    days = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[D]")
    digits = compact[shaped].astype("U8").view(np.uint32).reshape(-1, 8).astype(np.int64) - ord("0")
    year = digits[:, :4] @ np.array([1000, 100, 10, 1])
    month = digits[:, 4:6] @ np.array([10, 1])
    day = digits[:, 6:] @ np.array([10, 1])
    valid = (month >= 1) & (month <= 12) & (day >= 1)
    start = ((year - 1970) * 12 + np.clip(month, 1, 12) - 1).astype("datetime64[M]")
    month_days = ((start + 1).astype("datetime64[D]") - start.astype("datetime64[D]")).astype(np.int64)
    valid &= day <= month_days
    parsed = start.astype("datetime64[D]") + (day - 1)
    bad = ~shaped
    bad[np.flatnonzero(shaped)[~valid]] = True
    days[np.flatnonzero(shaped)[valid]] = parsed[valid]
    return days, bad


def _parse_amounts(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float64 per entry, and the mask of entries that are not amounts."""
    try:
        values = text.astype(np.float64)
    except ValueError:
        # Only on the error path: find which entries do not parse.
        values = np.array([_number(v) for v in text.tolist()], dtype=np.float64)
    bad = ~np.isfinite(values) | (values < 0)
    return np.where(bad, 0.0, values), bad


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
