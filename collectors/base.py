"""What every source of posts provides, and the errors that tell the job how a run ended.

A source is a class built from its settings and secrets. It lists its queries, fetches pages of raw payloads
for one query from a checkpoint, and maps one payload to a ``Post`` with a pure ``to_post``::

    source = REGISTRY["x"](settings={"queries": [...]}, secrets={"X_BEARER_TOKEN": ...})
    for page in source.fetch(query, checkpoint):      # network; resumes from the checkpoint
        posts = [source.to_post(raw, query=query) for raw in page.items]
        # the job stores the posts and page.checkpoint in one transaction

A source that lacks credentials or settings raises ``NotConfigured`` from its constructor: the job logs one
line and goes on with the others. ``fetch`` ends a run early by raising ``RunPartial`` (for example a usage
cap: what was fetched is kept) or ``RunFailed`` (for example 401/403: nothing more can be done).

A source may also answer which stored posts the platform no longer has, for
``tasteradar collect --prune-deleted`` (optional: see :data:`DELETED_METHOD` and :func:`can_check_deleted`)::

    gone = source.deleted(["1852...", "1853..."])   # native ids -> the subset the platform reports deleted

``deleted`` follows ``fetch``'s error policy (timeouts, bounded retries, ``RunFailed`` after one 401/403,
``RunPartial`` when a budget is spent) and never guesses: an id it could not check is not in the answer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from store import Post


class NotConfigured(Exception):
    """The source cannot run here: the message says what to set (``set X_BEARER_TOKEN``)."""


class RunPartial(Exception):
    """The run stopped early but what it fetched is good (usage cap, rate limit budget spent)."""


class RunFailed(Exception):
    """The run cannot go on (bad credentials, forbidden, a server that keeps failing)."""


@dataclass(frozen=True)
class Page:
    """One page of raw payloads and the checkpoint to store once they are stored.

    ``checkpoint`` is the whole state the source needs to resume after these items (``None``: unchanged).
    The job writes the posts of a page and its checkpoint in the same transaction, so a crash loses at most
    the page in flight and a rerun neither skips nor duplicates.
    """

    items: list[Any]
    checkpoint: dict[str, Any] | None = None


@dataclass(frozen=True)
class Setting:
    """A setting a source reads from its ``[sources.NAME]`` table (declared for docs and contract tests)."""

    key: str
    description: str
    default: Any = None


class Source(Protocol):
    """The contract every registered source meets (checked by one contract test per source).

    Optional: ``deleted(native_ids) -> list[str]`` (see :data:`DELETED_METHOD`), which lets
    ``--prune-deleted`` remove the posts the platform no longer has. It is not declared here because a
    ``Protocol`` cannot mark a method optional; :func:`can_check_deleted` tells whether a source has it.
    """

    name: ClassVar[str]
    platform: ClassVar[str]
    secrets: ClassVar[tuple[str, ...]]
    settings: ClassVar[tuple[Setting, ...]]

    def queries(self) -> list[str]:
        """The queries (search strings, subreddits, hashtags) a run goes through, each with a checkpoint."""
        ...

    def fetch(self, query: str, checkpoint: dict[str, Any] | None) -> Iterator[Page]:
        """Yield pages of raw payloads for ``query``, resuming after ``checkpoint``."""
        ...

    def to_post(self, raw: Any, *, query: str | None = None) -> Post:
        """Map one raw payload to a ``Post`` (pure; raises ``ValueError`` with the reason for a bad one)."""
        ...


#: The optional method of a source that can check deletions: ``deleted(native_ids: list[str]) -> list[str]``
#: returns the ids among ``native_ids`` (stored posts of its platform) that the platform reports deleted or
#: no longer public. The job calls it with at most ``DELETED_BATCH`` ids; the source splits them into
#: requests as its API allows.
DELETED_METHOD = "deleted"
DELETED_BATCH = 100


def can_check_deleted(source: object) -> bool:
    """True when ``source`` implements the optional ``deleted(native_ids)`` method."""
    return callable(getattr(source, DELETED_METHOD, None))


def require(secrets: Mapping[str, str], *names: str) -> tuple[str, ...]:
    """Return the values of ``names`` from ``secrets``, or raise ``NotConfigured`` naming what to set."""
    missing = [name for name in names if not secrets.get(name)]
    if missing:
        raise NotConfigured("set " + " and ".join(missing) + " (environment or tasteradar.secrets.toml)")
    return tuple(str(secrets[name]) for name in names)
