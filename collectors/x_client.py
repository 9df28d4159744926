"""The pieces around tweepy that make X search safe to run unattended.

tweepy's ``Client`` alone sets no HTTP timeout, retries a 429 without a reset header at once and without end
when ``wait_on_rate_limit`` is on, and logs the ``Authorization: Bearer ...`` header at DEBUG. This module:

- builds a client with ``return_type=dict`` (the page is the JSON X sent, never tweepy objects), no
  ``wait_on_rate_limit``, and a session whose every request has a (connect, read) timeout;
- installs a logging filter on tweepy's logger that removes bearer tokens from every record, so a root logger
  at DEBUG shows ``Bearer ***`` (tasteradar never sets DEBUG on tweepy, urllib3 or requests anyway);
- classifies tweepy and requests errors for :func:`collectors.retrying.call_with_retries` and recognises a
  usage cap (a 429 whose problem type is ``usage-capped``), which no wait will lift;
- splits one search page into one raw payload per post, in the shape ``collectors.x.to_post`` maps.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from collectors.retrying import Failure

#: (connect, read) timeout of every request to X, in seconds.
TIMEOUT = (10.0, 30.0)
TWEET_FIELDS = [
    "created_at",
    "author_id",
    "conversation_id",
    "lang",
    "public_metrics",
    "referenced_tweets",
    "note_tweet",
    "edit_history_tweet_ids",
    "in_reply_to_user_id",
]
USER_FIELDS = ["username", "name", "public_metrics"]
EXPANSIONS = ["author_id", "referenced_tweets.id"]
#: Loggers that tweepy writes request headers to.
TWEEPY_LOGGERS = ("tweepy", "tweepy.client", "tweepy.asynchronous.client")

_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",}]+")


class TimeoutSession(requests.Session):
    """A ``requests.Session`` that gives every request a timeout unless the caller passed one."""

    def __init__(self, timeout: float | tuple[float, float] = TIMEOUT) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):  # noqa: D401 - same contract as requests
        """Send the request with ``timeout`` set (tweepy passes none)."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


class RedactTokens(logging.Filter):
    """Rewrite log records so no bearer token (the pattern or a registered value) survives in them."""

    def __init__(self) -> None:
        super().__init__("tasteradar.redact")
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def add(self, token: str) -> None:
        """Redact ``token`` wherever it appears, not only after ``Bearer``."""
        with self._lock:
            self._tokens.add(token)

    def redact(self, text: str) -> str:
        """Return ``text`` with bearer tokens and registered tokens replaced by ``***``."""
        text = _BEARER.sub(r"\1***", text)
        for token in list(self._tokens):
            text = text.replace(token, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message by its redacted form; never drops a record."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a badly formatted record is tweepy's bug, not a reason to leak
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        return True


REDACT = RedactTokens()
_installed = False


def install_redaction(token: str) -> None:
    """Attach :data:`REDACT` to tweepy's loggers (once) and register ``token`` with it."""
    global _installed
    REDACT.add(token)
    if not _installed:
        for name in TWEEPY_LOGGERS:
            logging.getLogger(name).addFilter(REDACT)
        _installed = True


def build_client(token: str, timeout: float | tuple[float, float] = TIMEOUT):
    """A tweepy ``Client`` that answers raw JSON dicts, times out, and never waits on rate limits itself."""
    import tweepy

    install_redaction(token)
    client = tweepy.Client(bearer_token=token, return_type=dict, wait_on_rate_limit=False)
    client.session.close()
    client.session = TimeoutSession(timeout)
    return client


def problem(error: BaseException) -> dict:
    """The JSON body of a tweepy HTTP error (``{}`` when there is none or it is not JSON)."""
    response = getattr(error, "response", None)
    if response is None:
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def status_of(error: BaseException) -> int | None:
    """The HTTP status of a tweepy HTTP error, else ``None``."""
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def is_usage_cap(error: BaseException) -> bool:
    """True for a 429 that says the app's usage cap (monthly post cap) is spent: waiting will not help."""
    if status_of(error) != 429:
        return False
    body = problem(error)
    text = " ".join(str(body.get(key, "")) for key in ("title", "type", "detail")).lower()
    return "usagecap" in text.replace(" ", "") or "usage-capped" in text or "usage cap" in text


def describe(error: BaseException) -> str:
    """A short message for an X error: status and the problem's title/detail, never request headers."""
    status = status_of(error)
    body = problem(error)
    detail = body.get("detail") or body.get("title") or ""
    if not detail and body.get("errors"):
        first = body["errors"][0]
        detail = first.get("message", "") if isinstance(first, dict) else str(first)
    if status is None:
        return f"{type(error).__name__}: {REDACT.redact(str(error))}"
    return REDACT.redact(f"HTTP {status} {detail}".strip())


def classify(clock: Callable[[], float] = time.time) -> Callable[[BaseException], Failure | None]:
    """A classifier of tweepy/requests errors for ``call_with_retries`` (``clock`` reads the reset header)."""
    import tweepy

    def classify_error(error: BaseException) -> Failure | None:
        if isinstance(error, tweepy.Unauthorized | tweepy.Forbidden):
            return Failure("auth", describe(error) + " (check X_BEARER_TOKEN and the app's access level)")
        if isinstance(error, tweepy.TooManyRequests):
            reset = getattr(error, "reset_time", None)
            wait = None if reset is None else max(0.0, reset - clock()) + 1.0
            return Failure("rate", describe(error), wait)
        if isinstance(error, tweepy.TwitterServerError):
            return Failure("transient", describe(error))
        if isinstance(error, requests.Timeout | requests.ConnectionError):
            return Failure("transient", f"{type(error).__name__} (no answer within {TIMEOUT[1]:.0f}s)")
        return None

    return classify_error


def split_page(body: dict) -> list[dict]:
    """One raw payload per post of a search page: ``{"data": tweet, "includes": {"users": [author], ...}}``.

    The author is the ``includes.users`` entry whose id is the tweet's ``author_id``; tweets the post
    references (``includes.tweets``) go along under ``includes.tweets``. Values are the JSON as X sent it.
    """
    includes_in = body.get("includes") if isinstance(body.get("includes"), dict) else {}
    users = {user.get("id"): user for user in includes_in.get("users") or [] if isinstance(user, dict)}
    tweets = {tweet.get("id"): tweet for tweet in includes_in.get("tweets") or [] if isinstance(tweet, dict)}
    items = []
    for tweet in body.get("data") or []:
        if not isinstance(tweet, dict):  # left for to_post to refuse, so it lands in quarantine
            items.append({"data": tweet, "includes": {"users": []}})
            continue
        author = users.get(tweet.get("author_id"))
        includes: dict[str, Any] = {"users": [author] if author is not None else []}
        refs = [ref.get("id") for ref in tweet.get("referenced_tweets") or [] if isinstance(ref, dict)]
        referenced = [tweets[ref] for ref in refs if ref in tweets]
        if referenced:
            includes["tweets"] = referenced
        items.append({"data": tweet, "includes": includes})
    return items


#: Problem types of a post lookup that mean the post is gone for us: deleted (not found), or no longer public
#: (its author went protected). X's developer terms ask for both to be removed.
GONE_PROBLEMS = ("/resource-not-found", "/not-authorized-for-resource")


def gone_ids(body: dict, asked: list[str]) -> list[str]:
    """The ids of ``asked`` that a ``GET /2/tweets?ids=`` answer reports gone (see :data:`GONE_PROBLEMS`).

    An id X returned in ``data``, or one it reported with any other problem (or not at all), is not gone.
    """
    present = {tweet.get("id") for tweet in body.get("data") or [] if isinstance(tweet, dict)}
    wanted = set(asked) - present
    gone: set[str] = set()
    for error in body.get("errors") or []:
        if not isinstance(error, dict) or not str(error.get("type", "")).endswith(GONE_PROBLEMS):
            continue
        resource = error.get("resource_id") or error.get("value")
        if isinstance(resource, str) and resource in wanted:
            gone.add(resource)
    return [native_id for native_id in asked if native_id in gone]
