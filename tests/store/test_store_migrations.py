"""Migrations: applied on open, idempotent, atomic; connection settings; read-only opens."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils

from store import LATEST_VERSION, MIGRATIONS, DatabaseNotFoundError, Migration, SchemaError, open_db
from store.migrations import applied_versions, apply_migrations, sql_migration

REPO = Path(__file__).resolve().parents[2]


def schema_of(path: Path) -> list[tuple]:
    """Return the full schema of the database file as sorted (type, name, sql) rows."""
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    finally:
        conn.close()


def migration_rows(path: Path) -> list[tuple]:
    """Return every row of schema_migrations."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
        ).fetchall()
    finally:
        conn.close()


def test_open_creates_parent_folder_and_every_table(db_path: Path) -> None:
    db = open_db(db_path)
    assert db_path.is_file()
    expected = {
        "posts", "posts_fts", "authors", "collection_runs", "checkpoints", "quarantine", "customers",
        "customer_handles", "schema_migrations",
    }  # fmt: skip
    assert expected <= set(db.table_names())
    assert {"posts_ai", "posts_ad", "posts_au"} <= {trigger.name for trigger in db.triggers}
    assert db["posts"].detect_fts() == "posts_fts"
    db.close()


def test_migrations_are_idempotent_and_recorded_once(db_path: Path) -> None:
    open_db(db_path).close()
    first_schema = schema_of(db_path)
    first_rows = migration_rows(db_path)
    open_db(db_path).close()
    assert schema_of(db_path) == first_schema
    assert migration_rows(db_path) == first_rows
    assert [row[0] for row in first_rows] == [migration.version for migration in MIGRATIONS]
    assert first_rows[-1][2].endswith("Z")


def test_apply_migrations_returns_only_what_it_applied(db: sqlite_utils.Database) -> None:
    extra = sql_migration(LATEST_VERSION + 1, "add a table", "CREATE TABLE extra (id INTEGER PRIMARY KEY)")
    assert apply_migrations(db, MIGRATIONS) == []
    assert apply_migrations(db, [*MIGRATIONS, extra]) == [LATEST_VERSION + 1]
    assert apply_migrations(db, [*MIGRATIONS, extra]) == []
    assert applied_versions(db)[LATEST_VERSION + 1] == "add a table"


def test_failing_migration_leaves_schema_and_records_as_before(db_path: Path) -> None:
    db = open_db(db_path)
    before_schema = schema_of(db_path)
    before_rows = migration_rows(db_path)

    def half_then_fail(database: sqlite_utils.Database) -> None:
        database.conn.execute("CREATE TABLE half_done (id INTEGER PRIMARY KEY)")
        database.conn.execute("ALTER TABLE posts ADD COLUMN half_column TEXT")
        database.conn.execute("INSERT INTO half_done (id) VALUES (1)")
        raise RuntimeError("killed halfway")

    broken = Migration(LATEST_VERSION + 1, "breaks halfway", half_then_fail)
    with pytest.raises(RuntimeError, match="killed halfway"):
        apply_migrations(db, [*MIGRATIONS, broken])
    assert not db.conn.in_transaction
    db.close()
    assert schema_of(db_path) == before_schema
    assert migration_rows(db_path) == before_rows


def test_earlier_migrations_of_the_same_run_stay_applied(tmp_path: Path) -> None:
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "t.db", isolation_level=None))
    good = sql_migration(1, "good", "CREATE TABLE good (id INTEGER)")

    def bad_apply(database: sqlite_utils.Database) -> None:
        database.conn.execute("CREATE TABLE bad (id INTEGER)")
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        apply_migrations(db, [good, Migration(2, "bad", bad_apply)])
    assert applied_versions(db) == {1: "good"}
    assert db["good"].exists() and not db["bad"].exists()


def test_process_killed_mid_migration_leaves_old_schema(db_path: Path) -> None:
    open_db(db_path).close()
    before_schema = schema_of(db_path)
    script = textwrap.dedent(
        f"""
        import os, signal
        from store import MIGRATIONS, Migration, open_db
        from store.migrations import apply_migrations

        def die_halfway(db):
            db.conn.execute("CREATE TABLE killed (id INTEGER PRIMARY KEY, note TEXT)")
            db.conn.executemany("INSERT INTO killed (note) VALUES (?)", [("x" * 500,)] * 5000)
            db.conn.execute("ALTER TABLE posts ADD COLUMN killed_column TEXT")
            os.kill(os.getpid(), signal.SIGKILL)

        db = open_db({str(db_path)!r})
        apply_migrations(db, [*MIGRATIONS, Migration({LATEST_VERSION + 1}, "dies", die_halfway)])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()
    db = open_db(db_path)
    assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert set(applied_versions(db)) == {migration.version for migration in MIGRATIONS}
    db.close()
    assert schema_of(db_path) == before_schema


def test_migration_that_commits_is_refused(tmp_path: Path) -> None:
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "t.db", isolation_level=None))

    def commits(database: sqlite_utils.Database) -> None:
        database.conn.execute("CREATE TABLE t (id INTEGER)")
        database.conn.execute("COMMIT")

    with pytest.raises(SchemaError, match="must not COMMIT"):
        apply_migrations(db, [Migration(1, "commits", commits)])
    assert applied_versions(db) == {}


def test_migration_versions_must_increase(db: sqlite_utils.Database) -> None:
    one = sql_migration(1, "a", "SELECT 1")
    with pytest.raises(ValueError, match="increasing"):
        apply_migrations(db, [one, one])


def test_database_newer_than_code_is_refused(db_path: Path) -> None:
    db = open_db(db_path)
    db.conn.execute("INSERT INTO schema_migrations VALUES (999, 'future', '2030-01-01T00:00:00Z')")
    db.close()
    with pytest.raises(SchemaError, match="newer than this tasteradar"):
        open_db(db_path)
    with pytest.raises(SchemaError, match="upgrade tasteradar"):
        open_db(db_path, readonly=True)


def test_pragmas(db: sqlite_utils.Database) -> None:
    pragma = db.conn.execute
    assert pragma("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert pragma("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert pragma("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert pragma("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.conn.isolation_level is None
    assert pragma("PRAGMA cache_size").fetchone()[0] == -65536
    assert pragma("PRAGMA wal_autocheckpoint").fetchone()[0] == 10_000


def test_posts_keep_only_the_indexes_queries_use(db: sqlite_utils.Database) -> None:
    names = {row[0] for row in db.conn.execute("SELECT name FROM pragma_index_list('posts')")}
    assert names == {"idx_posts_platform_created_at", "idx_posts_author_id", "sqlite_autoindex_posts_1"}


def test_readonly_open_of_missing_file_fails_clearly(db_path: Path) -> None:
    with pytest.raises(DatabaseNotFoundError, match="does not exist: create it"):
        open_db(db_path, readonly=True)
    assert not db_path.exists()


def test_readonly_open_of_outdated_schema_fails_clearly(db_path: Path) -> None:
    db = open_db(db_path)
    db.conn.execute("DELETE FROM schema_migrations WHERE version = ?", [LATEST_VERSION])
    db.close()
    before = schema_of(db_path)
    with pytest.raises(SchemaError, match=r"tasteradar status"):
        open_db(db_path, readonly=True)
    assert schema_of(db_path) == before


def test_readonly_open_of_foreign_sqlite_file_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE t (id INTEGER)").connection.close()
    with pytest.raises(SchemaError, match="schema version 0"):
        open_db(path, readonly=True)


def test_readonly_open_cannot_write(db_path: Path, make_post) -> None:
    open_db(db_path).close()
    ro = open_db(db_path, readonly=True)
    assert ro.table_names()
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only"):
        ro.conn.execute("INSERT INTO checkpoints VALUES ('s', '', '{}', 'now')")
    with pytest.raises(sqlite3.OperationalError):
        ro.conn.execute("CREATE TABLE nope (id INTEGER)")
    ro.close()


def test_readonly_path_with_special_characters(tmp_path: Path) -> None:
    path = tmp_path / "a dir #1" / "my db?.db"
    open_db(path).close()
    ro = open_db(path, readonly=True)
    assert "posts" in ro.table_names()
    ro.close()


def test_concurrent_first_opens_migrate_once(db_path: Path) -> None:
    script = f"from store import open_db; open_db({str(db_path)!r}).close()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    processes = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE) for _ in range(4)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    assert [row[0] for row in migration_rows(db_path)] == [migration.version for migration in MIGRATIONS]


def test_store_imports_no_later_stage() -> None:
    later = ("collectors", "nlp", "segments", "dashboard", "tasteradar")
    for module in (REPO / "store").glob("*.py"):
        for line in module.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert words[1].split(".")[0] not in later, f"{module.name}: {line}"
