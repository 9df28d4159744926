"""Bluesky source: post search with an app password, else the public Jetstream feed (no account needed).

**Search** (``BLUESKY_HANDLE`` + ``BLUESKY_APP_PASSWORD``): ``app.bsky.feed.searchPosts`` with
``sort=latest`` for each configured term, through the ``atproto`` client. A *pass* pages from the newest post
back to the high-water mark of the last completed pass. Each page is stored with the checkpoint::

    {"since": {"indexed_at": ..., "uri": ...},   # newest post of the last COMPLETED pass (None at first)
     "cursor": "...", "newest": {...}}            # the pass in flight: its next cursor and newest post so far

so a crash mid-pass resumes that pass at its cursor, and the mark only advances (to the pass's newest post)
with the pass's last page: nothing between the old mark and the pass's start is ever skipped. Search
cursors are offsets, so posts arriving meanwhile can only shift results towards repeats, never gaps; repeats
are deduplicated by the store. ``max_pages`` bounds a run (the pass then resumes next run; status partial).

**Jetstream** (no credentials): see :mod:`collectors.jetstream`; the only query is ``jetstream`` and the
checkpoint is ``{"time_us": ...}``.

**Ids**: ``native_id`` is the post's full ``at://did/app.bsky.feed.post/rkey`` URI: globally unique and
stable, the same from search and from Jetstream, and exactly what reply references carry, so ``reply_to``
and ``conversation_id`` need no lookup. (The store key splits on the first ``:`` only.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

from collectors.base import NotConfigured, Page, RunPartial, Setting
from collectors.jetstream import DEFAULT_URL, POST_COLLECTION, Connect, JetstreamReader, websocket_connect
from collectors.retrying import Failure, RetryPolicy, call_with_retries
from store import Post, from_iso

log = logging.getLogger("tasteradar.collectors")

PLATFORM = "bluesky"
JETSTREAM_QUERY = "jetstream"
SEARCH_NSID = "app.bsky.feed.searchPosts"
DEFAULT_SERVICE = "https://bsky.social"
#: Bluesky's public AppView: read-only, no account needed.
PUBLIC_APPVIEW = "https://public.api.bsky.app"
GET_POSTS_NSID = "app.bsky.feed.getPosts"
#: Post URIs per ``getPosts`` request (the API's maximum).
GET_POSTS_BATCH = 25


class BlueskySource:
    """Bluesky posts matching the configured terms: search with an app password, else Jetstream.

    Settings: ``terms`` (what to find), ``mode`` (``auto``, ``search`` or ``jetstream``). Search: ``service``
    (the PDS to log in to), ``page_size``, ``max_pages`` (per query and run), ``timeout`` (HTTP, seconds).
    Jetstream: ``jetstream_url``, and the bounds of a run: ``max_seconds``, ``max_events``; ``batch_events``
    (events per committed page) and ``lookback_seconds`` (how far back the very first run starts).
    Secrets: ``BLUESKY_HANDLE`` and ``BLUESKY_APP_PASSWORD``, both or neither.
    Deletions (``deleted``, for ``--prune-deleted``): ``appview`` (a public AppView, asked without login).
    """

    name: ClassVar[str] = "bluesky"
    platform: ClassVar[str] = PLATFORM
    secrets: ClassVar[tuple[str, ...]] = ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD")
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "terms", "Words to find (search terms; Jetstream matches them as whole words, any case).", ()
        ),
        Setting(
            "mode", '"auto" (search with an app password, else Jetstream), "search" or "jetstream".', "auto"
        ),
        Setting("service", "The PDS to log in to for search.", DEFAULT_SERVICE),
        Setting("page_size", "Search results per request (1-100).", 100),
        Setting("max_pages", "Search pages per query and run; the pass resumes next run.", 50),
        Setting("timeout", "HTTP timeout in seconds.", 30.0),
        Setting("jetstream_url", "The Jetstream subscribe endpoint.", DEFAULT_URL),
        Setting(
            "appview", "The public AppView asked which stored posts still exist (no login).", PUBLIC_APPVIEW
        ),
        Setting("max_seconds", "Jetstream: stop a run after this many seconds.", 60.0),
        Setting("max_events", "Jetstream: stop a run after reading this many events.", 200_000),
        Setting("batch_events", "Jetstream: events read per committed page.", 2_000),
        Setting(
            "lookback_seconds", "Jetstream: on the first run, start this far in the past (0: live).", 0.0
        ),
    )

    def __init__(
        self,
        *,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        client: Any = None,
        connect: Connect | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        appview_client: Any = None,
    ) -> None:
        """Build from settings and secrets; ``client``, ``connect``, ``retry``, ``clock`` and
        ``appview_client`` are for tests."""
        self.terms = tuple(str(term).strip() for term in settings.get("terms") or () if str(term).strip())
        if not self.terms:
            raise NotConfigured(
                "set sources.bluesky.terms (or name a brand) so Bluesky has something to find"
            )
        handle, password = secrets.get("BLUESKY_HANDLE"), secrets.get("BLUESKY_APP_PASSWORD")
        mode = str(settings.get("mode") or "auto")
        if mode not in ("auto", "search", "jetstream"):
            raise NotConfigured(f'sources.bluesky mode must be "auto", "search" or "jetstream", got {mode!r}')
        if mode != "jetstream" and bool(handle) != bool(password):
            missing = "BLUESKY_APP_PASSWORD" if handle else "BLUESKY_HANDLE"
            raise NotConfigured(
                f"set {missing} too (search needs both), or unset both to read public Jetstream"
            )
        if mode == "search" and not handle:
            raise NotConfigured("set BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password) for search")
        self.mode = "search" if mode == "search" or (mode == "auto" and handle) else "jetstream"
        self._handle, self._password = handle, password
        self._service = str(settings.get("service") or DEFAULT_SERVICE)
        self._page_size = max(1, min(100, int(settings.get("page_size") or 100)))
        self._max_pages = max(1, int(settings.get("max_pages") or 50))
        self._timeout = float(settings.get("timeout") or 30.0)
        self._client = client
        self._appview = str(settings.get("appview") or PUBLIC_APPVIEW)
        self._appview_client = appview_client
        self._logged_in = False
        self._retry = retry or RetryPolicy()
        self.jetstream = JetstreamReader(
            terms=self.terms,
            url=str(settings.get("jetstream_url") or DEFAULT_URL),
            connect=connect or websocket_connect,
            max_seconds=float(settings.get("max_seconds") or 60.0),
            max_events=int(settings.get("max_events") or 200_000),
            batch_events=int(settings.get("batch_events") or 2_000),
            lookback_seconds=float(settings.get("lookback_seconds") or 0.0),
            clock=clock,
            retry=self._retry,
        )

    def queries(self) -> list[str]:
        """One query per search term, or the single ``jetstream`` stream."""
        return list(self.terms) if self.mode == "search" else [JETSTREAM_QUERY]

    def fetch(self, query: str, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield pages of post views (search) or post events (Jetstream) after ``checkpoint``."""
        if self.mode == "jetstream":
            yield from self.jetstream.fetch(checkpoint)
            return
        yield from self._search(query, checkpoint or {})

    def to_post(self, raw: Any, *, query: str | None = None) -> Post:
        """Map a post view or a Jetstream event (whose ``query`` becomes the matched term) to a ``Post``."""
        if isinstance(raw, dict) and "commit" in raw and query == JETSTREAM_QUERY:
            text = str(((raw.get("commit") or {}).get("record") or {}).get("text") or "")
            query = self.jetstream.match(text) or query
        return to_post(raw, query=query)

    def deleted(self, native_ids: list[str]) -> list[str]:
        """The post URIs Bluesky no longer serves, by ``app.bsky.feed.getPosts`` on the public AppView.

        Up to 25 URIs per request, no login. A URI missing from the answer is gone: the post was deleted, or
        its account was deleted, deactivated or taken down. Errors follow ``fetch`` (a 429 and 5xx are
        retried a bounded number of times; a timeout after ``timeout`` seconds counts as a failure).
        """
        uris = [uri for uri in dict.fromkeys(native_ids) if _is_post_uri(uri)]
        if not uris:
            return []
        if self._appview_client is None:
            self._appview_client = make_client(self._appview, self._timeout)
        client = self._appview_client
        gone: list[str] = []
        for start in range(0, len(uris), GET_POSTS_BATCH):
            chunk = uris[start : start + GET_POSTS_BATCH]
            body = call_with_retries(
                lambda chunk=chunk: self._get_posts(client, chunk), _classify, self._retry,
                what=f"bluesky lookup of {len(chunk)} stored posts", progressed=start > 0,
            )  # fmt: skip
            present = {post.get("uri") for post in body.get("posts") or [] if isinstance(post, dict)}
            gone += [uri for uri in chunk if uri not in present]
        return gone

    @staticmethod
    def _get_posts(client: Any, uris: list[str]) -> dict:
        """One ``getPosts`` request; the untouched JSON body."""
        from atproto import models

        response = client.invoke_query(GET_POSTS_NSID, params=models.AppBskyFeedGetPosts.Params(uris=uris))
        content = response.content
        if not isinstance(content, dict):
            raise ValueError(f"getPosts returned {type(content).__name__}, expected a JSON object")
        return content

    # ---- search ------------------------------------------------------------------------------------------

    def _search(self, query: str, state: dict[str, Any]) -> Iterator[Page]:
        """One pass (or its continuation) of ``searchPosts`` for ``query``, newest first, to the mark."""
        mark = _key(state.get("since"))
        cursor = state.get("cursor") if isinstance(state.get("cursor"), str) else None
        newest = state.get("newest") if cursor else None
        client = self._session(query)
        for page_number in range(self._max_pages):
            body = call_with_retries(
                lambda cursor=cursor: self._search_page(client, query, cursor), _classify, self._retry,
                what=f"bluesky {query!r}", progressed=page_number > 0,
            )  # fmt: skip
            posts = [post for post in body.get("posts") or [] if isinstance(post, dict)]
            keyed = [(key, seen) for seen in map(_seen, posts) if (key := _key(seen)) is not None]
            for _, seen in keyed:
                newest = _later(newest, seen)
            next_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            reached = mark is not None and any(key < mark for key, _ in keyed)
            if reached or not next_cursor or not posts:
                done = {"since": _later(state.get("since"), newest), "cursor": None, "newest": None}
                yield Page(posts, done)
                return
            yield Page(posts, {"since": state.get("since"), "cursor": next_cursor, "newest": newest})
            cursor = next_cursor
        raise RunPartial(
            f"bluesky {query!r}: stopped after {self._max_pages} pages; the next run resumes the pass"
        )

    def _session(self, query: str) -> Any:
        """The logged-in ``atproto`` client (one login per source object; no network before ``fetch``)."""
        if self._client is None:
            self._client = make_client(self._service, self._timeout)
        if not self._logged_in:
            call_with_retries(
                lambda: self._client.login(self._handle, self._password, fetch_bsky_profile=False),
                _classify, self._retry, what=f"bluesky login for {query!r}",
            )  # fmt: skip
            self._logged_in = True
        return self._client

    def _search_page(self, client: Any, query: str, cursor: str | None) -> dict:
        """One ``searchPosts`` request; the untouched JSON body."""
        from atproto import models

        params = models.AppBskyFeedSearchPosts.Params(
            q=query, limit=self._page_size, cursor=cursor, sort="latest"
        )
        response = client.invoke_query(SEARCH_NSID, params=params)
        content = response.content
        if not isinstance(content, dict):
            raise ValueError(f"searchPosts returned {type(content).__name__}, expected a JSON object")
        return content


def make_client(service: str, timeout: float, transport: Any = None) -> Any:
    """An ``atproto`` client for ``service`` with an HTTP timeout (``transport``: httpx, for tests)."""
    import httpx
    from atproto import Client
    from atproto_client.request import Request

    kwargs: dict[str, Any] = {"timeout": httpx.Timeout(timeout)}
    if transport is not None:
        kwargs["transport"] = transport
    return Client(base_url=service, request=Request(**kwargs))


def _classify(error: BaseException) -> Failure | None:
    """Sort ``atproto`` errors into auth (401/403), rate (429) and transient (5xx, timeout, network)."""
    from atproto_client import exceptions

    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(error, exceptions.UnauthorizedError) or status in (401, 403):
        return Failure(
            "auth", f"HTTP {status}: check BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password)"
        )
    if isinstance(error, exceptions.RateLimitExceededError) or status == 429:
        return Failure("rate", "HTTP 429", _reset_wait(getattr(response, "headers", None) or {}))
    if isinstance(error, exceptions.InvokeTimeoutError):
        return Failure("transient", "request timed out")
    if isinstance(error, exceptions.NetworkError) or (isinstance(status, int) and status >= 500):
        return Failure(
            "transient", f"HTTP {status}" if status else f"network error: {error.__cause__ or error}"
        )
    return None


def _reset_wait(headers: Mapping[str, Any]) -> float | None:
    """Seconds until the ``ratelimit-reset`` (unix seconds) header, or None without one."""
    value = {str(k).lower(): v for k, v in headers.items()}.get("ratelimit-reset")
    try:
        return max(0.0, float(value) - time.time()) if value is not None else None
    except (TypeError, ValueError):
        return None


def _seen(post: dict) -> dict | None:
    """The search-order position of a post view: ``{"indexed_at", "uri"}`` (None without ``indexedAt``)."""
    indexed, uri = post.get("indexedAt"), post.get("uri")
    if not isinstance(indexed, str) or not isinstance(uri, str):
        return None
    return {"indexed_at": indexed, "uri": uri}


def _later(a: Any, b: Any) -> Any:
    """The later of two marks (a readable one wins over an unreadable or missing one)."""
    key_a, key_b = _key(a), _key(b)
    if key_b is None:
        return a
    return b if key_a is None or key_b > key_a else a


def _key(seen: Any) -> tuple[datetime, str] | None:
    """A comparable key of a ``_seen`` mark (None for no mark or an unreadable one)."""
    if not isinstance(seen, dict):
        return None
    try:
        return (from_iso(seen["indexed_at"]), str(seen["uri"]))
    except (KeyError, TypeError, ValueError):
        return None


# ---- mapping ---------------------------------------------------------------------------------------------


def to_post(raw: Any, *, query: str | None = None) -> Post:
    """Map a ``searchPosts`` post view or a Jetstream commit event to a ``Post`` (``raw`` kept untouched).

    Raises ``ValueError`` naming the problem for anything else, a post without text, or a bad ``createdAt``.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"a Bluesky post is a JSON object, got {type(raw).__name__}")
    if "commit" in raw:
        return _from_event(raw, query)
    uri, record, author = raw.get("uri"), raw.get("record"), raw.get("author")
    if not isinstance(uri, str) or not uri.startswith("at://") or not isinstance(record, dict):
        raise ValueError("not a Bluesky post view: needs an at:// uri and a record")
    author = author if isinstance(author, dict) else {}
    did, rkey = _did_rkey(uri)
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    metrics = {
        name: raw[key]
        for name, key in (("likes", "likeCount"), ("reposts", "repostCount"), ("replies", "replyCount"),
                          ("quotes", "quoteCount"))
        if isinstance(raw.get(key), int)
    }  # fmt: skip
    return _post(record, uri=uri, did=author.get("did") or did, handle=handle, rkey=rkey, metrics=metrics,
                 raw=raw, query=query)  # fmt: skip


def _from_event(raw: dict, query: str | None) -> Post:
    """Map a Jetstream commit event (no handle, no counts: the feed carries neither)."""
    commit = raw.get("commit")
    did = raw.get("did")
    if not isinstance(commit, dict) or not isinstance(did, str) or not did.startswith("did:"):
        raise ValueError("not a Jetstream commit event: needs a did and a commit")
    if commit.get("collection") != POST_COLLECTION or not isinstance(commit.get("rkey"), str):
        raise ValueError(f"not a post commit: collection {commit.get('collection')!r}")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise ValueError(f"post commit without a record (operation {commit.get('operation')!r})")
    uri = f"at://{did}/{POST_COLLECTION}/{commit['rkey']}"
    return _post(record, uri=uri, did=did, handle=None, rkey=commit["rkey"], metrics={}, raw=raw, query=query)


def _post(record: dict, *, uri: str, did: str, handle: str | None, rkey: str, metrics: dict, raw: Any,
          query: str | None) -> Post:  # fmt: skip
    """The ``Post`` of one post record."""
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("post has no text")
    try:
        created_at = from_iso(record.get("createdAt"))
    except (TypeError, ValueError, AttributeError):
        created_at = None
    if created_at is None:
        raise ValueError(f"post createdAt is missing or unreadable: {record.get('createdAt')!r}")
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = _ref_uri(reply.get("parent"))
    root = _ref_uri(reply.get("root"))
    return Post(
        platform=PLATFORM,
        native_id=uri,
        text=text,
        created_at=created_at,
        author_id=did,
        author_handle=handle,
        url=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
        lang=lang,
        reply_to=f"{PLATFORM}:{parent}" if parent else None,
        conversation_id=f"{PLATFORM}:{root or uri}",
        metrics=metrics,
        raw=raw,
        query=query,
    )


def _is_post_uri(value: Any) -> bool:
    """True for ``at://DID/app.bsky.feed.post/RKEY``."""
    if not isinstance(value, str) or not value.startswith("at://"):
        return False
    parts = value.removeprefix("at://").split("/")
    return len(parts) == 3 and all(parts) and parts[1] == POST_COLLECTION


def _did_rkey(uri: str) -> tuple[str, str]:
    """The repository DID and record key of ``at://did/collection/rkey``."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or not parts[0] or not parts[2]:
        raise ValueError(f"not a record URI: {uri!r}")
    return parts[0], parts[2]


def _ref_uri(ref: Any) -> str | None:
    """The ``uri`` of a strong reference, when it is an at:// URI."""
    uri = ref.get("uri") if isinstance(ref, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None
