"""Segments in the store: runs, stable ids and names across runs, lineage, members, one write per group."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from segments.persist import (
    NewSegment,
    assign_ids,
    finish_run,
    next_segment_id,
    previous_segments,
    start_run,
    write_group,
)
from store import Customer, Post, upsert_customers, upsert_posts
from tests.segments.segment_seed import START

FEATURES = ("data_gb", "topic:1", "topic:2")


@pytest.fixture
def store(db):
    upsert_customers(db, [Customer(f"C-{i}", "family") for i in range(12)])
    upsert_posts(db, [Post("x", f"p{i}", "text", START, author_id=f"a{i}") for i in range(6)])
    return db


def _segment(
    local: int, members: range, centroid, name: str = "", examples=(), features=FEATURES
) -> NewSegment:
    return NewSegment(
        local=local, name=name or f"segment {local}", size=len(members), churn_rate=0.25, sentiment=-0.1,
        profile={"reason": ["high data gb (2.0x)"], "lift": []}, centroid=np.array(centroid, dtype=float),
        features=features, members=tuple((f"C-{i}", 0.9) for i in members), examples=tuple(examples),
    )  # fmt: skip


def _write(
    db, new: list[NewSegment], population: str = "customers", broad: str = "family"
) -> tuple[int, dict]:
    run = start_run(db, {"k": "auto"}, {"topic_model": "t1"})
    old = previous_segments(db, population, broad)
    matching = assign_ids(old, new, next_id=next_segment_id(db))
    ids = write_group(db, run, population, broad, new, matching)
    finish_run(db, run, {"segments": len(new)})
    return run, ids


def _rows(db, sql: str, *args) -> list[tuple]:
    return db.conn.execute(sql, args).fetchall()


def test_a_run_records_its_params_versions_and_summary(store) -> None:
    run, _ = _write(store, [_segment(0, range(6), [1, 0, 0])])
    started, finished, params, versions, summary = _rows(
        store, "SELECT started_at, finished_at, params, versions, summary FROM segment_runs WHERE id = ?", run
    )[0]
    assert started <= finished
    assert json.loads(params) == {"k": "auto"} and json.loads(versions) == {"topic_model": "t1"}
    assert json.loads(summary) == {"segments": 1}


def test_a_first_write_issues_fresh_ids_with_members_examples_and_lineage(store) -> None:
    run, ids = _write(store, [_segment(0, range(6), [1, 0, 0], examples=["x:p1", "x:p0"]),
                              _segment(1, range(6, 12), [0, 1, 0])])  # fmt: skip
    assert ids == {0: 1, 1: 2}
    row = _rows(store, "SELECT population, broad_segment, name, size, churn_rate, status, born_run, last_run,"
                " profile, centroid FROM segments WHERE id = 1")[0]  # fmt: skip
    assert row[:8] == ("customers", "family", "segment 0", 6, 0.25, "active", run, run)
    assert json.loads(row[8])["centroid_features"] == list(FEATURES)
    assert np.frombuffer(row[9], dtype="<f4").tolist() == [1.0, 0.0, 0.0]
    member = "SELECT customer_id, segment_id, run_id, score FROM segment_members WHERE customer_id = 'C-7'"
    assert _rows(store, member) == [("C-7", 2, run, 0.9)]
    assert _rows(store, "SELECT post_id, rank FROM segment_examples ORDER BY rank") == [
        ("x:p1", 1),
        ("x:p0", 2),
    ]
    assert _rows(store, "SELECT event, segment_id FROM segment_lineage ORDER BY segment_id") == [
        ("born", 1), ("born", 2)
    ]  # fmt: skip


def test_kept_segments_keep_their_id_and_name_and_members_move(store) -> None:
    _write(
        store,
        [_segment(0, range(6), [1, 0, 0], "Heavy data"), _segment(1, range(6, 12), [0, 1, 0], "Travel")],
    )
    # The fit numbers them the other way round, describes them anew, and one customer moved.
    run, ids = _write(store, [_segment(0, [*range(6, 12), 5], [0, 1, 0.1], "Roaming pass"),
                              _segment(1, range(5), [1, 0.1, 0], "Data hungry")])  # fmt: skip
    assert ids == {0: 2, 1: 1}
    assert _rows(store, "SELECT id, name, size, last_run FROM segments ORDER BY id") == [
        (1, "Heavy data", 5, run), (2, "Travel", 7, run)
    ]  # fmt: skip
    assert _rows(store, "SELECT segment_id FROM segment_members WHERE customer_id = 'C-5'") == [(2,)]
    events = _rows(store, "SELECT event, segment_id FROM segment_lineage WHERE run_id = ? ORDER BY 2", run)
    assert events == [("kept", 1), ("kept", 2)]


def test_retired_ids_are_never_reused(store) -> None:
    _write(store, [_segment(0, range(6), [1, 0, 0]), _segment(1, range(6, 12), [0, 1, 0])])
    run, ids = _write(store, [_segment(0, range(12), [1, 0.05, 0])])
    assert ids == {0: 1}
    assert _rows(store, "SELECT id, status FROM segments ORDER BY id") == [(1, "active"), (2, "merged")]
    assert _rows(store, "SELECT related FROM segment_lineage WHERE run_id = ? AND event = 'merged'", run) == [
        ("[1]",)
    ]
    assert _rows(store, "SELECT count(*) FROM segment_members WHERE segment_id = 2") == [(0,)]
    _, later = _write(store, [_segment(0, range(6), [1, 0, 0]), _segment(1, range(6, 12), [0, 0, 1])])
    assert later == {0: 1, 1: 3}
    assert next_segment_id(store) == 4


def test_a_split_names_its_parent_and_a_new_name_never_repeats_a_stored_one(store) -> None:
    _write(store, [_segment(0, range(12), [1, 0, 0], "Families")])
    run, ids = _write(
        store,
        [_segment(0, range(8), [1, 0, 0], "Families"), _segment(1, range(8, 12), [1, 0.2, 0], "Families")],
    )
    assert ids == {0: 1, 1: 2}
    assert _rows(store, "SELECT name FROM segments ORDER BY id") == [("Families",), ("Families (2)",)]
    split = _rows(
        store,
        "SELECT event, segment_id, related FROM segment_lineage WHERE run_id = ? AND segment_id = 2",
        run,
    )
    assert split == [("split", 2, "[1]")]


def test_centroids_over_other_features_still_match_by_members(store) -> None:
    _write(store, [_segment(0, range(6), [1, 0, 0]), _segment(1, range(6, 12), [0, 1, 0])])
    other = ("data_gb", "topic:2", "topic:9")
    _, ids = _write(store, [_segment(0, range(6, 12), [0, 0, 1], features=other),
                            _segment(1, range(6), [0, 1, 0], features=other)])  # fmt: skip
    assert ids == {0: 2, 1: 1}


def test_audience_members_are_authors_kept_apart_from_customers(store) -> None:
    audience = NewSegment(
        0,
        "Gamers",
        3,
        None,
        0.2,
        {},
        np.array([1.0]),
        ("topic:1",),
        (("x:a1", 0.8), ("x:a2", 0.7), ("x:a3", 0.6)),
    )
    _, ids = _write(store, [audience], population="audience", broad="audience")
    assert _rows(store, "SELECT author_id, segment_id FROM audience_members ORDER BY 1") == [
        ("x:a1", ids[0]), ("x:a2", ids[0]), ("x:a3", ids[0])
    ]  # fmt: skip
    assert _rows(store, "SELECT count(*) FROM segment_members") == [(0,)]
    assert previous_segments(store, "audience", "audience")[0].members == {"x:a1", "x:a2", "x:a3"}
    assert previous_segments(store, "customers", "audience") == []


def test_a_failed_group_write_leaves_the_previous_run_as_it_was(store) -> None:
    _write(store, [_segment(0, range(6), [1, 0, 0], "Heavy data")])
    bad = _segment(1, range(6), [1, 0, 0])
    bad = NewSegment(**{**bad.__dict__, "members": (("C-0", 0.9), ("C-404", 0.9))})
    run = start_run(store, {}, {})
    matching = assign_ids(
        previous_segments(store, "customers", "family"), [bad], next_id=next_segment_id(store)
    )
    with pytest.raises(sqlite3.IntegrityError):
        write_group(store, run, "customers", "family", [bad], matching)
    assert _rows(store, "SELECT count(*) FROM segment_members") == [(6,)]
    assert _rows(store, "SELECT count(*) FROM segment_lineage") == [(1,)]
