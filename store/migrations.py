"""Numbered schema migrations, applied on open, each atomic with the row that records it.

A migration is a function of the database; :data:`MIGRATIONS` lists them in version order and a schema
change is a new entry at the end (never an edit of an applied one). :func:`apply_migrations` runs each
pending migration in its own ``BEGIN IMMEDIATE`` transaction together with its ``schema_migrations`` row, so
a process killed in the middle leaves the schema as it was before that migration or as it is after it, never
half of it (SQLite DDL is transactional). A migration must not commit: no ``COMMIT``, no
``sqlite3.Connection.executescript``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlite_utils

from store.records import to_iso, utc_now
from store.rollup_marks import migration_9_statements, migration_10_statements
from store.schema import (
    ANNOTATION_RUNS,
    AUDIENCE_MEMBERS,
    AUTHORS,
    BRAND_DAILY,
    BRAND_SENTIMENT,
    CHECKPOINTS,
    CHURN_MODELS,
    CHURN_SCORES,
    CLUSTER_LINEAGE,
    CLUSTER_MODELS,
    COLLECTION_RUNS,
    CORRECTIONS,
    CUSTOMER_HANDLES,
    CUSTOMER_LINKS,
    CUSTOMERS,
    DELETIONS,
    EMERGING,
    EXPORT_MEMBERS,
    EXPORT_RECORDS,
    INDEXES,
    LINK_AUDIT,
    NEED_THEMES,
    NEED_VECTORS,
    POST_EMBEDDINGS,
    POST_INTENTS,
    POST_LANGUAGE,
    POST_MENTIONS,
    POST_NEED_THEMES,
    POST_NEEDS,
    POST_SENTIMENT,
    POST_TOPICS,
    POSTS,
    POSTS_FTS,
    POSTS_FTS_TRIGGERS,
    QUARANTINE,
    SEGMENT_EXAMPLES,
    SEGMENT_LINEAGE,
    SEGMENT_MEMBERS,
    SEGMENT_RUNS,
    SEGMENTS,
    THEME_DAILY,
    THEME_DAILY_V9,
    TOPIC_DAILY,
    TOPIC_DAILY_V9,
    TOPICS,
)
from store.transactions import transaction

MIGRATIONS_TABLE = "schema_migrations"
MIGRATE_HINT = "run `tasteradar status` (it migrates the file on open) and try again"


class SchemaError(RuntimeError):
    """The database schema does not match the migrations this code knows."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: ``version`` (1, 2, ...), a short ``name`` and the function that applies it."""

    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


def sql_migration(version: int, name: str, *statements: str) -> Migration:
    """Return a :class:`Migration` executing ``statements`` one by one, inside the runner's transaction."""

    def apply(db: sqlite_utils.Database) -> None:
        """Execute the statements on the connection, inside the runner's transaction."""
        for statement in statements:
            db.conn.execute(statement)

    return Migration(version, name, apply)


def _ensure_migrations_table(db: sqlite_utils.Database) -> None:
    """Create the table that records applied migrations, if missing."""
    with transaction(db) as conn:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
            "version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )


def applied_versions(db: sqlite_utils.Database) -> dict[int, str]:
    """Return ``{version: name}`` of the migrations recorded in the database (empty when it has none)."""
    exists = db.conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if not exists:
        return {}
    rows = db.conn.execute(f"SELECT version, name FROM {MIGRATIONS_TABLE} ORDER BY version")
    return {version: name for version, name in rows}


def _validate(migrations: Sequence[Migration]) -> None:
    """Check that versions are positive, unique and in increasing order."""
    versions = [migration.version for migration in migrations]
    if versions != sorted(set(versions)) or any(version < 1 for version in versions):
        raise ValueError(f"migration versions must be positive, unique and increasing, got {versions}")


def _check_not_newer(applied: dict[int, str], migrations: Sequence[Migration], path: str) -> None:
    """Refuse a database that recorded migrations this code does not know."""
    known = {migration.version for migration in migrations}
    unknown = sorted(set(applied) - known)
    if unknown:
        latest = max(known, default=0)
        raise SchemaError(
            f"database {path} has schema version {max(unknown)}, newer than this tasteradar knows "
            f"({latest}): upgrade tasteradar"
        )


def apply_migrations(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[int]:
    """Apply every migration of ``migrations`` not yet recorded in ``db``; return the versions applied.

    Idempotent: a second call applies nothing. Each migration and its record row commit together; when one
    raises, its transaction is rolled back (earlier migrations stay applied) and the error propagates.
    Concurrent openers are safe: the applied set is re-read under the write lock before each migration.
    """
    _validate(migrations)
    path = _db_path(db)
    applied = applied_versions(db)
    _check_not_newer(applied, migrations, path)
    if all(migration.version in applied for migration in migrations):
        return []
    _ensure_migrations_table(db)
    done: list[int] = []
    for migration in migrations:
        with transaction(db) as conn:
            if migration.version in applied_versions(db):
                continue
            migration.apply(db)
            if not conn.in_transaction:
                raise SchemaError(
                    f"migration {migration.version} ({migration.name}) ended its transaction: "
                    "a migration must not COMMIT or call executescript"
                )
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                [migration.version, migration.name, to_iso(utc_now())],
            )
        done.append(migration.version)
    return done


def check_schema(db: sqlite_utils.Database, migrations: Sequence[Migration], *, path: str = "") -> None:
    """Raise :class:`SchemaError` unless ``db`` has exactly the migrations of ``migrations`` applied."""
    path = path or _db_path(db)
    applied = applied_versions(db)
    _check_not_newer(applied, migrations, path)
    missing = [migration.version for migration in migrations if migration.version not in applied]
    if missing:
        current = max(applied, default=0)
        needed = max(migration.version for migration in migrations)
        raise SchemaError(
            f"database {path} has schema version {current} but this tasteradar needs {needed}: {MIGRATE_HINT}"
        )


def _db_path(db: sqlite_utils.Database) -> str:
    """Return the file name of the main database, for messages."""
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return (row[2] if row else "") or ":memory:"


MIGRATIONS: tuple[Migration, ...] = (
    sql_migration(
        1,
        "initial schema",
        POSTS,
        POSTS_FTS,
        *POSTS_FTS_TRIGGERS,
        AUTHORS,
        COLLECTION_RUNS,
        CHECKPOINTS,
        QUARANTINE,
        CUSTOMERS,
        CUSTOMER_HANDLES,
        *INDEXES,
    ),
    # Every batch upsert maintains every index on posts; created_at alone served no query (the dashboard and
    # ``freshness`` use (platform, created_at)) and cost write rate. The author_id index stays: linking posts
    # to consented customers and erasing a person both look posts up by author.
    sql_migration(2, "drop unused posts index", "DROP INDEX idx_posts_created_at"),
    # Posts removed because the platform reports them deleted (or erased): one audit row each, the id only
    # (no text, no author), so removal leaves no content behind; ``upsert_posts`` refuses ids listed here,
    # so a deleted post does not come back silently. ``collection_runs.deleted``: a prune run's removals.
    sql_migration(
        3,
        "deletions audit",
        DELETIONS,
        "ALTER TABLE collection_runs ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0",
    ),
    # Annotations of posts (issue 4): see ANNOTATION_RUNS in store.schema.
    sql_migration(
        4,
        "annotations and brand mentions",
        ANNOTATION_RUNS,
        POST_MENTIONS,
        "CREATE INDEX idx_post_mentions_brand ON post_mentions (brand)",
    ),
    # NLP signals (issue 4): language, embeddings, sentiment per post and per brand, needs, intents.
    sql_migration(
        5,
        "nlp signals",
        POST_LANGUAGE,
        POST_EMBEDDINGS,
        POST_SENTIMENT,
        BRAND_SENTIMENT,
        POST_NEEDS,
        POST_INTENTS,
        "CREATE INDEX idx_brand_sentiment_brand ON brand_sentiment (brand)",
        "CREATE INDEX idx_post_intents_brands ON post_intents (from_brand, to_brand)",
    ),
    # Topics, need themes, their lineage, rollups and emerging series (issue 5): store.schema, CLUSTER_MODELS.
    sql_migration(
        6,
        "topics and need themes",
        CLUSTER_MODELS,
        TOPICS,
        NEED_THEMES,
        CLUSTER_LINEAGE,
        POST_TOPICS,
        NEED_VECTORS,
        POST_NEED_THEMES,
        TOPIC_DAILY,
        THEME_DAILY,
        EMERGING,
        "CREATE INDEX idx_post_topics_topic ON post_topics (topic_id, score)",
        "CREATE INDEX idx_post_need_themes_theme ON post_need_themes (theme_id)",
        "CREATE INDEX idx_cluster_lineage_kind ON cluster_lineage (kind, cluster_id)",
        "CREATE INDEX idx_emerging_day ON emerging (day)",
    ),
    # Customers, churn, micro-segments, campaign exports (issue 6) and corrections (issue 7): store.schema.
    sql_migration(
        7,
        "customers, segments and corrections",
        CUSTOMER_LINKS,
        LINK_AUDIT,
        CHURN_MODELS,
        CHURN_SCORES,
        SEGMENT_RUNS,
        SEGMENTS,
        SEGMENT_MEMBERS,
        AUDIENCE_MEMBERS,
        SEGMENT_EXAMPLES,
        SEGMENT_LINEAGE,
        EXPORT_RECORDS,
        EXPORT_MEMBERS,
        CORRECTIONS,
        "CREATE INDEX idx_customer_links_customer ON customer_links (customer_id)",
        "CREATE INDEX idx_link_audit_customer ON link_audit (customer_id)",
        "CREATE INDEX idx_segment_members_segment ON segment_members (segment_id)",
        "CREATE INDEX idx_audience_members_segment ON audience_members (segment_id)",
        "CREATE INDEX idx_segment_examples_segment ON segment_examples (segment_id)",
        "CREATE INDEX idx_export_members_customer ON export_members (customer_id)",
        "CREATE INDEX idx_corrections_post ON corrections (post_id)",
    ),
    # The dashboard's daily brand rollup (issue 7): see BRAND_DAILY in store.schema.
    sql_migration(8, "brand daily rollup", BRAND_DAILY),
    # Incremental daily rollups with a platform column (issue 7): see store.rollup_marks.
    sql_migration(
        9,
        "incremental rollups by platform",
        "DROP TABLE topic_daily",
        "DROP TABLE theme_daily",
        TOPIC_DAILY_V9,
        THEME_DAILY_V9,
        *migration_9_statements(),
    ),
    # The trend step's bit in ``rollup_dirty`` (issue 4: a second ``analyze`` with nothing new does no work):
    # the triggers are recreated to mark ``emerging`` too (store.rollup_marks.FEEDS_V10), and every key with
    # posts is marked for it, so the next ``analyze`` evaluates trends once.
    sql_migration(10, "trend step marks", *migration_10_statements()),
)

LATEST_VERSION = MIGRATIONS[-1].version
