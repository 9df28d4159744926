"""upsert_posts: counts, idempotence, updates in place, full-text sync, quarantine, repair, transactions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlite_utils

from store import (
    Post,
    Rejected,
    UpsertResult,
    get_checkpoint,
    get_post,
    post_from_row,
    set_checkpoint,
    transaction,
    upsert_posts,
)
from store.posts import POST_COLUMNS, post_to_row


def test_insert_counts_and_fields_round_trip(db: sqlite_utils.Database, make_post) -> None:
    posts = [
        make_post(url="https://x.com/i/1", lang="en", reply_to="x:1", conversation_id="x:1") for _ in range(3)
    ]
    result = upsert_posts(db, posts)
    assert result == UpsertResult(inserted=3, updated=0, unchanged=0, quarantined=0)
    stored = get_post(db, posts[0].id)
    assert stored is not None
    assert replace(stored, collected_at=None) == posts[0]
    row = next(db["posts"].rows_where("id = ?", [posts[0].id]))
    assert row["created_at"] == "2024-05-01T12:00:00Z"
    assert row["first_seen_at"].endswith("Z") and row["updated_at"] == row["first_seen_at"]
    assert json.loads(row["metrics"]) == posts[0].metrics
    assert post_from_row(row).raw == posts[0].raw


def test_same_batch_twice_is_all_unchanged(db: sqlite_utils.Database, make_post, count) -> None:
    posts = [make_post() for _ in range(50)]
    assert upsert_posts(db, posts, batch_size=7).inserted == 50
    snapshot = list(db.query("SELECT * FROM posts ORDER BY id"))
    result = upsert_posts(db, posts, batch_size=7)
    assert result == UpsertResult(inserted=0, updated=0, unchanged=50, quarantined=0)
    assert count(db, "posts") == 50
    assert list(db.query("SELECT * FROM posts ORDER BY id")) == snapshot


def test_recollected_post_with_new_collected_at_is_unchanged(db: sqlite_utils.Database, make_post) -> None:
    post = make_post(collected_at=datetime(2024, 5, 2, tzinfo=UTC))
    upsert_posts(db, [post])
    later = replace(post, collected_at=datetime(2024, 6, 1, tzinfo=UTC))
    assert upsert_posts(db, [later]).unchanged == 1


def test_changed_post_updates_in_place_and_fts_follows(db: sqlite_utils.Database, make_post, fts_ids) -> None:
    post = make_post(text="the roaming charges are outrageous")
    upsert_posts(db, [post])
    rowid, first_seen = db.conn.execute("SELECT rowid, first_seen_at FROM posts").fetchone()
    assert fts_ids(db, "outrageous") == {post.id}
    edited = replace(post, text="the roaming charges are fine now", metrics={"likes": 99})
    assert upsert_posts(db, [edited]) == UpsertResult(updated=1)
    assert db.conn.execute("SELECT rowid, first_seen_at FROM posts").fetchone() == (rowid, first_seen)
    assert get_post(db, post.id).text == "the roaming charges are fine now"
    assert fts_ids(db, "outrageous") == set()
    assert fts_ids(db, "fine") == {post.id}
    assert fts_ids(db, "roaming") == {post.id}
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")


def test_metrics_only_update_keeps_fts(db: sqlite_utils.Database, make_post, fts_ids) -> None:
    post = make_post(text="signal dropped again")
    upsert_posts(db, [post])
    assert upsert_posts(db, [replace(post, metrics={"likes": 1234})]).updated == 1
    assert fts_ids(db, "dropped") == {post.id}
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")


def test_fts_finds_inserted_text_with_diacritics_folded(
    db: sqlite_utils.Database, make_post, fts_ids
) -> None:
    cafe, other = make_post(text="Le café était fermé"), make_post(text="nothing to see")
    upsert_posts(db, [cafe, other])
    assert fts_ids(db, "cafe") == {cafe.id}
    assert fts_ids(db, "ETAIT") == {cafe.id}
    assert fts_ids(db, "see") == {other.id}


def test_delete_removes_post_from_fts(db: sqlite_utils.Database, make_post, fts_ids) -> None:
    keep, gone = make_post(text="keep this outage"), make_post(text="remove this outage")
    upsert_posts(db, [keep, gone])
    db.conn.execute("DELETE FROM posts WHERE id = ?", [gone.id])
    assert fts_ids(db, "outage") == {keep.id}
    assert fts_ids(db, "remove") == set()
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"text": ""}, "text is empty"),
        ({"text": "   "}, "text is empty"),
        ({"text": None}, "text is empty or missing"),
        ({"native_id": ""}, "native_id is empty"),
        ({"native_id": 570306133677760513}, "native_id must be a non-empty string, got int"),
        ({"native_id": "5.70306E+17"}, "went through a float"),
        ({"native_id": "570306133677760513.0"}, "went through a float"),
        ({"native_id": "nan"}, "went through a float"),
        ({"native_id": " 12"}, "whitespace"),
        ({"created_at": "2024-05-01T00:00:00Z"}, "created_at must be a datetime"),
        ({"created_at": date(2024, 5, 1)}, "created_at must be a datetime"),
        ({"created_at": None}, "created_at must be a datetime"),
        ({"platform": ""}, "platform must be a non-empty string"),
        ({"platform": "x:y"}, "without ':'"),
        ({"platform": None}, "platform must be"),
        ({"author_id": "1.2e+18"}, "author_id"),
        ({"metrics": [1, 2]}, "metrics must be a dict"),
        ({"lang": 5}, "lang must be a string"),
        ({"collected_at": "yesterday"}, "collected_at must be a datetime"),
    ],
)
def test_invalid_posts_are_quarantined_while_the_rest_lands(
    db: sqlite_utils.Database, make_post, count, overrides: dict, reason: str
) -> None:
    good = [make_post(), make_post()]
    bad = make_post(**overrides)
    result = upsert_posts(db, [good[0], bad, good[1]], source="x-search")
    assert result == UpsertResult(inserted=2, quarantined=1)
    assert {row["id"] for row in db["posts"].rows} == {good[0].id, good[1].id}
    (row,) = db["quarantine"].rows
    assert reason in row["reason"]
    assert row["source"] == "x-search"
    assert row["raw"] and json.loads(row["raw"])["text"] == (bad.text if isinstance(bad.text, str) else None)


def test_rejected_items_and_non_posts_go_to_quarantine(db: sqlite_utils.Database, make_post) -> None:
    items = [
        Rejected(source="csv:file.csv", raw=b"\xffnot,utf8", reason="line 3: missing id"),
        make_post(),
        Rejected(source="reddit", raw={"kind": "t3", "data": {}}, reason="no body"),
        {"text": "a dict is not a Post"},
    ]
    result = upsert_posts(db, items, source="import", run_id=None)
    assert result == UpsertResult(inserted=1, quarantined=3)
    rows = list(db.query("SELECT source, reason, raw FROM quarantine ORDER BY id"))
    assert rows[0] == {"source": "csv:file.csv", "reason": "line 3: missing id", "raw": "\ufffdnot,utf8"}
    assert json.loads(rows[1]["raw"]) == {"kind": "t3", "data": {}}
    assert rows[2]["source"] == "import" and rows[2]["reason"] == "not a Post: dict"


def test_surrogates_and_invalid_bytes_are_repaired_without_failing_the_batch(
    db: sqlite_utils.Database, make_post, count
) -> None:
    lone = make_post(text="cut emoji \ud83d here", author_handle="bad\udc80handle")
    pair = make_post(text="joined \ud83d\ude00 pair")
    raw_bytes = make_post(text=b"bytes \xff\xfe text", url=b"https://e.com/\xff")
    in_json = make_post(metrics={"k\ud800": "v\udfff"}, raw={"text": "raw \ud83d", "nested": [b"\xff"]})
    plain = make_post()
    result = upsert_posts(db, [lone, pair, raw_bytes, in_json, plain])
    assert result == UpsertResult(inserted=5)
    assert get_post(db, lone.id).text == "cut emoji \ufffd here"
    assert get_post(db, lone.id).author_handle == "bad\ufffdhandle"
    assert get_post(db, pair.id).text == "joined \U0001f600 pair"
    assert get_post(db, raw_bytes.id).text == "bytes \ufffd\ufffd text"
    assert get_post(db, raw_bytes.id).url == "https://e.com/\ufffd"
    stored = get_post(db, in_json.id)
    assert stored.metrics == {"k\ufffd": "v\ufffd"}
    assert stored.raw == {"text": "raw \ufffd", "nested": ["\ufffd"]}
    for row in db.conn.execute("SELECT * FROM posts"):
        for value in row:
            if isinstance(value, str):
                value.encode("utf-8")
    assert result.inserted == count(db, "posts") == 5
    assert upsert_posts(db, [lone, pair, raw_bytes, in_json, plain]).unchanged == 5


@pytest.mark.parametrize(
    "native_id", ["570306133677760513", "18446744073709551615", "9223372036854775807", "007"]
)
def test_64_bit_ids_round_trip_as_strings(db: sqlite_utils.Database, make_post, native_id: str) -> None:
    post = make_post(native_id=native_id, author_id="18446744073709551615")
    upsert_posts(db, [post])
    row = db.conn.execute(
        "SELECT id, typeof(id), native_id, typeof(native_id), author_id, typeof(author_id) FROM posts"
    ).fetchone()
    assert row == (f"x:{native_id}", "text", native_id, "text", "18446744073709551615", "text")
    assert get_post(db, f"x:{native_id}").native_id == native_id
    author = db.conn.execute("SELECT id, native_id, typeof(native_id) FROM authors").fetchone()
    assert author == ("x:18446744073709551615", "18446744073709551615", "text")


def test_on_batch_runs_inside_the_batch_transaction(db: sqlite_utils.Database, make_post, count) -> None:
    posts = [make_post() for _ in range(10)]
    seen: list[int] = []

    def checkpoint(database: sqlite_utils.Database, batch: list[Post]) -> None:
        assert database.conn.in_transaction
        assert count(database, "posts") == sum(seen) + len(batch)
        seen.append(len(batch))
        set_checkpoint(database, "x", "nimbus", {"since_id": batch[-1].native_id})
        if len(seen) == 2:
            raise RuntimeError("collector crashed")

    with pytest.raises(RuntimeError, match="collector crashed"):
        upsert_posts(db, posts, batch_size=4, on_batch=checkpoint)
    assert not db.conn.in_transaction
    assert seen == [4, 4]
    assert {row["id"] for row in db["posts"].rows} == {post.id for post in posts[:4]}
    assert get_checkpoint(db, "x", "nimbus") == {"since_id": posts[3].native_id}


def test_failed_batch_rolls_back_quarantine_too(db: sqlite_utils.Database, make_post, count) -> None:
    def fail(database: sqlite_utils.Database, batch: list[Post]) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        upsert_posts(db, [make_post(), make_post(text="")], on_batch=fail)
    assert count(db, "posts") == count(db, "quarantine") == count(db, "authors") == 0


def test_generator_is_consumed_lazily(db: sqlite_utils.Database, make_post) -> None:
    produced = 0

    def generate() -> Iterator[Post]:
        nonlocal produced
        for _ in range(100):
            produced += 1
            yield make_post()

    produced_at_batches: list[int] = []

    def on_batch(database: sqlite_utils.Database, batch: list[Post]) -> None:
        produced_at_batches.append(produced)

    result = upsert_posts(db, generate(), batch_size=10, on_batch=on_batch)
    assert result.inserted == 100
    assert produced_at_batches[0] == 10
    assert produced_at_batches == list(range(10, 101, 10))


def test_duplicates_within_one_batch(db: sqlite_utils.Database, make_post, count) -> None:
    post = make_post(text="first version")
    result = upsert_posts(db, [post, post, replace(post, text="second version")])
    assert result == UpsertResult(inserted=1, updated=1, unchanged=1)
    assert count(db, "posts") == 1
    assert get_post(db, post.id).text == "second version"


def test_minimal_author_rows(db: sqlite_utils.Database, make_post) -> None:
    upsert_posts(db, [make_post(author_id="77", author_handle="@NimbusFan"), make_post(author_id=None)])
    rows = list(db.query("SELECT id, platform, native_id, handle, metadata FROM authors"))
    assert rows == [
        {"id": "x:77", "platform": "x", "native_id": "77", "handle": "NimbusFan", "metadata": "{}"}
    ]


def test_upsert_joins_an_outer_transaction(db: sqlite_utils.Database, make_post, count) -> None:
    with pytest.raises(KeyError), transaction(db):
        upsert_posts(db, [make_post()])
        assert count(db, "posts") == 1
        raise KeyError("abort everything")
    assert count(db, "posts") == 0


def test_empty_input_and_bad_batch_size(db: sqlite_utils.Database) -> None:
    assert upsert_posts(db, iter(())) == UpsertResult()
    with pytest.raises(ValueError, match="batch_size"):
        upsert_posts(db, [], batch_size=0)


def test_upsert_result_adds_up() -> None:
    total = UpsertResult(1, 2, 3, 4) + UpsertResult(10, 20, 30, 40)
    assert total == UpsertResult(11, 22, 33, 44)
    assert total.stored == 66


def test_triggers_keep_fts_in_sync_for_other_writers(db: sqlite_utils.Database, make_post, fts_ids) -> None:
    kept = make_post(text="alpha original wording")
    upsert_posts(db, [kept])
    other = make_post(text="beta written by another tool")
    db["posts"].insert(dict(zip(POST_COLUMNS, post_to_row(other, "2024-01-01T00:00:00Z"), strict=True)))
    assert fts_ids(db, "beta") == {other.id}
    db.conn.execute("UPDATE posts SET text = 'alpha edited wording' WHERE id = ?", [kept.id])
    assert fts_ids(db, "original") == set()
    assert fts_ids(db, "edited") == {kept.id}
    db["posts"].delete(other.id)
    assert fts_ids(db, "beta") == set()
    assert fts_ids(db, "wording") == {kept.id}
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")


def test_many_batches_with_updates_keep_fts_consistent(db: sqlite_utils.Database, make_post, fts_ids) -> None:
    posts = [make_post(text=f"first draft {number}") for number in range(60)]
    upsert_posts(db, posts, batch_size=16)
    edited = [replace(post, text=f"second take {number}") for number, post in enumerate(posts[::2])]
    assert upsert_posts(db, [*edited, *posts[1::2]], batch_size=16) == UpsertResult(updated=30, unchanged=30)
    assert len(fts_ids(db, "draft")) == 30
    assert fts_ids(db, "second") == {post.id for post in edited}
    db.conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('integrity-check')")
    assert db.conn.execute("SELECT count(*) FROM temp.posts_stage").fetchone()[0] == 0


def test_sql_failure_rolls_back_only_its_batch(db: sqlite_utils.Database, make_post, count) -> None:
    first = [make_post(), make_post()]
    second = [make_post(), make_post(text="")]  # its quarantine row names a run that does not exist
    with pytest.raises(sqlite3.IntegrityError):
        upsert_posts(db, [*first, *second], batch_size=2, run_id=999)
    assert {row["id"] for row in db["posts"].rows} == {post.id for post in first}
    assert count(db, "quarantine") == 0
    assert not db.conn.in_transaction


def test_times_are_stored_in_utc_whatever_the_zone(db: sqlite_utils.Database, make_post) -> None:
    plus_two = timezone(timedelta(hours=2))
    shared = datetime(2024, 5, 2, 8, 30, 15, 999, tzinfo=plus_two)
    posts = [
        make_post(created_at=datetime(2024, 5, 1, 12, 0, 1, 500_000, tzinfo=plus_two), collected_at=shared),
        make_post(created_at=datetime(999, 1, 2, 3, 4, 5), collected_at=shared),  # naive: taken as UTC
        make_post(collected_at=datetime(2024, 5, 3, tzinfo=UTC)),  # not the previous post's collected_at
        make_post(collected_at=None),
    ]
    upsert_posts(db, posts)
    rows = list(db.conn.execute("SELECT created_at, collected_at, first_seen_at FROM posts ORDER BY rowid"))
    assert rows[0][:2] == ("2024-05-01T10:00:01Z", "2024-05-02T06:30:15Z")
    assert rows[1][:2] == ("0999-01-02T03:04:05Z", "2024-05-02T06:30:15Z")
    assert rows[2][1] == "2024-05-03T00:00:00Z"
    assert rows[3][1] == rows[3][2]


class _Float(float):
    """A float subclass, like numpy.float64."""


def test_json_columns_of_values_orjson_refuses_or_hands_over(db: sqlite_utils.Database, make_post) -> None:
    @dataclass
    class Thing:
        name: str

    raw = {
        "big": 2**70,
        "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2024, 1, 2),
        "thing": Thing("a"),
        "ratio": _Float(0.5),
        "nan": float("nan"),
        "tuple": (1, "é"),
    }
    post = make_post(metrics={2: "int key", "a": 1}, raw=raw)
    other = make_post(raw="already a string \U0001f600", metrics={"b": 1, "a": [1.5, None]})
    assert upsert_posts(db, [post, other]).inserted == 2
    stored = get_post(db, post.id)
    assert stored.metrics == {"2": "int key", "a": 1}
    assert stored.raw == {
        "big": 2**70,
        "when": "2024-01-02T03:04:05Z",
        "day": "2024-01-02",
        "thing": "test_json_columns_of_values_orjson_refuses_or_hands_over.<locals>.Thing(name='a')",
        "ratio": 0.5,
        "nan": None,
        "tuple": [1, "é"],
    }
    metrics, raw_text = db.conn.execute("SELECT metrics, raw FROM posts WHERE id = ?", [other.id]).fetchone()
    assert metrics == '{"a":[1.5,null],"b":1}'
    assert raw_text == '"already a string \U0001f600"'
    assert upsert_posts(db, [post, other]).unchanged == 2


def test_author_seen_again_keeps_known_fields(db: sqlite_utils.Database, make_post) -> None:
    upsert_posts(db, [make_post(author_id="77", author_handle="@first")])
    upsert_posts(db, [make_post(author_id="77", author_handle=None)])
    row = db.conn.execute("SELECT handle, first_seen_at <= last_seen_at FROM authors WHERE id = 'x:77'")
    assert row.fetchone() == ("first", 1)
    upsert_posts(db, [make_post(author_id="77", author_handle="renamed")])
    assert db.conn.execute("SELECT handle FROM authors WHERE id = 'x:77'").fetchone() == ("renamed",)
