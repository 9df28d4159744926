"""The trend step runs only when something it reads changed: the ``emerging`` bit of ``rollup_dirty``
(migration 10). A second run with nothing new reads no post and writes nothing; a new post, a topic
assignment, an edited text or a language verdict brings it back; it clears its own bit only."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from nlp.annotate import run_annotators
from nlp.brand_daily import rebuild_brand_daily
from nlp.topics.daily import rebuild_daily
from nlp.topics.trend_stage import UP_TO_DATE, run_trends, trends_stale
from store import Post, open_db, transaction, upsert_posts
from store.rollup_marks import ROLLUP_BITS, TREND_BIT
from tests.dashboard.market_seed import BRANDS, LAST_DAY, seed_market_world

ROLLUP_MASK = sum(bit for name, bit in ROLLUP_BITS.items() if name != "emerging")


@pytest.fixture
def world(tmp_path):
    """The dashboard's hand-made world (56 days, a topic that quadruples in the last week), its posts
    labelled English, trends evaluated once."""
    seed_market_world(tmp_path / "tasteradar.db")
    db = open_db(tmp_path / "tasteradar.db")
    with transaction(db) as conn:
        conn.execute("UPDATE posts SET lang = 'en'")
    assert run_trends(db, stop_terms=BRANDS)["topic"] >= 1  # the planted topic is flagged
    yield db
    db.close()


def marks(db) -> dict[tuple[str, str], int]:
    return {(day, platform): bits for day, platform, bits in db.conn.execute("SELECT * FROM rollup_dirty")}


def emerging(db) -> list[tuple]:
    return db.conn.execute("SELECT * FROM emerging ORDER BY kind, key, day").fetchall()


def traced(db, **kwargs) -> tuple[dict, list[str]]:
    """Run the trend step; return its report and every statement it ran."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        return run_trends(db, stop_terms=BRANDS, **kwargs), statements
    finally:
        db.conn.set_trace_callback(None)


def reads_posts(statements: list[str]) -> bool:
    return any("FROM posts" in sql for sql in statements)


def test_a_run_clears_the_trend_bit(world):
    assert not trends_stale(world.conn)
    assert marks(world) == {}


def test_a_second_run_reads_no_posts_and_writes_nothing(world):
    before, changes = emerging(world), world.conn.total_changes
    report, statements = traced(world)
    assert report == UP_TO_DATE
    assert statements == [f"SELECT 1 FROM rollup_dirty WHERE rollups & {TREND_BIT} LIMIT 1"]
    assert world.conn.total_changes == changes and emerging(world) == before


def test_a_new_post_runs_it_again_and_leaves_the_rollups_bits(world):
    before = emerging(world)
    when = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 20, tzinfo=UTC)
    upsert_posts(world, [Post("x", "new1", "satellite sos saved a hiker again", when, lang="en")], source="t")
    key = (LAST_DAY.isoformat(), "x")
    assert marks(world) == {key: ROLLUP_MASK | TREND_BIT}
    report, statements = traced(world)
    assert report != UP_TO_DATE and report["topic"] >= 1 and reads_posts(statements)
    assert marks(world) == {key: ROLLUP_MASK}  # the rollups' bits wait for the rollups
    assert {row[:3] for row in emerging(world)} >= {row[:3] for row in before if row[0] == "topic"}
    rebuild_daily(world)
    rebuild_brand_daily(world)
    assert marks(world) == {}
    assert traced(world)[0] == UP_TO_DATE


def test_a_changed_topic_assignment_runs_it_again(world):
    with transaction(world) as conn:
        conn.execute("UPDATE post_topics SET topic_id = 1 WHERE post_id = 'x:m1'")
    (key,) = marks(world)
    assert marks(world)[key] == ROLLUP_BITS["topic_daily"] | TREND_BIT
    report, statements = traced(world)
    assert report != UP_TO_DATE and reads_posts(statements)
    assert marks(world) == {key: ROLLUP_BITS["topic_daily"]}


def test_the_rollups_leave_the_trend_bit_for_the_trend_step(world):
    with transaction(world) as conn:
        conn.execute("UPDATE post_mentions SET brand = 'Other' WHERE post_id = 'x:m1'")
    (key,) = marks(world)
    assert rebuild_daily(world) and rebuild_brand_daily(world)
    assert marks(world) == {key: TREND_BIT}
    assert traced(world)[0] != UP_TO_DATE and marks(world) == {}


def test_an_edited_post_marks_the_trend_bit_only(world):
    platform, native, text, created = world.conn.execute(
        "SELECT platform, native_id, text, created_at FROM posts WHERE id = 'x:m1'"
    ).fetchone()
    when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    upsert_posts(world, [Post(platform, native, text + " (edited)", when, lang="en")], source="t")
    assert marks(world) == {(created[:10], "x"): TREND_BIT}


def test_full_runs_with_nothing_marked(world):
    before = emerging(world)
    report, statements = traced(world, full=True)
    assert report != UP_TO_DATE and reads_posts(statements)
    assert [row[:-1] for row in emerging(world)] == [row[:-1] for row in before]  # detected_at aside


def test_a_write_committed_during_a_run_keeps_the_marks(world, tmp_path):
    """Another connection commits while the window is read: its mark may stand for a post the run did not
    see, so the run writes its flags but leaves the bit for the next run."""
    with transaction(world) as conn:
        conn.execute("UPDATE post_topics SET topic_id = 1 WHERE post_id = 'x:m1'")
    other = sqlite3.connect(tmp_path / "tasteradar.db", isolation_level=None)
    when = f"{LAST_DAY.isoformat()}T21:00:00Z"

    def collector(sql: str) -> None:
        if "json_group_array" in sql and not other.in_transaction:  # the window's read
            other.execute(
                "INSERT INTO posts (id, platform, native_id, text, created_at, content_hash, first_seen_at,"
                " updated_at) VALUES ('reddit:late', 'reddit', 'late', 'late one', ?, 'h', ?, ?)",
                (when, when, when),
            )

    world.conn.set_trace_callback(collector)
    try:
        assert run_trends(world, stop_terms=BRANDS) != UP_TO_DATE
    finally:
        world.conn.set_trace_callback(None)
        other.close()
    assert {bits & TREND_BIT for bits in marks(world).values()} == {TREND_BIT}
    assert (LAST_DAY.isoformat(), "reddit") in marks(world)
    assert run_trends(world, stop_terms=BRANDS) != UP_TO_DATE and not trends_stale(world.conn)


class _Writer:
    """A minimal annotator writing one row per post into ``table``."""

    def __init__(self, name: str, table: str, columns: tuple[str, ...], row) -> None:
        self.name, self.table, self.columns, self.fingerprint, self.row = name, table, columns, "", row

    def annotate(self, batch):
        return [self.row(post_id, text) for post_id, text, _ in batch]


@pytest.mark.parametrize(
    ("writer", "expected"),
    [
        (
            _Writer("language.marktest.v1", "post_language", ("post_id", "lang", "confidence"),
                    lambda pid, _: (pid, "en", 0.9)),
            TREND_BIT,
        ),
        (
            _Writer("mentions.marktest.v1", "post_mentions",
                    ("post_id", "brand", "surface", "start_char", "end_char"),
                    lambda pid, _: (pid, "Nimbus Mobile", "Nimbus", 0, 6)),
            ROLLUP_BITS["brand_daily"] | ROLLUP_BITS["topic_daily"] | TREND_BIT,
        ),
    ],
)  # fmt: skip
def test_the_runner_marks_the_trend_bit_for_the_tables_it_writes(world, writer, expected):
    keys = set(
        world.conn.execute("SELECT DISTINCT substr(created_at, 1, 10), platform FROM posts").fetchall()
    )
    posts = world.conn.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert run_annotators(world, [writer], batch_size=50) == {writer.name: posts}
    assert marks(world) == dict.fromkeys(keys, expected)
    assert traced(world)[0] != UP_TO_DATE and not trends_stale(world.conn)
