"""Batches of generated rows on their way to the database, overlapped where it allows.

Each batch goes through three steps: `prepare` (in order, in the calling thread: what needs
the previous batches or the database, such as the names used so far or reserved ids),
`make` (the rows, from the prepared batch alone: no database, no shared state, its own
random generator) and `write` (the rows into the database, one transaction).

- SQLite has one writer: batches are written in order by the calling thread, while the
  next batch is made in a second thread (the database works without Python's lock while
  it stores rows, so both cores are busy).
- PostgreSQL takes writers side by side: up to `writers()` batches are made and written
  at once, each by a thread with its own connection and transaction, so the database's
  work on one batch (indexes, foreign keys) overlaps another's.

The data do not depend on which mode runs: each batch draws from its own generator.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from kam.core.bulk import copy_fast

# At most this many PostgreSQL connections write demo batches at once.
MAX_WRITERS = 4


def writers() -> int:
    """How many batches are written at once: one on SQLite (a single writer), one per core
    on PostgreSQL (at most MAX_WRITERS); one inside a transaction, whose uncommitted rows
    other connections could not see (a test's)."""
    if not copy_fast() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return 1
    return max(1, min(MAX_WRITERS, os.cpu_count() or 1))


def _written(write: Callable[[Any], Any], made: Any) -> Any:
    with transaction.atomic():
        return write(made)


def _in_thread(make: Callable[[Any], Any], write: Callable[[Any], Any], prepared: Any) -> Any:
    """make and write a batch in a worker thread, on that thread's own connection."""
    try:
        return _written(write, make(prepared))
    finally:
        connections.close_all()  # this thread's connections only: the next batch may run elsewhere


def run(items: Iterable[Any], *, write: Callable[[Any], Any], prepare: Callable[[Any], Any] | None = None,
        make: Callable[[Any], Any] | None = None, done: Callable[[Any, Any], None] | None = None) -> list[Any]:
    """prepare → make → write each of `items` (see the module); `done(item, result)` is called
    in the calling thread as each batch is written. Returns the results in the order of `items`."""
    prepare = prepare or (lambda item: item)
    make = make or (lambda prepared: prepared)
    results: dict[int, Any] = {}
    count = writers()
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="demo") as pool:
        pending: deque[tuple[int, Any, Future]] = deque()

        def finish(k: int, item: Any, result: Any) -> None:
            results[k] = result
            if done is not None:
                done(item, result)

        if count == 1:
            # Made ahead in the thread, written here in order.
            for k, item in enumerate(items):
                pending.append((k, item, pool.submit(make, prepare(item))))
                while len(pending) > 1:
                    j, earlier, future = pending.popleft()
                    finish(j, earlier, _written(write, future.result()))
            while pending:
                j, earlier, future = pending.popleft()
                finish(j, earlier, _written(write, future.result()))
        else:
            for k, item in enumerate(items):
                pending.append((k, item, pool.submit(_in_thread, make, write, prepare(item))))
                while len(pending) > count:
                    j, earlier, future = pending.popleft()
                    finish(j, earlier, future.result())
            while pending:
                j, earlier, future = pending.popleft()
                finish(j, earlier, future.result())
    return [results[k] for k in sorted(results)]


def each(items: Iterable[Any], work: Callable[[Any], Any], done: Callable[[Any, Any], None] | None = None) -> list[Any]:
    """`work(item)` for independent pieces of work that write through services of their own
    (a snapshot, a month's health): side by side on PostgreSQL, one after the other
    elsewhere. Returns the results in the order of `items`."""
    items = list(items)
    if writers() == 1:
        out = []
        for item in items:
            out.append(work(item))
            if done is not None:
                done(item, out[-1])
        return out

    def alone(item: Any) -> Any:
        try:
            return work(item)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=writers(), thread_name_prefix="demo") as pool:
        futures = [pool.submit(alone, item) for item in items]
        out = []
        for item, future in zip(items, futures, strict=True):
            out.append(future.result())
            if done is not None:
                done(item, out[-1])
    return out


def read_ahead(items: Iterable[Any], read: Callable[[Any], Any], write: Callable[[Any, Any], Any],
               done: Callable[[Any, Any], None] | None = None) -> list[Any]:
    """`write(item, read(item))` for independent pieces whose reading (queries only) is apart
    from their writing (a month's health): on SQLite the next piece is read in a second
    thread, on its own connection, while this one is written here; side by side on
    PostgreSQL (as `each`); one after the other inside a transaction, whose rows another
    connection could not see. Returns the results in the order of `items`."""
    items = list(items)
    if writers() > 1 or connections[DEFAULT_DB_ALIAS].in_atomic_block or len(items) < 2:
        return each(items, lambda item: write(item, read(item)), done)

    def alone(item: Any) -> Any:
        try:
            return read(item)
        finally:
            connections.close_all()  # this thread's connection only

    out = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-read") as pool:
        ahead = pool.submit(alone, items[0])
        for k, item in enumerate(items):
            got = ahead.result()
            if k + 1 < len(items):
                ahead = pool.submit(alone, items[k + 1])
            out.append(write(item, got))
            if done is not None:
                done(item, out[-1])
    return out
