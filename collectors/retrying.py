"""Bounded retries for the calls a source makes: nothing here waits forever or retries without end.

A source classifies each exception of its client library into a :class:`Failure`:

- ``auth`` (401/403): never retried; the run fails after that one request (``RunFailed``).
- ``rate`` (429): waited out at most ``rate_limit_retries`` times, for the server's reset time when it
  gave one (a reset further away than ``max_wait`` ends the run at once), else with exponential backoff; then
  the run stops as ``RunPartial`` (what was fetched is kept; the next run resumes from the checkpoint).
- ``transient`` (5xx, timeout, network error): retried with exponential backoff up to ``attempts`` tries in
  all; then ``RunPartial`` when the run already stored something, else ``RunFailed``.

Anything the classifier does not recognise (``None``) propagates unchanged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, TypeVar

from collectors.base import RunFailed, RunPartial

log = logging.getLogger("tasteradar.collectors")
T = TypeVar("T")


class Failure(NamedTuple):
    """What a failed call means: ``kind`` is ``auth``, ``rate`` or ``transient``; ``wait`` in seconds."""

    kind: str
    message: str
    wait: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often a source retries; ``sleep`` is injectable so tests never wait."""

    attempts: int = 3
    rate_limit_retries: int = 2
    backoff: float = 2.0
    max_wait: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def call_with_retries(
    fn: Callable[[], T],
    classify: Callable[[BaseException], Failure | None],
    policy: RetryPolicy,
    *,
    what: str,
    progressed: bool = False,
) -> T:
    """Call ``fn`` until it succeeds or the policy gives up (raising ``RunPartial`` or ``RunFailed``).

    ``what`` names the call in messages (``mastodon.social #nimbus``); ``progressed`` says whether this run
    already stored pages, which turns exhausted transient retries into a partial rather than a failed run.
    """
    transient = rate = 0
    while True:
        try:
            return fn()
        except Exception as error:  # noqa: BLE001 - classified below, unknown errors re-raised
            failure = classify(error)
            if failure is None:
                raise
            if failure.kind == "auth":
                raise RunFailed(f"{what}: {failure.message}") from error
            if failure.kind == "rate":
                rate += 1
                if rate > policy.rate_limit_retries:
                    raise RunPartial(
                        f"{what}: rate limited ({failure.message}); retried {rate - 1} times"
                    ) from error
                if failure.wait is not None and failure.wait > policy.max_wait:
                    raise RunPartial(
                        f"{what}: rate limited for {failure.wait:.0f}s more ({failure.message}); stopping"
                    ) from error
                delay = failure.wait if failure.wait is not None else policy.backoff * 2 ** (rate - 1)
            else:
                transient += 1
                if transient >= policy.attempts:
                    stop = RunPartial if progressed else RunFailed
                    raise stop(f"{what}: {failure.message} (gave up after {transient} tries)") from error
                delay = policy.backoff * 2 ** (transient - 1)
            delay = max(0.0, min(delay, policy.max_wait))
            log.info("%s: %s; retrying in %.1fs", what, failure.message, delay)
            policy.sleep(delay)
