"""Explicit transactions on the underlying ``sqlite3`` connection.

Connections from :func:`store.open_db` use ``isolation_level=None``: Python's ``sqlite3`` never opens or
commits a transaction by itself, so the boundaries below are exactly the ones SQLite sees. sqlite-utils
(4.x) joins a transaction that is already open, so its table methods can be used inside :func:`transaction`
too.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlite_utils

from store.records import to_iso, utc_now

T = TypeVar("T")

_savepoints = itertools.count(1)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """Run the block in one transaction on ``db`` and yield its ``sqlite3`` connection.

    Outside a transaction this is ``BEGIN IMMEDIATE`` (the write lock is taken at once, so a busy database
    waits ``busy_timeout`` instead of failing later) and ``COMMIT``, or ``ROLLBACK`` when the block raises.
    Inside an open transaction it is a savepoint: the block's writes join the outer transaction and are undone
    alone when the block raises.
    """
    conn = db.conn
    if conn.in_transaction:
        name = f"tasteradar_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        conn.execute(f"RELEASE SAVEPOINT {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def write_in_batches(
    db: sqlite_utils.Database,
    sql: str,
    items: Iterable[T],
    to_row: Callable[[T, str], Sequence[Any]],
    batch_size: int,
) -> int:
    """Run ``sql`` over ``to_row(item, now)`` for every item, one transaction per ``batch_size`` items.

    ``items`` is read lazily (memory holds one batch); ``now`` is the batch's ISO time. A row ``to_row``
    refuses (it raises) fails its batch before anything of that batch is written; earlier batches stay.
    Returns how many rows were written.
    """
    written = 0
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, batch_size)):
        now = to_iso(utc_now())
        rows = [to_row(item, now) for item in chunk]
        with transaction(db) as conn:
            conn.executemany(sql, rows)
        written += len(rows)
    return written
