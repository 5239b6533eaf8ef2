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
from functools import lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.base import ModelState

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
               make_row: Callable[[Any], list[Any]], objects: Iterable[Any], batch_size: int = 5000) -> int:
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
