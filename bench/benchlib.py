"""What the benchmarks share: their own database directory, one way to empty tables and one to
write rows straight into them, and the timed path of `kam import`."""

from __future__ import annotations

import os
import time
from pathlib import Path


def setup(home: str) -> None:
    """Django on the benchmark's own data directory, whatever KAM_HOME says (`make` exports
    KAM_HOME=var, the app's own data): the benchmarks delete what their database holds.
    Tasks go to the dummy backend: an import's confirm only records the job as queued and
    the benchmark runs it itself, in this process."""
    resolved = Path(home).resolve()
    if resolved in {Path("var").resolve(), Path(os.environ.get("KAM_HOME", "var")).resolve()}:
        raise SystemExit(f"--home {home} is the app's own data directory; give the benchmark its own.")
    os.environ["KAM_HOME"] = str(resolved)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    from django.conf import settings

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    import django

    django.setup()


def dependants(*models) -> list:
    """`models` and every model whose table can hold rows that point at theirs, found in Django's
    app registry and followed transitively: foreign keys and one-to-ones of any on_delete, with
    or without a database constraint (the history tables' copies of foreign keys have none),
    the auto-created many-to-many tables, and each model's django-simple-history table.

    Ordered so that a table comes before the tables it points to. A cycle (leads and
    opportunities point at each other) is broken at the table fewest others still point at:
    Django creates its foreign keys deferred on SQLite and PostgreSQL, so inside one
    transaction the order is not what keeps them satisfied. Generic relations (a content type
    and an object id) are not foreign keys and are not followed."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    def concrete(model):
        return model._meta.concrete_model

    tables = [m for m in apps.get_models(include_auto_created=True) if m._meta.managed and not m._meta.proxy]
    points_to = {}
    for model in tables:
        targets = {concrete(f.related_model) for f in model._meta.concrete_fields
                   if f.is_relation and f.related_model is not None and (f.many_to_one or f.one_to_one)}
        if issubclass(model, HistoricalChanges) and getattr(model, "instance_type", None) is not None:
            targets.add(concrete(model.instance_type))
        points_to[model] = targets - {model}
    chain = {concrete(m) for m in models}
    grown = True
    while grown:
        grown = False
        for model in tables:
            if model not in chain and points_to[model] & chain:
                chain.add(model)
                grown = True
    # Kahn's order: a table once no table still to come points at it.
    left = sorted(chain, key=lambda m: m._meta.label)
    ordered = []
    while left:
        pick = min(left, key=lambda m: sum(m in points_to[other] for other in left))
        ordered.append(pick)
        left.remove(pick)
    return ordered


def empty(*models) -> list[str]:
    """Delete every row of `models` and of every model that depends on them (`dependants`), one
    statement per table in one transaction: DELETE on SQLite, one TRUNCATE … CASCADE on
    PostgreSQL. A row pointing at an emptied table goes too, whatever its on_delete says
    (a lead whose account is SET_NULL included): a benchmark starts from no rows, not from
    orphans. The files the deleted rows' file fields name are removed once the transaction
    commits. Returns the tables emptied, in the order emptied."""
    from django.db import connection, transaction
    from django.db.models import FileField

    chain = dependants(*models)
    quote = connection.ops.quote_name
    files = []
    with transaction.atomic():
        for model in chain:
            for field in model._meta.concrete_fields:
                if isinstance(field, FileField):
                    names = (model._base_manager.exclude(**{field.attname: ""})
                             .filter(**{f"{field.attname}__isnull": False}).values_list(field.attname, flat=True))
                    files += [(field.storage, name) for name in names]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # TRUNCATE refuses a table with foreign-key checks still pending in this
                # transaction (rows written earlier in it): run them now, then defer again.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {', '.join(quote(m._meta.db_table) for m in chain)} CASCADE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                for model in chain:
                    cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")

        def remove_files():
            for storage, name in files:
                storage.delete(name)

        transaction.on_commit(remove_files)
    return [m._meta.db_table for m in chain]


def copy_rows(model, columns: list[str], rows, batch: int = 20_000) -> int:
    """Rows (tuples in `columns` order, already database values) straight into `model`'s table:
    COPY on PostgreSQL, executemany in batches elsewhere. The model's other columns get their
    field's default (computed once), so a column added to the model later does not break the
    benchmark's set-up; one without a default that cannot be null is named in the error.
    Returns the rows written."""
    from django.db import connection

    given = set(columns)
    extra, values = [], []
    for field in model._meta.concrete_fields:
        if field.column in given or field.primary_key:
            continue
        if not field.has_default() and not field.null:
            raise ValueError(f"{model._meta.label}.{field.name} has no default and cannot be null: give the column")
        extra.append(field.column)
        values.append(field.get_db_prep_save(field.get_default() if field.has_default() else None, connection))
    tail = tuple(values)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(c) for c in [*columns, *extra])
    n = 0
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *tail))
                n += 1
        return n
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * (len(columns) + len(extra)))})"
    pending = []
    with connection.cursor() as cursor:
        for row in rows:
            pending.append((*row, *tail))
            if len(pending) >= batch:
                cursor.executemany(sql, pending)
                n += len(pending)
                pending = []
        if pending:
            cursor.executemany(sql, pending)
            n += len(pending)
    return n


def timed_import(actor, kind: str, filename: str, data: bytes):
    """The path of `kam import`, mode "valid rows": upload (keeping the table it read for the
    check, as the command line does) → check → confirm → run. Returns (job, phase seconds)."""
    from kam.imports.models import ImportJob
    from kam.imports.services import (
        import_job_check,
        import_job_confirm,
        import_job_create,
        import_job_run,
    )

    phases = {}
    start = time.perf_counter()
    job = import_job_create(actor=actor, kind=kind, filename=filename, data=data, keep_table=True)
    phases["upload"] = time.perf_counter() - start
    mark = time.perf_counter()
    job = import_job_check(job_id=job.pk)
    phases["check"] = time.perf_counter() - mark
    mark = time.perf_counter()
    job = import_job_confirm(actor=actor, job=job, mode="valid")
    job = import_job_run(job_id=job.pk)
    phases["run"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - start
    return ImportJob.objects.get(pk=job.pk), phases
