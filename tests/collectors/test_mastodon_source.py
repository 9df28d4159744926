"""The Mastodon source: hashtag timelines through Mastodon.py, HTTP stubbed with ``responses``."""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests
import responses

from collectors import mastodon
from collectors.base import NotConfigured, Setting
from collectors.job import run_query, run_source
from collectors.retrying import RetryPolicy
from store import get_checkpoint, get_post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon"
TOKEN = "mastodon-token-s3cr3t-abcdef123456"


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def status(local_id: str, *, uri: str | None = None, text: str = "nimbus #nimbusmobile") -> dict:
    """A status as ``instance`` serves it: local id, global uri (default: a fosstodon post named after it)."""
    raw = copy.deepcopy(load("status"))
    raw["id"] = local_id
    raw["uri"] = uri or f"https://fosstodon.org/users/pixelwolf/statuses/9{local_id}"
    raw["content"] = f"<p>{text}</p>"
    return raw


@pytest.fixture
def make_source(sleeps):
    def make(instances=("mastodon.social",), hashtags=("nimbusmobile",), secrets=None, **settings):
        return mastodon.MastodonSource(
            settings={"instances": list(instances), "hashtags": list(hashtags), **settings},
            secrets=secrets or {},
            session=requests.Session(),
            retry=RetryPolicy(
                attempts=3, rate_limit_retries=2, backoff=1.0, max_wait=60.0, sleep=sleeps.append
            ),
        )

    return make


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(r"https://[^/]+/api/v2/instance"), json={"domain": "x"})
        yield mock


def tag_calls(http) -> list:
    return [call for call in http.calls if mastodon.TAG_PATH in call.request.url]


def serve_pages(http, instance: str, tag: str, pages: dict[str | None, list]) -> None:
    """Answer the tag timeline of ``instance`` by ``min_id`` (None: no min_id) from ``pages``."""

    def answer(request):
        min_id = request.params.get("min_id")
        return 200, {"Content-Type": "application/json"}, json.dumps(pages.get(min_id, []))

    http.add_callback(responses.GET, f"https://{instance}/api/v1/timelines/tag/{tag}", callback=answer)


# ---- contract --------------------------------------------------------------------------------------------


def test_contract_attributes_settings_and_not_configured(make_source):
    cls = mastodon.MastodonSource
    assert (cls.name, cls.platform, cls.secrets) == ("mastodon", "mastodon", ("MASTODON_ACCESS_TOKEN",))
    assert all(isinstance(setting, Setting) for setting in cls.settings)
    assert {"instances", "hashtags", "token_instance"} <= {setting.key for setting in cls.settings}
    source = make_source(instances=("https://Mastodon.Social/", "fosstodon.org"), hashtags=("#NimbusMobile",))
    assert source.queries() == ["mastodon.social#nimbusmobile", "fosstodon.org#nimbusmobile"]
    post = source.to_post(load("status"), query="mastodon.social#nimbusmobile")
    assert post.id == "mastodon:https://fosstodon.org/users/pixelwolf/statuses/113262738461230000"
    with pytest.raises(NotConfigured, match="hashtags"):
        make_source(hashtags=())
    with pytest.raises(NotConfigured, match="instances"):
        make_source(instances=())


def test_building_a_client_makes_no_request(make_source, http):
    source = make_source(secrets={"MASTODON_ACCESS_TOKEN": TOKEN})
    source._client("mastodon.social")
    assert len(http.calls) == 0


# ---- mapping ---------------------------------------------------------------------------------------------


def test_status_maps_to_post_with_plain_text():
    raw = load("status")
    untouched = copy.deepcopy(raw)
    post = mastodon.to_post(raw, query="mastodon.social#nimbusmobile")
    assert post.platform == "mastodon"
    assert post.native_id == raw["uri"]
    assert post.text == (
        "@nimbusmobile roaming in Lisbon & Porto: 5 GB gone in a day <3 #NimbusMobile\n\n"
        "details: https://status.nimbus.example/incidents/42\nthanks!"
    )
    assert post.created_at == datetime(2026, 10, 2, 18, 4, 5, 123000, tzinfo=UTC)
    assert post.author_handle == "pixelwolf@fosstodon.org"
    assert post.author_id == "https://fosstodon.org/users/pixelwolf"
    assert post.url == "https://fosstodon.org/@pixelwolf/113262738461230000"
    assert post.lang == "en"
    assert post.reply_to is None  # in_reply_to_id is server-local; it stays in raw
    assert post.metrics == {"likes": 21, "reposts": 5, "replies": 3, "quotes": 0}
    assert post.query == "mastodon.social#nimbusmobile"
    assert post.raw is raw and raw == untouched


def test_script_and_style_contents_are_dropped_and_escaped_markup_stays_text():
    post = mastodon.to_post(load("script"))
    assert post.text == "free data <script>alert(1)</script> here for #nimbusmobile users"
    assert "document.cookie" not in post.text and "display:none" not in post.text
    assert "onerror" not in post.text


def test_boost_maps_to_the_boosted_status_with_its_content_warning():
    raw = load("boost")
    post = mastodon.to_post(raw)
    assert post.native_id == "https://mastodon.social/users/nimbusfan/statuses/113262700000000042"
    assert post.author_handle == "nimbusfan@mastodon.social"
    assert post.text == "billing rant\n\ncharged twice for #nimbusmobile again"
    assert post.metrics["reposts"] == 7
    assert post.raw is raw


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.pop("uri"), "no uri"),
        (lambda s: s.update(content="<p> </p>"), "no text"),
        (lambda s: s.update(created_at="yesterday"), "created_at"),
    ],
)
def test_bad_status_is_refused_with_a_reason(change, reason):
    raw = load("status")
    change(raw)
    with pytest.raises(ValueError, match=reason):
        mastodon.to_post(raw)


# ---- incremental runs ------------------------------------------------------------------------------------


def test_min_id_pages_forward_and_each_page_commits_its_checkpoint(make_source, http, db):
    query = "mastodon.social#nimbusmobile"
    serve_pages(
        http, "mastodon.social", "nimbusmobile",
        {None: [status("103"), status("102")], "103": [status("105"), status("104")], "105": [status("106")]},
    )  # fmt: skip
    source = make_source()
    first = run_query(db, source, query)
    assert (first.status, first.fetched, first.new) == ("ok", 2, 2)
    assert get_checkpoint(db, "mastodon", query) == {"min_id": "103"}
    assert [call.request.params.get("min_id") for call in tag_calls(http)] == [None]

    second = run_query(db, source, query)
    assert (second.status, second.fetched, second.new) == ("ok", 3, 3)
    assert get_checkpoint(db, "mastodon", query) == {"min_id": "106"}
    assert [call.request.params.get("min_id") for call in tag_calls(http)] == [None, "103", "105", "106"]
    assert all(call.request.params.get("limit") == "40" for call in tag_calls(http))


def test_ids_compare_as_strings_of_any_length():
    assert max(["99", "100", "7"], key=mastodon.id_key) == "100"


def test_empty_timeline_stores_nothing_and_no_checkpoint(make_source, http, db):
    serve_pages(http, "mastodon.social", "nimbusmobile", {})
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert (run.status, run.fetched) == ("ok", 0)
    assert get_checkpoint(db, "mastodon", "mastodon.social#nimbusmobile") is None


def test_two_instances_never_collide_and_a_federated_post_is_stored_once(make_source, http, db):
    shared = "https://stratus.example/users/ana/statuses/1"
    serve_pages(http, "mastodon.social", "nimbusmobile", {None: [status("500", uri=shared), status("100")]})
    serve_pages(http, "fosstodon.org", "nimbusmobile", {None: [status("100", uri="https://fosstodon.org/s/1"),
                                                                status("777", uri=shared)]})  # fmt: skip
    source = make_source(instances=("mastodon.social", "fosstodon.org"))
    runs = run_source(db, source)
    assert [(run.query, run.new, run.duplicates) for run in runs] == [
        ("mastodon.social#nimbusmobile", 2, 0),
        ("fosstodon.org#nimbusmobile", 1, 1),
    ]
    assert get_checkpoint(db, "mastodon", "mastodon.social#nimbusmobile") == {"min_id": "500"}
    assert get_checkpoint(db, "mastodon", "fosstodon.org#nimbusmobile") == {"min_id": "777"}
    assert db.conn.execute("SELECT count(*) FROM posts WHERE platform = 'mastodon'").fetchone()[0] == 3
    assert get_post(db, f"mastodon:{shared}") is not None


def test_token_goes_only_to_its_own_server_and_never_into_logs(make_source, http, db, caplog):
    serve_pages(http, "mastodon.social", "nimbusmobile", {None: [status("1")]})
    http.add(responses.GET, "https://fosstodon.org/api/v1/timelines/tag/nimbusmobile", status=401,
             json={"error": "This method requires an authenticated user"})  # fmt: skip
    source = make_source(
        instances=("mastodon.social", "fosstodon.org"), secrets={"MASTODON_ACCESS_TOKEN": TOKEN}
    )
    with caplog.at_level(logging.DEBUG):
        runs = run_source(db, source)
    auth = {
        call.request.url.split("/")[2]: call.request.headers.get("Authorization") for call in tag_calls(http)
    }
    assert auth == {"mastodon.social": f"Bearer {TOKEN}", "fosstodon.org": None}
    assert [run.status for run in runs] == ["ok", "failed"]
    assert TOKEN not in caplog.text and all(TOKEN not in (run.error or "") for run in runs)


# ---- errors ----------------------------------------------------------------------------------------------

TAG_URL = "https://mastodon.social/api/v1/timelines/tag/nimbusmobile"


@pytest.mark.parametrize("code", [401, 403])
def test_unauthorized_or_forbidden_fails_after_one_request(make_source, http, db, sleeps, code):
    http.add(responses.GET, TAG_URL, status=code, json={"error": "nope"})
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert run.status == "failed" and f"HTTP {code}" in run.error
    assert len(tag_calls(http)) == 1 and sleeps == []


def test_server_error_then_success_is_retried(make_source, http, db, sleeps):
    http.add(responses.GET, TAG_URL, status=503, json={"error": "busy"})
    http.add(responses.GET, TAG_URL, json=[status("7")])
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert (run.status, run.new) == ("ok", 1)
    assert sleeps == [1.0]


def test_server_errors_without_end_fail_the_query_after_bounded_tries(make_source, http, db, sleeps):
    http.add(responses.GET, TAG_URL, status=500, json={"error": "boom"})
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert run.status == "failed" and "gave up after 3 tries" in run.error
    assert len(tag_calls(http)) == 3 and sleeps == [1.0, 2.0]


def test_timeout_is_bounded(make_source, http, db, sleeps):
    http.add(responses.GET, TAG_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert run.status == "failed" and "timed out" in run.error
    assert len(tag_calls(http)) == 3


def test_429_without_reset_header_is_retried_a_bounded_number_of_times_then_partial(
    make_source, http, db, sleeps
):
    http.add(responses.GET, TAG_URL, status=429, json={"error": "Too many requests"})
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert run.status == "partial" and "rate limited" in run.error
    assert len(tag_calls(http)) == 3 and sleeps == [1.0, 2.0]


def test_429_with_a_near_reset_waits_for_it_then_goes_on(make_source, http, db, sleeps):
    now = datetime.now(UTC)
    reset = (now + timedelta(seconds=30)).isoformat()
    headers = {
        "X-RateLimit-Reset": reset,
        "X-RateLimit-Remaining": "0",
        "Date": format_datetime(now, usegmt=True),
    }
    http.add(responses.GET, TAG_URL, status=429, json={"error": "Too many requests"}, headers=headers)
    http.add(responses.GET, TAG_URL, json=[status("9")])
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert (run.status, run.new) == ("ok", 1)
    assert len(sleeps) == 1 and 25 <= sleeps[0] <= 31


def test_429_with_a_far_reset_stops_at_once_as_partial(make_source, http, db, sleeps):
    reset = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    http.add(responses.GET, TAG_URL, status=429, json={"error": "Too many requests"},
             headers={"X-RateLimit-Reset": reset})  # fmt: skip
    run = run_query(db, make_source(), "mastodon.social#nimbusmobile")
    assert run.status == "partial" and len(tag_calls(http)) == 1 and sleeps == []


def test_rate_limit_after_a_stored_page_keeps_the_page_and_its_checkpoint(make_source, http, db, sleeps):
    query = "mastodon.social#nimbusmobile"

    def answer(request):
        min_id = request.params.get("min_id")
        if min_id == "11":
            return 429, {}, json.dumps({"error": "Too many requests"})
        body = [status("11")] if min_id == "10" else [status("10")]
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    http.add_callback(responses.GET, TAG_URL, callback=answer)
    run_query(db, make_source(), query)
    assert get_checkpoint(db, "mastodon", query) == {"min_id": "10"}
    run = run_query(db, make_source(), query)
    assert (run.status, run.new) == ("partial", 1)
    assert get_checkpoint(db, "mastodon", query) == {"min_id": "11"}
