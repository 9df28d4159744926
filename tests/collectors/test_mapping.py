"""The pure ``to_post`` mappings of the X and Reddit collectors, on recorded API JSON."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors import reddit, x

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load(platform: str, name: str) -> dict:
    return json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))


# ---- X ---------------------------------------------------------------------------------------------------


def test_long_x_post_takes_note_tweet_text_and_keeps_the_payload():
    raw = load("x", "long_post_note_tweet")
    untouched = copy.deepcopy(raw)
    post = x.to_post(raw, query="#nimbusmobile")
    assert post.id == "x:1851234567890123456"
    assert post.text == raw["data"]["note_tweet"]["text"]
    assert post.text.endswith("#nimbusmobile") and "&amp;" in post.text  # entities left for nlp to decode
    assert post.created_at == datetime(2026, 10, 2, 19, 45, 12, tzinfo=UTC)
    assert post.author_id == "1409876543210987654"
    assert post.author_handle == "pixelwolf_maya"
    assert post.url == "https://x.com/pixelwolf_maya/status/1851234567890123456"
    assert post.lang == "en"
    assert post.reply_to is None
    assert post.conversation_id == "x:1851234567890123456"
    assert post.metrics["like_count"] == 37
    assert post.query == "#nimbusmobile"
    assert post.raw is raw and raw == untouched


def test_nineteen_digit_x_id_stays_an_exact_string():
    raw = load("x", "long_post_note_tweet")
    post = x.to_post(raw)
    assert isinstance(post.native_id, str) and len(post.native_id) == 19
    assert post.native_id == raw["data"]["id"]
    assert int(post.native_id) != int(float(post.native_id))  # a float would have lost the last digits


def test_retweet_keeps_rt_text_and_reference_in_raw():
    raw = load("x", "retweet")
    post = x.to_post(raw)
    assert post.text.startswith("RT @pixelwolf_maya: ")
    assert post.reply_to is None
    assert post.author_handle == "LeoKhan"
    assert post.raw["data"]["referenced_tweets"] == [{"type": "retweeted", "id": "1851234567890123456"}]


def test_reply_points_at_parent_and_conversation():
    post = x.to_post(load("x", "reply"))
    assert post.reply_to == "x:1851234567890123456"
    assert post.conversation_id == "x:1851234567890123456"
    assert post.text.startswith("@pixelwolf_maya ")


def test_undetermined_language_maps_to_none():
    assert x.to_post(load("x", "undetermined_language")).lang is None


def test_bare_tweet_object_is_accepted_without_author_handle():
    tweet = load("x", "reply")["data"]
    post = x.to_post(tweet)
    assert post.native_id == "1851310000000000777"
    assert post.author_handle is None
    assert post.url == "https://x.com/i/web/status/1851310000000000777"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda raw: raw["data"].pop("id"), "id"),
        (lambda raw: raw["data"].update(id=1851234567890123456), "string of digits"),
        (lambda raw: raw["data"].update(id="18512345678901.5"), "string of digits"),
        (lambda raw: raw["data"].update(id="abc"), "string of digits"),
        (lambda raw: (raw["data"].pop("text"), raw["data"].pop("note_tweet")), "no text"),
        (lambda raw: raw["data"].update(text="", note_tweet={}), "no text"),
        (lambda raw: raw["data"].pop("created_at"), "created_at"),
        (lambda raw: raw["data"].update(created_at="yesterday"), "created_at"),
        (lambda raw: raw.update(data=[raw["data"]]), "one tweet object"),
        (lambda raw: raw.pop("data"), "no 'data'"),
    ],
)
def test_malformed_x_payload_raises_value_error_with_reason(change, reason):
    raw = load("x", "long_post_note_tweet")
    change(raw)
    with pytest.raises(ValueError, match=reason):
        x.to_post(raw)


def test_x_payload_that_is_not_an_object_is_refused():
    with pytest.raises(ValueError, match="JSON object"):
        x.to_post(["not", "a", "post"])  # type: ignore[arg-type]


# ---- Reddit ------------------------------------------------------------------------------------------------


def test_reddit_submission_joins_title_and_selftext():
    raw = load("reddit", "submission")
    post = reddit.to_post(raw, query="r/NimbusMobile")
    assert post.id == "reddit:t3_1n4k2xq"
    assert post.text == raw["data"]["title"] + "\n\n" + raw["data"]["selftext"]
    assert post.author_id == "8xk2m9qd"
    assert post.author_handle == "CloudAtlas2207"
    assert post.created_at == datetime.fromtimestamp(1790000000, tz=UTC)
    assert (
        post.url
        == "https://www.reddit.com/r/NimbusMobile/comments/1n4k2xq/any_plans_for_a_proper_roaming_pass/"
    )
    assert post.lang is None
    assert post.reply_to is None
    assert post.conversation_id == "reddit:t3_1n4k2xq"
    assert post.metrics == {"score": 57, "num_comments": 23, "upvote_ratio": 0.94}
    assert post.query == "r/NimbusMobile"
    assert post.raw is raw


def test_reddit_comment_points_at_parent_and_thread():
    post = reddit.to_post(load("reddit", "comment"))
    assert post.id == "reddit:t1_n3b7k1z"
    assert post.text.startswith("Same. Ported to Volt")
    assert post.reply_to == "reddit:t1_n3b6zz0"
    assert post.conversation_id == "reddit:t3_1n4k2xq"
    assert post.author_id == "ozufo1jf" and post.author_handle == "omar-night39"
    assert post.created_at == datetime.fromtimestamp(1790003600, tz=UTC)
    assert post.metrics == {"score": 12}


def test_link_submission_by_deleted_author_is_title_only_and_anonymous():
    post = reddit.to_post(load("reddit", "link_submission_deleted_author"))
    assert post.text.startswith("Titan raises MVNO wholesale prices")
    assert "\n" not in post.text
    assert post.author_handle is None and post.author_id is None


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        ("submission", lambda raw: raw.update(kind="t5"), "kind"),
        ("submission", lambda raw: raw.pop("data"), "no 'data'"),
        ("submission", lambda raw: raw["data"].pop("id"), "base36"),
        ("submission", lambda raw: raw["data"].update(id="1N4K2XQ!"), "base36"),
        ("submission", lambda raw: raw["data"].update(id=12345), "base36"),
        ("submission", lambda raw: raw["data"].update(title=""), "no text"),
        ("submission", lambda raw: raw["data"].pop("created_utc"), "created_utc"),
        ("comment", lambda raw: raw["data"].pop("body"), "no text"),
        ("comment", lambda raw: raw["data"].update(body="[removed]"), "no text"),
        ("comment", lambda raw: raw["data"].update(created_utc="1790003600"), "created_utc"),
    ],
)
def test_malformed_reddit_payload_raises_value_error_with_reason(name, change, reason):
    raw = load("reddit", name)
    change(raw)
    with pytest.raises(ValueError, match=reason):
        reddit.to_post(raw)


def test_reddit_api_and_csv_export_give_the_same_store_key():
    from collectors.files.formats import reddit_csv_post

    api = reddit.to_post(load("reddit", "submission"))
    row = {"subreddit": "NimbusMobile", "type": "post", "id": api.native_id.removeprefix("t3_"),
           "created_utc": "2026-08-30 12:00:00", "text": "same post, exported"}  # fmt: skip
    assert reddit_csv_post(row).id == api.id == f"reddit:t3_{row['id']}"
