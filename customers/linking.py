"""Consent-gated linking of authors to CRM customers, with an audit of every decision.

An author is linked to a customer only when the author's handle, normalised per platform
(:func:`platform_handle`), equals a handle that customer recorded **with consent**
(``customer_handles.consent = 1``) on the same platform. Nothing else links: not a display name, not a
similar handle, not a guess. Every decision that changes something is written to ``link_audit`` (never a
handle, never post content):

- ``linked``: a new link through an opted-in handle;
- ``refused``: an author's handle matches a handle recorded without consent, or the match is ambiguous (the
  handle is claimed by two or more customers, or two accounts on the platform share it): nothing is linked;
- ``unlinked``: a link whose handle lost its consent, left the CRM, became ambiguous or no longer matches.

:func:`link_consented` is idempotent: links that still hold are kept without a new audit row, and a refusal
already audited (with no link decision for that customer and platform since) is not audited again.
:func:`link_author` is the manual attempt: it passes the same gate or is refused (audited, then raised).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from store import normalize_handle, to_iso, utc_now
from store.transactions import transaction

#: Prefixes a CRM may keep before a Reddit user name (``u/name``, ``/u/name``).
_REDDIT_PREFIXES = ("/u/", "u/")
#: Other names of a platform that a CRM may use, mapped to the platform name authors are stored under.
PLATFORM_ALIASES = {"twitter": "x", "twitter.com": "x", "x.com": "x"}

REASON_NO_CONSENT = "handle matches an author but the customer did not opt in (consent = 0)"
REASON_CONSENT_WITHDRAWN = "consent withdrawn: the handle is no longer opted in"
REASON_GONE = "the opted-in handle no longer matches this account (removed from the CRM or changed)"
REASON_LINKED = "handle opted in by the customer matches this account"


class LinkRefused(PermissionError):
    """A link attempt that does not pass the consent gate; it was audited as ``refused``."""


def normalize_platform(platform: str) -> str:
    """Return the platform name authors are stored under: lower case, ``twitter`` read as ``x``."""
    name = platform.strip().lower()
    return PLATFORM_ALIASES.get(name, name)


def platform_handle(platform: str, handle: str) -> str:
    """Return ``handle`` as matched on ``platform``: :func:`store.normalize_handle` (no ``@``, lower case),
    and on Reddit without a ``u/`` or ``/u/`` prefix.

    >>> platform_handle("reddit", "u/Omar-Night39"), platform_handle("x", " @MiaWalsh")
    ('omar-night39', 'miawalsh')
    """
    text = normalize_handle(handle)
    if normalize_platform(platform) == "reddit":
        for prefix in _REDDIT_PREFIXES:
            if text.startswith(prefix):
                return text[len(prefix) :]
    return text


@dataclass(frozen=True, slots=True)
class Claim:
    """A customer's recorded handle on one platform: whether they opted in, and where and when."""

    customer_id: str
    consent: bool
    consent_source: str | None
    consent_date: str | None


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What one :func:`link_consented` run did.

    ``linked`` new links, ``kept`` links that still hold, ``unlinked`` links removed, ``refused`` matches
    refused this run (``ambiguous`` of them because the handle is not unique), ``audit_rows`` rows written
    to ``link_audit``; ``authors_linked`` and ``customers_linked`` count the links after the run.
    """

    linked: int
    kept: int
    unlinked: int
    refused: int
    ambiguous: int
    audit_rows: int
    authors_linked: int
    customers_linked: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Refusal:
    customer_id: str
    platform: str
    reason: str
    author_id: str


def load_claims(conn: sqlite3.Connection) -> dict[tuple[str, str], dict[str, Claim]]:
    """Return every recorded handle as ``{(platform, handle): {customer_id: Claim}}``, normalised.

    Two rows of one customer that normalise to the same handle count as consent only when both opted in.
    """
    claims: dict[tuple[str, str], dict[str, Claim]] = defaultdict(dict)
    rows = conn.execute(
        "SELECT platform, handle, customer_id, consent, consent_source, consent_date FROM customer_handles"
    )
    for platform, handle, customer_id, consent, source, when in rows:
        key = (normalize_platform(platform), platform_handle(platform, handle))
        earlier = claims[key].get(customer_id)
        granted = bool(consent) and (earlier is None or earlier.consent)
        claims[key][customer_id] = Claim(customer_id, granted, source, when)
    return claims


def matching_accounts(
    conn: sqlite3.Connection, claims: dict[tuple[str, str], dict[str, Claim]]
) -> dict[tuple[str, str], list[str]]:
    """Return the author ids whose normalised handle is claimed, by ``(platform, handle)`` (one scan)."""
    accounts: dict[tuple[str, str], list[str]] = defaultdict(list)
    for author_id, platform, handle in conn.execute(
        "SELECT id, platform, handle FROM authors WHERE handle IS NOT NULL"
    ):
        key = (normalize_platform(platform), platform_handle(platform, handle))
        if key in claims:
            accounts[key].append(author_id)
    return accounts


def decide(
    claims: dict[tuple[str, str], dict[str, Claim]], accounts: dict[tuple[str, str], list[str]]
) -> tuple[dict[str, tuple[str, Claim]], list[_Refusal]]:
    """Return the links the gate allows (``{author_id: (platform, claim)}``) and the refusals."""
    wanted: dict[str, tuple[str, Claim]] = {}
    refusals: list[_Refusal] = []
    for (platform, handle), author_ids in accounts.items():
        claimants = claims[(platform, handle)]
        reason = None
        if len(claimants) > 1:
            reason = f"ambiguous: the handle is claimed by {len(claimants)} customers; none is linked"
        elif len(author_ids) > 1:
            reason = f"ambiguous: {len(author_ids)} accounts on {platform} share the handle; none is linked"
        for claim in claimants.values():
            if reason is None and claim.consent:
                wanted[author_ids[0]] = (platform, claim)
            else:
                refusals += [
                    _Refusal(claim.customer_id, platform, reason or REASON_NO_CONSENT, author_id)
                    for author_id in author_ids
                ]
    return wanted, refusals


def _audited_refusals(conn: sqlite3.Connection, customer_ids: Iterable[str]) -> set[tuple[str, str, str]]:
    """Refusals ``(customer_id, platform, reason)`` audited since the last other decision for that pair."""
    standing: dict[tuple[str, str], set[str]] = defaultdict(set)
    rows = conn.execute(
        "SELECT customer_id, platform, action, reason FROM link_audit "
        "WHERE customer_id IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps(sorted(set(customer_ids)))],
    )
    for customer_id, platform, action, reason in rows:
        pair = (customer_id, platform)
        if action == "refused":
            standing[pair].add(reason)
        else:
            standing[pair].clear()
    return {(c, p, reason) for (c, p), reasons in standing.items() for reason in reasons}


_AUDIT_SQL = "INSERT INTO link_audit (at, action, customer_id, platform, reason) VALUES (?, ?, ?, ?, ?)"
_LINK_SQL = (
    "INSERT INTO customer_links (author_id, customer_id, platform, consent_source, consent_date, linked_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _unlink_reason(author_id: str, customer_id: str, refusals: list[_Refusal]) -> str:
    """Why an existing link no longer holds, from this run's refusals of that author."""
    for refusal in refusals:
        if refusal.author_id == author_id and refusal.customer_id == customer_id:
            return REASON_CONSENT_WITHDRAWN if refusal.reason == REASON_NO_CONSENT else refusal.reason
    return REASON_GONE


def _apply(conn: sqlite3.Connection, wanted, refusals: list[_Refusal], now: str) -> dict[str, int]:
    """Write the differences between the stored links and ``wanted``, and the refusals not yet audited."""
    current = {
        author_id: (customer_id, platform)
        for author_id, customer_id, platform in conn.execute(
            "SELECT author_id, customer_id, platform FROM customer_links ORDER BY author_id"
        )
    }
    counts = dict.fromkeys(("linked", "kept", "unlinked", "audit_rows"), 0)
    for author_id, (customer_id, platform) in current.items():
        if author_id in wanted and wanted[author_id][1].customer_id == customer_id:
            claim = wanted[author_id][1]
            conn.execute(
                "UPDATE customer_links SET consent_source = ?, consent_date = ? WHERE author_id = ? "
                "AND (consent_source IS NOT ? OR consent_date IS NOT ?)",
                [
                    claim.consent_source,
                    claim.consent_date,
                    author_id,
                    claim.consent_source,
                    claim.consent_date,
                ],
            )
            counts["kept"] += 1
            continue
        conn.execute("DELETE FROM customer_links WHERE author_id = ?", [author_id])
        reason = _unlink_reason(author_id, customer_id, refusals)
        conn.execute(_AUDIT_SQL, [now, "unlinked", customer_id, platform, reason])
        counts["unlinked"] += 1
    for author_id, (platform, claim) in wanted.items():
        if author_id in current and current[author_id][0] == claim.customer_id:
            continue
        conn.execute(_LINK_SQL, [author_id, claim.customer_id, platform, claim.consent_source,
                                 claim.consent_date, now])  # fmt: skip
        conn.execute(_AUDIT_SQL, [now, "linked", claim.customer_id, platform, REASON_LINKED])
        counts["linked"] += 1
    audited = _audited_refusals(conn, (refusal.customer_id for refusal in refusals))
    for refusal in refusals:
        key = (refusal.customer_id, refusal.platform, refusal.reason)
        if key not in audited:
            conn.execute(_AUDIT_SQL, [now, "refused", *key])
            audited.add(key)
            counts["audit_rows"] += 1
    counts["audit_rows"] += counts["linked"] + counts["unlinked"]
    return counts


def link_consented(db: sqlite_utils.Database, *, now: datetime | None = None) -> LinkReport:
    """Link every author whose handle a customer opted in; unlink what no longer passes; audit it all.

    Reads ``customer_handles`` and scans ``authors`` once (memory holds the handles and the matches, not
    the authors), then writes ``customer_links`` and ``link_audit`` in one transaction, so the links are
    never seen half-updated. ``now`` (default: the current time) stamps the new links and audit rows.
    Idempotent: a second run with nothing changed writes nothing.
    """
    started = time.monotonic()
    stamp = to_iso(now or utc_now())
    with transaction(db) as conn:
        claims = load_claims(conn)
        wanted, refusals = decide(claims, matching_accounts(conn, claims))
        counts = _apply(conn, wanted, refusals, stamp)
        authors, customers = conn.execute(
            "SELECT count(*), count(DISTINCT customer_id) FROM customer_links"
        ).fetchone()
    refused = {(r.customer_id, r.platform, r.reason) for r in refusals}
    return LinkReport(
        linked=counts["linked"], kept=counts["kept"], unlinked=counts["unlinked"], refused=len(refused),
        ambiguous=sum(1 for _c, _p, reason in refused if reason.startswith("ambiguous")),
        audit_rows=counts["audit_rows"], authors_linked=authors, customers_linked=customers,
        seconds=time.monotonic() - started,
    )  # fmt: skip


def _gate(conn: sqlite3.Connection, author_id: str, customer_id: str) -> tuple[str | None, str, Claim | None]:
    """Check a manual link: return ``(platform, reason, claim)``; ``claim`` is None when refused."""
    author = conn.execute("SELECT platform, handle FROM authors WHERE id = ?", [author_id]).fetchone()
    if author is None:
        return None, "manual link refused: no such author", None
    platform = normalize_platform(author[0])
    if author[1] is None:
        return platform, "manual link refused: the author has no handle to match", None
    key = (platform, platform_handle(platform, author[1]))
    claims = load_claims(conn)
    claim = claims.get(key, {}).get(customer_id)
    if claim is None:
        return (
            platform,
            "manual link refused: the customer recorded no matching handle on this platform",
            None,
        )
    if not claim.consent:
        return platform, "manual link refused: " + REASON_NO_CONSENT, None
    accounts = matching_accounts(conn, {key: claims[key]}).get(key, [])
    if len(claims[key]) > 1 or len(accounts) > 1:
        return platform, "manual link refused: ambiguous, the handle is not unique", None
    return platform, REASON_LINKED + " (manual)", claim


def link_author(
    db: sqlite_utils.Database, author_id: str, customer_id: str, *, now: datetime | None = None
) -> bool:
    """Link one author to one customer by hand, only through the consent gate of :func:`link_consented`.

    Returns True when a link was written, False when that link already existed. Raises :class:`LinkRefused`
    (after auditing the refusal) when the customer did not opt in a handle that matches the author's, when
    the match is ambiguous, or when the author is unknown; ``LookupError`` for an unknown customer.
    """
    stamp = to_iso(now or utc_now())
    with transaction(db) as conn:
        if conn.execute("SELECT 1 FROM customers WHERE customer_id = ?", [customer_id]).fetchone() is None:
            raise LookupError(
                f"no customer {customer_id!r}: import the CRM first (tasteradar customers import)"
            )
        platform, reason, claim = _gate(conn, author_id, customer_id)
        if claim is None:
            conn.execute(_AUDIT_SQL, [stamp, "refused", customer_id, platform, reason])
        else:
            linked = conn.execute("SELECT customer_id FROM customer_links WHERE author_id = ?", [author_id])
            previous = linked.fetchone()
            if previous is not None and previous[0] == customer_id:
                return False
            if previous is not None:
                conn.execute("DELETE FROM customer_links WHERE author_id = ?", [author_id])
                conn.execute(_AUDIT_SQL, [stamp, "unlinked", previous[0], platform, REASON_GONE])
            conn.execute(_LINK_SQL, [author_id, customer_id, platform, claim.consent_source,
                                     claim.consent_date, stamp])  # fmt: skip
            conn.execute(_AUDIT_SQL, [stamp, "linked", customer_id, platform, reason])
            return True
    raise LinkRefused(
        f"not linked: {reason.removeprefix('manual link refused: ')}. A link needs a handle the customer "
        "opted in (consent yes in the handles file) that equals the author's handle on that platform"
    )
