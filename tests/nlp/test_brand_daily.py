"""``brand_daily``: posts per day, platform and brand with sentiment, rebuilt from the annotation tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nlp.brand_daily import COLUMNS, rebuild_brand_daily, rollup_select
from store import Post, transaction, upsert_posts


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 9, day, hour, tzinfo=UTC)


POSTS = [
    Post("x", "1", "Nimbus is great, Nimbus again", at(1)),  # one brand named twice: counts once
    Post("x", "2", "Volt beats Nimbus", at(1, 23)),  # two brands: counts for each
    Post("reddit", "3", "Volt coverage is bad", at(1)),
    Post("x", "4", "no brand at all", at(2)),
    Post("x", "5", "Nimbus en español", at(2)),  # no sentiment row (not English)
]
MENTIONS = [
    ("x:1", "Nimbus Mobile", 0),
    ("x:1", "Nimbus Mobile", 20),
    ("x:2", "Volt Mobile", 0),
    ("x:2", "Nimbus Mobile", 11),
    ("reddit:3", "Volt Mobile", 0),
    ("x:5", "Nimbus Mobile", 0),
]
POST_SENTIMENT = [
    ("x:1", "positive", 0.9),
    ("x:2", "neutral", 0.1),
    ("reddit:3", "negative", -0.8),
    ("x:4", "neutral", 0.0),
]
BRAND_SENTIMENT = [
    ("x:1", "Nimbus Mobile", "positive", 0.9),
    ("x:2", "Volt Mobile", "positive", 0.6),
    ("x:2", "Nimbus Mobile", "negative", -0.6),
    ("reddit:3", "Volt Mobile", "negative", -0.8),
]


@pytest.fixture
def annotated(db):
    upsert_posts(db, POSTS, source="test")
    with transaction(db) as conn:
        for post_id, brand, start in MENTIONS:
            conn.execute(
                "INSERT INTO post_mentions VALUES (?, ?, ?, ?, ?, 'mentions.test.v1')",
                (post_id, brand, brand, start, start + 6),
            )
        for row in POST_SENTIMENT:
            conn.execute("INSERT INTO post_sentiment VALUES (?, ?, ?, 'sentiment.test.v1')", row)
        for row in BRAND_SENTIMENT:
            conn.execute("INSERT INTO brand_sentiment VALUES (?, ?, ?, ?, 'brand_sentiment.test.v1')", row)
    return db


def rows(db) -> dict[tuple[str, str, str], tuple]:
    found = db.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM brand_daily").fetchall()
    return {row[:3]: tuple(row[3:]) for row in found}


def test_rebuild_counts_posts_brands_and_sentiment(annotated):
    assert rebuild_brand_daily(annotated) == 7
    assert rows(annotated) == {
        ("2026-09-01", "x", ""): (2, 1, 1, 0, pytest.approx(1.0)),
        ("2026-09-01", "reddit", ""): (1, 0, 0, 1, pytest.approx(-0.8)),
        ("2026-09-02", "x", ""): (2, 0, 1, 0, pytest.approx(0.0)),
        ("2026-09-01", "x", "Nimbus Mobile"): (2, 1, 0, 1, pytest.approx(0.3)),
        ("2026-09-01", "x", "Volt Mobile"): (1, 1, 0, 0, pytest.approx(0.6)),
        ("2026-09-01", "reddit", "Volt Mobile"): (1, 0, 0, 1, pytest.approx(-0.8)),
        ("2026-09-02", "x", "Nimbus Mobile"): (1, 0, 0, 0, 0.0),
    }


def test_rebuild_agrees_with_a_direct_count(annotated):
    rebuild_brand_daily(annotated)
    conn = annotated.conn
    posts = dict(
        ((day, platform), n)
        for day, platform, n in conn.execute(
            "SELECT substr(created_at, 1, 10), platform, count(*) FROM posts GROUP BY 1, 2"
        )
    )
    rolled = {key[:2]: value[0] for key, value in rows(annotated).items() if key[2] == ""}
    assert rolled == posts
    mentions = dict(conn.execute("SELECT brand, count(DISTINCT post_id) FROM post_mentions GROUP BY brand"))
    by_brand: dict[str, int] = {}
    for (_, _, brand), value in rows(annotated).items():
        if brand:
            by_brand[brand] = by_brand.get(brand, 0) + value[0]
    assert by_brand == mentions
    labels = dict(conn.execute("SELECT label, count(*) FROM post_sentiment GROUP BY label"))
    totals = [sum(value[i] for key, value in rows(annotated).items() if key[2] == "") for i in (1, 2, 3)]
    assert totals == [labels.get(name, 0) for name in ("positive", "neutral", "negative")]


def test_rebuild_replaces_the_table_and_follows_deletions(annotated):
    rebuild_brand_daily(annotated)
    with transaction(annotated) as conn:
        conn.execute("DELETE FROM posts WHERE id = 'x:2'")
    assert rebuild_brand_daily(annotated) == 6
    assert ("2026-09-01", "x", "Volt Mobile") not in rows(annotated)
    assert rows(annotated)[("2026-09-01", "x", "Nimbus Mobile")][0] == 1


def test_rollup_select_filters_posts_like_the_table(annotated):
    rebuild_brand_daily(annotated)
    selected = annotated.conn.execute(
        rollup_select("p.platform = :platform"), {"platform": "reddit"}
    ).fetchall()
    expected = {key: value for key, value in rows(annotated).items() if key[1] == "reddit"}
    assert {row[:3]: tuple(row[3:]) for row in selected} == expected


def test_a_second_sentiment_version_does_not_count_twice(annotated):
    with transaction(annotated) as conn:
        conn.execute("INSERT INTO post_sentiment VALUES ('x:1', 'negative', -0.5, 'sentiment.test.v2')")
        conn.execute(
            "INSERT INTO brand_sentiment VALUES"
            " ('x:1', 'Nimbus Mobile', 'negative', -0.5, 'brand_sentiment.test.v2')"
        )
    rebuild_brand_daily(annotated)
    assert rows(annotated)[("2026-09-01", "x", "")][0] == 2
    assert sum(rows(annotated)[("2026-09-01", "x", "Nimbus Mobile")][1:4]) == 2
