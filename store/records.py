"""Record types: the contract between stages.

Every stage reads and writes these dataclasses, never ad-hoc dicts. A ``Post`` keeps the untouched
platform payload (``raw``) beside the mapped fields so a mapping can be redone later without refetching.
Times are timezone-aware UTC ``datetime`` objects in Python and ISO 8601 ``...Z`` strings in SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime, truncated to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(value: datetime | None) -> str | None:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(value: str | None) -> datetime | None:
    """Parse an ISO 8601 string (``Z`` or offset) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def post_id(platform: str, native_id: str) -> str:
    """Return the store key of a post: ``"{platform}:{native_id}"``."""
    return f"{platform}:{native_id}"


@dataclass(slots=True)
class Post:
    """One post as every collector produces it and every later stage reads it.

    ``native_id`` is the platform's own id as a string (a 64-bit X id must never pass through a float).
    ``reply_to`` and ``conversation_id`` are store keys (``platform:native_id``) when known.
    ``raw`` is the platform payload exactly as received; ``query`` names the configured query that found it.
    """

    platform: str
    native_id: str
    text: str
    created_at: datetime
    author_id: str | None = None
    author_handle: str | None = None
    url: str | None = None
    lang: str | None = None
    reply_to: str | None = None
    conversation_id: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    raw: Any = None
    query: str | None = None
    collected_at: datetime | None = None

    @property
    def id(self) -> str:
        """The store key, ``"{platform}:{native_id}"``."""
        return post_id(self.platform, self.native_id)


@dataclass(slots=True)
class Author:
    """An account that posted.

    ``id`` is ``"{platform}:{native_id}"``; ``handle`` is as shown, without ``@``.
    """

    platform: str
    native_id: str
    handle: str | None = None
    display_name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The store key, ``"{platform}:{native_id}"``."""
        return post_id(self.platform, self.native_id)


@dataclass(slots=True)
class Customer:
    """A CRM customer. ``attributes`` keeps every other CRM column as imported (strings, numbers)."""

    customer_id: str
    broad_segment: str | None = None
    plan: str | None = None
    contract: str | None = None
    tenure_months: int | None = None
    monthly_charge: float | None = None
    total_charges: float | None = None
    churned: bool | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None


@dataclass(slots=True)
class CustomerHandle:
    """A social handle a customer recorded in the CRM, with the consent that allows linking it.

    A post may be linked to the customer only when ``consent`` is true. ``handle`` is stored normalised
    (lower case, no leading ``@``). ``synthetic`` marks joins made up for demos or evaluations.
    """

    customer_id: str
    platform: str
    handle: str
    consent: bool
    consent_source: str | None = None
    consent_date: date | None = None
    synthetic: bool = False


@dataclass(slots=True)
class Rejected:
    """A record that could not become a ``Post``: it goes to quarantine with its reason, in its batch.

    Collectors yield these beside ``Post`` objects so that a malformed record never fails the rest of the
    batch.
    ``raw`` is the payload as received (str, bytes or parsed JSON); ``source`` names the collector or file.
    """

    source: str
    raw: Any
    reason: str
