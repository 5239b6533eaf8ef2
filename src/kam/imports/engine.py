"""The import engine: parse every row, check the file as a whole, plan each batch
against the database, then write it.

An importer (one per kind of record: accounts, contacts, later revenue facts) says how
a row is parsed, matched and written; the engine owns the order of things, batching,
the all-or-nothing rule and progress. Planning happens again for each batch right
before it is written, inside the batch's transaction, so a re-run or a resumed run
sees what earlier batches wrote: importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.core.policies import is_active_user
from kam.imports.cells import CellError
from kam.imports.columns import Column, Mapping
from kam.imports.readers import Cell, Table


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"  # likely the same as an existing record: skipped unless asked
    REFUSED = "refused"  # valid, but the user may not write it (outside their visibility)
    INVALID = "invalid"


ACTION_LABELS = {
    Action.CREATE: gettext_lazy("Create"),
    Action.UPDATE: gettext_lazy("Update"),
    Action.UNCHANGED: gettext_lazy("Unchanged"),
    Action.DUPLICATE: gettext_lazy("Likely duplicate"),
    Action.REFUSED: gettext_lazy("Refused"),
    Action.INVALID: gettext_lazy("Invalid"),
}
WRITES = {Action.CREATE, Action.UPDATE}


class Severity(StrEnum):
    ERROR = "error"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    WARNING = "warning"


@dataclass
class Issue:
    row: int
    column: str
    message: str
    severity: Severity = Severity.ERROR
    link: str = ""  # where the user can look (an existing record they may see)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message,
                "severity": str(self.severity), "link": self.link}


@dataclass
class Row:
    number: int
    cells: list[Cell]
    values: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    action: Action | None = None
    target: Any = None
    changes: dict[str, Any] = field(default_factory=dict)
    # Set by the importer while parsing, for its own use when planning and writing.
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, column: str, message: str) -> None:
        self.issues.append(Issue(self.number, column, message, Severity.ERROR))

    def note(self, column: str, message: str, severity: Severity, link: str = "") -> None:
        self.issues.append(Issue(self.number, column, message, severity, link))

    @property
    def has_errors(self) -> bool:
        return any(i.severity == Severity.ERROR for i in self.issues)

    def parsed(self) -> None:
        """Mark the end of parsing: what planning adds later can be taken back."""
        self.extra["parsed_issues"] = len(self.issues)

    def reset(self) -> None:
        """Forget an earlier plan (a preview, or a batch planned before) but keep the
        parsing result, so the same rows can be planned again against a changed database."""
        del self.issues[self.extra.get("parsed_issues", len(self.issues)):]
        self.action, self.target, self.changes = None, None, {}


class Importer:
    """How one kind of record is imported. Subclasses set `kind`, `label`, `columns`."""

    kind: str = ""
    label: Any = ""
    columns: list[Column] = []
    # A file must map at least one of these columns (how rows find their record).
    needs_one_of: tuple[str, ...] = ()
    # Who may import this kind: a policy of the app that owns the rows (default: any active user).
    import_policy: ClassVar[Callable[[Any], bool]] = staticmethod(is_active_user)

    def __init__(self, *, actor, include_duplicates: bool = False):
        self.actor = actor
        self.include_duplicates = include_duplicates
        self.headers: dict[str, str] = {}  # column name → the header the file uses for it

    def column_label(self, name: str) -> str:
        """Name a column as the user's file does, so a message points at the cell they see."""
        if name in self.headers:
            return self.headers[name]
        return next((str(c.label) for c in self.columns if c.name == name), name)

    def same_when_normalised(self, name: str, current: Any, new: Any) -> bool:
        """Whether a stored text value reads as the new one through the column's parser:
        020-38888888 on file and 020 3888 8888 from the row are the same phone number."""
        if not isinstance(current, str) or not current:
            return False
        column = next((c for c in self.columns if c.name == name), None)
        try:
            return column is not None and column.parse(current) == new
        except CellError:
            return False

    def resolve(self, row: Row) -> None:
        """Per-row checks that need no query per row (lookups are loaded once)."""

    def check_file(self, rows: list[Row]) -> list[Row]:
        """Checks across rows (repeats within the file); returns rows in writing order."""
        return rows

    def plan(self, rows: list[Row]) -> None:
        """Set `action` (and `target`, `changes`) of every row without an error."""
        raise NotImplementedError

    def write(self, rows: list[Row]) -> None:
        """Write the rows planned as CREATE or UPDATE. Called inside a transaction."""
        raise NotImplementedError


def parse_rows(importer: Importer, table: Table, mapping: Mapping) -> list[Row]:
    by_name = {c.name: c for c in importer.columns}
    placed = [(index, by_name[name], table.headers[index]) for index, name in mapping.columns.items()]
    importer.headers = {column.name: header for _index, column, header in placed}
    rows: list[Row] = []
    for number, cells in table.rows:
        row = Row(number=number, cells=cells)
        for index, column, header in placed:
            value = cells[index] if index < len(cells) else None
            if value is None:
                continue
            try:
                row.values[column.name] = column.parse(value)
            except CellError as exc:
                row.error(header, exc.message)
        importer.resolve(row)
        rows.append(row)
    rows = importer.check_file(rows)
    for row in rows:
        row.parsed()
    return rows


@dataclass
class Outcome:
    counts: Counter = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)

    @property
    def blocking(self) -> int:
        """Rows that stop an all-or-nothing import."""
        return self.counts[Action.INVALID] + self.counts[Action.REFUSED]


def _settle(importer: Importer, batch: list[Row]) -> None:
    """Plan a batch; rows that already failed a check are INVALID whatever the plan says."""
    for row in batch:
        row.reset()
    importer.plan([r for r in batch if not r.has_errors])
    for row in batch:
        if row.has_errors:
            row.action = Action.INVALID
        elif row.action == Action.DUPLICATE and importer.include_duplicates:
            row.action = Action.CREATE


def _tally(outcome: Outcome, batch: list[Row]) -> None:
    for row in batch:
        outcome.counts[row.action] += 1
        outcome.issues.extend(row.issues)
        if row.issues:
            outcome.rows.append(row)


Progress = Callable[[int, int], None]


def preview(importer: Importer, rows: list[Row], *, batch_size: int, progress: Progress | None = None) -> Outcome:
    """What importing would do, row by row. Writes nothing."""
    outcome = Outcome()
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        _settle(importer, batch)
        _tally(outcome, batch)
        if progress:
            progress(start + len(batch), len(rows))
    return outcome


class ImportRejected(Exception):
    """An all-or-nothing import found rows it may not write; nothing was written."""

    def __init__(self, outcome: Outcome):
        super().__init__(_("The file has rows that cannot be imported; nothing was written."))
        self.outcome = outcome


def execute(
    importer: Importer,
    rows: list[Row],
    *,
    all_or_nothing: bool,
    batch_size: int,
    single_transaction_rows: int,
    start: int = 0,
    on_batch: Callable[[int, Counter], None] | None = None,
) -> Outcome:
    """Write the file. `start` resumes after rows already written by an earlier run.

    All or nothing: the whole file is checked first and refused if any row is invalid
    or refused; a file of up to `single_transaction_rows` rows is then written in one
    transaction. Larger files, and "valid rows only", go in batches of `batch_size`,
    each one transaction that also records, through `on_batch`, how far the job got —
    so a killed process leaves whole batches and a resumed run starts after them.
    """
    if all_or_nothing and start == 0:
        checked = preview(importer, rows, batch_size=batch_size)
        if checked.blocking:
            raise ImportRejected(checked)
    outcome = Outcome()

    def run_batches() -> None:
        for offset in range(start, len(rows), batch_size):
            batch = rows[offset : offset + batch_size]
            with transaction.atomic():
                _settle(importer, batch)
                importer.write([r for r in batch if r.action in WRITES])
                counts = Counter(r.action for r in batch)
                if on_batch:
                    on_batch(offset + len(batch), counts)
            _tally(outcome, batch)

    if all_or_nothing and len(rows) - start <= single_transaction_rows:
        with transaction.atomic():
            run_batches()
            # The all-or-nothing check above ran outside this transaction; a concurrent
            # writer may have claimed a code since. Then nothing of this file stays.
            if outcome.blocking:
                raise ImportRejected(outcome)
    else:
        run_batches()
    return outcome
