"""X (Twitter) source: recent search through tweepy (:class:`XSource`) and the pure mapping ``to_post``.

:class:`XSource` runs ``GET /2/tweets/search/recent`` for each configured query (see its docstring for the
checkpoint and the retry policy; ``collectors.x_client`` holds the pieces around tweepy). One raw payload is
one post as the API returns it with ``expansions=author_id``::

    {"data": {<tweet: id, text, author_id, created_at, conversation_id, lang, public_metrics,
              referenced_tweets?, note_tweet?, edit_history_tweet_ids>},
     "includes": {"users": [{<author: id, username, name, ...>}]}}

A bare tweet object (no ``data`` wrapper) is accepted too. The text is kept as X sends it (HTML entities such
as ``&amp;`` included: normalising text is the nlp stage's job); a long post's full text comes from
``note_tweet.text``. Ids stay strings: a 64-bit X id must never pass through a float.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from collectors import x_client
from collectors.base import NotConfigured, Page, RunFailed, RunPartial, Setting, require
from collectors.retrying import RetryPolicy, call_with_retries
from store import Post, from_iso

log = logging.getLogger("tasteradar.collectors.x")

PLATFORM = "x"
#: X language codes that mean "no language" (undetermined, media only, hashtags only, ...).
NO_LANGUAGE = {"und", "qme", "qht", "qam", "qst", "zxx"}


def to_post(raw: dict, *, query: str | None = None) -> Post:
    """Map one X API v2 post payload to a ``Post``; ``raw`` is kept untouched in ``Post.raw``.

    Raises ``ValueError`` naming the problem when the payload is not a post: no tweet object, no ``id`` or
    one that is not a string of digits, no text, or a missing or unreadable ``created_at``.
    """
    tweet = _tweet(raw)
    native_id = tweet.get("id")
    if not isinstance(native_id, str) or not native_id.isdigit():
        raise ValueError(f"X post id must be a string of digits, got {native_id!r}")
    text = _text(tweet)
    created_at = _created_at(tweet)
    author_id = tweet.get("author_id")
    if author_id is not None and not isinstance(author_id, str):
        raise ValueError(f"X author_id must be a string, got {author_id!r}")
    handle = _username(raw, author_id)
    lang = tweet.get("lang")
    conversation = tweet.get("conversation_id")
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        text=text,
        created_at=created_at,
        author_id=author_id,
        author_handle=handle,
        url=f"https://x.com/{handle or 'i/web'}/status/{native_id}",
        lang=None if not lang or lang in NO_LANGUAGE else lang,
        reply_to=_replied_to(tweet),
        conversation_id=f"{PLATFORM}:{conversation}" if conversation else None,
        metrics=dict(tweet.get("public_metrics") or {}),
        raw=raw,
        query=query,
    )


def _tweet(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise ValueError(f"X payload must be a JSON object, got {type(raw).__name__}")
    if "data" in raw:
        tweet = raw["data"]
        if not isinstance(tweet, dict):
            raise ValueError(
                "X payload 'data' must be one tweet object (map each tweet of a page separately)"
            )
        return tweet
    if "id" in raw and "text" in raw:
        return raw
    raise ValueError("X payload has no 'data' tweet object")


def _text(tweet: dict) -> str:
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        return note["text"]
    text = tweet.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError(f"X post {tweet.get('id')} has no text")
    return text


def _created_at(tweet: dict):
    value = tweet.get("created_at")
    if not value:
        raise ValueError(f"X post {tweet.get('id')} has no created_at (request tweet.fields=created_at)")
    try:
        return from_iso(value)
    except (TypeError, ValueError):
        raise ValueError(f"X post {tweet.get('id')} has an unreadable created_at {value!r}") from None


def _username(raw: dict, author_id: str | None) -> str | None:
    users = (raw.get("includes") or {}).get("users") or []
    for user in users:
        if isinstance(user, dict) and user.get("id") == author_id:
            return user.get("username")
    return None


def _replied_to(tweet: dict) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id"):
            return f"{PLATFORM}:{ref['id']}"
    return None


# ---- fetching ---------------------------------------------------------------------------------------------

#: The retry policy of X: a 429 is waited out twice at most (until its reset, at most 15 minutes, else 2 s and
#: 4 s), a 5xx or a timeout is tried 3 times in all (2 s, 4 s between).
X_POLICY = RetryPolicy(attempts=3, rate_limit_retries=2, backoff=2.0, max_wait=15 * 60 + 5)
#: Post ids per ``GET /2/tweets`` lookup (X's maximum).
LOOKUP_BATCH = 100


class XSource:
    """Posts from X's recent search (the last 7 days), one checkpoint per configured query.

    **Settings**: ``queries`` (X search queries, required), ``max_results`` (posts per request, 10 to 100)
    and ``max_pages`` (requests per query and run; a pass cut short goes on at the next run).

    **Checkpoint** ``{"since_id": ID | None, "pending": {"newest_id": ID, "next_token": TOKEN} | None}``. A
    *pass* asks for everything newer than ``since_id``; X answers newest first and ``next_token`` pages go
    older. Every page but the last stores ``pending`` (the pass's newest id and the token of the next page);
    only the last page of a pass moves ``since_id`` up to the pass's newest id. A run that dies mid-pass
    resumes with the stored token, so no post between ``since_id`` and the pass's newest is skipped. A
    stored token X refuses (400: invalid or expired) restarts the pass from ``since_id``: the pages fetched
    again are absorbed as duplicates by the store's upsert. A ``since_id`` X refuses (older than the 7 days of
    recent search) is dropped once, with a warning: the posts between are out of reach anyway.

    **Errors** (``collectors.retrying``): 401/403 end the run as failed after that one request; a 429 with
    ``x-rate-limit-reset`` sleeps until the reset (at most 15 minutes, else the run stops as partial), one
    without it backs off 2 s and 4 s, then the run stops as partial; a usage cap (429 ``UsageCapExceeded``)
    stops it as partial at once; a 5xx, a connection error or a timeout (10 s to connect, 30 s to read) is
    tried 3 times in all, then the run stops, partial when pages were already stored, else failed. Whatever
    was stored stays, and the next run resumes from the checkpoint.

    The bearer token stays inside the tweepy client: not in ``repr``, messages or logs (tweepy's DEBUG
    request log is redacted by a filter on its logger).
    """

    name: ClassVar[str] = "x"
    platform: ClassVar[str] = PLATFORM
    secrets: ClassVar[tuple[str, ...]] = ("X_BEARER_TOKEN",)
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("queries", "X search queries, one checkpoint each (the CLI fills in the brands)", None),
        Setting("max_results", "posts per request, 10 to 100", 100),
        Setting("max_pages", "requests per query and run; the next run goes on where this one stopped", 20),
    )

    def __init__(
        self,
        *,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        policy: RetryPolicy = X_POLICY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        (token,) = require(secrets, "X_BEARER_TOKEN")
        self._queries = _queries(settings.get("queries"))
        self.max_results = _int_setting(settings, "max_results", 100, 10, 100)
        self.max_pages = _int_setting(settings, "max_pages", 20, 1, 10_000)
        self.policy = policy
        self._classify = x_client.classify(clock)
        self._client = x_client.build_client(token)

    def __repr__(self) -> str:
        return f"XSource(queries={self._queries!r}, max_results={self.max_results})"

    def queries(self) -> list[str]:
        """The configured search queries."""
        return list(self._queries)

    def to_post(self, raw: Any, *, query: str | None = None) -> Post:
        """Map one raw payload (see the module docstring) to a ``Post``."""
        return to_post(raw, query=query)

    def fetch(self, query: str, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield the pages of ``query`` newer than the checkpoint's ``since_id``, resuming a pending pass."""
        import tweepy

        state = checkpoint or {}
        since_id = state.get("since_id")
        pending = state.get("pending") or {}
        newest, token = pending.get("newest_id"), pending.get("next_token")
        restarted = dropped_since = False
        pages = 0
        while True:
            try:
                body = self._search(query, since_id, token, progressed=pages > 0)
            except tweepy.HTTPException as error:  # the statuses the retry policy leaves to us (400, 404...)
                if x_client.status_of(error) != 400:
                    raise RunFailed(f"x {query!r}: {x_client.describe(error)}") from None
                message = x_client.describe(error)
                if token and not restarted:
                    log.warning(
                        "x %r: stored next_token refused (%s); restarting from since_id", query, message
                    )
                    newest, token, restarted = None, None, True
                    continue
                if since_id and "since_id" in json.dumps(x_client.problem(error)) and not dropped_since:
                    log.warning(
                        "x %r: since_id %s refused (%s); searching all 7 days", query, since_id, message
                    )
                    since_id, newest, token, dropped_since = None, None, None, True
                    continue
                raise RunFailed(f"x {query!r}: {message} (check the query syntax)") from None
            pages += 1
            meta = body.get("meta") or {}
            newest = newest or meta.get("newest_id")
            token = meta.get("next_token")
            if token:
                after = {"since_id": since_id, "pending": {"newest_id": newest, "next_token": token}}
            else:
                after = {"since_id": _newer(since_id, newest), "pending": None}
            yield Page(x_client.split_page(body), after)
            if not token:
                return
            if pages >= self.max_pages:
                log.info("x %r: stopped after %d pages; the next run goes on from here", query, pages)
                return

    def deleted(self, native_ids: list[str]) -> list[str]:
        """The ids X reports deleted or no longer public, by ``GET /2/tweets?ids=`` (100 ids per request).

        An id is gone when X answers for it with a ``resource-not-found`` problem (deleted, or its author's
        account is gone) or ``not-authorized-for-resource`` (the author went protected). Ids X returns, or
        reports with another problem, are kept. Each request counts against the app's read budget. Errors
        follow ``fetch``: 401/403 fail after one request, a usage cap stops as partial, 5xx and timeouts are
        retried 3 times in all; any other error status fails.
        """
        import tweepy

        ids = [value for value in dict.fromkeys(native_ids) if isinstance(value, str) and value.isdigit()]
        gone: list[str] = []
        for start in range(0, len(ids), LOOKUP_BATCH):
            chunk = ids[start : start + LOOKUP_BATCH]
            what = f"x lookup of {len(chunk)} stored posts"

            def call(chunk: list[str] = chunk, what: str = what) -> dict:
                try:
                    return self._client.get_tweets(chunk, user_auth=False)
                except Exception as error:
                    if x_client.is_usage_cap(error):
                        raise RunPartial(f"{what}: usage cap reached ({x_client.describe(error)})") from None
                    raise

            try:
                body = call_with_retries(call, self._classify, self.policy, what=what, progressed=start > 0)
            except tweepy.HTTPException as error:
                raise RunFailed(f"{what}: {x_client.describe(error)}") from None
            if not isinstance(body, dict):
                raise RunFailed(f"{what}: answer is not a JSON object")
            gone += x_client.gone_ids(body, chunk)
        return gone

    def _search(self, query: str, since_id: str | None, token: str | None, *, progressed: bool) -> dict:
        """One search request under the retry policy (a usage cap raises ``RunPartial`` at once)."""

        def call() -> dict:
            try:
                return self._client.search_recent_tweets(
                    query,
                    since_id=since_id,
                    next_token=token,
                    max_results=self.max_results,
                    expansions=x_client.EXPANSIONS,
                    tweet_fields=x_client.TWEET_FIELDS,
                    user_fields=x_client.USER_FIELDS,
                )
            except Exception as error:
                if x_client.is_usage_cap(error):
                    raise RunPartial(
                        f"x {query!r}: usage cap reached ({x_client.describe(error)}); "
                        "the next run resumes from here once the cap resets"
                    ) from None
                raise

        body = call_with_retries(
            call, self._classify, self.policy, what=f"x {query!r}", progressed=progressed
        )
        if not isinstance(body, dict):
            raise RunFailed(f"x {query!r}: answer is not a JSON object")
        return body


def _queries(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not value:
        raise NotConfigured('set [sources.x] queries = ["..."] (a non-empty list of X search queries)')
    bad = [item for item in value if not isinstance(item, str) or not item.strip()]
    if bad:
        raise NotConfigured(f"[sources.x] queries must be non-empty strings, got {bad!r}")
    return [item.strip() for item in value]


def _int_setting(settings: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = settings.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise NotConfigured(f"[sources.x] {key} must be an integer from {low} to {high}, got {value!r}")
    return value


def _newer(a: str | None, b: str | None) -> str | None:
    """The larger of two X ids (strings of digits compared as integers), either may be ``None``."""
    if not a or not b:
        return a or b
    return a if int(a) >= int(b) else b
