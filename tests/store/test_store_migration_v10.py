"""Migration 10 (the trend step's bit): on a version-9 database with data and on an empty one, the rollup
triggers are recreated to mark ``emerging`` too, every key with posts is marked for it (the rollups' pending
marks kept), and its statements are frozen like migration 9's."""

from __future__ import annotations

import hashlib
from pathlib import Path

import sqlite_utils

from store import LATEST_VERSION, open_db, transaction
from store.migrations import applied_versions
from store.rollup_marks import FEEDS_V10, ROLLUP_BITS, TREND_BIT, rollup_triggers
from tests.store.test_store_migration_v9 import V9_BITS, emitted, open_at, version_8

#: sha256 of migration 10's statements joined by newlines, as first written.
MIGRATION_10_SHA256 = "11ca81f6f5b144484b8fcc54f8c0efc460e3df71f2b4eea81daf41533bbb041c"


def triggers(db: sqlite_utils.Database) -> dict[str, str]:
    sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name GLOB 'rollup_*'"
    return dict(db.conn.execute(sql).fetchall())


def test_migration_10_statements_are_frozen() -> None:
    statements = emitted(10)
    assert len(statements) == 38
    assert hashlib.sha256("\n".join(statements).encode()).hexdigest() == MIGRATION_10_SHA256


def test_migration_10_on_a_version_9_database_with_data(db_path: Path) -> None:
    version_8(db_path)
    db = open_at(db_path, 9)
    with transaction(db) as conn:  # the rollups caught up, but for one pending topic_daily mark
        conn.execute("DELETE FROM rollup_dirty")
        conn.execute("INSERT INTO rollup_dirty VALUES ('2026-09-01', 'x', 2)")
    before = set(triggers(db))
    db.close()
    db = open_db(db_path)
    try:
        assert max(applied_versions(db)) == LATEST_VERSION == 10
        marked = db.conn.execute("SELECT day, platform, rollups FROM rollup_dirty ORDER BY 1, 2").fetchall()
        assert marked == [
            ("2026-09-01", "reddit", TREND_BIT), ("2026-09-01", "x", 2 | TREND_BIT),
            ("2026-09-03", "x", TREND_BIT),
        ]  # fmt: skip
        found = triggers(db)
        expected = {statement.split()[2]: statement for statement in rollup_triggers(FEEDS_V10)}
        assert found == expected  # exactly the new triggers, none of migration 9's left behind
        assert before < set(found)
        added = {"rollup_posts_text_au", "rollup_post_language_ad", "rollup_post_language_au"}
        assert set(found) - before == added
        assert "rollup_post_language_ai" not in found  # the runner marks its inserts
        assert db.conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 4  # no data touched
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_the_new_triggers_mark_the_trend_bit(db_path: Path) -> None:
    version_8(db_path)
    db = open_db(db_path)
    try:
        with transaction(db) as conn:
            conn.execute("DELETE FROM rollup_dirty")
            conn.execute("UPDATE post_topics SET topic_id = 6 WHERE post_id = 'x:4'")
        rows = db.conn.execute("SELECT day, platform, rollups FROM rollup_dirty").fetchall()
        assert rows == [("2026-09-03", "x", ROLLUP_BITS["topic_daily"] | TREND_BIT)]
    finally:
        db.close()


def test_migration_10_on_an_empty_version_9_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    open_at(path, 9).close()
    db = open_db(path)
    try:
        assert max(applied_versions(db)) == 10
        assert db.conn.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0
        assert set(triggers(db)) == {statement.split()[2] for statement in rollup_triggers(FEEDS_V10)}
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        db.close()


def test_a_new_database_marks_like_a_migrated_one(tmp_path: Path) -> None:
    fresh = open_db(tmp_path / "fresh.db")
    version_8(tmp_path / "old" / "tasteradar.db")
    migrated = open_db(tmp_path / "old" / "tasteradar.db")
    try:
        assert triggers(fresh) == triggers(migrated)
        assert sum(ROLLUP_BITS.values()) == V9_BITS | TREND_BIT
    finally:
        fresh.close()
        migrated.close()
