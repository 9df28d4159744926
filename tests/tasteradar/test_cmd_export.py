"""``tasteradar export posts``: the record of each annotated post, filters, formats, clear errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from store import Post, open_db, upsert_posts
from tasteradar.cli import cli

POSTS = [
    ("1", "=cmd() left @Titan for @Volt &amp; so much better", datetime(2026, 9, 1, tzinfo=UTC), "x"),
    ("2", "Volt coverage is fine", datetime(2026, 9, 20, tzinfo=UTC), "x"),
    ("3", "Le réseau Titan est lent", datetime(2026, 10, 2, tzinfo=UTC), "reddit"),
]


@pytest.fixture
def annotated(tmp_path):
    """A database of three posts with hand-written annotation rows of every kind."""
    path = tmp_path / "tasteradar.db"
    db = open_db(path)
    upsert_posts(db, [
        Post(platform=p, native_id=n, text=t, created_at=c, author_handle=f"user{n}", query="q")
        for n, t, c, p in POSTS
    ])  # fmt: skip
    rows = {
        "post_mentions": [
            ("x:1", "Titan", "@Titan", 16, 22, "m.v1"), ("x:1", "Volt", "@Volt", 27, 32, "m.v1"),
            ("x:2", "Volt", "Volt", 0, 4, "m.v1"), ("reddit:3", "Titan", "Titan", 10, 15, "m.v1"),
        ],
        "post_sentiment": [("x:1", "positive", 0.4, "s.v1"), ("x:2", "neutral", 0.0, "s.v1")],
        "brand_sentiment": [
            ("x:1", "Titan", "negative", -0.6, "b.v1"), ("x:1", "Volt", "positive", 0.7, "b.v1"),
        ],
        "post_needs": [("x:2", "request", "better coverage", 5, 20, "Volt", "n.v1")],
        "post_intents": [("x:1", "switched", "Titan", "Volt", "left", "i.v1")],
        "post_language": [("reddit:3", "fr", 0.99, "l.v1"), ("x:1", "en", 0.9, "l.v1")],
        "topics": [
            (4, "=switching, better", '[["switching", 0.5]]', 2, "active", "t@1", "t@2", "2026-10-02"),
            (5, "coverage", '[["coverage", 0.4]]', 0, "merged", "t@1", "t@2", "2026-10-02"),
        ],
        "post_topics": [("x:1", 4, 0.8, "t@2"), ("x:2", 4, 0.6, "t@2"), ("reddit:3", -1, 0.0, "t@2")],
        "topic_daily": [
            ("2026-09-01", "x", 4, "Titan", 1, 0, 0, 1), ("2026-09-01", "x", 4, "Volt", 1, 1, 0, 0),
            ("2026-09-20", "x", 4, "Volt", 1, 0, 1, 0),
        ],
        "cluster_lineage": [
            (1, "topic", "t@1", "born", 4, "[]", 0.0, "2026-10-01T00:00:00Z"),
            (2, "topic", "t@2", "kept", 4, "[]", 0.9, "2026-10-02T00:00:00Z"),
            (3, "topic", "t@2", "merged", 5, "[4]", 0.7, "2026-10-02T00:00:00Z"),
        ],
    }  # fmt: skip
    for table, values in rows.items():
        db[table].insert_all([dict(zip(db[table].columns_dict, value, strict=True)) for value in values])
    db.close()
    return path


def _export(path, *args) -> tuple[int, str, bytes]:
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "posts", "--db", str(path), *args])
    return result.exit_code, result.stderr, result.stdout_bytes


def test_jsonl_record_has_every_field_in_mention_order(annotated) -> None:
    code, err, out = _export(annotated)
    assert code == 0, err
    records = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert "exported 3 posts as jsonl" in err
    first = records["x:1"]
    assert first["brands"] == ["Titan", "Volt"]
    assert first["text"] == "=cmd() left @Titan for @Volt & so much better"  # entities decoded, exact in JSON
    assert first["sentiment"] == "positive" and first["sentiment_score"] == 0.4
    assert first["sentiment_by_brand"] == {"Titan": "negative", "Volt": "positive"}
    assert first["intents"] == ["switched"] and first["lang"] == "en"
    assert records["x:2"]["needs"] == ["better coverage"]
    assert records["reddit:3"]["lang"] == "fr" and records["reddit:3"]["sentiment"] is None
    assert set(first) >= {"id", "platform", "author_handle", "created_at"}
    assert first["topic_id"] == 4 and first["topic_label"] == "=switching, better"
    assert records["reddit:3"]["topic_id"] == -1 and records["reddit:3"]["topic_label"] is None


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        (["brand=Volt"], {"x:1", "x:2"}),
        (["brand=Volt", "since=2026-09-10"], {"x:2"}),
        (["until=2026-09-10"], {"x:1"}),
        (["platform=reddit"], {"reddit:3"}),
        (["lang=fr"], {"reddit:3"}),
        (["sentiment=neutral"], {"x:2"}),
        (["intent=switched"], {"x:1"}),
        (["author=@user2"], {"x:2"}),
        (["topic=4"], {"x:1", "x:2"}),
        (["topic=-1"], {"reddit:3"}),
        (["since=2026-09-01T00:00:00+02:00", "until=2026-09-01T00:00:01Z"], {"x:1"}),
    ],
)
def test_where_filters(annotated, where, ids) -> None:
    args = [item for pair in (("--where", w) for w in where) for item in pair]
    code, err, out = _export(annotated, *args)
    assert code == 0, err
    assert {json.loads(line)["id"] for line in out.splitlines()} == ids


def test_csv_is_safe_for_spreadsheets(annotated) -> None:
    code, err, out = _export(annotated, "--format", "csv")
    assert code == 0, err
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(out.decode("utf-8")))}
    assert rows["x:1"]["text"].startswith("'=cmd()")
    assert json.loads(rows["x:1"]["brands"]) == ["Titan", "Volt"]


def test_parquet_to_a_file(annotated, tmp_path) -> None:
    target = tmp_path / "posts.parquet"
    code, err, _ = _export(annotated, "--format", "parquet", "-o", str(target))
    assert code == 0, err
    table = pq.read_table(target)
    assert table.num_rows == 3 and table.column("brands").to_pylist() == [
        ["Titan"],
        ["Titan", "Volt"],
        ["Volt"],
    ]


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("colour=red", "unknown key 'colour'"),
        ("brand", "expected KEY=VALUE"),
        ("sentiment=angry", "choose one of positive, neutral, negative"),
        ("since=yesterday", "expected a date YYYY-MM-DD"),
        ("topic=roaming", "expected a topic id"),
    ],
)
def test_bad_filters_say_what_to_fix(annotated, where, message) -> None:
    code, err, out = _export(annotated, "--where", where)
    assert code == 2 and message in err and out == b""


def test_missing_database_is_a_clear_error(tmp_path) -> None:
    code, err, _ = _export(tmp_path / "nope.db")
    assert code == 1 and "nope.db" in err


def test_topics_export_has_trend_brands_and_lineage(annotated) -> None:
    result = CliRunner().invoke(cli, ["export", "topics", "--db", str(annotated)])
    assert result.exit_code == 0, result.stderr
    topics = {topic["topic_id"]: topic for topic in json.loads(result.stdout)}
    assert "exported 2 topics as json" in result.stderr
    kept, merged = topics[4], topics[5]
    assert kept["posts"] == 2 and kept["share"] == 1.0 and kept["terms"] == ["switching"]
    assert kept["brands"] == {"Titan": "1", "Volt": "2"}
    assert kept["posts_7d"] == 0 and kept["growth"] == 0.0  # none in the last week, one in the 28 days before
    assert kept["lineage"] == ["born@t@1", "kept@t@2"]
    assert merged["status"] == "merged" and merged["lineage"] == ["merged->4@t@2"] and merged["posts"] == 0
    assert kept["net_sentiment"] == 0.5  # one positive, one neutral
    assert kept["representative_posts"] == ["x:1", "x:2"]  # nearest the centroid first


def test_topics_export_counts_linked_customers_per_broad_segment(annotated) -> None:
    db = open_db(annotated)
    with db.conn:
        db.conn.execute("UPDATE posts SET author_id = 'a' || native_id")
        for n in (1, 2):
            db.conn.execute(
                "INSERT INTO authors (id, platform, native_id, handle, first_seen_at, last_seen_at)"
                " VALUES (?, 'x', ?, ?, '2026-09-01', '2026-09-01')",
                [f"x:a{n}", f"a{n}", f"user{n}"],
            )
        db.conn.execute(
            "INSERT INTO customers (customer_id, broad_segment, imported_at) VALUES ('C1', 'seniors', 'now')"
        )
        db.conn.execute(
            "INSERT INTO customer_links (author_id, customer_id, platform, linked_at)"
            " VALUES ('x:a1', 'C1', 'x', 'now')"
        )
    db.close()
    result = CliRunner().invoke(cli, ["export", "topics", "--db", str(annotated)])
    assert result.exit_code == 0, result.stderr
    topics = {topic["topic_id"]: topic for topic in json.loads(result.stdout)}
    assert topics[4]["segments"] == {"seniors": "1"}  # x:2's author is not linked: left out
    assert topics[5]["segments"] == {}


def test_topics_csv_neutralises_labels(annotated) -> None:
    result = CliRunner().invoke(cli, ["export", "topics", "--db", str(annotated), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["label"] for row in rows] == ["'=switching, better", "coverage"]


def test_themes_export_runs_before_any_theme_exists(annotated) -> None:
    result = CliRunner().invoke(cli, ["export", "themes", "--db", str(annotated)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [] and "exported 0 need themes as json" in result.stderr
