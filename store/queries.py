"""The few read queries every stage shares: table counts, the latest runs, per-platform freshness, search.

All of them are single statements, so none keeps a read transaction open after it returns (the dashboard
relies on that: an open read transaction stops the WAL from being checkpointed).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlite_utils

from store.migrations import MIGRATIONS_TABLE

FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
#: Bookkeeping tables ``status`` does not list: applied migrations, the rollups' stale (day, platform) marks.
INTERNAL_TABLES = {MIGRATIONS_TABLE, "rollup_dirty"}


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    """Return every row of ``cursor`` as a dict keyed by column name."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def data_tables(db: sqlite_utils.Database) -> list[str]:
    """Return the names of the schema's data tables, sorted.

    Left out: SQLite's own tables (``sqlite_*``), bookkeeping (``schema_migrations``, ``rollup_dirty``) and
    full-text indexes (each FTS virtual table, which mirrors its content table, and its shadow tables).
    """
    rows = db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall()
    fts = {name for name, sql in rows if sql and sql.upper().startswith("CREATE VIRTUAL TABLE")}
    shadow = {f"{name}{suffix}" for name in fts for suffix in FTS_SHADOW_SUFFIXES}
    skip = fts | shadow | INTERNAL_TABLES
    return [name for name, _ in rows if name not in skip and not name.startswith("sqlite_")]


def table_counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Return ``{table: row count}`` for every data table (see :func:`data_tables`), in one statement."""
    names = data_tables(db)
    if not names:
        return {}
    sql = " UNION ALL ".join(f"SELECT '{name}', count(*) FROM [{name}]" for name in names)
    return dict(db.conn.execute(sql).fetchall())


def last_runs(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return the latest collection run of every ``(source, query)`` pair, ordered by source and query.

    Each dict has the ``collection_runs`` columns: id, source, query, started_at, finished_at, fetched, new,
    duplicates, quarantined, status, error.
    """
    cursor = db.conn.execute(
        "SELECT * FROM collection_runs WHERE id IN "
        "(SELECT max(id) FROM collection_runs GROUP BY source, query) "
        "ORDER BY source, coalesce(query, '')"
    )
    return _dicts(cursor)


def freshness(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Return, per platform: ``platform``, ``posts`` (count), ``newest_created_at``, ``last_collected_at``."""
    cursor = db.conn.execute(
        "SELECT platform, count(*) AS posts, max(created_at) AS newest_created_at, "
        "max(collected_at) AS last_collected_at FROM posts GROUP BY platform ORDER BY platform"
    )
    return _dicts(cursor)


def search_posts(db: sqlite_utils.Database, match: str, *, limit: int = 50) -> list[dict[str, Any]]:
    """Return up to ``limit`` posts whose text matches the FTS5 query ``match``, best match first.

    ``match`` uses FTS5 query syntax (``nimbus AND outage``, ``"dropped calls"``, ``roam*``). Each dict has
    ``id``, ``platform``, ``author_handle``, ``text``, ``created_at`` and ``url``.
    """
    cursor = db.conn.execute(
        "SELECT posts.id, posts.platform, posts.author_handle, posts.text, posts.created_at, posts.url "
        "FROM posts_fts JOIN posts ON posts.rowid = posts_fts.rowid "
        "WHERE posts_fts MATCH ? ORDER BY posts_fts.rank LIMIT ?",
        [match, limit],
    )
    return _dicts(cursor)
