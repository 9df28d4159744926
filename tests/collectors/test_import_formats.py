"""File import: format detection, each format's mapping, --map, and malformed records, on small fixtures."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.files import FormatError, MappingError, import_file, readers
from collectors.files.formats import choose, detect_csv, detect_jsonl, sniff_kind
from collectors.files.mapping import parse_mapping, parse_time
from store import get_post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "files"
GENERIC_MAP = ["post_id=native_id", "body=text", "posted=created_at", "user=author_handle", "language=lang"]


def quarantine(db) -> list[tuple[str, str, str]]:
    return db.execute("SELECT source, reason, raw FROM quarantine ORDER BY id").fetchall()


def count(db, table: str = "posts") -> int:
    return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# ---- detection -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("x_posts.jsonl", "x-jsonl"),
        ("airline_like.csv", "airline"),
        ("twcs_like.csv", "twcs"),
        ("reddit_like.csv", "reddit-csv"),
    ],
)
def test_known_formats_are_detected(db, fixture, expected):
    result = import_file(db, FIXTURES / fixture)
    assert result.format == expected
    assert result.inserted > 0


def test_detection_rules():
    assert sniff_kind(b'\xef\xbb\xbf  {"a": 1}\n') == "jsonl"
    assert sniff_kind(b"a,b\n1,2\n") == "csv"
    with pytest.raises(FormatError, match="jq"):
        sniff_kind(b"[{}]")
    with pytest.raises(FormatError, match="empty"):
        sniff_kind(b"  \n")
    assert detect_csv(["", "tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id",
                       "in_response_to_tweet_id"]) == "twcs"  # fmt: skip
    assert detect_csv(["id", "body"]) == "csv"
    assert detect_jsonl({"data": [], "meta": {}}) == "x-jsonl"
    assert detect_jsonl({"id": "123", "text": "hi", "author_id": "9"}) == "x-jsonl"
    assert detect_jsonl({"id": "123", "text": "hi", "created_at": "2026-01-01"}) == "jsonl"
    assert detect_jsonl(None) == "jsonl"


def test_unknown_csv_without_map_is_a_usage_error_naming_the_columns(db):
    with pytest.raises(FormatError, match=r"--map COLUMN=native_id .*columns: post_id, body"):
        import_file(db, FIXTURES / "generic.csv")
    assert count(db, "collection_runs") == 0  # nothing was written


def test_forced_format_must_fit_the_file(db):
    with pytest.raises(FormatError, match="needs the columns"):
        import_file(db, FIXTURES / "airline_like.csv", format="twcs")
    with pytest.raises(FormatError, match="reads JSONL"):
        import_file(db, FIXTURES / "airline_like.csv", format="x-jsonl")
    with pytest.raises(FormatError, match="--map applies to generic"):
        choose("airline", "csv", ["tweet_id", "airline_sentiment", "name", "text", "tweet_created"],
               parse_mapping(["tweet_id=native_id"]))  # fmt: skip


# ---- --map ---------------------------------------------------------------------------------------------


def test_mapping_errors_say_what_to_add():
    with pytest.raises(MappingError, match="expected COLUMN=FIELD"):
        parse_mapping(["body"])
    with pytest.raises(MappingError, match="unknown field 'txt'; fields are native_id, text"):
        parse_mapping(["body=txt"])
    with pytest.raises(MappingError, match="mapped twice"):
        parse_mapping(["a=text", "b=text"])
    mapping = parse_mapping(["id=native_id", "platform=x", "lang=en", "q=query"])
    assert mapping.constants == {"platform": "x", "lang": "en"}
    assert mapping.columns == {"native_id": "id", "query": "q"}


def test_mapping_missing_required_fields_or_columns(db):
    with pytest.raises(
        MappingError, match=r"no text, created_at: add --map COLUMN=text --map COLUMN=created_at"
    ):
        import_file(db, FIXTURES / "generic.csv", mapping=["post_id=native_id"])
    with pytest.raises(MappingError, match="no column 'nope'"):
        import_file(
            db, FIXTURES / "generic.csv", mapping=["nope=native_id", "body=text", "posted=created_at"]
        )


def test_generic_csv_maps_columns_and_quarantines_bad_rows(db):
    result = import_file(
        db, FIXTURES / "generic.csv", mapping=[*GENERIC_MAP, "parent=reply_to", "platform=forum"]
    )
    assert (result.format, result.records, result.inserted, result.quarantined) == ("csv", 6, 2, 4)
    post = get_post(db, "forum:1002")
    assert post.text == "Row with an\nembedded newline"
    assert post.created_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # epoch seconds
    assert (post.author_handle, post.lang, post.reply_to) == ("bob", "de", "forum:1001")
    assert post.raw["language"] == "de"  # the whole row is kept
    reasons = [reason for _source, reason, _raw in quarantine(db)]
    assert "went through a float" in reasons[0] and "5.70306E+17" in reasons[0]
    assert "no text" in reasons[1]
    assert reasons[2] == "expected 6 fields (as the header), got 7"
    assert "unreadable created_at 'yesterday-ish'" in reasons[3]
    assert {source for source, _reason, _raw in quarantine(db)} == {"import:generic.csv"}


def test_generic_jsonl_follows_dotted_keys_and_refuses_float_ids(db):
    mapping = ["uid=native_id", "message.body=text", "ts=created_at", "user.screen_name=author_handle"]
    result = import_file(db, FIXTURES / "generic.jsonl", mapping=mapping)
    assert (result.format, result.inserted, result.quarantined) == ("jsonl", 2, 2)
    first = get_post(db, "file:9001")
    assert first.author_handle == "hana" and first.created_at == datetime(2026, 4, 1, 10, 0, tzinfo=UTC)
    reasons = [reason for _source, reason, _raw in quarantine(db)]
    assert "native_id 9003.0 went through a float" in reasons[0]


def test_crlf_csv_keeps_embedded_crlf(db):
    import_file(db, FIXTURES / "generic_crlf.csv", format="csv", mapping=GENERIC_MAP)
    assert get_post(db, "file:2001").text == "CRLF file\r\nwith an embedded CRLF"


def test_parse_time_forms():
    expected = datetime(2017, 10, 31, 22, 10, 47, tzinfo=UTC)
    assert parse_time("Tue Oct 31 22:10:47 +0000 2017") == expected
    assert parse_time("2017-10-31 14:10:47 -0800") == expected
    assert parse_time("2017-10-31T22:10:47Z") == expected
    assert parse_time(1509487847) == expected
    assert parse_time("1509487847000") == expected  # milliseconds


# ---- known formats ---------------------------------------------------------------------------------------


def test_x_jsonl_posts_bare_tweets_and_pages_with_their_authors(db):
    result = import_file(db, FIXTURES / "x_posts.jsonl")
    assert (result.records, result.inserted, result.quarantined) == (4, 4, 0)  # a meta-only page: no post
    first = get_post(db, "x:1851234567890123456")
    assert first.native_id == "1851234567890123456" and first.author_handle == "commuter_kim"
    second = get_post(db, "x:1851234567890123458")
    assert second.author_handle == "ana" and second.reply_to == "x:1851234567890123456"
    assert second.raw == {
        "data": second.raw["data"], "includes": {"users": [{"id": "7", "username": "ana"}]}
    }  # fmt: skip
    assert get_post(db, "x:1851234567890123459").author_handle == "bo"


def test_airline_rows_map_to_x_posts_with_utc_times_and_labels_in_raw(db):
    result = import_file(db, FIXTURES / "airline_like.csv")
    # the third row repeats the first id with another label: an update, and the later row wins
    assert (result.inserted, result.updated, result.unchanged) == (2, 1, 0)
    post = get_post(db, "x:900000000000000001")
    assert post.created_at == datetime(2015, 2, 24, 19, 35, 52, tzinfo=UTC)
    assert post.author_handle == "flyer_one" and post.author_id is None
    assert post.url == "https://x.com/flyer_one/status/900000000000000001"
    assert post.text == "@NimbusAir two hours late &amp; no update\nat all"
    assert post.raw["airline_sentiment"] == "neutral" and post.metrics == {"retweet_count": 2}


def test_twcs_rows_keep_brand_handles_and_replies(db):
    import_file(db, FIXTURES / "twcs_like.csv")
    brand = get_post(db, "x:11")
    assert (brand.author_id, brand.author_handle, brand.reply_to) == ("NimbusHelp", "NimbusHelp", "x:10")
    customer = get_post(db, "x:12")
    assert (customer.author_id, customer.author_handle, customer.reply_to) == ("500001", None, "x:11")
    assert customer.created_at == datetime(2017, 10, 31, 22, 15, 30, tzinfo=UTC)


def test_reddit_post_and_comment_with_one_base36_id_do_not_collide(db):
    result = import_file(db, FIXTURES / "reddit_like.csv")
    assert (result.inserted, result.quarantined) == (2, 1)  # a [deleted] comment has no text
    post, comment = get_post(db, "reddit:t3_abc123"), get_post(db, "reddit:t1_abc123")
    assert post.text.startswith("Coverage map") and post.metrics == {"score": 12, "num_comments": 3}
    assert post.conversation_id == "reddit:t3_abc123" and post.url.endswith("/r/nimbus/comments/abc123/")
    assert comment.text.startswith("Same base36") and comment.created_at == datetime(
        2025, 11, 8, 16, 20, tzinfo=UTC
    )


# ---- malformed records -----------------------------------------------------------------------------------


def _x_line(native_id: str, text: str = "hello") -> str:
    tweet = {"id": native_id, "text": text, "author_id": "5", "created_at": "2026-01-01T00:00:00Z"}
    return json.dumps({"data": tweet})


def test_malformed_jsonl_lines_are_quarantined_and_the_rest_lands(db, tmp_path):
    path = tmp_path / "bad.jsonl"
    lines = [
        _x_line("1000000000000000001").encode(),
        _x_line("1000000000000000002", "caf\u00e9").encode().replace(b"caf\\u00e9", b"caf\xe9"),  # latin-1
        _x_line("1000000000000000003")[:40].encode(),  # truncated
        _x_line("1000000000000000004", "cut \ud83d").encode(),  # lone surrogate escape
        _x_line("1000000000000000005", "pair \U0001f600").encode(),  # escaped pair: fine
        b'{"data": {"id": 1000000000000000006, "text": "int id", "created_at": "2026-01-01T00:00:00Z"}}',
        b'{"data": {"id": "1000000000000000007", "text": "", "created_at": "2026-01-01T00:00:00Z"}}',
    ]
    path.write_bytes(b"\n".join(lines))  # no final newline
    result = import_file(db, path, batch_size=3)
    assert (result.records, result.inserted, result.quarantined) == (7, 2, 5)
    assert get_post(db, "x:1000000000000000005").text == "pair \U0001f600"
    reasons = [reason for _source, reason, _raw in quarantine(db)]
    assert reasons[0].startswith("invalid UTF-8 (byte e9")
    assert reasons[1].startswith("invalid JSON (truncated line?)")
    assert reasons[2].startswith("lone surrogate \\ud83d")
    assert "must be a string of digits" in reasons[3]
    assert "has no text" in reasons[4]


def test_csv_record_with_invalid_utf8_is_quarantined(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,body,ts\n1,good,2026-01-01\n2,bad \xff byte,2026-01-01\n3,fine,2026-01-01\n")
    result = import_file(db, path, mapping=["id=native_id", "body=text", "ts=created_at"])
    assert (result.inserted, result.quarantined) == (2, 1)
    _source, reason, raw = quarantine(db)[0]
    assert reason.startswith("invalid UTF-8 (byte ff") and raw.startswith("2,bad \ufffd byte")


def test_bare_cr_in_an_unquoted_field_is_kept_in_the_field(db, tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(
        b",tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        b"0,1,500001,True,Tue Oct 31 22:10:47 +0000 2017,@NimbusHelp \r\rstill down,2,\n"
        b"1,2,NimbusHelp,False,Tue Oct 31 22:11:47 +0000 2017,@500001 On it,,1.0\n"
    )
    result = import_file(db, path)
    assert (result.format, result.inserted, result.quarantined) == ("twcs", 2, 0)
    assert get_post(db, "x:1").text == "@NimbusHelp \r\rstill down"


def test_overlong_line_is_quarantined_and_reading_goes_on(db, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_RECORD_BYTES", 300)
    monkeypatch.setattr(readers, "CHUNK_SIZE", 64)
    path = tmp_path / "long.jsonl"
    long_line = _x_line("1000000000000000002", "x" * 1000)
    path.write_text("\n".join([_x_line("1000000000000000001"), long_line, _x_line("1000000000000000003")]))
    result = import_file(db, path)
    assert (result.inserted, result.quarantined) == (2, 1)
    assert "longer than 300 bytes" in quarantine(db)[0][1]


def test_record_offsets_are_exact_byte_positions():
    data = 'h1,h2\r\n1,"é\r\nx"\r\n\r\n2,b\r\n'.encode()
    records = list(readers.read_csv(io.BytesIO(data)))
    assert [record.value for record in records] == [["h1", "h2"], ["1", "é\r\nx"], ["2", "b"]]
    assert [(record.start, record.end) for record in records] == [(0, 7), (7, 18), (20, 25)]
    resumed = list(readers.read_csv(io.BytesIO(data[18:]), 18))
    assert [(record.value, record.end) for record in resumed] == [(["2", "b"], 25)]


def test_sixty_four_bit_ids_stay_exact_strings(db, tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id,body,ts\n9223372036854775807,max int64,2026-01-01\n", encoding="utf-8")
    import_file(db, path, mapping=["id=native_id", "body=text", "ts=created_at", "platform=x"])
    row = db.execute("SELECT native_id, typeof(native_id) FROM posts").fetchone()
    assert row == ("9223372036854775807", "text")
