"""Bluesky's public Jetstream feed: every new post on the network as JSON over a websocket, no account needed.

The reader subscribes to ``app.bsky.feed.post`` commits from a ``time_us`` cursor, keeps the events whose text
matches a configured term (case-insensitive, whole words), and yields them in pages whose checkpoint is the
``time_us`` of the last event read. Every event up to that cursor was either kept in the page or filtered out,
so a rerun that resumes from the stored cursor neither skips nor (beyond the one boundary event, which the
store deduplicates) repeats anything. A run is bounded: it stops after ``max_seconds`` or ``max_events``.

The websocket sits behind a two-method interface (:class:`Connection`), so tests drive the reader with a fake
and never touch the network. Production uses ``websockets.sync.client`` (the ``websockets`` package, which
``atproto`` already depends on).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from collectors.base import Page, RunFailed, RunPartial
from collectors.retrying import Failure, RetryPolicy, call_with_retries

log = logging.getLogger("tasteradar.collectors")

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST_COLLECTION = "app.bsky.feed.post"


class Connection(Protocol):
    """An open websocket: ``recv`` returns one message or raises ``TimeoutError`` when none came in time."""

    def recv(self, timeout: float | None = None) -> str | bytes:
        """Return the next message, waiting at most ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


Connect = Callable[[str], Connection]


def websocket_connect(url: str) -> Connection:
    """Open ``url`` with ``websockets``' synchronous client (10 s to connect, 4 MiB messages at most)."""
    from websockets.sync.client import connect

    return connect(url, open_timeout=10, close_timeout=5, max_size=4 * 2**20)


def subscribe_url(base: str, cursor: int | None) -> str:
    """The subscription URL for post commits, resuming at ``cursor`` (microseconds) when given."""
    params: list[tuple[str, Any]] = [("wantedCollections", POST_COLLECTION)]
    if cursor is not None:
        params.append(("cursor", cursor))
    return f"{base}?{urlencode(params)}"


def term_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of ``terms`` as whole words (``AT&T``, ``nimbus mobile``)."""
    parts = []
    for term in sorted({t.strip() for t in terms if t.strip()}, key=len, reverse=True):
        parts.append(r"\s+".join(re.escape(word) for word in term.split()))
    if not parts:
        raise ValueError("no terms to match")
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def matched_term(pattern: re.Pattern[str], terms: Iterable[str], text: str) -> str | None:
    """The configured term (as configured) that ``pattern`` finds first in ``text``, or None."""
    found = pattern.search(text or "")
    if found is None:
        return None
    hit = " ".join(found.group(0).split()).casefold()
    return next((term for term in terms if " ".join(term.split()).casefold() == hit), found.group(0))


def post_record(event: Any) -> dict | None:
    """The post record of a Jetstream commit event that creates or updates a post, else None."""
    if not isinstance(event, dict) or event.get("kind") != "commit":
        return None
    commit = event.get("commit")
    if not isinstance(commit, dict) or commit.get("collection") != POST_COLLECTION:
        return None
    if commit.get("operation") not in ("create", "update"):
        return None
    record = commit.get("record")
    return record if isinstance(record, dict) else None


def _classify(error: BaseException) -> Failure | None:
    """Connection problems are transient; anything else is a bug and propagates."""
    try:
        from websockets.exceptions import WebSocketException
    except ImportError:  # pragma: no cover - websockets ships with atproto
        WebSocketException = OSError  # noqa: N806
    if isinstance(error, OSError | EOFError | WebSocketException | ConnectionError):
        return Failure("transient", f"Jetstream connection: {type(error).__name__}: {error}")
    return None


@dataclass
class JetstreamReader:
    """Reads the Jetstream feed for posts matching ``terms``, one bounded run per ``fetch``."""

    terms: tuple[str, ...]
    url: str = DEFAULT_URL
    connect: Connect = websocket_connect
    max_seconds: float = 60.0
    max_events: int = 200_000
    batch_events: int = 2_000
    lookback_seconds: float = 0.0
    idle_timeout: float = 1.0
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        self.pattern = term_pattern(self.terms)

    def match(self, text: str) -> str | None:
        """The configured term found in ``text`` (whole word, any case), or None."""
        return matched_term(self.pattern, self.terms, text)

    def fetch(self, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield pages of matching post events from the stored ``time_us`` cursor until the run's bound."""
        cursor = (checkpoint or {}).get("time_us")
        if not isinstance(cursor, int) and self.lookback_seconds > 0:
            cursor = int((self.wall_clock() - self.lookback_seconds) * 1_000_000)
        elif not isinstance(cursor, int):
            cursor = None  # first run: start at the live edge
        deadline = self.clock() + self.max_seconds
        read = stored = drops = 0
        items: list[Any] = []
        unsaved = 0
        connection: Connection | None = None
        try:
            while read < self.max_events and self.clock() < deadline:
                if connection is None:
                    url = subscribe_url(self.url, cursor)
                    connection = call_with_retries(
                        lambda url=url: self.connect(url), _classify, self.retry,
                        what="bluesky jetstream", progressed=stored > 0,
                    )  # fmt: skip
                try:
                    message = connection.recv(
                        timeout=max(0.0, min(self.idle_timeout, deadline - self.clock()))
                    )
                except TimeoutError:
                    continue
                except Exception as error:  # noqa: BLE001 - reconnect from the cursor, bounded
                    if _classify(error) is None:
                        raise
                    drops += 1
                    _close(connection)
                    connection = None
                    if drops >= self.retry.attempts:
                        stop = RunPartial if stored or unsaved else RunFailed
                        if unsaved and cursor is not None:
                            yield Page(items, {"time_us": cursor})  # keep what was read before giving up
                        raise stop(f"bluesky jetstream: connection lost {drops} times ({error})") from error
                    log.info("bluesky jetstream: connection lost (%s); reconnecting from %s", error, cursor)
                    self.retry.sleep(min(self.retry.backoff * 2 ** (drops - 1), self.retry.max_wait))
                    continue
                read += 1
                unsaved += 1
                event = _decode(message)
                if event is None:
                    items.append(message)  # malformed: the job quarantines it with the reason
                else:
                    time_us = event.get("time_us")
                    if isinstance(time_us, int) and not isinstance(time_us, bool):
                        cursor = time_us
                    record = post_record(event)
                    if record is not None and self.match(str(record.get("text") or "")):
                        items.append(event)
                if unsaved >= self.batch_events and cursor is not None:
                    yield Page(items, {"time_us": cursor})
                    stored += len(items)
                    items, unsaved = [], 0
            if unsaved and cursor is not None:
                yield Page(items, {"time_us": cursor})
            elif items:
                yield Page(items)
        finally:
            if connection is not None:
                _close(connection)


def _decode(message: str | bytes) -> dict | None:
    """The event of a message, or None when it is not a JSON object."""
    try:
        event = json.loads(message)
    except (ValueError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) else None


def _close(connection: Connection) -> None:
    """Close ``connection``, ignoring errors of an already broken one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead socket must not hide the real outcome
        log.debug("bluesky jetstream: error while closing", exc_info=True)
