"""Collection runs, checkpoints, quarantine and the shared queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlite_utils

from store import finish_run, get_checkpoint, quarantine, set_checkpoint, start_run, upsert_posts
from store.queries import data_tables, freshness, last_runs, search_posts, table_counts


def test_run_lifecycle(db: sqlite_utils.Database) -> None:
    run_id = start_run(db, "x", "nimbus")
    row = db["collection_runs"].get(run_id)
    assert row["status"] == "running" and row["finished_at"] is None and row["started_at"].endswith("Z")
    finish_run(
        db, run_id, status="partial", fetched=10, new=7, duplicates=2, quarantined=1, error="rate limit"
    )
    row = db["collection_runs"].get(run_id)
    assert (row["status"], row["fetched"], row["new"], row["duplicates"], row["quarantined"]) == (
        "partial", 10, 7, 2, 1,
    )  # fmt: skip
    assert row["error"] == "rate limit" and row["finished_at"].endswith("Z")


@pytest.mark.parametrize("status", ["running", "done", "OK", ""])
def test_finish_run_validates_status(db: sqlite_utils.Database, status: str) -> None:
    run_id = start_run(db, "x")
    with pytest.raises(ValueError, match="status must be one of ok, partial, failed"):
        finish_run(db, run_id, status=status)


def test_finish_run_validates_counts_and_run_id(db: sqlite_utils.Database) -> None:
    run_id = start_run(db, "x")
    with pytest.raises(ValueError, match="fetched must be a non-negative integer"):
        finish_run(db, run_id, status="ok", fetched=-1)
    with pytest.raises(ValueError, match="no collection run with id 999"):
        finish_run(db, 999, status="ok")
    with pytest.raises(ValueError, match="source"):
        start_run(db, "")


def test_run_status_is_checked_by_the_schema_too(db: sqlite_utils.Database) -> None:
    with pytest.raises(sqlite_utils.db.sqlite3.IntegrityError):
        db.conn.execute(
            "INSERT INTO collection_runs (source, started_at, status) VALUES ('x', 'now', 'weird')"
        )


def test_checkpoints(db: sqlite_utils.Database) -> None:
    assert get_checkpoint(db, "x", "nimbus") is None
    set_checkpoint(db, "x", "nimbus", {"since_id": "18446744073709551615"})
    set_checkpoint(db, "x", "nimbus", {"since_id": "18446744073709551616"})
    set_checkpoint(db, "reddit", None, {"after": "t3_abc"})
    assert get_checkpoint(db, "x", "nimbus") == {"since_id": "18446744073709551616"}
    assert get_checkpoint(db, "reddit", None) == {"after": "t3_abc"}
    assert get_checkpoint(db, "reddit", "") == {"after": "t3_abc"}
    assert db["checkpoints"].count == 2
    with pytest.raises(TypeError, match="must be a dict"):
        set_checkpoint(db, "x", None, ["not", "a", "dict"])  # type: ignore[arg-type]


def test_quarantine_stores_payload_and_reason(db: sqlite_utils.Database) -> None:
    run_id = start_run(db, "file")
    quarantine(db, source="file", raw=b"\xff\xfe", reason="not utf-8", run_id=run_id)
    quarantine(db, source="file", raw={"id": 1.5}, reason="float id")
    quarantine(db, source="file", raw="plain \ud83d", reason="lone surrogate")
    rows = list(db.query("SELECT source, reason, raw, run_id FROM quarantine ORDER BY id"))
    assert rows == [
        {"source": "file", "reason": "not utf-8", "raw": "\ufffd\ufffd", "run_id": run_id},
        {"source": "file", "reason": "float id", "raw": '{"id":1.5}', "run_id": None},
        {"source": "file", "reason": "lone surrogate", "raw": "plain \ufffd", "run_id": None},
    ]


def test_last_runs_is_latest_per_source_and_query(db: sqlite_utils.Database) -> None:
    first = start_run(db, "x", "nimbus")
    finish_run(db, first, status="failed", error="boom")
    second = start_run(db, "x", "nimbus")
    other = start_run(db, "x", "titan")
    reddit = start_run(db, "reddit")
    finish_run(db, second, status="ok", fetched=5, new=5)
    runs = last_runs(db)
    assert [(run["source"], run["query"], run["id"]) for run in runs] == [
        ("reddit", None, reddit),
        ("x", "nimbus", second),
        ("x", "titan", other),
    ]
    assert runs[1]["status"] == "ok" and runs[1]["new"] == 5


def test_freshness_per_platform(db: sqlite_utils.Database, make_post) -> None:
    assert freshness(db) == []
    upsert_posts(
        db,
        [
            make_post(created_at=datetime(2024, 1, 1, tzinfo=UTC)),
            make_post(created_at=datetime(2024, 3, 1, tzinfo=UTC),
                      collected_at=datetime(2024, 3, 2, tzinfo=UTC)),
            make_post(platform="reddit", native_id="t3_abc", created_at=datetime(2023, 1, 1, tzinfo=UTC),
                      collected_at=datetime(2023, 1, 5, tzinfo=UTC)),
        ],
    )  # fmt: skip
    rows = freshness(db)
    assert rows[0] == {
        "platform": "reddit",
        "posts": 1,
        "newest_created_at": "2023-01-01T00:00:00Z",
        "last_collected_at": "2023-01-05T00:00:00Z",
    }
    assert rows[1]["platform"] == "x" and rows[1]["posts"] == 2
    assert rows[1]["newest_created_at"] == "2024-03-01T00:00:00Z"


def test_table_counts_covers_data_tables_only(db: sqlite_utils.Database, make_post) -> None:
    upsert_posts(db, [make_post(), make_post()])
    counts = table_counts(db)
    assert set(counts) == {
        "posts", "authors", "collection_runs", "checkpoints", "quarantine", "customers", "customer_handles",
        "deletions", "annotation_runs", "post_mentions", "post_language", "post_embeddings", "post_sentiment",
        "brand_sentiment", "post_needs", "post_intents", "cluster_models", "topics", "need_themes",
        "cluster_lineage", "post_topics", "need_vectors", "post_need_themes", "topic_daily", "theme_daily",
        "emerging", "customer_links", "link_audit", "churn_models", "churn_scores", "segment_runs",
        "segments", "segment_members", "audience_members", "segment_examples", "segment_lineage",
        "export_records", "export_members", "corrections", "brand_daily",
    }  # fmt: skip
    assert counts["posts"] == 2 and counts["quarantine"] == 0
    assert set(data_tables(db)) == set(counts)


def test_search_posts(db: sqlite_utils.Database, make_post) -> None:
    upsert_posts(db, [make_post(text="dropped calls all day"), make_post(text="great coverage")])
    hits = search_posts(db, '"dropped calls"')
    assert [hit["text"] for hit in hits] == ["dropped calls all day"]
