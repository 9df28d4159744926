"""The pieces around praw that make Reddit listings safe to run unattended and keep their raw JSON.

praw authenticates (application-only OAuth: client id, secret, user agent) and sends requests through
prawcore. We ask for listings with ``Reddit.request`` (public API), which returns the JSON Reddit sent, never
praw models, so each child ``{"kind": "t3"|"t1", "data": {...}}`` is stored untouched.

prawcore retries 5xx, timeouts and a 401 (after refreshing the token) by itself, sleeping with ``time.sleep``.
Our :class:`GuardedRequestor` (praw's ``requestor_class`` hook) raises :class:`HTTPStatusError` for any
status >= 400 and :class:`TransportError` for any network failure before prawcore can see them, so no
request is retried behind our back: :func:`collectors.retrying.call_with_retries` decides, with an
injectable sleep, and a 401/403 costs exactly one request. It also sends every request with our timeout
(prawcore passes its own default of 16 s for API calls, ignoring the requestor's).
"""

from __future__ import annotations

from typing import Any

import prawcore
import requests

from collectors.base import NotConfigured
from collectors.retrying import Failure

#: Seconds to wait for Reddit to connect or send data.
TIMEOUT = 20.0


class HTTPStatusError(Exception):
    """Reddit answered with an error status; ``status`` and the response's headers are kept."""

    def __init__(self, response: requests.Response) -> None:
        self.status = response.status_code
        self.headers = dict(response.headers)
        self.reason = _reason(response)
        super().__init__(f"HTTP {self.status} {self.reason}".strip())


class TransportError(Exception):
    """No answer from Reddit: a timeout, a refused or dropped connection."""

    def __init__(self, original: BaseException) -> None:
        self.original = original
        super().__init__(f"{type(original).__name__} (no answer within {TIMEOUT:.0f}s)")


class GuardedRequestor(prawcore.Requestor):
    """A prawcore requestor that leaves prawcore nothing to retry: error statuses and network errors raise."""

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> requests.Response:
        """Send with our timeout; raise :class:`HTTPStatusError` (>= 400) or :class:`TransportError`."""
        try:
            response = super().request(*args, timeout=self.timeout, **kwargs)
        except prawcore.RequestException as error:
            raise TransportError(error.original_exception) from None
        if response.status_code >= 400:
            raise HTTPStatusError(response)
        return response


def build_reddit(client_id: str, client_secret: str, user_agent: str, timeout: float = TIMEOUT):
    """A read-only praw ``Reddit`` (no update check, our requestor and timeout); no request is made yet."""
    import praw

    try:
        return praw.Reddit(
            client_id=client_id,
            client_secret=client_secret,
            user_agent=user_agent,
            check_for_updates=False,
            check_for_async=False,
            requestor_class=GuardedRequestor,
            requestor_kwargs={"timeout": timeout},
        )
    except prawcore.InvalidInvocation as error:
        raise NotConfigured(
            f"REDDIT_USER_AGENT is not usable ({error}): set a descriptive one ('tasteradar/0.1 by u/you')"
        ) from None


def classify(error: BaseException) -> Failure | None:
    """What a failed Reddit request means for ``call_with_retries`` (``None``: not ours to retry)."""
    if isinstance(error, HTTPStatusError):
        if error.status in (401, 403):
            hint = "check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET, or the subreddit is private or banned"
            return Failure("auth", f"{error} ({hint})")
        if error.status == 429:
            return Failure("rate", str(error), _wait(error.headers))
        if error.status >= 500:
            return Failure("transient", str(error))
        return None
    if isinstance(error, TransportError):
        return Failure("transient", str(error))
    return None


def _wait(headers: dict[str, str]) -> float | None:
    """Seconds Reddit asks us to wait: ``x-ratelimit-reset`` (seconds to the reset) or ``retry-after``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    for key in ("x-ratelimit-reset", "retry-after"):
        try:
            return max(0.0, float(lowered[key])) + 1.0
        except (KeyError, ValueError):
            continue
    return None


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or response.reason or "")
    return response.reason or ""


def listing_children(body: Any) -> tuple[list[Any], str | None]:
    """The children and the ``after`` cursor of a listing answer (``ValueError`` when it is not one)."""
    if not isinstance(body, dict) or body.get("kind") != "Listing" or not isinstance(body.get("data"), dict):
        raise ValueError(f"not a Reddit listing: {str(body)[:120]!r}")
    data = body["data"]
    children = data.get("children") or []
    if not isinstance(children, list):
        raise ValueError("Reddit listing children is not a list")
    after = data.get("after")
    return children, after if isinstance(after, str) and after else None
