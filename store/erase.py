"""Removing posts and everything derived from them, with an audit row that keeps no content.

**The rule for derived tables** (annotations, embeddings, topic assignments, customer links, ...): a table
that holds anything computed from or about a post names it in a column ``post_id`` declared::

    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE

and has an index whose first column is ``post_id`` (its primary key may be that index). ``open_db`` turns on
``PRAGMA foreign_keys`` on every connection, so deleting a post deletes those rows in the same statement.
The rule is enforced, not only written down: :func:`delete_posts` first checks the schema with
:func:`derived_table_problems` and refuses to delete anything when a table has a ``post_id`` column without
that cascading reference (or any reference to ``posts`` that does not cascade), or lacks the index (without
it every deleted post scans the whole table). A later stage that forgets the rule fails the first prune and
its own tests, instead of leaving derived rows of deleted posts behind. Tables listed in
:data:`AUDIT_TABLES` (``deletions``) are exempt: they must outlive the posts they name.

The full-text index follows through the ``posts_ad`` trigger. SQLite 3.40's FTS5 records a deletion as a
tombstone and keeps the deleted terms in older index segments until they are merged, so after the last
batch :func:`delete_posts` merges the index (``'optimize'``) unless ``purge_index=False``; with
``secure_delete`` (set by ``open_db``) the freed pages are zeroed, and once the WAL is checkpointed no
deleted text remains in the database file (see tests/store/test_store_erase.py, the canary test).

``deletions`` keeps ``post_id``, ``platform``, ``reason`` and ``deleted_at``: never text, author or raw
payload. ``reason`` is written by the caller and must not carry content either (``"deleted on x"``).
``upsert_posts`` skips every id listed in ``deletions``, so a deleted post does not come back silently when
a later search or import returns it again; deleting the ``deletions`` row allows it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import islice

import sqlite_utils

from store.records import to_iso, utc_now
from store.text import repair_text
from store.transactions import transaction

#: Tables that name posts but must outlive them (the audit of what was removed).
AUDIT_TABLES = frozenset({"deletions"})

_SELECT_SQL = "SELECT id, platform FROM posts WHERE id IN (SELECT value FROM json_each(?))"
_AUDIT_SQL = (
    "INSERT INTO deletions (post_id, platform, reason, deleted_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (post_id) DO UPDATE SET reason = excluded.reason, deleted_at = excluded.deleted_at"
)
_DELETE_SQL = "DELETE FROM posts WHERE id IN (SELECT value FROM json_each(?))"
_OPTIMIZE_SQL = "INSERT INTO posts_fts (posts_fts) VALUES ('optimize')"


class DerivedTableError(RuntimeError):
    """A table keyed by ``post_id`` does not follow the cascade rule, or foreign keys are off."""


def derived_table_problems(db: sqlite_utils.Database) -> list[str]:
    """Return what breaks the derived-table rule (see the module docstring); empty when the schema is fine."""
    conn = db.conn
    problems = []
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    for table in tables:
        if table in AUDIT_TABLES or table == "posts":
            continue
        columns = {row[1] for row in conn.execute("SELECT * FROM pragma_table_info(?)", [table])}
        # (id, seq, table, from, to, on_update, on_delete, match)
        keys = conn.execute("SELECT * FROM pragma_foreign_key_list(?)", [table]).fetchall()
        to_posts = [row for row in keys if row[2] == "posts"]
        for row in to_posts:
            if row[6].upper() != "CASCADE":
                problems.append(f"{table}.{row[3]} references posts with ON DELETE {row[6]}, not CASCADE")
        referencing = {row[3] for row in to_posts if row[6].upper() == "CASCADE"}
        if "post_id" in columns and "post_id" not in referencing:
            problems.append(f"{table}.post_id has no REFERENCES posts (id) ON DELETE CASCADE")
        leading = {
            info[2]
            for index in conn.execute("SELECT name FROM pragma_index_list(?)", [table])
            for info in conn.execute("SELECT * FROM pragma_index_info(?)", [index[0]])
            if info[0] == 0
        }
        problems += [f"{table}.{column} has no index starting with it" for column in referencing - leading]
    return problems


def check_derived_tables(db: sqlite_utils.Database) -> None:
    """Raise :class:`DerivedTableError` unless foreign keys are on and every derived table cascades."""
    if db.conn.execute("PRAGMA foreign_keys").fetchone()[0] != 1:
        raise DerivedTableError(
            "PRAGMA foreign_keys is off on this connection, so derived rows would survive: "
            "open the database with store.open_db"
        )
    problems = derived_table_problems(db)
    if problems:
        raise DerivedTableError(
            "refusing to delete posts: derived rows would be left behind: " + "; ".join(problems)
        )


def delete_posts(
    db: sqlite_utils.Database,
    post_ids: Iterable[str],
    *,
    reason: str,
    batch_size: int = 1000,
    purge_index: bool = True,
) -> int:
    """Delete the posts with store keys ``post_ids`` and every row derived from them; return how many.

    One transaction per batch of ``batch_size`` ids: the audit rows (``deletions``: id, platform,
    ``reason``, time; no content), the posts, their full-text entries (trigger) and their derived rows
    (foreign-key cascade) commit together. Ids not stored are ignored (no audit row). When anything was
    deleted and ``purge_index`` is true, the full-text index is merged afterwards so the deleted terms leave
    its old segments (a cost proportional to the index: a prune, not a hot path). Raises
    :class:`DerivedTableError` before deleting anything when the schema breaks the derived-table rule.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"delete_posts: batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError(f"delete_posts: reason must be a non-empty string, got {reason!r}")
    if isinstance(post_ids, str):
        raise TypeError("delete_posts: post_ids must be an iterable of ids, not one string")
    check_derived_tables(db)
    reason = repair_text(reason.strip())
    deleted = 0
    iterator = iter(post_ids)
    while chunk := list(islice(iterator, batch_size)):
        ids = json.dumps(list(dict.fromkeys(str(pid) for pid in chunk)))
        with transaction(db) as conn:
            found = conn.execute(_SELECT_SQL, [ids]).fetchall()
            if not found:
                continue
            now = to_iso(utc_now())
            conn.executemany(_AUDIT_SQL, [(pid, platform, reason, now) for pid, platform in found])
            deleted += conn.execute(_DELETE_SQL, [ids]).rowcount
    if deleted and purge_index:
        purge_fts(db)
    return deleted


def purge_fts(db: sqlite_utils.Database) -> None:
    """Merge the posts full-text index into one segment, dropping the terms of deleted rows for good."""
    with transaction(db) as conn:
        conn.execute(_OPTIMIZE_SQL)


def deleted_ids(db: sqlite_utils.Database, post_ids: Iterable[str]) -> set[str]:
    """The ids among ``post_ids`` that are recorded in ``deletions`` (and so are not stored again)."""
    ids = json.dumps(list(dict.fromkeys(post_ids)))
    rows = db.conn.execute(
        "SELECT post_id FROM deletions WHERE post_id IN (SELECT value FROM json_each(?))", [ids]
    )
    return {row[0] for row in rows}
