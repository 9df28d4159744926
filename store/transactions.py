"""Explicit transactions on the underlying ``sqlite3`` connection.

Connections from :func:`store.open_db` use ``isolation_level=None``: Python's ``sqlite3`` never opens or
commits a transaction by itself, so the boundaries below are exactly the ones SQLite sees. sqlite-utils
(4.x) joins a transaction that is already open, so its table methods can be used inside :func:`transaction`
too.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils

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
