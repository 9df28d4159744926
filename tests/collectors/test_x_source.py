"""XSource against X's recent search, HTTP stubbed at the transport with recorded-shape JSON (no network)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from collectors import x_client
from collectors.base import NotConfigured, RunFailed, RunPartial
from collectors.job import run_query
from collectors.x import X_POLICY, XSource
from store import get_checkpoint, set_checkpoint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "x"
SEARCH = "https://api.twitter.com/2/tweets/search/recent"
TOKEN = (  # the shape of an X app bearer token (made up)
    "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3D"
    "EUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
)
QUERY = "#nimbusmobile -is:retweet"
NEXT = "b26v89c19zqg8o3fpzhkl7e5h6pu6h1ks1vcp6l1cp0ql"
ALL_IDS = {f"x:18520000000000000{n:02d}" for n in range(1, 11)}


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def stub(status: int = 200, name: str | None = None, **kwargs) -> None:
    """Register one answer of the search endpoint (answers are given in registration order)."""
    if name is not None:
        kwargs["json"] = load(name)
    responses.add(responses.GET, SEARCH, status=status, **kwargs)


def invalid_request(*errors: dict) -> dict:
    """X's 400 problem body around ``errors``."""
    return {
        "errors": list(errors),
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def params(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(call.request.url).query).items()}


@pytest.fixture
def make_source(sleeps):
    def factory(**settings) -> XSource:
        policy = dataclasses.replace(X_POLICY, sleep=sleeps.append)
        return XSource(
            settings={"queries": [QUERY], "max_results": 10, **settings},
            secrets={"X_BEARER_TOKEN": TOKEN},
            policy=policy,
        )

    return factory


def post_ids(db) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT id FROM posts")}


def run(db, source: XSource):
    return run_query(db, source, QUERY)


# ---- configuration ---------------------------------------------------------------------------------------


def test_not_configured_without_token():
    with pytest.raises(NotConfigured, match="X_BEARER_TOKEN"):
        XSource(settings={"queries": [QUERY]}, secrets={})


@pytest.mark.parametrize(
    ("settings", "match"),
    [({}, "queries"), ({"queries": []}, "queries"), ({"queries": [QUERY], "max_results": 5}, "max_results")],
)
def test_bad_settings_say_what_to_set(settings, match):
    with pytest.raises(NotConfigured, match=match):
        XSource(settings=settings, secrets={"X_BEARER_TOKEN": TOKEN})


def test_repr_hides_the_token(make_source):
    source = make_source()
    assert TOKEN not in repr(source) and QUERY in repr(source)


@responses.activate
def test_unstubbed_requests_never_reach_the_network():
    with pytest.raises(requests.ConnectionError):
        requests.get("https://api.twitter.com/2/tweets/search/recent", timeout=1)


# ---- normal runs and checkpoints -------------------------------------------------------------------------


@responses.activate
def test_multi_page_run_sends_the_fields_and_pages_with_next_token(db, make_source):
    stub(name="search_page1")
    stub(name="search_page2")
    result = run(db, make_source())
    assert (result.status, result.fetched, result.new) == ("ok", 10, 10)
    assert post_ids(db) == ALL_IDS
    first, second = (params(call) for call in responses.calls)
    assert first["query"] == QUERY and first["max_results"] == "10" and "next_token" not in first
    assert first["expansions"] == "author_id,referenced_tweets.id"
    assert set(first["tweet.fields"].split(",")) >= {"note_tweet", "public_metrics", "referenced_tweets"}
    assert first["user.fields"] == "username,name,public_metrics"
    assert second["next_token"] == NEXT and "since_id" not in second
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert get_checkpoint(db, "x", QUERY) == {"since_id": "1852000000000000010", "pending": None}


@responses.activate
def test_raw_payload_is_one_post_with_its_author(db, make_source):
    stub(name="search_page1")
    stub(name="search_page2")
    run(db, make_source())
    raw = json.loads(
        db.conn.execute("SELECT raw FROM posts WHERE id = 'x:1852000000000000006'").fetchone()[0]
    )
    page = load("search_page1")
    assert raw["data"] == page["data"][4]
    assert raw["includes"]["users"] == [
        u for u in page["includes"]["users"] if u["id"] == "998877665544332211"
    ]
    assert raw["includes"]["tweets"] == page["includes"]["tweets"]  # the retweeted post rides along
    handle = db.conn.execute("SELECT author_handle FROM posts WHERE id = 'x:1852000000000000006'").fetchone()[
        0
    ]
    assert handle == "LeoKhan"


@responses.activate
def test_long_post_takes_note_tweet_text(db, make_source):
    stub(name="search_page1")
    stub(name="search_page2")
    run(db, make_source())
    text = db.conn.execute("SELECT text FROM posts WHERE id = 'x:1852000000000000008'").fetchone()[0]
    assert text == load("search_page1")["data"][2]["note_tweet"]["text"] and len(text) > 280


@responses.activate
def test_second_run_asks_since_the_newest_and_gets_only_new(db, make_source):
    stub(name="search_page1")
    stub(name="search_page2")
    run(db, make_source())
    stub(name="search_newer")
    result = run(db, make_source())
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 2, 2, 0)
    assert params(responses.calls[2])["since_id"] == "1852000000000000010"
    assert get_checkpoint(db, "x", QUERY) == {"since_id": "1852000000000000012", "pending": None}
    assert len(post_ids(db)) == 12


@responses.activate
def test_empty_page_keeps_the_checkpoint(db, make_source):
    stub(name="search_page1")
    stub(name="search_page2")
    run(db, make_source())
    stub(name="search_empty")
    result = run(db, make_source())
    assert (result.status, result.fetched, result.new) == ("ok", 0, 0)
    assert get_checkpoint(db, "x", QUERY) == {"since_id": "1852000000000000010", "pending": None}


@responses.activate
def test_first_run_with_nothing_found(db, make_source):
    stub(name="search_empty")
    result = run(db, make_source())
    assert (result.status, result.fetched) == ("ok", 0)
    assert get_checkpoint(db, "x", QUERY) == {"since_id": None, "pending": None}


class Killed(BaseException):
    """Stands for the process being killed (not an Exception: the job must not catch it)."""


@responses.activate
def test_crash_mid_pagination_resumes_with_next_token_without_gap_or_duplicate(db, make_source, monkeypatch):
    stub(name="search_page1")
    source = make_source()
    real = source._client.search_recent_tweets
    calls = {"n": 0}

    def dies_on_second_request(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Killed
        return real(*args, **kwargs)

    monkeypatch.setattr(source._client, "search_recent_tweets", dies_on_second_request)
    with pytest.raises(Killed):
        run(db, source)
    assert len(post_ids(db)) == 5
    pending = {"since_id": None, "pending": {"newest_id": "1852000000000000010", "next_token": NEXT}}
    assert get_checkpoint(db, "x", QUERY) == pending

    stub(name="search_page2")
    result = run(db, make_source())
    assert params(responses.calls[-1])["next_token"] == NEXT
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 5, 5, 0)
    assert post_ids(db) == ALL_IDS
    assert get_checkpoint(db, "x", QUERY) == {"since_id": "1852000000000000010", "pending": None}


@responses.activate
def test_refused_next_token_restarts_the_pass_and_the_repeated_page_is_deduplicated(db, make_source):
    pending = {"since_id": None, "pending": {"newest_id": "1852000000000000010", "next_token": NEXT}}
    stub(name="search_page1")
    stub(name="search_page2")
    run(db, make_source())  # everything stored once
    set_checkpoint(db, "x", QUERY, pending)  # as if a crash had left the pass in flight
    stub(400, "error_400_next_token")
    stub(name="search_page1")
    stub(name="search_page2")
    result = run(db, make_source())
    assert [params(call).get("next_token") for call in responses.calls[2:]] == [NEXT, None, NEXT]
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 10, 0, 10)
    assert post_ids(db) == ALL_IDS
    assert db.conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 10


@responses.activate
def test_since_id_older_than_seven_days_is_dropped_once(db, make_source):
    set_checkpoint(db, "x", QUERY, {"since_id": "1700000000000000000", "pending": None})
    message = (
        "Invalid 'since_id':'1700000000000000000'. 'since_id' must be a tweet id created after 2026-09-28"
    )
    stub(400, json=invalid_request({"parameters": {"since_id": ["1700000000000000000"]}, "message": message}))
    stub(name="search_page1")
    stub(name="search_page2")
    result = run(db, make_source())
    assert result.status == "ok" and post_ids(db) == ALL_IDS
    assert "since_id" not in params(responses.calls[1])


@responses.activate
def test_bad_query_fails_with_the_reason(db, make_source):
    stub(
        400,
        json=invalid_request({"message": "There were errors processing your request: no viable alternative"}),
    )
    result = run(db, make_source())
    assert result.status == "failed" and "400" in result.error and len(responses.calls) == 1


@responses.activate
def test_a_malformed_post_is_quarantined_and_the_rest_of_the_page_lands(db, make_source):
    page = load("search_page2")
    del page["data"][1]["created_at"]
    stub(json=page)
    result = run(db, make_source())
    assert (result.status, result.new, result.quarantined) == ("ok", 4, 1)
    reason = db.conn.execute("SELECT reason FROM quarantine").fetchone()[0]
    assert "created_at" in reason


@responses.activate
def test_max_pages_stops_with_the_pass_pending(db, make_source):
    stub(name="search_page1")
    result = run(db, make_source(max_pages=1))
    assert (result.status, result.fetched) == ("ok", 5)
    assert get_checkpoint(db, "x", QUERY)["pending"]["next_token"] == NEXT


# ---- errors ----------------------------------------------------------------------------------------------


@responses.activate
def test_429_with_reset_header_sleeps_until_reset_then_succeeds(db, make_source, sleeps):
    reset = int(time.time()) + 60
    stub(429, "error_429", headers={"x-rate-limit-reset": str(reset), "x-rate-limit-remaining": "0"})
    stub(name="search_page1")
    stub(name="search_page2")
    result = run(db, make_source())
    assert result.status == "ok" and post_ids(db) == ALL_IDS
    assert len(sleeps) == 1 and 55 <= sleeps[0] <= 62


@responses.activate
def test_429_with_a_reset_too_far_away_stops_partial_without_waiting(db, make_source, sleeps):
    stub(429, "error_429", headers={"x-rate-limit-reset": str(int(time.time()) + 3 * 3600)})
    result = run(db, make_source())
    assert result.status == "partial" and sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_429_without_reset_header_backs_off_a_bounded_number_of_times_then_partial(db, make_source, sleeps):
    stub(name="search_page1")
    stub(429, "error_429")  # repeats for every later request
    result = run(db, make_source())
    assert result.status == "partial" and "rate limited" in result.error
    assert len(responses.calls) == 1 + 3 and sleeps == [2.0, 4.0]
    assert result.new == 5  # the first page is kept
    assert get_checkpoint(db, "x", QUERY)["pending"]["next_token"] == NEXT


@responses.activate
def test_5xx_then_success(db, make_source, sleeps):
    stub(503, "error_503")
    stub(500, body="upstream error")
    stub(name="search_page1")
    stub(name="search_page2")
    result = run(db, make_source())
    assert result.status == "ok" and post_ids(db) == ALL_IDS and sleeps == [2.0, 4.0]


@responses.activate
def test_5xx_that_persists_fails_after_bounded_tries(db, make_source, sleeps):
    stub(503, "error_503")
    result = run(db, make_source())
    assert result.status == "failed" and "503" in result.error and len(responses.calls) == 3


@responses.activate
def test_hung_connection_times_out_and_is_retried_a_bounded_number_of_times(db, make_source, sleeps):
    stub(name="search_page1")
    stub(body=requests.exceptions.ReadTimeout("read timed out"))
    stub(body=requests.exceptions.ConnectTimeout("connect timed out"))
    stub(body=requests.exceptions.ReadTimeout("read timed out"))
    result = run(db, make_source())
    assert result.status == "partial" and "ReadTimeout" in result.error  # pages were stored: partial
    assert len(responses.calls) == 4 and result.new == 5


@responses.activate
def test_hung_connection_before_anything_is_stored_fails(db, make_source):
    stub(body=requests.exceptions.ConnectTimeout("connect timed out"))
    result = run(db, make_source())
    assert result.status == "failed" and len(responses.calls) == 3


def test_every_request_has_a_timeout(make_source, monkeypatch):
    seen = {}

    def fake_send(self, request, **kwargs):
        seen.update(kwargs)
        raise requests.exceptions.ConnectTimeout("stop here")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", fake_send)
    with pytest.raises(requests.exceptions.ConnectTimeout):
        make_source()._client.search_recent_tweets(QUERY)
    assert seen["timeout"] == x_client.TIMEOUT


@pytest.mark.parametrize(("status", "fixture"), [(401, "error_401"), (403, "error_403")])
@responses.activate
def test_401_and_403_fail_after_exactly_one_request(db, make_source, sleeps, status, fixture):
    stub(status, fixture)
    result = run(db, make_source())
    assert result.status == "failed" and str(status) in result.error
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_usage_cap_is_partial_and_keeps_the_earlier_pages(db, make_source, sleeps):
    stub(name="search_page1")
    stub(429, "error_usage_cap")
    result = run(db, make_source())
    assert result.status == "partial" and "usage cap" in result.error
    assert len(responses.calls) == 2 and sleeps == []
    assert len(post_ids(db)) == 5


def test_fetch_raises_run_partial_and_run_failed_directly(make_source):
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, SEARCH, status=429, json=load("error_usage_cap"))
        with pytest.raises(RunPartial):
            list(make_source().fetch(QUERY, None))
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, SEARCH, status=401, json=load("error_401"))
        with pytest.raises(RunFailed):
            list(make_source().fetch(QUERY, None))


# ---- secrets ---------------------------------------------------------------------------------------------


@responses.activate
def test_token_never_reaches_logs_errors_or_the_database(db, make_source, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)  # the root logger at DEBUG: tweepy logs its request headers
    stub(name="search_page1")
    stub(name="search_page2")
    stub(401, "error_401")
    source = make_source()
    first = run(db, source)
    failed = run(db, source)  # since_id run hits the 401
    assert first.status == "ok" and failed.status == "failed"
    assert "Bearer ***" in caplog.text  # tweepy's header line was logged, redacted
    assert TOKEN not in caplog.text
    assert all(TOKEN not in (record.getMessage() + str(record.args)) for record in caplog.records)
    errors = [row[0] or "" for row in db.conn.execute("SELECT error FROM collection_runs")]
    assert any("401" in error for error in errors) and all(TOKEN not in error for error in errors)
    db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    for path in tmp_path.iterdir():
        if path.is_file():
            data = path.read_bytes()
            assert TOKEN.encode() not in data and TOKEN.encode("utf-16-le") not in data


def test_redaction_covers_bearer_headers_in_any_form():
    x_client.install_redaction(TOKEN)
    assert (
        x_client.REDACT.redact(f"{{'Authorization': 'Bearer {TOKEN}'}}") == "{'Authorization': 'Bearer ***'}"
    )
    assert TOKEN not in x_client.REDACT.redact(f"token={TOKEN}")


# ---- deleted: which stored posts X no longer serves ------------------------------------------------------

LOOKUP = "https://api.twitter.com/2/tweets"


def not_found(native_id: str, kind: str = "resource-not-found") -> dict:
    return {
        "value": native_id, "detail": f"Could not find tweet with ids: [{native_id}].",
        "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids", "resource_id": native_id,
        "type": f"https://api.twitter.com/2/problems/{kind}",
    }  # fmt: skip


@responses.activate
def test_deleted_reports_not_found_and_protected_posts_only(make_source):
    ids = [str(1852000000000000000 + n) for n in range(150)]
    first = {
        "data": [{"id": native_id, "text": "still here", "edit_history_tweet_ids": [native_id]}
                 for native_id in ids[2:100]],
        "errors": [not_found(ids[0]), not_found(ids[1], "not-authorized-for-resource")],
    }  # fmt: skip
    second = {  # the rest: one gone, one with another problem, the others missing without a word (kept)
        "data": [{"id": n, "text": "x", "edit_history_tweet_ids": [n]} for n in ids[103:]],
        "errors": [not_found(ids[100]), {**not_found(ids[101]), "type": "https://api.twitter.com/2/problems/x"}],
    }  # fmt: skip
    responses.add(responses.GET, LOOKUP, json=first)
    responses.add(responses.GET, LOOKUP, json=second)
    assert make_source().deleted([*ids, "not-a-number"]) == [ids[0], ids[1], ids[100]]
    asked = [params(call)["ids"].split(",") for call in responses.calls]
    assert asked == [ids[:100], ids[100:]]
    assert all(call.request.headers["Authorization"] == f"Bearer {TOKEN}" for call in responses.calls)


@responses.activate
def test_deleted_with_every_post_gone_has_no_data_key(make_source):
    responses.add(responses.GET, LOOKUP, json={"errors": [not_found("1"), not_found("2")]})
    assert make_source().deleted(["1", "2"]) == ["1", "2"]


@responses.activate
def test_deleted_fails_after_one_401(make_source):
    responses.add(responses.GET, LOOKUP, status=401, json={"title": "Unauthorized", "detail": "Unauthorized"})
    with pytest.raises(RunFailed, match="401"):
        make_source().deleted(["1"])
    assert len(responses.calls) == 1


@responses.activate
def test_deleted_retries_5xx_and_timeouts_then_answers(make_source, sleeps):
    responses.add(responses.GET, LOOKUP, status=503, json={"title": "Service Unavailable"})
    responses.add(responses.GET, LOOKUP, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.add(responses.GET, LOOKUP, json={"errors": [not_found("7")]})
    assert make_source().deleted(["7"]) == ["7"]
    assert len(responses.calls) == 3 and sleeps == [2.0, 4.0]


@responses.activate
def test_deleted_stops_partial_at_a_usage_cap(make_source):
    cap = {"title": "UsageCapExceeded", "detail": "Usage cap exceeded: Monthly product cap",
           "type": "https://api.twitter.com/2/problems/usage-capped"}  # fmt: skip
    responses.add(responses.GET, LOOKUP, status=429, json=cap)
    with pytest.raises(RunPartial, match="usage cap"):
        make_source().deleted(["1"])
    assert len(responses.calls) == 1
