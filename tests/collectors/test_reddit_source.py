"""RedditSource through praw, HTTP stubbed at the transport with recorded-shape JSON (no network)."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from collectors.base import NotConfigured
from collectors.job import run_query
from collectors.reddit import REDDIT_POLICY, RedditSource
from store import get_checkpoint, set_checkpoint

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "reddit"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
OAUTH = "https://oauth.reddit.com"
NEW = f"{OAUTH}/r/NimbusMobile/new"
COMMENTS = f"{OAUTH}/r/NimbusMobile/comments"
SECRETS = {
    "REDDIT_CLIENT_ID": "p-jcoLKBynTLew",
    "REDDIT_CLIENT_SECRET": "gko_LXELoV07ZBNUXrvWZfzE3aI",
    "REDDIT_USER_AGENT": "linux:tasteradar:0.1 (by u/tasteradar-tests)",
}
SUBMISSIONS = {f"reddit:t3_1n5a0{n:02d}" for n in range(1, 10)}
Q = "r/NimbusMobile"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def stub(url: str, status: int = 200, name: str | None = None, **kwargs) -> None:
    if name is not None:
        kwargs["json"] = load(name)
    responses.add(responses.GET, url, status=status, **kwargs)


def stub_token(status: int = 200, name: str = "token") -> None:
    responses.add(responses.POST, TOKEN_URL, status=status, json=load(name))


def api_calls() -> list:
    return [call for call in responses.calls if call.request.url.startswith(OAUTH)]


def params(call) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(call.request.url).query).items()}


@pytest.fixture
def make_source(sleeps):
    def factory(**settings) -> RedditSource:
        return RedditSource(
            settings={"subreddits": ["NimbusMobile"], **settings},
            secrets=SECRETS,
            policy=dataclasses.replace(REDDIT_POLICY, sleep=sleeps.append),
        )

    return factory


def post_ids(db) -> set[str]:
    return {row[0] for row in db.conn.execute("SELECT id FROM posts")}


# ---- configuration ---------------------------------------------------------------------------------------


def test_not_configured_names_the_missing_secrets():
    with pytest.raises(NotConfigured, match="REDDIT_CLIENT_SECRET and REDDIT_USER_AGENT"):
        RedditSource(settings={"subreddits": ["x1"]}, secrets={"REDDIT_CLIENT_ID": "abc"})


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({}, "subreddits"),
        ({"subreddits": ["not a name!"]}, "not a subreddit name"),
        ({"searches": ["nimbus"], "search_in": "subreddits"}, "search_in"),
        ({"subreddits": ["NimbusMobile"], "limit": 5000}, "limit"),
    ],
)
def test_bad_settings_say_what_to_set(settings, match):
    with pytest.raises(NotConfigured, match=match):
        RedditSource(settings=settings, secrets=SECRETS)


def test_queries_and_repr(make_source):
    source = make_source(subreddits=["r/NimbusMobile", "uktelecoms"], searches=["nimbus mobile"])
    assert source.queries() == [
        "r/NimbusMobile",
        "r/NimbusMobile/comments",
        "r/uktelecoms",
        "r/uktelecoms/comments",
        "search:nimbus mobile",
    ]
    assert all(value not in repr(source) for value in SECRETS.values() if "tasteradar" not in value)


# ---- normal runs and checkpoints -------------------------------------------------------------------------


@responses.activate
def test_multi_page_listing_run_stores_raw_things_and_checkpoints_by_time_and_id(db, make_source):
    stub_token()
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    result = run_query(db, make_source(), Q)
    assert (result.status, result.fetched, result.new) == ("ok", 9, 9)
    assert post_ids(db) == SUBMISSIONS
    first, second = (params(call) for call in api_calls())
    assert first["limit"] == "100" and first["raw_json"] == "1" and "after" not in first
    assert second["after"] == "t3_1n5a005"
    assert get_checkpoint(db, "reddit", Q) == {"created_utc": 1790005400.0, "ids_at_newest": ["1n5a009"]}
    raw = json.loads(db.conn.execute("SELECT raw FROM posts WHERE id = 'reddit:t3_1n5a007'").fetchone()[0])
    assert raw == load("new_page1")["data"]["children"][2]  # the listing child, untouched
    assert len([c for c in responses.calls if c.request.url == TOKEN_URL]) == 1


@responses.activate
def test_comments_listing(db, make_source):
    stub_token()
    stub(COMMENTS, name="comments")
    result = run_query(db, make_source(), "r/NimbusMobile/comments")
    assert (result.status, result.new) == ("ok", 6)
    row = db.conn.execute(
        "SELECT reply_to, conversation_id FROM posts WHERE id = 'reddit:t1_n3c0006'"
    ).fetchone()
    assert row == ("reddit:t3_1n5a009", "reddit:t3_1n5a009")


@responses.activate
def test_search_across_all_or_within_the_subreddits(db, make_source):
    stub_token()
    stub(f"{OAUTH}/r/all/search/", name="search_new")
    stub(f"{OAUTH}/r/NimbusMobile+uktelecoms/search/", name="search_new")
    everywhere = run_query(db, make_source(searches=["nimbus mobile"]), "search:nimbus mobile")
    scoped = make_source(
        subreddits=["NimbusMobile", "uktelecoms"], searches=["nimbus"], search_in="subreddits"
    )
    within = run_query(db, scoped, "search:nimbus")
    assert (everywhere.new, within.new, within.duplicates) == (3, 0, 3)
    all_params, scoped_params = (params(call) for call in api_calls())
    assert (
        all_params["q"] == "nimbus mobile" and all_params["sort"] == "new" and "restrict_sr" not in all_params
    )
    assert scoped_params["restrict_sr"] == "on"


@responses.activate
def test_second_run_stops_at_the_checkpoint_and_gets_only_new(db, make_source):
    stub_token()
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    run_query(db, make_source(), Q)
    stub(NEW, name="new_newer")
    result = run_query(db, make_source(), Q)
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 2, 2, 0)
    assert len(api_calls()) == 3  # the checkpoint was reached on the first page
    assert get_checkpoint(db, "reddit", Q) == {"created_utc": 1790006600.0, "ids_at_newest": ["1n5a011"]}


@responses.activate
def test_items_sharing_the_checkpoint_second_are_not_lost_or_repeated(db, make_source):
    page = load("new_page2")
    for child in page["data"]["children"][:2]:
        child["data"]["created_utc"] = 1790009000.0  # 1n5a004 and 1n5a003 in the same second
    stub_token()
    stub(NEW, json=page)
    run_query(db, make_source(), Q)
    assert get_checkpoint(db, "reddit", Q) == {
        "created_utc": 1790009000.0,
        "ids_at_newest": ["1n5a003", "1n5a004"],
    }
    late = load("new_page1")["data"]["children"][0]
    late["data"]["created_utc"] = 1790009000.0  # 1n5a009 shows up later with the same timestamp
    stub(
        NEW, json={"kind": "Listing", "data": {"after": None, "children": [late, *page["data"]["children"]]}}
    )
    result = run_query(db, make_source(), Q)
    assert (result.new, result.duplicates) == (1, 0)
    assert get_checkpoint(db, "reddit", Q)["ids_at_newest"] == ["1n5a003", "1n5a004", "1n5a009"]


@responses.activate
def test_empty_listing(db, make_source):
    stub_token()
    stub(NEW, name="new_empty")
    result = run_query(db, make_source(), Q)
    assert (result.status, result.fetched) == ("ok", 0)
    assert get_checkpoint(db, "reddit", Q) is None


class Killed(BaseException):
    """Stands for the process being killed (not an Exception: the job must not catch it)."""


@responses.activate
def test_crash_between_pages_then_resume_has_no_gap_and_no_duplicate(db, make_source, monkeypatch):
    stub_token()
    for _ in range(2):
        stub(NEW, name="new_page1")
        stub(NEW, name="new_page2")
    source = make_source()
    source.page_size = 2
    real = source.fetch

    def dies_after_two_pages(query, checkpoint):
        for number, page in enumerate(real(query, checkpoint)):
            if number == 2:
                raise Killed
            yield page

    monkeypatch.setattr(source, "fetch", dies_after_two_pages)
    with pytest.raises(Killed):
        run_query(db, source, Q)
    assert post_ids(db) == {f"reddit:t3_1n5a00{n}" for n in (1, 2, 3, 4)}  # stored oldest first
    assert get_checkpoint(db, "reddit", Q) == {"created_utc": 1790002400.0, "ids_at_newest": ["1n5a004"]}

    again = make_source()
    again.page_size = 2
    result = run_query(db, again, Q)
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 5, 5, 0)
    assert post_ids(db) == SUBMISSIONS


@responses.activate
def test_page_repeated_after_restart_is_deduplicated_by_the_database(db, make_source):
    stub_token()
    for _ in range(2):
        stub(NEW, name="new_page1")
        stub(NEW, name="new_page2")
    run_query(db, make_source(), Q)
    db.conn.execute(
        "DELETE FROM checkpoints"
    )  # a lost checkpoint: everything comes again (like praw's replay)
    result = run_query(db, make_source(), Q)
    assert (result.status, result.fetched, result.new, result.duplicates) == ("ok", 9, 0, 9)
    assert db.conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 9


@responses.activate
def test_more_new_items_than_the_limit_ends_partial(db, make_source):
    stub_token()
    set_checkpoint(db, "reddit", Q, {"created_utc": 1790000000.0, "ids_at_newest": []})
    stub(NEW, name="new_page1")
    result = run_query(db, make_source(limit=3), Q)
    assert result.status == "partial" and "more than 3" in result.error and result.new == 3
    assert params(api_calls()[0])["limit"] == "3"


# ---- errors ----------------------------------------------------------------------------------------------


@responses.activate
def test_429_with_reset_header_sleeps_then_succeeds(db, make_source, sleeps):
    stub_token()
    stub(NEW, 429, "error_429", headers={"x-ratelimit-reset": "42", "x-ratelimit-remaining": "0"})
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    result = run_query(db, make_source(), Q)
    assert result.status == "ok" and post_ids(db) == SUBMISSIONS and sleeps == [43.0]


@responses.activate
def test_429_without_reset_header_is_bounded_then_partial_keeping_what_was_read(db, make_source, sleeps):
    stub_token()
    stub(NEW, name="new_page1")
    stub(NEW, 429, "error_429")
    result = run_query(db, make_source(), Q)
    assert result.status == "partial" and sleeps == [2.0, 4.0] and len(api_calls()) == 1 + 3
    assert result.new == 5 and get_checkpoint(db, "reddit", Q) is None  # stored, checkpoint not moved


@responses.activate
def test_partial_read_is_completed_by_the_next_run_without_gap(db, make_source):
    stub_token()
    stub(NEW, name="new_page1")
    stub(NEW, 429, "error_429")
    stub(NEW, 429, "error_429")
    stub(NEW, 429, "error_429")
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    first = run_query(db, make_source(), Q)
    second = run_query(db, make_source(), Q)
    assert (first.status, second.status, second.new, second.duplicates) == ("partial", "ok", 4, 5)
    assert post_ids(db) == SUBMISSIONS


@responses.activate
def test_5xx_then_success(db, make_source, sleeps):
    stub_token()
    stub(NEW, 503, body="<html>503 Service Unavailable</html>")
    stub(NEW, 502, body="<html>502 Bad Gateway</html>")
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    result = run_query(db, make_source(), Q)
    assert result.status == "ok" and post_ids(db) == SUBMISSIONS and sleeps == [2.0, 4.0]
    assert len(api_calls()) == 4  # praw's own retries are off: every retry is ours and counted


@responses.activate
def test_hung_connection_is_retried_a_bounded_number_of_times_then_failed(db, make_source, sleeps):
    stub_token()
    stub(NEW, body=requests.exceptions.ReadTimeout("read timed out"))
    stub(NEW, body=requests.exceptions.ConnectTimeout("connect timed out"))
    stub(NEW, body=requests.exceptions.ReadTimeout("read timed out"))
    result = run_query(db, make_source(), Q)
    assert result.status == "failed" and "ReadTimeout" in result.error
    assert len(api_calls()) == 3 and sleeps == [2.0, 4.0]


@responses.activate
def test_hung_connection_then_success(db, make_source):
    stub_token()
    stub(NEW, body=requests.exceptions.ReadTimeout("read timed out"))
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    assert run_query(db, make_source(), Q).status == "ok"


@pytest.mark.parametrize(("status", "fixture"), [(401, "error_401"), (403, "error_403_private")])
@responses.activate
def test_401_and_403_on_the_listing_fail_after_exactly_one_request(db, make_source, sleeps, status, fixture):
    stub_token()
    stub(NEW, status, fixture)
    result = run_query(db, make_source(), Q)
    assert result.status == "failed" and str(status) in result.error
    assert len(api_calls()) == 1 and len(responses.calls) == 2 and sleeps == []  # the token, the listing


@responses.activate
def test_bad_client_credentials_fail_after_exactly_one_request(db, make_source, sleeps):
    responses.add(responses.POST, TOKEN_URL, status=401, json={"message": "Unauthorized", "error": 401})
    result = run_query(db, make_source(), Q)
    assert result.status == "failed" and "401" in result.error
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_unknown_subreddit_fails_the_query(db, make_source):
    stub_token()
    stub(NEW, 404, "error_404")
    stub(
        f"{OAUTH}/r/NoSuchSub/new",
        302,
        headers={"location": "https://www.reddit.com/subreddits/search?q=NoSuchSub"},
    )
    assert run_query(db, make_source(), Q).status == "failed"
    result = run_query(db, make_source(subreddits=["NoSuchSub"]), "r/NoSuchSub")
    assert result.status == "failed" and "no such subreddit" in result.error


# ---- secrets ---------------------------------------------------------------------------------------------


@responses.activate
def test_secrets_never_reach_logs_errors_or_the_database(db, make_source, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    stub_token()
    stub(NEW, name="new_page1")
    stub(NEW, name="new_page2")
    stub(COMMENTS, 403, "error_403_private")
    source = make_source()
    assert run_query(db, source, Q).status == "ok"
    assert run_query(db, source, "r/NimbusMobile/comments").status == "failed"
    secret = SECRETS["REDDIT_CLIENT_SECRET"]
    access = load("token")["access_token"]
    assert secret not in caplog.text and access not in caplog.text
    db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    for path in tmp_path.iterdir():
        if path.is_file():
            assert secret.encode() not in path.read_bytes() and access.encode() not in path.read_bytes()


def test_every_request_has_our_timeout(make_source, monkeypatch):
    from collectors import reddit_client

    seen = {}

    def fake_send(self, request, **kwargs):
        seen[request.url.split("?")[0]] = kwargs["timeout"]
        raise requests.exceptions.ConnectTimeout("stop here")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", fake_send)
    with pytest.raises(reddit_client.TransportError):
        make_source()._reddit.request(method="GET", path="/r/NimbusMobile/new")
    assert seen == {TOKEN_URL: reddit_client.TIMEOUT}


# ---- deleted: which stored posts Reddit reports deleted or removed ---------------------------------------

INFO = f"{OAUTH}/api/info"


def thing(fullname: str, **data) -> dict:
    """An /api/info child: a submission (t3) or comment (t1) with ``data`` over a live default."""
    kind, base36 = fullname.split("_")
    live = {"id": base36, "name": fullname, "author": "someone", "created_utc": 1790000000.0}
    live.update({"title": "Nimbus roaming", "selftext": "works fine"} if kind == "t3" else {"body": "agreed"})
    return {"kind": kind, "data": {**live, **data}}


@responses.activate
def test_deleted_reads_api_info_and_applies_the_rules(make_source):
    stub_token()
    children = [
        thing("t3_a1"),  # live
        thing("t3_a2", author="[deleted]", selftext="[deleted]"),  # deleted by its author
        thing("t3_a3", selftext="[removed]"),  # removed by moderators
        thing("t3_a4", selftext="", removed_by_category="deleted"),  # a deleted link post
        load("link_submission_deleted_author"),  # only the account is gone: the post stays public
        thing("t1_c1"),  # live comment
        thing("t1_c2", author="[deleted]", body="[deleted]"),
        thing("t1_c3", body="[removed]"),
    ]
    stub(INFO, json={"kind": "Listing", "data": {"after": None, "children": children}})
    asked = ["t3_a1", "t3_a2", "t3_a3", "t3_a4", "t3_1n4m0aa", "t1_c1", "t1_c2", "t1_c3", "t3_gone", "bogus"]
    assert make_source().deleted(asked) == ["t3_a2", "t3_a3", "t3_a4", "t1_c2", "t1_c3", "t3_gone"]
    (call,) = api_calls()
    assert params(call)["id"] == ",".join(asked[:-1])


@responses.activate
def test_deleted_asks_100_ids_per_request(make_source):
    stub_token()
    ids = [f"t1_{n:x}" for n in range(1, 151)]
    stub(INFO, json={"kind": "Listing", "data": {"after": None, "children": [thing(i) for i in ids[:100]]}})
    stub(INFO, json={"kind": "Listing", "data": {"after": None, "children": [thing(i) for i in ids[101:]]}})
    assert make_source().deleted(ids) == [ids[100]]
    assert [len(params(call)["id"].split(",")) for call in api_calls()] == [100, 50]


@responses.activate
def test_deleted_fails_after_one_403_and_retries_5xx(make_source, sleeps):
    from collectors.base import RunFailed

    stub_token()
    stub(INFO, status=403, name="error_403_private")
    with pytest.raises(RunFailed, match="403"):
        make_source().deleted(["t3_a1"])
    assert len(api_calls()) == 1
    responses.reset()
    stub_token()
    stub(INFO, status=502, json={"message": "Bad Gateway"})
    stub(INFO, json={"kind": "Listing", "data": {"after": None, "children": [thing("t3_a1")]}})
    assert make_source().deleted(["t3_a1"]) == []
    assert len(api_calls()) == 2 and sleeps == [2.0]
