"""The daily rollups kept current incrementally: triggers (and the annotation runner, for the rows it inserts)
mark the (day, platform) keys writes touch, and ``rebuild_brand_daily`` / ``rebuild_daily`` recompute only
those, with the same rows as a full rebuild."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from customers.forget import forget_handle
from nlp.annotate import run_annotators
from nlp.brand_daily import COLUMNS, FULL_SHARE, rebuild_brand_daily, refresh_plan, rollup_select, stale_posts
from nlp.topics.daily import TABLES, rebuild_daily, theme_daily_sql, topic_daily_sql
from store import Post, open_db, transaction, upsert_posts
from store.erase import delete_posts
from store.rollup_marks import ROLLUP_BITS, RUNNER_MARKED, stale_posts_marker
from tests.dashboard.market_seed import FIRST_DAY, seed_market_world

ROLLUPS = ("brand_daily", *TABLES)
#: Everything ``rollup_dirty`` marks: the rollups and the trend step's ``emerging``.
MARKED = (*ROLLUPS, "emerging")
WRITES = ("INSERT", "DELETE", "UPDATE", "REPLACE", "BEGIN", "SAVEPOINT")


@pytest.fixture
def world(tmp_path):
    """The dashboard's hand-made world (56 days on x and reddit, every annotation table), rollups built."""
    seed_market_world(tmp_path / "tasteradar.db")
    db = open_db(tmp_path / "tasteradar.db")
    yield db
    db.close()


def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of the three rollups, sorted, floats rounded (sums may add in another order)."""
    found = {}
    for table in ROLLUPS:
        rows = db.conn.execute(f"SELECT * FROM {table}").fetchall()
        found[table] = sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows)
    return found


def full_snapshot(db) -> dict[str, list[tuple]]:
    """What a full rebuild gives now, rolled back so the tables stay as they were."""
    db.conn.execute("BEGIN")
    try:
        rebuild_brand_daily(db, full=True)
        rebuild_daily(db, full=True)
        return snapshot(db)
    finally:
        db.conn.execute("ROLLBACK")


def stale(db) -> dict[str, set[tuple[str, str]]]:
    return {
        table: set(
            db.conn.execute(
                f"SELECT day, platform FROM rollup_dirty WHERE rollups & {ROLLUP_BITS[table]}"
            ).fetchall()
        )
        for table in MARKED
    }


def refresh_incrementally(db) -> None:
    """Check that each rollup takes the per-key path (not a full rebuild), then run both."""
    for table in ROLLUPS:
        assert refresh_plan(db.conn, table) == "keys", table
    rebuild_daily(db)
    rebuild_brand_daily(db)
    # each rollup cleared its own bit; the trend step's stays for it
    left = db.conn.execute("SELECT DISTINCT rollups FROM rollup_dirty").fetchall()
    assert left in ([], [(ROLLUP_BITS["emerging"],)])


def day(n: int, hour: int = 10) -> datetime:
    return datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, hour, tzinfo=UTC) + timedelta(days=n)


def add_posts(db, posts: list[tuple[Post, int, tuple[str, ...]]]) -> None:
    """Store posts with sentiment, mentions, brand sentiment, a topic and (topic 0) a need and its theme,
    marking the runner's tables as the annotation runner does (one statement per table and batch)."""
    upsert_posts(db, [post for post, _, _ in posts], source="test")
    with transaction(db) as conn:
        for n, (post, topic, brands) in enumerate(posts):
            label = ("positive", "neutral", "negative")[n % 3]
            conn.execute(
                "INSERT INTO post_sentiment VALUES (?, ?, 0.25, 'sentiment.test.v1')", (post.id, label)
            )
            for brand in brands:
                at = post.text.index(brand)
                conn.execute(
                    "INSERT INTO post_mentions VALUES (?, ?, ?, ?, ?, 'mentions.test.v1')",
                    (post.id, brand, brand, at, at + len(brand)),
                )
                conn.execute(
                    "INSERT INTO brand_sentiment VALUES (?, ?, 'negative', -0.5, 'brand_sentiment.test.v1')",
                    (post.id, brand),
                )
            conn.execute("INSERT INTO post_topics VALUES (?, ?, 0.7, 'topics.test.v1@1')", (post.id, topic))
            if topic == 0:
                conn.execute(
                    "INSERT INTO post_needs VALUES (?, 'wish', 'esim for watches', 0, 5, ?, 'needs.test.v1')",
                    (post.id, brands[0] if brands else None),
                )
                conn.execute(
                    "INSERT INTO post_need_themes VALUES (?, 0, 0, 0.8, 'themes.test.v1')", (post.id,)
                )
        ids = json.dumps([post.id for post, _, _ in posts])
        for table in sorted(RUNNER_MARKED):
            conn.execute(stale_posts_marker(table), [ids])


def test_the_seeded_rollups_are_current_and_nothing_is_marked(world):
    assert db_count(world, "rollup_dirty") == 0
    assert snapshot(world) == full_snapshot(world)
    assert all(db_count(world, table) for table in ROLLUPS)


def db_count(db, table: str) -> int:
    return db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_nothing_marked_means_no_write_at_all(world):
    statements: list[str] = []
    world.conn.set_trace_callback(statements.append)
    changes = world.conn.total_changes
    try:
        rows = rebuild_brand_daily(world), rebuild_daily(world)
    finally:
        world.conn.set_trace_callback(None)
    assert world.conn.total_changes == changes
    assert statements and not [s for s in statements if s.lstrip().upper().startswith(WRITES)]
    assert rows == (db_count(world, "brand_daily"), {t: db_count(world, t) for t in TABLES})


def test_incremental_equals_full_after_new_posts_deletions_and_edits(world):
    # Round 1: new posts on two existing days, a new day and a new platform; an account to erase later.
    leaver = {"author_id": "77", "author_handle": "leaver"}
    nimbus, volt, titan = ("Nimbus Mobile",), ("Volt Mobile",), ("Titan Telecom",)
    new = [
        (Post("x", "n1", "Nimbus Mobile esim again", day(3)), 0, nimbus),
        (Post("reddit", "n2", "Volt Mobile and Nimbus Mobile roaming", day(3, 22)), 1, volt + nimbus),
        (Post("x", "n3", "no brand, satellite", day(20)), 2, ()),
        (Post("x", "n4", "Titan Telecom esim", day(60), **leaver), 0, titan),
        (Post("x", "n5", "Titan Telecom roaming", day(20), **leaver), 1, titan),
        (Post("bluesky", "n6", "Volt Mobile esim", day(20)), 0, volt),
    ]
    add_posts(world, new)
    assert stale(world)["brand_daily"] == {
        (day(3).date().isoformat(), "x"), (day(3).date().isoformat(), "reddit"),
        (day(20).date().isoformat(), "x"), (day(60).date().isoformat(), "x"),
        (day(20).date().isoformat(), "bluesky"),
    }  # fmt: skip
    expected = full_snapshot(world)
    refresh_incrementally(world)
    assert snapshot(world) == expected

    # Round 2: erase an account (forget), prune posts, change sentiment, move a post to another topic and
    # edit one so it moves to another day.
    conn = world.conn
    old_day = conn.execute("SELECT substr(created_at, 1, 10) FROM posts WHERE id = 'x:m2'").fetchone()[0]
    assert forget_handle(world, "x", "@leaver").posts == 2
    assert delete_posts(world, ["reddit:m3", "x:m10"], reason="deleted on the platform") == 2
    with transaction(world) as conn:
        conn.execute("UPDATE post_sentiment SET label = 'negative', score = -0.9 WHERE post_id = 'x:m20'")
        conn.execute("UPDATE brand_sentiment SET label = 'positive', score = 0.9 WHERE post_id = 'x:m22'")
        conn.execute(
            "INSERT INTO post_topics VALUES ('x:m40', 2, 0.9, 'topics.test.v1@2') ON CONFLICT (post_id)"
            " DO UPDATE SET topic_id = excluded.topic_id, model_version = excluded.model_version"
        )
    moved = conn.execute("SELECT platform, native_id, text FROM posts WHERE id = 'x:m2'").fetchone()
    upsert_posts(world, [Post(moved[0], moved[1], moved[2] + " (edited)", day(30))], source="test")
    marked = stale(world)["brand_daily"]
    assert (old_day, "x") in marked and (day(30).date().isoformat(), "x") in marked
    assert (day(60).date().isoformat(), "x") in marked  # the erased account's only post of that day
    expected = full_snapshot(world)
    refresh_incrementally(world)
    assert snapshot(world) == expected
    assert not [row for row in expected["brand_daily"] if row[0] == day(60).date().isoformat()]


def test_each_table_marks_only_the_rollups_it_feeds(world):
    post = "x:m1"
    key = world.conn.execute(
        "SELECT substr(created_at, 1, 10), platform FROM posts WHERE id = ?", [post]
    ).fetchone()
    with transaction(world) as conn:
        conn.execute("INSERT INTO post_language VALUES (?, 'en', 0.9, 'language.test.v1')", [post])
    trend, brands = "emerging", {"brand_daily", "topic_daily"}
    writes = {
        "UPDATE post_topics SET topic_id = 2 WHERE post_id = :post": {"topic_daily", trend},
        "UPDATE post_mentions SET brand = 'Other' WHERE post_id = :post": {*brands, trend},
        "UPDATE post_sentiment SET score = 0.01 WHERE post_id = :post": set(ROLLUPS),
        "UPDATE post_topics SET score = 0.5, model_version = 'v9' WHERE post_id = :post": set(),
        "DELETE FROM brand_sentiment WHERE post_id = :post": {"brand_daily", "topic_daily"},
        "DELETE FROM post_needs WHERE post_id = :post": {"theme_daily", trend},
        # the runner marks what it inserts into its tables (see the test below); other writers' triggers do
        "INSERT INTO post_needs VALUES (:post, 'wish', 'x', 40, 41, NULL, 'needs.test.v1')": set(),
        "INSERT INTO post_need_themes VALUES (:post, 7, 1, 0.8, 'themes.test.v1')": {"theme_daily", trend},
        "UPDATE post_need_themes SET theme_id = 1 WHERE post_id = :post": {"theme_daily", trend},
        # the trend step's English filter reads the language verdict, and the posts' own text and language
        "UPDATE post_language SET lang = 'es' WHERE post_id = :post": {trend},
        "UPDATE post_language SET confidence = 0.5 WHERE post_id = :post": set(),
        "DELETE FROM post_language WHERE post_id = :post": {trend},
        "UPDATE posts SET text = text || ' (edited)' WHERE id = :post": {trend},
        "UPDATE posts SET lang = 'de' WHERE id = :post": {trend},
        "UPDATE posts SET url = 'https://example.com/1', metrics = '{}' WHERE id = :post": set(),
    }
    for sql, rollups in writes.items():
        with transaction(world) as conn:
            conn.execute("DELETE FROM rollup_dirty")
            conn.execute(sql, {"post": post})
        assert {table for table, keys in stale(world).items() if keys} == rollups, sql
        assert all(keys <= {tuple(key)} for keys in stale(world).values()), sql


class _Sentiment:
    """A minimal annotator writing ``post_sentiment``: every post neutral."""

    name, table, columns, fingerprint = (
        "sentiment.rolluptest.v1",
        "post_sentiment",
        ("post_id", "label", "score"),
        "",
    )

    def annotate(self, batch):
        return [(post_id, "neutral", 0.0) for post_id, _, _ in batch]


def test_the_annotation_runner_marks_the_days_of_the_posts_it_annotates(world):
    with transaction(world) as conn:
        conn.execute("DELETE FROM rollup_dirty")
    keys = set(
        world.conn.execute("SELECT DISTINCT substr(created_at, 1, 10), platform FROM posts").fetchall()
    )
    assert run_annotators(world, [_Sentiment()], batch_size=7) == {
        "sentiment.rolluptest.v1": db_count(world, "posts")
    }
    # sentiment feeds the three rollups, not the trend step
    assert stale(world) == {**{table: keys for table in ROLLUPS}, "emerging": set()}
    expected = full_snapshot(world)
    rebuild_brand_daily(world)
    rebuild_daily(world)
    assert snapshot(world) == expected
    assert run_annotators(world, [_Sentiment()]) == {"sentiment.rolluptest.v1": 0}
    assert db_count(world, "rollup_dirty") == 0  # nothing new: nothing marked


def test_a_refit_that_moves_most_posts_rebuilds_topic_daily_whole(world):
    with transaction(world) as conn:
        conn.execute("UPDATE post_topics SET topic_id = (topic_id + 1) % 3")
    assert refresh_plan(world.conn, "topic_daily") == "full"
    assert refresh_plan(world.conn, "brand_daily") is None and refresh_plan(world.conn, "theme_daily") is None
    expected = full_snapshot(world)
    statements: list[str] = []
    world.conn.set_trace_callback(statements.append)
    rebuild_daily(world)
    world.conn.set_trace_callback(None)
    assert "DELETE FROM topic_daily" in statements
    assert not [
        sql for sql in statements if "INSERT INTO theme_daily" in sql or "DELETE FROM theme_daily" in sql
    ]
    assert snapshot(world) == expected


def test_a_few_stale_keys_are_recomputed_through_the_platform_index(world):
    assert 0 < FULL_SHARE <= 0.5
    sqls = {
        "brand_daily": f"INSERT INTO brand_daily ({', '.join(COLUMNS)}) "
        + rollup_select(posts=stale_posts("brand_daily")),
        "topic_daily": topic_daily_sql(stale=True),
        "theme_daily": theme_daily_sql(stale=True),
    }
    for table, sql in sqls.items():
        plan = [row[3] for row in world.conn.execute("EXPLAIN QUERY PLAN " + sql)]
        ranges = [
            line for line in plan if line.startswith("SEARCH p USING INDEX idx_posts_platform_created_at")
        ]
        assert ranges and all("created_at>? AND created_at<?" in line for line in ranges), (table, plan)
        scans = [line for line in plan if re.match(r"SCAN (p|posts|t|m|s|b)\b", line)]
        assert not scans, (table, plan)


def test_full_rebuild_clears_every_mark(world):
    with transaction(world) as conn:
        conn.execute("INSERT INTO rollup_dirty VALUES ('2020-01-01', 'x', 7), ('2026-08-02', 'x', 2)")
    rebuild_brand_daily(world, full=True)
    assert (
        json.dumps(world.conn.execute("SELECT rollups FROM rollup_dirty ORDER BY day").fetchall())
        == "[[6], [2]]"
    )
    rebuild_daily(world, full=True)
    assert db_count(world, "rollup_dirty") == 0
    assert snapshot(world) == full_snapshot(world)


def test_exports_sum_the_platforms(world):
    from nlp.topics.export import topic_records
    from nlp.topics.theme_export import theme_records

    conn = world.conn
    assert {platform for (platform,) in conn.execute("SELECT DISTINCT platform FROM topic_daily")} == {
        "x",
        "reddit",
    }
    brands = {
        (topic, brand): n
        for topic, brand, n in conn.execute(
            "SELECT t.topic_id, m.brand, count(DISTINCT t.post_id) FROM post_topics AS t"
            " JOIN post_mentions AS m ON m.post_id = t.post_id GROUP BY 1, 2"
        )
    }
    exported = {
        (record["topic_id"], brand): int(n)
        for record in topic_records(conn)
        for brand, n in record["brands"].items()
    }
    assert exported == brands
    needs = dict(conn.execute("SELECT theme_id, count(*) FROM post_need_themes GROUP BY 1"))
    assert {record["theme_id"]: record["needs"] for record in theme_records(conn, "Nimbus Mobile")} == needs
