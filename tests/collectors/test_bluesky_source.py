"""The Bluesky source: search through atproto (HTTP stubbed with an httpx mock transport) and Jetstream
through a fake websocket. Nothing here touches the network."""

from __future__ import annotations

import base64
import copy
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from collectors import bluesky, jetstream
from collectors.base import NotConfigured, Setting
from collectors.job import run_query
from collectors.retrying import RetryPolicy
from store import get_checkpoint, get_post

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bluesky"
HANDLE, PASSWORD = "listening-team.bsky.social", "abcd-efgh-ijkl-mnop"
SECRETS = {"BLUESKY_HANDLE": HANDLE, "BLUESKY_APP_PASSWORD": PASSWORD}


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def events() -> list[str]:
    return (FIXTURES / "jetstream_events.jsonl").read_text(encoding="utf-8").splitlines()


def fake_jwt() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    payload = {"scope": "com.atproto.appPass", "sub": "did:plc:listeningteam000000000", "exp": 4102444800}
    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2lnbmF0dXJl"


def view(n: int, indexed: str, text: str = "nimbus is fine") -> dict:
    """A post view numbered ``n`` indexed at ``indexed`` (seconds precision)."""
    raw = copy.deepcopy(load("search_page1")["posts"][0])
    raw["uri"] = f"at://did:plc:aaaa1111aaaa1111aaaa1111/app.bsky.feed.post/3lc00000000{n:02d}"
    raw["indexedAt"] = indexed
    raw["record"]["text"] = text
    return raw


class Server:
    """A fake PDS/AppView: answers createSession and searchPosts from queued responses per cursor."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.login: list = []  # queued createSession answers (default: a session)
        self.search: dict[str | None, list] = {}  # cursor -> queued answers (the last one repeats)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path.endswith("com.atproto.server.createSession"):
            answer = self.login.pop(0) if self.login else None
            if answer is not None:
                return self._respond(answer, request)
            session = load("create_session")
            session["accessJwt"] = session["refreshJwt"] = fake_jwt()
            return httpx.Response(200, json=session)
        queue = self.search.get(request.url.params.get("cursor"), [{"posts": []}])
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        return self._respond(answer, request)

    @staticmethod
    def _respond(answer, request):
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def searches(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("app.bsky.feed.searchPosts")]


@pytest.fixture
def server():
    return Server()


@pytest.fixture
def make_source(server, sleeps):
    def make(secrets=SECRETS, **settings):
        client = bluesky.make_client("https://bsky.social", 5.0, httpx.MockTransport(server.handler))
        return bluesky.BlueskySource(
            settings={"terms": ["nimbus"], **settings},
            secrets=secrets,
            client=client,
            retry=RetryPolicy(
                attempts=3, rate_limit_retries=2, backoff=1.0, max_wait=60.0, sleep=sleeps.append
            ),
        )

    return make


# ---- contract --------------------------------------------------------------------------------------------


def test_contract_attributes_settings_modes_and_not_configured():
    cls = bluesky.BlueskySource
    assert (cls.name, cls.platform) == ("bluesky", "bluesky")
    assert cls.secrets == ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
    assert all(isinstance(setting, Setting) for setting in cls.settings)
    assert {"terms", "mode", "max_seconds", "max_events"} <= {setting.key for setting in cls.settings}
    search = cls(settings={"terms": ["Nimbus", "Stratus Tel"]}, secrets=SECRETS)
    assert (search.mode, search.queries()) == ("search", ["Nimbus", "Stratus Tel"])
    public = cls(settings={"terms": ["Nimbus"]}, secrets={})
    assert (public.mode, public.queries()) == ("jetstream", ["jetstream"])
    assert public.to_post(load("post_view_reply")).platform == "bluesky"
    with pytest.raises(NotConfigured, match="terms"):
        cls(settings={"terms": []}, secrets=SECRETS)
    with pytest.raises(NotConfigured, match="BLUESKY_APP_PASSWORD"):
        cls(settings={"terms": ["Nimbus"]}, secrets={"BLUESKY_HANDLE": HANDLE})
    with pytest.raises(NotConfigured, match="BLUESKY_HANDLE"):
        cls(settings={"terms": ["Nimbus"], "mode": "search"}, secrets={})


def test_no_request_before_fetch(make_source, server):
    make_source()
    assert server.requests == []


# ---- mapping ---------------------------------------------------------------------------------------------


def test_post_view_maps_to_post():
    raw = load("post_view_reply")
    untouched = copy.deepcopy(raw)
    post = bluesky.to_post(raw, query="nimbus")
    assert post.id == "bluesky:at://did:plc:4ty7mbw2kqzq5lsqqdcmrhxv/app.bsky.feed.post/3lbx7kq2abc2s"
    assert post.native_id == raw["uri"]
    assert post.author_id == "did:plc:4ty7mbw2kqzq5lsqqdcmrhxv"
    assert post.author_handle == "maya-rivera.bsky.social"
    assert post.text.startswith("@nimbusmobile.com switched") and post.text.endswith("\U0001f680")
    assert post.created_at == datetime(2026, 10, 2, 17, 45, 12, 345000, tzinfo=UTC)
    assert post.lang == "en"
    assert post.reply_to == "bluesky:at://did:plc:nimbusmobileofficial00/app.bsky.feed.post/3lbx6zzparent"
    assert (
        post.conversation_id == "bluesky:at://did:plc:nimbusmobileofficial00/app.bsky.feed.post/3lbx6yyroot22"
    )
    assert post.url == "https://bsky.app/profile/maya-rivera.bsky.social/post/3lbx7kq2abc2s"
    assert post.metrics == {"likes": 14, "reposts": 1, "replies": 2, "quotes": 0}
    assert post.query == "nimbus"
    assert post.raw is raw and raw == untouched


def test_jetstream_event_maps_to_the_same_id_as_the_post_view():
    event = json.loads(events()[0])
    post = bluesky.to_post(event)
    assert post.native_id == "at://did:plc:dddd4444dddd4444dddd4444/app.bsky.feed.post/3lc1aaaaaaa2a"
    assert post.author_handle is None and post.metrics == {}
    assert post.url == "https://bsky.app/profile/did:plc:dddd4444dddd4444dddd4444/post/3lc1aaaaaaa2a"
    assert post.conversation_id == f"bluesky:{post.native_id}"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"uri": "https://x", "record": {}}, "at:// uri"),
        (
            {
                "uri": "at://did:plc:a/app.bsky.feed.post/1",
                "record": {"text": " ", "createdAt": "2026-01-01"},
            },
            "text",
        ),
        (
            {"uri": "at://did:plc:a/app.bsky.feed.post/1", "record": {"text": "hi", "createdAt": "soon"}},
            "createdAt",
        ),
        ("not json", "JSON object"),
    ],
)
def test_bad_payload_is_refused_with_a_reason(raw, reason):
    with pytest.raises(ValueError, match=reason):
        bluesky.to_post(raw)


# ---- search ----------------------------------------------------------------------------------------------


def test_search_pages_through_cursor_and_sets_the_mark_on_the_last_page(make_source, server, db):
    server.search = {None: [load("search_page1")], "2": [load("search_page2")]}
    run = run_query(db, make_source(), "nimbus")
    assert (run.status, run.fetched, run.new) == ("ok", 3, 3)
    newest = load("search_page1")["posts"][0]
    assert get_checkpoint(db, "bluesky", "nimbus") == {
        "since": {"indexed_at": newest["indexedAt"], "uri": newest["uri"]}, "cursor": None, "newest": None,
    }  # fmt: skip
    params = [dict(r.url.params) for r in server.searches()]
    assert params == [{"q": "nimbus", "limit": "100", "sort": "latest"},
                      {"q": "nimbus", "limit": "100", "sort": "latest", "cursor": "2"}]  # fmt: skip
    assert get_post(db, "bluesky:" + newest["uri"]).author_handle == "leo.bsky.social"


def test_next_pass_stops_at_the_mark(make_source, server, db):
    server.search = {None: [load("search_page1")], "2": [load("search_page2")]}
    run_query(db, make_source(), "nimbus")
    page1 = load("search_page1")["posts"]
    fresh = view(9, "2026-10-03T11:00:00.000Z")
    server.search = {
        None: [{"posts": [fresh, *page1], "cursor": "3"}],
        "3": [{"posts": [view(1, "2026-01-01T00:00Z")]}],
    }
    run = run_query(db, make_source(), "nimbus")
    assert (run.status, run.new, run.duplicates) == ("ok", 1, 2)
    assert [r.url.params.get("cursor") for r in server.searches()][-1] is None  # cursor "3" never asked for
    assert get_checkpoint(db, "bluesky", "nimbus")["since"]["uri"] == fresh["uri"]


def test_crash_mid_pass_resumes_the_pass_and_leaves_no_gap(make_source, server, db):
    server.search = {None: [load("search_page1")], "2": [httpx.ReadError("killed")]}

    class Killed(BaseException):
        pass

    source = make_source()
    source._search_page_original = source._search_page

    def dying(client, query, cursor):
        if cursor == "2":
            raise Killed  # the process dies after page 1 was committed
        return source._search_page_original(client, query, cursor)

    source._search_page = dying
    with pytest.raises(Killed):
        run_query(db, source, "nimbus")
    state = get_checkpoint(db, "bluesky", "nimbus")
    assert state["cursor"] == "2" and state["since"] is None
    assert state["newest"]["uri"] == load("search_page1")["posts"][0]["uri"]

    server.search = {None: [load("search_page1")], "2": [load("search_page2")]}
    rerun = run_query(db, make_source(), "nimbus")
    assert (rerun.status, rerun.new) == ("ok", 1)
    assert [r.url.params.get("cursor") for r in server.searches()][-1] == "2"  # resumed, not restarted
    assert db.conn.execute("SELECT count(*) FROM posts").fetchone()[0] == 3
    # the mark is the newest post of the interrupted pass, so a post indexed meanwhile is found next time
    assert get_checkpoint(db, "bluesky", "nimbus")["since"]["uri"] == load("search_page1")["posts"][0]["uri"]
    late = view(8, "2026-10-03T10:30:00.000Z")
    server.search = {None: [{"posts": [late, *load("search_page1")["posts"]], "cursor": "2"}]}
    assert run_query(db, make_source(), "nimbus").new == 1


def test_empty_result_is_ok(make_source, server, db):
    server.search = {None: [{"posts": []}]}
    run = run_query(db, make_source(), "nimbus")
    assert (run.status, run.fetched) == ("ok", 0)


def test_max_pages_stops_partial_and_keeps_the_pending_cursor(make_source, server, db):
    server.search = {None: [load("search_page1")], "2": [load("search_page2")]}
    run = run_query(db, make_source(max_pages=1), "nimbus")
    assert (run.status, run.new) == ("partial", 2)
    assert get_checkpoint(db, "bluesky", "nimbus")["cursor"] == "2"


@pytest.mark.parametrize("code", [401, 403])
def test_search_unauthorized_fails_after_one_request(make_source, server, db, sleeps, code):
    server.search = {None: [httpx.Response(code, json={"error": "AuthRequired", "message": "no"})]}
    run = run_query(db, make_source(), "nimbus")
    assert run.status == "failed" and f"HTTP {code}" in run.error
    assert len(server.searches()) == 1 and sleeps == []


def test_bad_app_password_fails_at_login_and_never_logs_it(make_source, server, db, caplog):
    server.login = [
        httpx.Response(401, json={"error": "AuthenticationRequired", "message": "Invalid identifier"})
    ]
    with caplog.at_level(logging.DEBUG):
        run = run_query(db, make_source(), "nimbus")
    assert run.status == "failed" and "BLUESKY_APP_PASSWORD" in run.error
    assert server.searches() == []
    assert PASSWORD not in caplog.text and PASSWORD not in run.error


def test_server_error_then_success(make_source, server, db, sleeps):
    server.search = {
        None: [httpx.Response(502, text="bad gateway"), httpx.Response(500, json={}), {"posts": []}]
    }
    run = run_query(db, make_source(), "nimbus")
    assert run.status == "ok" and sleeps == [1.0, 2.0]


def test_timeout_is_bounded_and_fails(make_source, server, db, sleeps):
    server.search = {None: [httpx.ReadTimeout("hung")]}
    run = run_query(db, make_source(), "nimbus")
    assert run.status == "failed" and "timed out" in run.error
    assert len(server.searches()) == 3


def test_429_waits_for_the_reset_header_then_goes_on(make_source, server, db, sleeps):
    reset = str(int(datetime.now(UTC).timestamp()) + 20)
    server.search = {None: [httpx.Response(429, headers={"ratelimit-reset": reset}, json={}), {"posts": []}]}
    run = run_query(db, make_source(), "nimbus")
    assert run.status == "ok" and len(sleeps) == 1 and 15 <= sleeps[0] <= 21


def test_429_without_reset_is_bounded_and_partial(make_source, server, db, sleeps):
    server.search = {None: [httpx.Response(429, json={"error": "RateLimitExceeded"})]}
    run = run_query(db, make_source(), "nimbus")
    assert run.status == "partial" and len(server.searches()) == 3 and sleeps == [1.0, 2.0]


# ---- Jetstream -------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeSocket:
    """Replays messages (an Exception in the list is raised), then times out, advancing the fake clock."""

    def __init__(self, messages: list, clock: FakeClock, step: float = 0.01) -> None:
        self.messages, self.clock, self.step = list(messages), clock, step
        self.closed = False

    def recv(self, timeout: float | None = None):
        if not self.messages:
            self.clock.now += timeout or 1.0
            raise TimeoutError
        self.clock.now += self.step
        message = self.messages.pop(0)
        if isinstance(message, BaseException):
            raise message
        return message

    def close(self) -> None:
        self.closed = True


class FakeTransport:
    """``connect(url)`` handing out one FakeSocket per connection from ``scripts``."""

    def __init__(self, scripts: list[list], clock: FakeClock) -> None:
        self.scripts, self.clock, self.urls, self.sockets = list(scripts), clock, [], []

    def __call__(self, url: str) -> FakeSocket:
        self.urls.append(url)
        socket = FakeSocket(self.scripts.pop(0) if self.scripts else [], self.clock)
        self.sockets.append(socket)
        return socket


def jetstream_source(transport: FakeTransport, clock: FakeClock, sleeps: list, **settings):
    return bluesky.BlueskySource(
        settings={"terms": ["Nimbus", "Stratus Tel"], "max_seconds": 5, **settings},
        secrets={},
        connect=transport,
        clock=clock,
        retry=RetryPolicy(attempts=3, backoff=1.0, sleep=sleeps.append),
    )


def test_term_matching_is_whole_word_and_case_insensitive():
    pattern = jetstream.term_pattern(["Nimbus", "Stratus Tel", "AT&T"])
    assert pattern.search("love NIMBUS!") and pattern.search("stratus  tel rocks") and pattern.search("at&t")
    assert (
        not pattern.search("nimbuses") and not pattern.search("supernimbus") and not pattern.search("stratus")
    )


def test_jetstream_keeps_matching_posts_and_checkpoints_the_last_event(db, sleeps):
    clock = FakeClock()
    transport = FakeTransport([events()], clock)
    source = jetstream_source(transport, clock, sleeps)
    run = run_query(db, source, "jetstream")
    assert run.status == "ok"
    assert (run.fetched, run.new, run.duplicates) == (3, 2, 1)  # the update of the first post counts once
    assert get_checkpoint(db, "bluesky", "jetstream") == {"time_us": 1791021600000007}
    assert transport.urls == [f"{jetstream.DEFAULT_URL}?wantedCollections=app.bsky.feed.post"]
    edited = get_post(db, "bluesky:at://did:plc:dddd4444dddd4444dddd4444/app.bsky.feed.post/3lc1aaaaaaa2a")
    assert edited.text.endswith("(edit: roaming works too)") and edited.query == "Nimbus"
    assert transport.sockets[0].closed
    assert 5 <= clock.now < 7  # bounded by max_seconds


def test_jetstream_resumes_from_the_stored_cursor(db, sleeps):
    clock = FakeClock()
    transport = FakeTransport([events()[:2], []], clock)
    source = jetstream_source(transport, clock, sleeps)
    run_query(db, source, "jetstream")
    assert get_checkpoint(db, "bluesky", "jetstream") == {"time_us": 1791021600000002}
    run_query(db, source, "jetstream")
    assert transport.urls[1].endswith("&cursor=1791021600000002")


def test_jetstream_stops_after_max_events_in_batches(db, sleeps):
    clock = FakeClock()
    transport = FakeTransport([events()], clock)
    source = jetstream_source(transport, clock, sleeps, max_events=5, batch_events=2)
    pages = list(source.fetch("jetstream", None))
    assert [page.checkpoint for page in pages] == [
        {"time_us": 1791021600000002}, {"time_us": 1791021600000004}, {"time_us": 1791021600000005},
    ]  # fmt: skip
    assert sum(len(page.items) for page in pages) == 2
    assert clock.now < 1


def test_jetstream_reconnects_from_the_cursor_when_the_connection_drops(db, sleeps):
    clock = FakeClock()
    lines = events()
    transport = FakeTransport([[lines[0], ConnectionResetError("peer reset")], lines[1:]], clock)
    run = run_query(db, jetstream_source(transport, clock, sleeps), "jetstream")
    assert run.status == "ok" and run.new == 2
    assert transport.urls[1].endswith("&cursor=1791021600000001") and sleeps == [1.0]


def test_jetstream_that_cannot_connect_fails_bounded(db, sleeps):
    clock = FakeClock()

    def refuse(url):
        raise ConnectionRefusedError("refused")

    source = bluesky.BlueskySource(
        settings={"terms": ["Nimbus"]}, secrets={}, connect=refuse, clock=clock,
        retry=RetryPolicy(attempts=3, backoff=1.0, sleep=sleeps.append),
    )  # fmt: skip
    run = run_query(db, source, "jetstream")
    assert run.status == "failed" and "gave up after 3 tries" in run.error and sleeps == [1.0, 2.0]


def test_jetstream_malformed_message_is_quarantined(db, sleeps):
    clock = FakeClock()
    transport = FakeTransport([["{not json", events()[0]]], clock)
    run = run_query(db, jetstream_source(transport, clock, sleeps), "jetstream")
    assert (run.new, run.quarantined) == (1, 1)


def test_jetstream_giving_up_after_drops_keeps_what_it_read_and_is_partial(db, sleeps):
    clock = FakeClock()
    drop = ConnectionResetError("peer reset")
    transport = FakeTransport([[events()[0], drop], [drop], [drop]], clock)
    run = run_query(db, jetstream_source(transport, clock, sleeps), "jetstream")
    assert (run.status, run.new) == ("partial", 1) and "connection lost 3 times" in run.error
    assert get_checkpoint(db, "bluesky", "jetstream") == {"time_us": 1791021600000001}


# ---- deleted: which stored posts the public AppView no longer serves -------------------------------------


def post_uri(n: int) -> str:
    return f"at://did:plc:aaaa1111aaaa1111aaaa1111/app.bsky.feed.post/3lc0000000{n:03d}"


class AppView:
    """A fake public AppView answering getPosts with the posts it still has."""

    def __init__(self, alive: set[str], failures: list | None = None) -> None:
        self.alive, self.failures, self.requests = alive, list(failures or []), []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "public.api.bsky.app"
        assert "authorization" not in request.headers  # no login for the public AppView
        if self.failures:
            return self.failures.pop(0)
        uris = request.url.params.get_list("uris")
        posts = [{**load("search_page1")["posts"][0], "uri": uri} for uri in uris if uri in self.alive]
        return httpx.Response(200, json={"posts": posts})


def appview_source(appview: AppView, sleeps: list) -> bluesky.BlueskySource:
    client = bluesky.make_client(bluesky.PUBLIC_APPVIEW, 5.0, httpx.MockTransport(appview.handler))
    return bluesky.BlueskySource(
        settings={"terms": ["nimbus"]}, secrets={}, appview_client=client,
        retry=RetryPolicy(attempts=3, rate_limit_retries=2, backoff=1.0, max_wait=60.0, sleep=sleeps.append),
    )  # fmt: skip


def test_deleted_reports_uris_missing_from_get_posts_25_at_a_time(sleeps):
    uris = [post_uri(n) for n in range(30)]
    appview = AppView(alive=set(uris) - {uris[3], uris[27]})
    gone = appview_source(appview, sleeps).deleted([*uris, "at://not/a-post", "https://bsky.app/x"])
    assert gone == [uris[3], uris[27]]
    assert [len(r.url.params.get_list("uris")) for r in appview.requests] == [25, 5]
    assert all(r.url.path.endswith("app.bsky.feed.getPosts") for r in appview.requests)


def test_deleted_retries_a_5xx_and_fails_on_403(sleeps):
    appview = AppView(alive={post_uri(1)}, failures=[httpx.Response(502, json={"error": "BadGateway"})])
    assert appview_source(appview, sleeps).deleted([post_uri(1), post_uri(2)]) == [post_uri(2)]
    assert len(appview.requests) == 2 and sleeps == [1.0]
    from collectors.base import RunFailed

    forbidden = AppView(alive=set(), failures=[httpx.Response(403, json={"error": "Forbidden"})])
    with pytest.raises(RunFailed, match="403"):
        appview_source(forbidden, sleeps).deleted([post_uri(1)])
    assert len(forbidden.requests) == 1


def test_deleted_with_nothing_to_ask_makes_no_request(sleeps):
    appview = AppView(alive=set())
    assert appview_source(appview, sleeps).deleted(["bogus"]) == [] and appview.requests == []
