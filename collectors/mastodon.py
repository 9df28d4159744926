"""Mastodon source: public hashtag timelines of the configured servers, through ``Mastodon.py``, no login.

One query per server and hashtag, written ``instance#hashtag`` (``mastodon.social#nimbusmobile``). A run pages
``GET /api/v1/timelines/tag/:hashtag?min_id=...`` forward from the checkpoint ``{"min_id": "<status id>"}``:
each page holds the statuses just newer than ``min_id`` and its checkpoint is the newest id on it, so every
page commits with the cursor that follows it. Ids stay strings; they are compared by (length, text), which
orders Mastodon's numeric ids and the fixed-length ids of other servers alike. The first run (no checkpoint)
takes the newest page only and goes forward from there.

**Ids**: status ids are per server (the same post has a different id on every server that has seen it), so
``native_id`` is the status ``uri``: the ActivityPub id, the same everywhere. Posts from two servers never
collide, and one post seen through two servers is stored once. For the same reason ``reply_to`` is left empty:
``in_reply_to_id`` is a server-local id of a post whose ``uri`` the status does not carry (it stays in
``raw``). ``author_handle`` is the full ``user@server``; ``author_id`` the account's ``uri`` (or ``url``).

**Boosts**: a boost (``reblog``) maps to the boosted status (its id, author, text); ``raw`` keeps the whole
payload. Hashtag timelines hardly ever carry boosts anyway.

**Text**: ``content`` is HTML; it becomes plain text with the standard library's parser (tags dropped, link
text kept, entities unescaped, ``<script>``/``<style>`` contents dropped). Nothing is ever rendered.

``raw`` is the status JSON exactly as the server sent it (captured from the HTTP response, not Mastodon.py's
typed objects, which add fields and convert times). ``MASTODON_ACCESS_TOKEN`` is sent only to
``token_instance`` (default: the first server): a token is valid on its own server only and must not leak to
others.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlsplit

from collectors.base import NotConfigured, Page, RunPartial, Setting
from collectors.retrying import Failure, RetryPolicy, call_with_retries
from store import Post, from_iso

PLATFORM = "mastodon"
TAG_PATH = "/api/v1/timelines/tag/"
USER_AGENT = "tasteradar (social listening; +https://github.com/tasteradar)"


class MastodonSource:
    """Statuses from public hashtag timelines of the listed Mastodon servers.

    Settings: ``instances`` (servers), ``hashtags``, ``token_instance`` (the one server that receives
    ``MASTODON_ACCESS_TOKEN``, optional), ``page_size`` (at most 40), ``max_pages`` (per query and run) and
    ``timeout`` (HTTP, seconds).
    """

    name: ClassVar[str] = "mastodon"
    platform: ClassVar[str] = PLATFORM
    secrets: ClassVar[tuple[str, ...]] = ("MASTODON_ACCESS_TOKEN",)
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting(
            "instances",
            'Servers to read, e.g. "mastodon.social" ("https://" optional).',
            ("mastodon.social",),
        ),
        Setting("hashtags", 'Hashtags to follow ("#" optional).', ()),
        Setting("token_instance", "The server MASTODON_ACCESS_TOKEN belongs to (default: the first).", None),
        Setting("page_size", "Statuses per request (1-40).", 40),
        Setting("max_pages", "Pages per query and run; the next run goes on from the checkpoint.", 25),
        Setting("timeout", "HTTP timeout in seconds.", 30.0),
    )

    def __init__(
        self,
        *,
        settings: Mapping[str, Any],
        secrets: Mapping[str, str],
        session: Any = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Build from settings and secrets; ``session`` (``requests.Session``) and ``retry`` are for tests."""
        self.instances = _unique(normalize_instance(i) for i in settings.get("instances") or ())
        self.hashtags = _unique(normalize_hashtag(t) for t in settings.get("hashtags") or ())
        if not self.instances:
            raise NotConfigured("set sources.mastodon.instances (servers to read, e.g. mastodon.social)")
        if not self.hashtags:
            raise NotConfigured("set sources.mastodon.hashtags (or give a brand hashtags) to follow")
        self._token = secrets.get("MASTODON_ACCESS_TOKEN") or None
        owner = settings.get("token_instance")
        self.token_instance = normalize_instance(owner) if owner else self.instances[0]
        self._page_size = max(1, min(40, int(settings.get("page_size") or 40)))
        self._max_pages = max(1, int(settings.get("max_pages") or 25))
        self._timeout = float(settings.get("timeout") or 30.0)
        self._retry = retry or RetryPolicy()
        self._session = session
        self._clients: dict[str, Any] = {}
        self._body: Any = None

    def queries(self) -> list[str]:
        """``instance#hashtag`` for every server and hashtag."""
        return [f"{instance}#{tag}" for instance in self.instances for tag in self.hashtags]

    def fetch(self, query: str, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield pages of status JSON newer than the checkpoint's ``min_id``, oldest page first."""
        instance, _, tag = query.partition("#")
        if not instance or not tag:
            raise ValueError(f"a Mastodon query is instance#hashtag, got {query!r}")
        client = self._client(instance)
        min_id = (checkpoint or {}).get("min_id")
        min_id = min_id if isinstance(min_id, str) and min_id else None
        for page_number in range(self._max_pages):
            statuses = call_with_retries(
                lambda min_id=min_id: self._page(client, tag, min_id),
                lambda error: _classify(error, client, instance), self._retry,
                what=f"mastodon {query}", progressed=page_number > 0,
            )  # fmt: skip
            ids = [status["id"] for status in statuses if isinstance(status.get("id"), str) and status["id"]]
            if not statuses or not ids:
                if statuses:
                    yield Page(statuses)  # nothing to move the cursor to; the job quarantines them
                return
            newest = max(ids, key=id_key)
            if min_id is not None and id_key(newest) <= id_key(min_id):
                yield Page(statuses)
                return  # a server that ignores min_id: stop instead of looping
            yield Page(statuses, {"min_id": newest})
            if min_id is None:
                return  # first run: the newest page only, then forward from it
            min_id = newest
        raise RunPartial(f"mastodon {query}: stopped after {self._max_pages} pages; the next run goes on")

    def to_post(self, raw: Any, *, query: str | None = None) -> Post:
        """Map one status JSON to a ``Post`` (see :func:`to_post`)."""
        return to_post(raw, query=query)

    # ---- HTTP --------------------------------------------------------------------------------------------

    def _client(self, instance: str) -> Any:
        """The ``Mastodon`` client of ``instance`` (built without any request; throws on 429, never waits)."""
        if instance not in self._clients:
            from mastodon import Mastodon

            if self._session is None:
                import requests

                self._session = requests.Session()
            if self._capture not in self._session.hooks["response"]:
                self._session.hooks["response"].append(self._capture)
            self._clients[instance] = Mastodon(
                api_base_url=f"https://{instance}",
                access_token=self._token if instance == self.token_instance else None,
                request_timeout=self._timeout,
                ratelimit_method="throw",
                version_check_mode="none",
                session=self._session,
                user_agent=USER_AGENT,
            )
        return self._clients[instance]

    def _capture(self, response: Any, *args: Any, **kwargs: Any) -> None:
        """Response hook: keep the untouched JSON body of a successful hashtag timeline request."""
        if response.ok and TAG_PATH in urlsplit(response.url).path:
            try:
                self._body = json.loads(response.content)
            except ValueError:
                self._body = None  # Mastodon.py reports the unreadable body itself

    def _page(self, client: Any, tag: str, min_id: str | None) -> list[dict]:
        """One hashtag timeline request; the statuses as the server sent them."""
        self._body = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Mastodon.py's "timeline may be unavailable" guesses
            client.timeline_hashtag(tag, min_id=min_id, limit=self._page_size)
        body = self._body
        if not isinstance(body, list):
            raise ValueError(f"hashtag timeline returned {type(body).__name__}, expected a JSON list")
        return [status for status in body if isinstance(status, dict)]


def _classify(error: BaseException, client: Any, instance: str) -> Failure | None:
    """Sort Mastodon.py errors into auth (401/403), rate (429), transient (5xx, timeout, network)."""
    from mastodon import errors

    status = error.args[1] if len(error.args) > 1 and isinstance(error.args[1], int) else None
    if isinstance(error, errors.MastodonUnauthorizedError) or status in (401, 403):
        return Failure(
            "auth",
            f"HTTP {status or 401}: {instance} refuses this hashtag timeline without a login, or rejected "
            f"MASTODON_ACCESS_TOKEN (set sources.mastodon.token_instance to the server it belongs to)",
        )
    if isinstance(error, errors.MastodonRatelimitError):
        reset = getattr(client, "ratelimit_reset", None)
        return Failure("rate", "HTTP 429", max(0.0, reset - time.time()) if reset else None)
    if isinstance(error, errors.MastodonServerError):
        return Failure("transient", f"HTTP {status or '5xx'}")
    if isinstance(error, errors.MastodonNetworkError):
        return Failure("transient", "timed out or could not connect")
    return None


# ---- mapping ---------------------------------------------------------------------------------------------


def to_post(raw: Any, *, query: str | None = None) -> Post:
    """Map one Mastodon status JSON (a boost maps to the boosted status) to a ``Post``; ``raw`` is kept.

    Raises ``ValueError`` naming the problem: not a status, no ``uri``, no text, unreadable ``created_at``.
    """
    if not isinstance(raw, dict):
        raise ValueError(f"a Mastodon status is a JSON object, got {type(raw).__name__}")
    status = raw["reblog"] if isinstance(raw.get("reblog"), dict) else raw
    uri = status.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError("status has no uri")
    content = status.get("content")
    if not isinstance(content, str):
        raise ValueError(f"status content must be HTML text, got {type(content).__name__}")
    text = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    if not text:
        raise ValueError("status has no text")
    try:
        created_at = from_iso(status.get("created_at"))
    except (TypeError, ValueError, AttributeError):
        created_at = None
    if created_at is None:
        raise ValueError(f"status created_at is missing or unreadable: {status.get('created_at')!r}")
    account = status.get("account") if isinstance(status.get("account"), dict) else {}
    metrics = {
        name: status[key]
        for name, key in (("likes", "favourites_count"), ("reposts", "reblogs_count"),
                          ("replies", "replies_count"), ("quotes", "quotes_count"))
        if isinstance(status.get(key), int)
    }  # fmt: skip
    lang = status.get("language")
    return Post(
        platform=PLATFORM,
        native_id=uri.strip(),
        text=text,
        created_at=created_at,
        author_id=_text(account.get("uri")) or _text(account.get("url")),
        author_handle=full_handle(account),
        url=_text(status.get("url")) or uri.strip(),
        lang=lang if isinstance(lang, str) and lang else None,
        reply_to=None,
        conversation_id=None,
        metrics=metrics,
        raw=raw,
        query=query,
    )


def full_handle(account: Mapping[str, Any]) -> str | None:
    """``user@server`` for an account (``acct`` is bare for the fetching server's own users)."""
    acct = _text(account.get("acct"))
    if not acct:
        return None
    if "@" in acct:
        return acct
    host = urlsplit(_text(account.get("url")) or "").hostname
    return f"{acct}@{host}" if host else acct


class _TextParser(HTMLParser):
    """Collects the text of an HTML fragment; ``<br>`` and block ends become line breaks."""

    SKIP = frozenset({"script", "style", "template", "noscript"})
    BLOCKS = frozenset(
        {"p", "div", "blockquote", "li", "ul", "ol", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a Mastodon HTML fragment: tags dropped, link text kept, entities unescaped, never run."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\r\n", "\n").replace("\xa0", " ")
    text = "\n".join(line.strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def normalize_instance(value: Any) -> str:
    """``mastodon.social`` from ``https://Mastodon.social/`` and the like."""
    text = str(value).strip()
    host = urlsplit(text if "//" in text else f"https://{text}").netloc
    return host.lower()


def normalize_hashtag(value: Any) -> str:
    """A hashtag without ``#`` and in lower case (Mastodon matches hashtags in any case)."""
    return str(value).strip().lstrip("#").strip().lower()


def id_key(value: str) -> tuple[int, str]:
    """Sort key of a status id string: by length, then text (numeric and fixed-length ids alike)."""
    return (len(value), value)


def _unique(values: Any) -> tuple[str, ...]:
    """Non-empty values in first-seen order, without repeats."""
    return tuple(dict.fromkeys(value for value in values if value))


def _text(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value.strip() else None
