"""The segments step end to end on a small planted world: recovery, provenance, audience, stable ids."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest
from sklearn.metrics import adjusted_rand_score

from segments.discover import DiscoverySettings
from segments.features import FeatureSettings
from segments.stage import SEGMENTER, SegmentSettings, run_segments
from store import transaction
from tests.segments.segment_seed import STREAMERS, seed_world

#: Lighter discovery for tests about what a run writes rather than how well it recovers segments.
FAST = SegmentSettings(discovery=DiscoverySettings(folds=3, cv_init=1, stability_runs=1))


@pytest.fixture
def world(db):
    return db, seed_world(db, per_segment=20)


def _members(db, table: str = "segment_members", column: str = "customer_id") -> dict[str, int]:
    return dict(db.conn.execute(f"SELECT {column}, segment_id FROM {table}"))


def _active(db) -> dict[int, str]:
    return dict(
        db.conn.execute("SELECT id, name FROM segments WHERE status = 'active' AND population = 'customers'")
    )


def test_planted_segments_are_recovered_in_each_broad_segment(world) -> None:
    db, truth = world
    summary = run_segments(db)
    assert {broad: group["k"] for broad, group in summary["customers"].items()} == {"alpha": 3, "beta": 2}
    found = _members(db)
    assert len(found) == 100
    assert adjusted_rand_score([truth[c] for c in found], list(found.values())) == 1.0
    group = summary["customers"]["alpha"]
    assert group["rows"] == 60 and group["with_posts"] == 30 and group["events"] == {"born": 3}
    names = {s["name"] for s in group["segments"]}
    assert "Roaming pass · high roaming days" in names


def test_a_run_records_versions_params_and_summary(world) -> None:
    db, _ = world
    summary = run_segments(db)
    params, versions, stored, finished = db.conn.execute(
        "SELECT params, versions, summary, finished_at FROM segment_runs WHERE id = ?", [summary["run_id"]]
    ).fetchone()
    versions = json.loads(versions)
    assert versions["segmenter"] == SEGMENTER and versions["sentiment.test"] == "sentiment.test.v1"
    assert versions["topic_model"] == "topics.test.v1@1" and versions["theme_model"] == "themes.test.v1@1"
    assert json.loads(params)["discovery"]["criterion"] == "cv"
    assert json.loads(stored)["customers"]["beta"]["k"] == 2 and finished is not None


def test_profiles_carry_lift_reason_and_figures(world) -> None:
    db, _ = world
    run_segments(db, FAST)
    for name, size, churn, sentiment, profile in db.conn.execute(
        "SELECT name, size, churn_rate, sentiment, profile FROM segments WHERE population = 'customers'"
    ):
        profile = json.loads(profile)
        assert size == 20 and 0 <= churn <= 1 and -1 <= sentiment <= 1
        assert 1 <= len(profile["reason"]) <= 5 and profile["lift"][0]["lift"] >= profile["lift"][-1]["lift"]
        assert profile["members_with_posts"] == 10 and name


def test_examples_of_customer_segments_come_from_linked_members(world) -> None:
    db, _ = world
    run_segments(db, FAST)
    rows = db.conn.execute(
        "SELECT e.segment_id, m.segment_id FROM segment_examples AS e"
        " JOIN segments AS s ON s.id = e.segment_id JOIN posts AS p ON p.id = e.post_id"
        " JOIN customer_links AS l ON l.author_id = p.platform || ':' || p.author_id"
        " JOIN segment_members AS m ON m.customer_id = l.customer_id WHERE s.population = 'customers'"
    ).fetchall()
    assert len(rows) == 5 * 5 and all(example == member for example, member in rows)


def test_the_audience_is_segmented_apart_and_never_holds_a_linked_author(world) -> None:
    db, truth = world
    summary = run_segments(db, FAST)
    audience = _members(db, "audience_members", "author_id")
    assert len(audience) == 50 and summary["audience"]["k"] == 2
    assert adjusted_rand_score([truth[a] for a in audience], list(audience.values())) == 1.0
    linked = {author for (author,) in db.conn.execute("SELECT author_id FROM customer_links")}
    assert not linked & set(audience)
    populations = Counter(p for (p,) in db.conn.execute("SELECT population FROM segments"))
    assert populations == {"customers": 5, "audience": 2}
    quiet = run_segments(db, replace(FAST, audience=False))
    assert quiet["audience"] is None


def test_ids_and_names_are_stable_across_runs_of_overlapping_data(world) -> None:
    db, truth = world
    run_segments(db, FAST)
    before, first_members = _active(db), _members(db)
    with transaction(db) as conn:
        conn.execute("DELETE FROM customers WHERE customer_id IN ('C-0001', 'C-0031', 'C-0061', 'C-0091')")
    newcomers = seed_world(db, seed=1, per_segment=4, first=1000, audience=False)
    summary = run_segments(db, FAST)
    assert _active(db) == before
    assert all(group["events"] == {"kept": len(group["segments"])} for group in summary["customers"].values())
    after = _members(db)
    assert all(after[c] == first_members[c] for c in first_members if c in after)
    by_truth = {truth[c]: segment for c, segment in first_members.items()}
    assert all(after[c] == by_truth[segment] for c, segment in newcomers.items())


def test_a_new_micro_segment_gets_a_fresh_id_and_a_gone_one_retires(world) -> None:
    db, truth = world
    run_segments(db, FAST)
    savers = {c for c, segment in truth.items() if segment == "savers"}
    savers_id = _members(db)[min(savers)]
    highest = max(_active(db))
    with transaction(db) as conn:
        conn.executemany("DELETE FROM customers WHERE customer_id = ?", [(c,) for c in savers])
    seed_world(db, seed=2, per_segment=20, planted=(STREAMERS,), first=2000, audience=False)
    summary = run_segments(db, FAST)
    events = summary["customers"]["alpha"]["events"]
    assert events["kept"] == 2 and events.get("retired", 0) + events.get("merged", 0) == 1
    status = dict(db.conn.execute("SELECT id, status FROM segments"))
    assert status[savers_id] in ("retired", "merged")
    fresh = [s for s in summary["customers"]["alpha"]["segments"] if s["id"] > highest]
    assert len(fresh) == 1 and fresh[0]["name"].startswith("Upload speed")
    # Its members are all new customers, so only its profile can tie it to an old segment: ``split`` when
    # that profile is close to one (a fresh id either way), else ``born``.
    (event,) = db.conn.execute(
        "SELECT event FROM segment_lineage WHERE segment_id = ? AND run_id = ?",
        [fresh[0]["id"], summary["run_id"]],
    ).fetchone()
    assert event in ("born", "split")
    assert _members(db)["C-2000"] == fresh[0]["id"]


def test_segments_of_a_group_that_is_gone_are_retired(world) -> None:
    db, _ = world
    run_segments(db, FAST)
    with transaction(db) as conn:
        conn.execute("DELETE FROM customers WHERE broad_segment = 'beta'")
    too_few_posts = replace(FAST, features=FeatureSettings(audience_min_posts=10))
    summary = run_segments(db, too_few_posts)
    assert summary["retired_groups"] == ["beta"] and summary["audience"] == {"rows": 0, "retired": 2}
    for group in ("beta", "audience"):
        statuses = db.conn.execute("SELECT DISTINCT status FROM segments WHERE broad_segment = ?", [group])
        assert statuses.fetchall() == [("retired",)]
    assert db.conn.execute("SELECT count(*) FROM audience_members").fetchone() == (0,)
