"""Reddit source: subreddit listings and searches through praw (:class:`RedditSource`) and ``to_post``.

:class:`RedditSource` reads new submissions, new comments and searches (see its docstring for queries,
checkpoints and retries; ``collectors.reddit_client`` holds the pieces around praw). One raw payload is one
"thing" exactly as the Reddit JSON API gives it in a listing's ``children``::

    {"kind": "t3", "data": {id, name, author, author_fullname, subreddit, title, selftext, created_utc,
                            permalink, score, num_comments, ...}}
    {"kind": "t1", "data": {id, name, author, author_fullname, subreddit, body, created_utc, permalink,
                            score, link_id, parent_id, ...}}

A submission's text is its title, a blank line and its self text (when there is one); a comment's is its body.
Reddit gives no language, so ``lang`` is None. The author's native id is ``author_fullname`` without ``t2_``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from collectors import reddit_client
from collectors.base import NotConfigured, Page, RunFailed, RunPartial, Setting, require
from collectors.retrying import RetryPolicy, call_with_retries
from store import Post

log = logging.getLogger("tasteradar.collectors.reddit")

PLATFORM = "reddit"
BASE = "https://www.reddit.com"
_BASE36 = re.compile(r"[0-9a-z]+")
#: Placeholders Reddit puts where removed or deleted text was.
GONE = {"[removed]", "[deleted]"}


def to_post(raw: dict, *, query: str | None = None) -> Post:
    """Map one Reddit ``t3`` (submission) or ``t1`` (comment) payload to a ``Post``; ``raw`` is kept as is.

    ``native_id`` is Reddit's fullname (``t3_abc`` for a submission, ``t1_xyz`` for a comment): base36 ids are
    unique only within a kind, and file imports of Reddit exports use the same form, so a post seen by both
    paths is stored once. Raises ``ValueError`` naming the problem for anything else: another kind, no
    ``data``, an id that is not base36, no text, or a missing ``created_utc``.
    """
    kind, data = _thing(raw)
    base36 = data.get("id")
    if not isinstance(base36, str) or not _BASE36.fullmatch(base36):
        raise ValueError(f"Reddit {kind} id must be a base36 string, got {base36!r}")
    native_id = f"{kind}_{base36}"
    text = _submission_text(data) if kind == "t3" else _comment_text(data)
    if not text:
        raise ValueError(f"Reddit {kind} {native_id} has no text")
    author = data.get("author")
    fullname = data.get("author_fullname")
    own = f"{PLATFORM}:{native_id}"
    metrics = {key: data[key] for key in ("score", "num_comments", "upvote_ratio") if key in data}
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        text=text,
        created_at=_created_at(kind, native_id, data),
        author_id=fullname[3:] if isinstance(fullname, str) and fullname.startswith("t2_") else None,
        author_handle=author if isinstance(author, str) and author not in GONE else None,
        url=BASE + data["permalink"] if isinstance(data.get("permalink"), str) else None,
        lang=None,
        reply_to=_ref(data.get("parent_id")) if kind == "t1" else None,
        conversation_id=(_ref(data.get("link_id")) or own) if kind == "t1" else own,
        metrics=metrics,
        raw=raw,
        query=query,
    )


def _thing(raw: Any) -> tuple[str, dict]:
    if not isinstance(raw, dict):
        raise ValueError(f"Reddit payload must be a JSON object, got {type(raw).__name__}")
    kind = raw.get("kind")
    if kind not in ("t3", "t1"):
        raise ValueError(f"Reddit payload kind must be 't3' (submission) or 't1' (comment), got {kind!r}")
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ValueError(f"Reddit {kind} payload has no 'data' object")
    return kind, data


def _submission_text(data: dict) -> str:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        return ""
    body = data.get("selftext")
    if isinstance(body, str) and body.strip() and body.strip() not in GONE:
        return f"{title}\n\n{body}"
    return title


def _comment_text(data: dict) -> str:
    body = data.get("body")
    if not isinstance(body, str) or body.strip() in GONE:
        return ""
    return body


def _created_at(kind: str, native_id: str, data: dict) -> datetime:
    value = data.get("created_utc")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Reddit {kind} {native_id} has no numeric created_utc, got {value!r}")
    return datetime.fromtimestamp(value, tz=UTC)


def _ref(fullname: Any) -> str | None:
    """``t3_abc`` or ``t1_xyz`` to the store key ``reddit:t3_abc`` / ``reddit:t1_xyz``."""
    if isinstance(fullname, str) and fullname[:3] in ("t3_", "t1_") and _BASE36.fullmatch(fullname[3:]):
        return f"{PLATFORM}:{fullname}"
    return None


# ---- fetching ---------------------------------------------------------------------------------------------

#: Retries of Reddit: a 429 is waited out twice at most (its ``x-ratelimit-reset``, at most 10 minutes, the
#: length of Reddit's window, else 2 s and 4 s); a 5xx or a timeout is tried 3 times in all.
REDDIT_POLICY = RetryPolicy(attempts=3, rate_limit_retries=2, backoff=2.0, max_wait=10 * 60 + 5)
#: Items per listing request (Reddit's maximum).
PER_REQUEST = 100
SEARCH_PREFIX = "search:"
_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")


class RedditSource:
    """New submissions and comments of subreddits, and searches, from Reddit's API through praw.

    **Queries** (one checkpoint each): ``r/NAME`` (new submissions, ``/r/NAME/new``), ``r/NAME/comments``
    (new comments, ``/r/NAME/comments``) for every name in ``subreddits``, and ``search:TEXT`` for every
    entry of ``searches`` (submissions matching TEXT, newest first). ``search_in``: ``"all"`` (default)
    searches all of Reddit (``/r/all/search``), ``"subreddits"`` only the configured subreddits.

    **Checkpoint** ``{"created_utc": T, "ids_at_newest": [ids created at T]}``. A run reads the listing
    newest first until an item older than ``T`` (items at ``T`` already in ``ids_at_newest`` are skipped),
    at most ``limit`` items (Reddit's listings end at about 1,000 anyway), holds them in memory, then yields
    them oldest first in pages of 100, each page's checkpoint advanced to its newest item. A crash between
    pages resumes after the last stored page: no gap, no duplicate. Reddit has no cursor that survives new
    posts, so a run that hits ``limit`` before reaching ``T`` stores what it got and ends ``partial`` (the
    older new items may be missed: run more often or raise ``limit``). Items seen again (edits, or a lost
    checkpoint) are duplicates the store's upsert absorbs; no dedup is kept in memory.

    **Errors**: praw's own retries are switched off (``reddit_client.GuardedRequestor``); 401/403 end the
    query as failed after one request; a 429 waits for ``x-ratelimit-reset`` (at most 10 minutes) or backs
    off 2 s and 4 s, then ends partial; a 5xx or a timeout (20 s) is tried 3 times in all, then ends partial
    when pages were stored, else failed; an unknown subreddit (404 or a redirect) fails the query.
    """

    name: ClassVar[str] = "reddit"
    platform: ClassVar[str] = PLATFORM
    secrets: ClassVar[tuple[str, ...]] = ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT")
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("subreddits", "subreddit names whose new submissions and new comments are collected", []),
        Setting("searches", "search queries, newest submissions first", []),
        Setting("search_in", '"all" (all of Reddit) or "subreddits" (only the configured ones)', "all"),
        Setting("limit", "most items read per query and run, 1 to 1000", 1000),
    )

    def __init__(
        self,
        *,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        policy: RetryPolicy = REDDIT_POLICY,
    ) -> None:
        client_id, client_secret, user_agent = require(secrets, *self.secrets)
        self.subreddits = [_subreddit(name) for name in _strings(settings, "subreddits")]
        self.searches = _strings(settings, "searches")
        if not self.subreddits and not self.searches:
            raise NotConfigured('set [sources.reddit] subreddits = ["..."] or searches = ["..."]')
        self.search_in = settings.get("search_in") or "all"
        if self.search_in not in ("all", "subreddits") or (
            self.search_in == "subreddits" and not self.subreddits
        ):
            raise NotConfigured(
                f'[sources.reddit] search_in must be "all" or "subreddits" (with subreddits set), '
                f"got {self.search_in!r}"
            )
        limit = settings.get("limit", 1000)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise NotConfigured(f"[sources.reddit] limit must be an integer from 1 to 1000, got {limit!r}")
        self.limit = limit
        self.page_size = PER_REQUEST  # items per stored page (and checkpoint)
        self.policy = policy
        self._reddit = reddit_client.build_reddit(client_id, client_secret, user_agent)

    def __repr__(self) -> str:
        return f"RedditSource(subreddits={self.subreddits!r}, searches={self.searches!r}, limit={self.limit})"

    def queries(self) -> list[str]:
        """``r/NAME`` and ``r/NAME/comments`` per subreddit, then ``search:TEXT`` per search."""
        names = [query for name in self.subreddits for query in (f"r/{name}", f"r/{name}/comments")]
        return names + [SEARCH_PREFIX + text for text in self.searches]

    def to_post(self, raw: Any, *, query: str | None = None) -> Post:
        """Map one listing child (see the module docstring) to a ``Post``."""
        return to_post(raw, query=query)

    def fetch(self, query: str, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield the items of ``query`` newer than the checkpoint, oldest first, a checkpoint per page."""
        path, params = self._listing(query)
        since = (checkpoint or {}).get("created_utc")
        seen = set((checkpoint or {}).get("ids_at_newest") or [])
        items: list[Any] = []
        try:
            reached = self._collect(query, path, params, since, seen, items)
        except (RunPartial, RunFailed):
            if items:  # stored, but the checkpoint stays: the next run reads them again down to it
                yield Page(sorted(items, key=_order), None)
            raise
        items.sort(key=_order)
        newest, ids = since, sorted(seen)
        for start in range(0, len(items), self.page_size):
            chunk = items[start : start + self.page_size]
            for raw in chunk:
                when, native_id = _stamp(raw)
                if when is None:
                    continue
                if newest is None or when > newest:
                    newest, ids = when, [native_id]
                elif when == newest and native_id not in ids:
                    ids.append(native_id)
            after = {"created_utc": newest, "ids_at_newest": sorted(ids)} if newest is not None else None
            yield Page(chunk, after)
        if not reached and since is not None:
            raise RunPartial(
                f"reddit {query!r}: more than {self.limit} new items since the last run; older ones may be "
                "missed (run more often or raise limit)"
            )

    def deleted(self, native_ids: list[str]) -> list[str]:
        """The fullnames (``t3_...``/``t1_...``) Reddit reports deleted or removed, by ``GET /api/info``.

        Up to 100 fullnames per request. A thing is gone when ``/api/info`` leaves it out, when a comment's
        ``body`` or a submission's ``selftext`` is ``[deleted]`` or ``[removed]``, or when a submission has a
        ``removed_by_category`` (a link post keeps an empty ``selftext`` when deleted). An author shown as
        ``[deleted]`` alone is not enough: the post stays public when only the account is gone. Errors follow
        ``fetch``: 401/403 fail after one request, 429 and 5xx are retried a bounded number of times.
        """
        ids = [value for value in dict.fromkeys(native_ids) if _fullname(value)]
        gone: list[str] = []
        for start in range(0, len(ids), PER_REQUEST):
            chunk = ids[start : start + PER_REQUEST]
            what = f"reddit lookup of {len(chunk)} stored posts"
            params = {"id": ",".join(chunk), "raw_json": 1}
            body = self._get("", "/api/info", params, progressed=start > 0, what=what)
            try:
                children, _ = reddit_client.listing_children(body)
            except ValueError as error:
                raise RunFailed(f"{what}: {error}") from None
            things = {
                child["data"].get("name"): child
                for child in children
                if isinstance(child, dict) and isinstance(child.get("data"), dict)
            }
            gone += [fullname for fullname in chunk if _is_gone(things.get(fullname))]
        return gone

    def _listing(self, query: str) -> tuple[str, dict[str, Any]]:
        """The API path and parameters of ``query``."""
        if query.startswith(SEARCH_PREFIX) and query[len(SEARCH_PREFIX) :].strip():
            where = "+".join(self.subreddits) if self.search_in == "subreddits" else "all"
            params: dict[str, Any] = {"q": query[len(SEARCH_PREFIX) :].strip(), "sort": "new", "type": "link"}
            if where != "all":
                params["restrict_sr"] = "on"
            return f"/r/{where}/search/", params
        parts = query.split("/")
        if len(parts) == 2 and parts[0] == "r" and _SUBREDDIT.fullmatch(parts[1]):
            return f"/r/{parts[1]}/new", {}
        if len(parts) == 3 and parts[0] == "r" and _SUBREDDIT.fullmatch(parts[1]) and parts[2] == "comments":
            return f"/r/{parts[1]}/comments", {}
        raise RunFailed(f"reddit: unknown query {query!r} (expected r/NAME, r/NAME/comments or search:TEXT)")

    def _collect(
        self,
        query: str,
        path: str,
        params: dict[str, Any],
        since: float | None,
        seen: set[str],
        items: list[Any],
    ) -> bool:
        """Read the listing newest first into ``items`` down to the checkpoint; True when it got there."""
        after = None
        for _ in range(self.limit // PER_REQUEST + 2):
            request = {**params, "limit": min(PER_REQUEST, self.limit - len(items))}
            if after:
                request["after"] = after
            body = self._get(query, path, request, progressed=bool(items))
            try:
                children, after = reddit_client.listing_children(body)
            except ValueError as error:
                raise RunFailed(f"reddit {query!r}: {error}") from None
            for child in children:
                when, native_id = _stamp(child)
                if since is not None and when is not None:
                    if when < since:
                        return True
                    if when == since and native_id in seen:
                        continue
                items.append(child)
                if len(items) >= self.limit:
                    return since is None
            if after is None:
                return True
        return since is None

    def _get(
        self, query: str, path: str, params: dict[str, Any], *, progressed: bool, what: str | None = None
    ) -> Any:
        """One GET under the retry policy; an unknown subreddit or another client error fails the query.

        ``what`` names the call in messages (default ``reddit 'QUERY'``).
        """

        def call() -> Any:
            return self._reddit.request(method="GET", path=path, params=params)

        label = what or f"reddit {query!r}"
        try:
            return call_with_retries(
                call, reddit_client.classify, self.policy, what=label, progressed=progressed
            )
        except reddit_client.HTTPStatusError as error:
            hint = "" if what else " (does the subreddit exist?)"
            raise RunFailed(f"{label}: {error}{hint}") from None
        except Exception as error:
            import prawcore

            if isinstance(error, prawcore.Redirect):
                raise RunFailed(
                    f"reddit {query!r}: no such subreddit (Reddit redirected to a search)"
                ) from None
            raise


def _strings(settings: Mapping[str, Any], key: str) -> list[str]:
    value = settings.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or any(
        not isinstance(item, str) or not item.strip() for item in value
    ):
        raise NotConfigured(f"[sources.reddit] {key} must be a list of non-empty strings, got {value!r}")
    return [item.strip() for item in value]


def _subreddit(name: str) -> str:
    bare = name.removeprefix("/").removeprefix("r/")
    if not _SUBREDDIT.fullmatch(bare):
        raise NotConfigured(
            f'[sources.reddit] subreddits: {name!r} is not a subreddit name (e.g. "NimbusMobile")'
        )
    return bare


def _fullname(value: Any) -> bool:
    """True for a submission or comment fullname, ``t3_abc`` or ``t1_xyz``."""
    return isinstance(value, str) and value[:3] in ("t3_", "t1_") and bool(_BASE36.fullmatch(value[3:]))


def _is_gone(thing: Any) -> bool:
    """Whether an ``/api/info`` child (``None``: left out) is a deleted or removed submission or comment."""
    if thing is None:
        return True
    data = thing.get("data") or {}
    if thing.get("kind") == "t1":
        return str(data.get("body") or "").strip() in GONE
    if str(data.get("selftext") or "").strip() in GONE:
        return True
    return bool(data.get("removed_by_category"))


def _stamp(raw: Any) -> tuple[float | None, str | None]:
    """``(created_utc, id)`` of a listing child, ``(None, None)`` when it lacks them (left for quarantine)."""
    data = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(data, dict):
        return None, None
    when, native_id = data.get("created_utc"), data.get("id")
    if isinstance(when, bool) or not isinstance(when, int | float) or not isinstance(native_id, str):
        return None, None
    return float(when), native_id


def _order(raw: Any) -> tuple[float, int, str]:
    """Oldest first; a malformed child first of all (it goes to quarantine and moves no checkpoint)."""
    when, native_id = _stamp(raw)
    if when is None or native_id is None:
        return (float("-inf"), 0, "")
    number = int(native_id, 36) if _BASE36.fullmatch(native_id) else 0
    return (when, number, native_id)
