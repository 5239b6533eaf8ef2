"""The sweep's bulk writes on PostgreSQL: rows go over COPY into a temporary table and from
there into the real one in one statement each (with ON CONFLICT where the sweep relies on
a unique index). Django's bulk_create prepares every value in Python, which at a first
night's 100,000 warnings, tasks and task history rows costs more than the database work.
The callers use these where `kam.core.bulk.copy_fast()` says the database takes COPY, and
the ORM elsewhere."""

from __future__ import annotations

import json
from datetime import date, datetime

from django.db import connection

from kam.activities.models import Task, TaskSource, TaskStatus
from kam.core.bulk import copy_to_temp
from kam.insight.models import HealthScore, Warning, WarningState


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def insert_warnings(rows: list[tuple[int, int, str, dict]], now: datetime) -> int:
    """(account, rule, severity, evidence) as open warnings, skipping pairs that already have
    one (the partial unique index). Returns how many were inserted."""
    connection.ensure_connection()
    table = _q(Warning._meta.db_table)
    with connection.connection.cursor() as cursor:
        copy_to_temp(cursor, "kam_new_warning", [("account_id", "bigint"), ("rule_id", "bigint"), ("severity", "text"),
                                          ("evidence", "jsonb")],
              ((a, r, s, json.dumps(e, ensure_ascii=False)) for a, r, s, e in rows))
        cursor.execute(
            f"INSERT INTO {table} (account_id, rule_id, severity, evidence, state, opened_at, checked_at) "
            f"SELECT account_id, rule_id, severity, evidence, %s, %s, %s FROM kam_new_warning ON CONFLICT DO NOTHING",
            [WarningState.OPEN, now, now])
        return cursor.rowcount


def insert_tasks(rows: list[tuple[int, int, str, date, int]], now: datetime) -> int:
    """(owner, account, title, due on, warning id) as open warning tasks of their owners, each
    with its history row, each warning linked to its task. Returns how many were created."""
    connection.ensure_connection()
    task, history = _q(Task._meta.db_table), _q(Task.history.model._meta.db_table)
    with connection.connection.cursor() as cursor:
        copy_to_temp(cursor, "kam_new_task", [("owner_id", "bigint"), ("account_id", "bigint"), ("title", "text"),
                                       ("due_on", "date"), ("source_id", "bigint")], rows)
        # One statement: the tasks, their history rows and the warnings' links, joined on the
        # rows the insert returns (the warning's primary key index finds each warning).
        cursor.execute(
            f"WITH t AS (INSERT INTO {task} (owner_id, account_id, title, due_on, status, source_kind, source_id, "
            f"created_by_id, created_at, done_at) SELECT owner_id, account_id, title, due_on, %s, %s, source_id, owner_id, "
            f"%s, NULL FROM kam_new_task RETURNING *), "
            f"h AS (INSERT INTO {history} (id, title, due_on, status, source_kind, source_id, created_at, done_at, "
            f"owner_id, account_id, created_by_id, history_date, history_change_reason, history_type, history_user_id) "
            f"SELECT id, title, due_on, status, source_kind, source_id, created_at, done_at, owner_id, account_id, "
            f"created_by_id, %s, NULL, '+', NULL FROM t) "
            f"UPDATE {_q(Warning._meta.db_table)} AS w SET task_id = t.id FROM t WHERE w.id = t.source_id RETURNING w.id",
            [TaskStatus.OPEN, TaskSource.WARNING, now, now])
        ids = cursor.fetchall()
        return len(ids)


def upsert_health(rows: list[tuple[int, int, dict]], month: date, now: datetime) -> None:
    """(account, score, parts) as the month's health rows, replacing those already there."""
    connection.ensure_connection()
    table = _q(HealthScore._meta.db_table)
    with connection.connection.cursor() as cursor:
        copy_to_temp(cursor, "kam_health", [("account_id", "bigint"), ("score", "smallint"), ("parts", "jsonb")],
              ((a, s, json.dumps(p)) for a, s, p in rows))
        cursor.execute(
            f"INSERT INTO {table} (account_id, month, score, parts, computed_at) "
            f"SELECT account_id, %s, score, parts, %s FROM kam_health ON CONFLICT (account_id, month) "
            f"DO UPDATE SET score = EXCLUDED.score, parts = EXCLUDED.parts, computed_at = EXCLUDED.computed_at",
            [month, now])
