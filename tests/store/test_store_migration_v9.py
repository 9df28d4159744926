"""Migration 9 on a version-8 database with data: ``topic_daily`` / ``theme_daily`` gain ``platform``, the
``rollup_dirty`` tracker and its triggers appear, every (day, platform) with posts is marked stale for the
three rollups, and the next rebuild fills them whole. Its statements are frozen (databases ran them)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import sqlite_utils

from store import MIGRATIONS, open_db, transaction
from store.migrations import applied_versions, apply_migrations
from store.rollup_marks import FEEDS_V9, ROLLUP_BITS

#: sha256 of migration 9's statements joined by newlines, taken before migration 10 was written.
MIGRATION_9_SHA256 = "724effeedb3763c59d5461deafddca07669345a2fa301e3adeae694b1336cdf4"
#: The rollups of migration 9 (the trend step's bit came with migration 10).
V9_BITS = sum(ROLLUP_BITS[name] for name in FEEDS_V9["posts"])

POSTS = [  # id, platform, created_at
    ("x:1", "x", "2026-09-01T09:00:00Z"),
    ("x:2", "x", "2026-09-01T23:59:59Z"),
    ("reddit:3", "reddit", "2026-09-01T10:00:00Z"),
    ("x:4", "x", "2026-09-03T00:00:00Z"),
]


def version_8(path: Path) -> None:
    """A database migrated to version 8, with posts, annotations and the old rollups' rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn)
    assert apply_migrations(db, [m for m in MIGRATIONS if m.version <= 8]) == list(range(1, 9))
    conn.execute("BEGIN")
    for post_id, platform, created in POSTS:
        conn.execute(
            "INSERT INTO posts (id, platform, native_id, text, created_at, content_hash, first_seen_at,"
            " updated_at) VALUES (?, ?, ?, 'Nimbus Mobile is fine', ?, 'h', ?, ?)",
            (post_id, platform, post_id.split(":")[1], created, created, created),
        )
        conn.execute("INSERT INTO post_topics VALUES (?, 5, 0.5, 'm@1')", (post_id,))
        conn.execute(
            "INSERT INTO post_mentions VALUES (?, 'Nimbus Mobile', 'Nimbus Mobile', 0, 13, 'm.v1')",
            (post_id,),
        )
        conn.execute("INSERT INTO post_sentiment VALUES (?, 'positive', 0.5, 's.v1')", (post_id,))
    conn.execute("INSERT INTO topic_daily VALUES ('2026-09-01', 5, 'Nimbus Mobile', 3, 3, 0, 0)")
    conn.execute("INSERT INTO theme_daily VALUES ('2026-09-01', 1, '', 1, 0, 0, 0)")
    conn.execute("INSERT INTO brand_daily VALUES ('2026-09-01', 'x', '', 1, 0, 0, 0, 0)")  # stale on purpose
    conn.execute("COMMIT")
    conn.close()


def open_at(path: Path, version: int) -> sqlite_utils.Database:
    """The database at ``path`` migrated up to ``version`` (not beyond)."""
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    apply_migrations(db, [m for m in MIGRATIONS if m.version <= version])
    return db


def emitted(version: int) -> list[str]:
    """The statements migration ``version`` executes, traced while it runs on a database one version older."""
    db = open_at(Path(":memory:"), version - 1)
    statements: list[str] = []
    with transaction(db) as conn:
        conn.set_trace_callback(statements.append)
        MIGRATIONS[version - 1].apply(db)
        conn.set_trace_callback(None)
    db.close()
    return statements


def test_migration_9_statements_are_unchanged() -> None:
    statements = emitted(9)
    assert len(statements) == 23 and statements[:2] == ["DROP TABLE topic_daily", "DROP TABLE theme_daily"]
    assert hashlib.sha256("\n".join(statements).encode()).hexdigest() == MIGRATION_9_SHA256


def test_migration_9_recreates_the_rollups_with_platform_and_marks_every_key(db_path: Path) -> None:
    version_8(db_path)
    db = open_at(db_path, 9)
    try:
        assert max(applied_versions(db)) == 9
        for table, key in (("topic_daily", "topic_id"), ("theme_daily", "theme_id")):
            info = db.conn.execute(f"SELECT name, pk FROM pragma_table_info('{table}')").fetchall()
            assert [name for name, _ in info][:4] == ["day", "platform", key, "brand"]
            assert [name for name, pk in sorted(info, key=lambda row: row[1]) if pk] == [
                "day", "platform", key, "brand",
            ]  # fmt: skip
            assert db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        assert db.conn.execute("SELECT count(*) FROM brand_daily").fetchone()[0] == 1  # kept until rebuilt
        all_bits = V9_BITS
        marked = db.conn.execute("SELECT day, platform, rollups FROM rollup_dirty ORDER BY 1, 2").fetchall()
        assert marked == [
            ("2026-09-01", "reddit", all_bits), ("2026-09-01", "x", all_bits), ("2026-09-03", "x", all_bits),
        ]  # fmt: skip
        triggers = {
            row[0] for row in db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        for table in ("posts", "post_sentiment", "brand_sentiment", "post_mentions", "post_topics",
                      "post_need_themes", "post_needs"):  # fmt: skip
            events = ("ad", "au") if table in FEEDS_V9["runner"] else ("ai", "ad", "au")
            assert {f"rollup_{table}_{event}" for event in events} <= triggers
        assert not {f"rollup_{table}_ai" for table in FEEDS_V9["runner"]} & triggers  # the runner marks those
    finally:
        db.close()


def test_the_next_rebuild_fills_the_rollups_whole(db_path: Path) -> None:
    from nlp.brand_daily import rebuild_brand_daily, refresh_plan
    from nlp.topics.daily import rebuild_daily

    version_8(db_path)
    db = open_db(db_path)
    try:
        assert refresh_plan(db.conn, "brand_daily") == "full"
        assert rebuild_brand_daily(db) == 6  # three (day, platform) rows, each with and without the brand
        assert rebuild_daily(db) == {"topic_daily": 3, "theme_daily": 0}
        assert db.conn.execute(
            "SELECT day, platform, topic_id, brand, posts, positive FROM topic_daily ORDER BY 1, 2"
        ).fetchall() == [
            ("2026-09-01", "reddit", 5, "Nimbus Mobile", 1, 1), ("2026-09-01", "x", 5, "Nimbus Mobile", 2, 2),
            ("2026-09-03", "x", 5, "Nimbus Mobile", 1, 1),
        ]  # fmt: skip
        # the rollups' bits are cleared; migration 10's trend bit waits for the trend step
        assert db.conn.execute("SELECT DISTINCT rollups FROM rollup_dirty").fetchall() == [
            (ROLLUP_BITS["emerging"],)
        ]
    finally:
        db.close()


def test_migration_9_on_an_empty_version_8_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path, isolation_level=None)
    apply_migrations(sqlite_utils.Database(conn), [m for m in MIGRATIONS if m.version <= 8])
    conn.close()
    db = open_db(path)
    try:
        assert db.conn.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()
