"""Import of every real posts file under ../shared/data, with exact counts (skipped when a file is absent).

Expected numbers come from an independent, simple reader (the ``csv`` module over the whole file) and from
the figures documented in each SOURCE.md. The files are read in place, never copied.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from collectors.files import import_file
from store import get_post

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
AIRLINE = DATA / "twitter-airline-sentiment" / "Tweets.csv"
TWCS_HEAD = DATA / "twcs-sample" / "twcs_head5000.csv"
TWCS_RANDOM = DATA / "twcs-sample" / "twcs_random5000.csv"
TWCS_SAMPLE = DATA / "twcs-sample" / "sample.csv"
REDDIT_POSTS = DATA / "reddit-tmobile" / "reddit_tmobile_posts_sentiment.csv"
REDDIT_COMMENTS = DATA / "reddit-tmobile" / "reddit_tmobile_comments_sentiment.csv"


def need(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    """The independent reader: the csv module with newline='' over the whole file."""
    csv.field_size_limit(1 << 24)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, list(reader)


def stored_ids(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT native_id FROM posts")}


def test_airline_tweets_exact_counts(db):
    header, rows = rows_of(need(AIRLINE))
    ids = [row[header.index("tweet_id")] for row in rows]
    assert (len(rows), len(set(ids))) == (14_640, 14_485)  # as SOURCE.md documents
    result = import_file(db, AIRLINE)
    assert result.format == "airline"
    assert (result.records, result.inserted, result.duplicates, result.quarantined) == (
        14_640,
        14_485,
        155,
        0,
    )
    assert stored_ids(db) == set(ids)
    run = db.execute(
        "SELECT source, query, fetched, new, duplicates, quarantined, status FROM collection_runs"
    )
    assert run.fetchone() == ("import", "Tweets.csv", 14_640, 14_485, 155, 0, "ok")
    first = get_post(db, "x:570306133677760513")
    assert first.author_handle == "cairdin" and first.raw["airline_sentiment"] == "neutral"
    assert first.created_at.isoformat() == "2015-02-24T19:35:52+00:00"


def test_twcs_head_recovers_the_record_with_a_bare_cr(db):
    header, rows = rows_of(need(TWCS_HEAD))
    # The independent reader splits tweet 3399 into a 6-field row, an empty row and a 3-field row.
    whole = [row for row in rows if len(row) == len(header)]
    assert (len(rows), len(whole), sorted(len(row) for row in rows if len(row) != len(header))) == (
        5_002, 4_999, [0, 3, 6]
    )  # fmt: skip
    result = import_file(db, TWCS_HEAD)
    assert (result.format, result.records, result.inserted, result.quarantined) == ("twcs", 5_000, 5_000, 0)
    assert stored_ids(db) == {row[1] for row in whole} | {"3399"}
    broken = get_post(db, "x:3399")
    assert broken.text == "@AskPayPal \r\rI just love the start of email \U0001f601 https://t.co/8u1Pf5rJoN"
    assert broken.author_id == "116510" and broken.raw["response_tweet_id"] == "3398"
    assert get_post(db, "x:2").reply_to == "x:1"  # in_response_to_tweet_id "1.0"


@pytest.mark.parametrize(("path", "rows"), [(TWCS_RANDOM, 5_000), (TWCS_SAMPLE, 93)])
def test_twcs_samples_exact_counts(db, path, rows):
    header, data = rows_of(need(path))
    assert len(data) == rows and all(len(row) == len(header) for row in data)
    result = import_file(db, path)
    assert (result.format, result.inserted, result.duplicates, result.quarantined) == ("twcs", rows, 0, 0)
    assert stored_ids(db) == {row[0] for row in data}
    replies = sum(1 for row in data if row[header.index("in_response_to_tweet_id")])
    assert db.execute("SELECT count(*) FROM posts WHERE reply_to IS NOT NULL").fetchone()[0] == replies
    brands = sum(1 for row in data if row[header.index("inbound")] == "False")
    assert db.execute("SELECT count(*) FROM posts WHERE author_handle IS NOT NULL").fetchone()[0] == brands


def test_reddit_posts_and_comments_land_side_by_side(db):
    _header, posts = rows_of(need(REDDIT_POSTS))
    _header, comments = rows_of(need(REDDIT_COMMENTS))
    assert (len(posts), len(comments)) == (1_000, 1_972)
    first = import_file(db, REDDIT_POSTS)
    second = import_file(db, REDDIT_COMMENTS)
    assert (first.format, first.inserted, first.quarantined) == ("reddit-csv", 1_000, 0)
    assert (second.format, second.inserted, second.quarantined) == ("reddit-csv", 1_972, 0)
    expected = {f"t3_{row[2]}" for row in posts} | {f"t1_{row[2]}" for row in comments}
    assert stored_ids(db) == expected and len(expected) == 2_972
    text = get_post(db, f"reddit:t3_{posts[0][2]}").text
    assert text == posts[0][4] and "\n" in text  # title + body with embedded newlines, as exported


def test_a_finished_import_run_again_counts_everything_as_duplicates(db):
    need(TWCS_RANDOM)
    import_file(db, TWCS_RANDOM)
    again = import_file(db, TWCS_RANDOM)
    assert (again.records, again.inserted, again.unchanged, again.updated, again.resumed_records) == (
        5_000, 0, 5_000, 0, 0
    )  # fmt: skip
