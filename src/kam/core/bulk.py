"""Inserting many rows fast: one prepared INSERT run with executemany.

Django's bulk_create compiles SQL for every few dozen rows (SQLite allows it 999
parameters per statement) and converts each value through the field's generic path;
for an import of 100,000 accounts that compilation is most of the time. Here the
statement is built once per model and values are converted by a function chosen once
per field. No ids come back: callers look rows up by a unique key afterwards.
Portable: the SQL is a plain INSERT, placeholders and quoting come from the backend; on
PostgreSQL the same rows go through COPY, the bulk path that database is built for.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState
from django.utils import timezone

_AS_IS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)


def _converter(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Callable[[Any], Any] | None:
    """How a value of `field` goes to the database; None when it goes as it is.
    Dates and times repeat across the rows of an import (its timestamp, signing dates),
    so their conversions are remembered."""
    ops = connection.ops
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else ops.adapt_decimalfield_value(v, field.max_digits, field.decimal_places)
    if isinstance(field, models.DateTimeField):
        return lru_cache(maxsize=4096)(lambda v: None if v is None else ops.adapt_datetimefield_value(v))
    if isinstance(field, models.DateField):
        return lru_cache(maxsize=4096)(lambda v: None if v is None else ops.adapt_datefield_value(v))
    if isinstance(field, _AS_IS) and not isinstance(field, models.AutoField | models.BigAutoField):
        return None
    return lambda v: field.get_db_prep_save(v, connection)


def _row_maker(fields: list[models.Field[Any, Any]], connection: BaseDatabaseWrapper) -> Callable[[Any], list[Any]]:
    """obj → the list of its database values in `fields` order: one attrgetter call for
    all the values, then a conversion only where a field needs one."""
    get = operator.attrgetter(*(f.attname for f in fields))
    conversions = [(i, convert) for i, f in enumerate(fields) if (convert := _converter(f, connection))]

    def make(obj: Any) -> list[Any]:
        values = list(get(obj)) if len(fields) > 1 else [get(obj)]
        for i, convert in conversions:
            values[i] = convert(values[i])
        return values

    return make


def new_instances(model: type[models.Model]) -> Callable[..., models.Model]:
    """A factory of unsaved `model` instances for bulk inserts, several times faster than
    `model(**values)`: the fields' defaults are computed once (callable defaults once per
    instance) and no signals are sent. Only for rows that go through insert_rows."""
    fixed: dict[str, Any] = {}
    per_instance: list[tuple[str, Callable[[], Any]]] = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            per_instance.append((field.attname, field.default))
        else:
            fixed[field.attname] = field.get_default()
    new = model.__new__

    def make(**values: Any) -> models.Model:
        obj = new(model)
        state = ModelState()
        obj.__dict__.update(fixed)
        for attname, default in per_instance:
            obj.__dict__[attname] = default()
        obj.__dict__.update(values)
        obj.__dict__["_state"] = state
        return obj

    return make


def chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Slices of `items` small enough for one `__in` lookup on any database."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def ids_by(model: type[models.Model], field: str, values: Iterable[Any], *, where: str = "") -> dict[Any, int]:
    """{value: primary key} for the `values` that occur in `model`'s `field` column (a plain
    text or integer key), asked with plain SQL: Django's `__in` prepares each parameter
    through the field, and an import asks about tens of thousands of keys at a time.
    `where` is an extra SQL condition on the table, such as "deleted_at IS NULL"."""
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    column = quote(_concrete(model, field).column)
    table, pk = quote(model._meta.db_table), quote(_pk(model).column)
    extra = f" AND ({where})" if where else ""
    found: dict[Any, int] = {}
    with connection.cursor() as cursor:
        for chunk in chunks(list(dict.fromkeys(values))):
            cursor.execute(f"SELECT {column}, {pk} FROM {table} WHERE {column} IN ({', '.join(['%s'] * len(chunk))}){extra}",
                           chunk)
            found.update(cursor.fetchall())
    return found


def present(model: type[models.Model], field: str, values: Iterable[Any], *, where: str = "") -> set[Any]:
    """Which of `values` occur in `model`'s `field` column (see ids_by)."""
    return set(ids_by(model, field, values, where=where))


def insert_rows(model: type[models.Model], objects: Iterable[Any], *, batch_size: int = 2000) -> int:
    """INSERT `objects` (model instances or anything with the fields' attnames as
    attributes) into `model`'s table. Auto primary keys are left to the database."""
    connection = connections[router.db_for_write(model)]
    fields = [
        f for f in model._meta.local_concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField))
    ]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    row = _row_maker(fields, connection)
    if connection.vendor == "postgresql":
        return _copy_rows(connection, model, fields, row, objects)
    count, batch = 0, []
    with connection.cursor() as cursor:
        for obj in objects:
            batch.append(row(obj))
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                count, batch = count + len(batch), []
        if batch:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count


def _copy_rows(connection: BaseDatabaseWrapper, model: type[models.Model], fields: list[models.Field[Any, Any]],
               make_row: Callable[[Any], Sequence[Any]], objects: Iterable[Any], batch_size: int = 5000) -> int:
    """PostgreSQL: COPY … FROM STDIN, several times faster than INSERTs for bulk rows.
    Rows are gathered a batch at a time before each COPY starts, because producing them may
    query the same connection (a lazy queryset, a progress update), which a COPY in
    progress would block for ever."""
    quote = connection.ops.quote_name
    sql = "COPY {} ({}) FROM STDIN".format(quote(model._meta.db_table), ", ".join(quote(f.column) for f in fields))
    count, iterator = 0, iter(objects)
    with connection.cursor() as cursor:
        while batch := [make_row(obj) for obj in itertools.islice(iterator, batch_size)]:
            with cursor.cursor.copy(sql) as copy:
                for values in batch:
                    copy.write_row(values)
            count += len(batch)
    return count


def _concrete(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The concrete field `name` of `model` (a column, not a relation's other side)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise ValueError(f"{model.__name__}.{name} is not a column")
    return field


def _pk(model: type[models.Model]) -> models.Field[Any, Any]:
    pk = model._meta.pk
    if pk is None or not pk.column:
        raise ValueError(f"{model.__name__} has no primary key column")
    return pk


def copy_fast(model: type[models.Model] | None = None) -> bool:
    """Whether the database `model` is written to (the default one without a model) takes
    bulk rows over COPY into temporary tables (PostgreSQL): callers with a COPY path then
    use `copy_to_temp` and one statement from there, and the ORM elsewhere."""
    alias = router.db_for_write(model) if model is not None else DEFAULT_DB_ALIAS
    return connections[alias].vendor == "postgresql"


def copy_to_temp(cursor: Any, name: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL: a temporary table `name` with `columns` ((name, SQL type) pairs) holding
    `rows`, sent over COPY on `cursor` (a psycopg cursor: `connection.connection.cursor()`).
    It is dropped first (a test's transaction never commits) and again at commit."""
    cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t in columns)}) ON COMMIT DROP")
    with cursor.copy(f"COPY {name} ({', '.join(c for c, _t in columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def update_rows(model: type[models.Model], rows: Sequence[Sequence[Any]], fields: Sequence[str], *,
                extra: Mapping[str, Any] | None = None) -> int:
    """Set `fields` of the rows of `model` named by primary key: each row of `rows` is
    (pk, value of each field in `fields` order); `extra` gives fields set to one value on
    every row (e.g. a timestamp). On PostgreSQL one UPDATE … FROM (VALUES …): bulk_update's
    CASE with a branch per row grows with the square of the batch there; elsewhere
    bulk_update. Call it with batches of a few thousand rows. Returns the rows given."""
    extra = dict(extra or {})
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        objects = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True)), **extra) for row in rows]
        model._default_manager.bulk_update(objects, [*fields, *extra])
        return len(rows)
    meta, quote = model._meta, connection.ops.quote_name
    pk, columns = _pk(model), [_concrete(model, name) for name in fields]
    constants = [(_concrete(model, name), value) for name, value in extra.items()]
    casts = ", ".join(f"%s::{f.db_type(connection)}" for f in [pk, *columns])
    settings = [f"{quote(f.column)} = v.{quote(f.column)}" for f in columns]
    settings += [f"{quote(f.column)} = %s" for f, _value in constants]
    params: list[Any] = [f.get_db_prep_save(value, connection) for f, value in constants]
    for row in rows:
        params += [f.get_db_prep_save(value, connection) for f, value in zip([pk, *columns], row, strict=True)]
    names = ", ".join(quote(f.column) for f in [pk, *columns])
    sql = (f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(settings)} "
           f"FROM (VALUES {', '.join([f'({casts})'] * len(rows))}) AS v({names}) "
           f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return len(rows)


# --- rows given as values, with the ids they will have -------------------------------------------


def insert_values(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
                  prepared: bool = False, batch_size: int = 2000, on_conflict: Sequence[str] | None = None,
                  update: Sequence[str] = ()) -> int:
    """INSERT `rows`, each a sequence of the values of `fields` (attnames, in that order; the
    primary key may be one of them, see `reserve_ids`), into `model`'s table: for generated
    rows, where building a model instance per row would cost more than the insert. The
    model's other columns take their field's default (a callable one called per row).
    Values go through each field's conversion, as in insert_rows, unless `prepared` says
    they already are in the form the database client takes: numbers, strings, booleans and
    None as they are, dates as ISO strings, instants from `instants`. Returns the rows.

    With `on_conflict` (the fields of a unique constraint, or () for any) a row that would
    break a unique constraint is skipped, or with `update` (fields) those fields of the row
    already there are set from it: ON CONFLICT, which SQLite and PostgreSQL both take (on
    PostgreSQL then through INSERTs, not COPY). Returns the rows written."""
    connection = connections[router.db_for_write(model)]
    meta = model._meta
    if update and not on_conflict:
        raise ValueError("update needs the fields of the unique constraint (on_conflict)")
    given = [_concrete(model, name) for name in fields]
    names = {f.attname for f in given}
    if len(names) != len(given):
        raise ValueError("a field is named twice")
    rest = [f for f in meta.local_concrete_fields if f.attname not in names
            and not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField))]
    fixed = [f.get_default() for f in rest if not (f.has_default() and callable(f.default))]
    per_row = [f for f in rest if f.has_default() and callable(f.default)]
    columns = [*given, *(f for f in rest if not (f.has_default() and callable(f.default))), *per_row]
    converters = [(i, convert) for i, f in enumerate(columns)
                  if (convert := _converter(f, connection)) and (not prepared or i >= len(given))]
    width = len(given)
    defaults = tuple(fixed)

    def make(values: Sequence[Any]) -> Sequence[Any]:
        if len(values) != width:
            raise ValueError(f"{model.__name__}: a row of {len(values)} values for {width} fields")
        row = [*values, *defaults, *(f.default() for f in per_row)]
        for i, convert in converters:
            row[i] = convert(row[i])
        return row

    def make_prepared(values: Sequence[Any]) -> Sequence[Any]:
        # The common case of generated rows: nothing to convert, no default to call.
        if len(values) != width:
            raise ValueError(f"{model.__name__}: a row of {len(values)} values for {width} fields")
        return (*values, *defaults) if defaults else values

    if not converters and not per_row:
        make = make_prepared

    quote = connection.ops.quote_name
    if connection.vendor == "postgresql" and on_conflict is None:
        return _copy_rows(connection, model, columns, make, rows)
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(meta.db_table), ", ".join(quote(f.column) for f in columns), ", ".join(["%s"] * len(columns)))
    if on_conflict is not None:
        target = f" ({', '.join(quote(_concrete(model, name).column) for name in on_conflict)})" if on_conflict else ""
        if update:
            sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in (_concrete(model, n).column for n in update))
            sql += f" ON CONFLICT{target} DO UPDATE SET {sets}"
        else:
            sql += f" ON CONFLICT{target} DO NOTHING"
    count = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while batch := [make(values) for values in itertools.islice(iterator, batch_size)]:
            cursor.executemany(sql, batch)
            count += len(batch) if on_conflict is None else max(cursor.rowcount, 0)
    return count


def insert_history(model: type[models.Model], objects: Iterable[models.Model], *, update: bool = True,
                   user: Any = None, reason: str | None = None, when: Any = None) -> int:
    """The history rows (django-simple-history's) of `objects` as they are now, as
    bulk_history_create writes them — an object's own `_history_user`, `_history_date` and
    `_change_reason` first, then `user` (else the request's user), `when` (else now) and
    `reason` — but through insert_values: one prepared INSERT (COPY on PostgreSQL) for all of
    them, where bulk_history_create builds a model instance per row and the ORM compiles an
    INSERT for every few rows of a wide table. `update` marks them as changes ("~"), else as
    creations ("+")."""
    history = model.history.model  # type: ignore[attr-defined]
    tracked = [f.attname for f in history.tracked_fields]
    fields = [*tracked, "history_date", "history_user_id", "history_change_reason", "history_type"]
    when = when or timezone.now()
    kind = "~" if update else "+"

    def row(obj: models.Model) -> tuple[Any, ...]:
        by = getattr(obj, "_history_user", None) if hasattr(obj, "_history_user") else (
            user or history.get_default_history_user(obj))
        return (*(getattr(obj, a) for a in tracked), getattr(obj, "_history_date", when), getattr(by, "pk", by),
                getattr(obj, "_change_reason", None) or reason, kind)

    return insert_values(history, fields, (row(o) for o in objects))


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` primary keys for new rows of `model` (an auto-increment key) that no other
    insert will take, ascending: rows inserted with them (insert_values with the key among
    the fields) can be referred to at once, without reading their ids back. PostgreSQL
    draws them from the key's sequence; SQLite moves its AUTOINCREMENT counter on, which
    the write lock of the caller's transaction keeps to itself until it commits."""
    if count <= 0:
        return []
    connection = connections[router.db_for_write(model)]
    pk = _pk(model)
    if not isinstance(pk, models.AutoField | models.BigAutoField | models.SmallAutoField):
        raise ValueError(f"{model.__name__} has no auto-increment key")
    quote = connection.ops.quote_name
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                           [quote(table), pk.column, count])
            return sorted(row[0] for row in cursor.fetchall())
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"reserve_ids on {connection.vendor}")
        if not connection.in_atomic_block:
            raise RuntimeError("reserve_ids needs a transaction: the ids are the caller's until it commits")
        cursor.execute(f"SELECT MAX({quote(pk.column)}) FROM {quote(table)}")
        highest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
        first = max(highest, found[0] if found else 0) + 1
        if found:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [first + count - 1, table])
        else:
            cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, first + count - 1])
    return list(range(first, first + count))


def instants(model: type[models.Model], seconds: Any) -> list[Any]:
    """Instants given as whole seconds since the epoch (a numpy array) in the form `model`'s
    database takes for a DateTimeField when values are `prepared` (see insert_values):
    for a bulk insert of generated rows, where making an aware datetime per row and
    converting it would cost more than the insert."""
    import numpy as np

    connection = connections[router.db_for_write(model)]
    moments = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    if connection.vendor == "postgresql":
        return [f"{text}+00:00" for text in np.datetime_as_string(moments, unit="s").tolist()]
    if connection.vendor == "sqlite" and connection.timezone_name == "UTC":
        # SQLite keeps naive UTC text, "YYYY-MM-DD HH:MM:SS" as the backend writes whole seconds.
        return [text.replace("T", " ") for text in np.datetime_as_string(moments, unit="s").tolist()]
    from datetime import UTC, datetime

    ops = connection.ops
    return [ops.adapt_datetimefield_value(datetime.fromtimestamp(s, UTC)) for s in np.asarray(seconds).tolist()]


# SQLite's page cache during a long run of bulk writes: large enough for the pages of the
# indexes being filled, which the default 2 MB keeps reading back from disk.
BULK_CACHE_MIB = 512
# A rebuildable bulk session's write-ahead log is checkpointed every this many pages (400 MB).
BULK_CHECKPOINT_PAGES = 100_000


@contextmanager
def bulk_session(model: type[models.Model] | None = None, *, rebuildable: bool = False) -> Iterator[None]:
    """A long run of bulk writes on this connection (a demo build, a large import): on SQLite
    a page cache of BULK_CACHE_MIB while it lasts, the connection's own settings after.

    `rebuildable` says the database is being filled from nothing and can be filled again (the
    demo): then SQLite also skips the disk flushes (synchronous=OFF) and checkpoints the
    write-ahead log every BULK_CHECKPOINT_PAGES pages instead of every 1,000, so a page
    written by many batches goes to the database file once. A killed process still leaves a
    consistent database; only a power cut during the session could damage it."""
    alias = router.db_for_write(model) if model is not None else DEFAULT_DB_ALIAS
    connection = connections[alias]
    if connection.vendor != "sqlite":
        yield
        return
    pragmas = {"cache_size": -1024 * BULK_CACHE_MIB}
    if rebuildable and not connection.in_atomic_block:  # SQLite keeps a transaction's safety level
        pragmas |= {"synchronous": 0, "wal_autocheckpoint": BULK_CHECKPOINT_PAGES}
    before = {}
    with connection.cursor() as cursor:
        for name, value in pragmas.items():
            cursor.execute(f"PRAGMA {name}")
            before[name] = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA {name} = {int(value):d}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                for name, value in before.items():
                    cursor.execute(f"PRAGMA {name} = {value:d}")


def update_values(model: type[models.Model], rows: Iterable[Sequence[Any]], fields: Sequence[str], *,
                  extra: Mapping[str, Any] | None = None, batch_size: int = 2000) -> int:
    """update_rows through one prepared UPDATE … WHERE pk = %s run for every row
    (executemany): on SQLite several times faster than bulk_update's CASE with a branch per
    row, which the database walks for each row it changes. Values go through the fields'
    conversions. Returns the rows given."""
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    pk = _pk(model)
    columns = [_concrete(model, name) for name in fields]
    constants = [(_concrete(model, name), value) for name, value in (extra or {}).items()]
    sets = [f"{quote(f.column)} = %s" for f in [*columns, *(f for f, _v in constants)]]
    sql = f"UPDATE {quote(model._meta.db_table)} SET {', '.join(sets)} WHERE {quote(pk.column)} = %s"
    fixed = [f.get_db_prep_save(value, connection) for f, value in constants]
    prepare = [(f, _converter(f, connection)) for f in columns]
    width = len(columns) + 1
    count = 0
    iterator = iter(rows)

    def make(row: Sequence[Any]) -> list[Any]:
        if len(row) != width:
            raise ValueError(f"{model.__name__}: a row of {len(row)} values for the key and {width - 1} fields")
        return [*(convert(v) if convert else v for (_f, convert), v in zip(prepare, row[1:], strict=True)),
                *fixed, row[0]]

    with connection.cursor() as cursor:
        while batch := [make(row) for row in itertools.islice(iterator, batch_size)]:
            cursor.executemany(sql, batch)
            count += len(batch)
    return count
