"""Erasure: removing a person everywhere, then reclaiming the pages their data used.

:func:`forget_customer` removes a CRM customer: the posts of every account linked to them (through
:func:`store.erase.delete_posts`, so each post's derived rows go by cascade, its full-text entry is purged
and ``deletions`` keeps only the id, which stops the post from being collected again), retweets of those
posts by others (copies of their text: ``RT @handle: ...``), the accounts (``authors``), and the customer
row, whose foreign keys take their handles, links, churn score, segment membership and export memberships
with it. :func:`forget_handle` removes one account by
``platform:handle`` the same way; when that account is linked to a customer, the person is that customer
and is forgotten whole; a customer who recorded the handle without a link loses only that handle.

The audit keeps no identifier: ``link_audit.customer_id`` is cleared for the person and one ``forgotten``
row (counts only) is added. Quarantined CRM rows naming the person go too. Last, the WAL is checkpointed
and the file vacuumed, so no byte of the person's data remains in the database file (``secure_delete``
zeroes freed pages, ``VACUUM`` rewrites the file without them). Other people's own posts (replies,
quotes) that mention the person stay: they are those people's content.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

import sqlite_utils

from customers.linking import normalize_platform, platform_handle
from store import delete_posts
from store.records import to_iso, utc_now
from store.transactions import transaction

#: The reason stored in ``deletions`` for erased posts: no content, no identifier.
ERASE_REASON = "erased on request"
_IN = "IN (SELECT value FROM json_each(?))"


class NothingToForget(LookupError):
    """Nothing is stored for the customer or handle given."""


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What an erasure removed: customers, accounts (authors), their posts, others' reposts of those posts,
    CRM handles, quarantined CRM rows."""

    customers: int
    authors: int
    posts: int
    reposts: int
    handles: int
    quarantined: int


def _linked_authors(conn: sqlite3.Connection, customer_ids: list[str]) -> list[str]:
    rows = conn.execute(
        f"SELECT author_id FROM customer_links WHERE customer_id {_IN}", [json.dumps(customer_ids)]
    )
    return [row[0] for row in rows]


def _handle_authors(conn: sqlite3.Connection, platform: str, handle: str) -> list[str]:
    """The accounts on ``platform`` whose handle normalises to ``handle``."""
    rows = conn.execute("SELECT id, platform, handle FROM authors WHERE handle IS NOT NULL")
    return [
        author_id
        for author_id, author_platform, author_handle in rows
        if normalize_platform(author_platform) == platform
        and platform_handle(platform, author_handle) == handle
    ]


def _post_ids(conn: sqlite3.Connection, author_ids: list[str]) -> list[str]:
    rows = conn.execute(
        "SELECT p.id FROM authors AS a JOIN posts AS p ON p.platform = a.platform "
        f"AND p.author_id = a.native_id WHERE a.id {_IN}",
        [json.dumps(author_ids)],
    )
    return [row[0] for row in rows]


def _reposts(conn: sqlite3.Connection, author_ids: list[str]) -> list[str]:
    """Posts by others that copy the accounts' posts: retweets, whose text is ``RT @handle: ...``."""
    found: list[str] = []
    accounts = conn.execute(
        f"SELECT platform, handle FROM authors WHERE handle IS NOT NULL AND id {_IN}",
        [json.dumps(author_ids)],
    )
    for platform, handle in accounts.fetchall():
        prefix = f"rt @{handle.lower()}:"
        rows = conn.execute(
            "SELECT id FROM posts WHERE platform = ? AND lower(substr(text, 1, ?)) = ?",
            [platform, len(prefix), prefix],
        )
        found += [row[0] for row in rows]
    return found


def _quarantined_rows(
    conn: sqlite3.Connection, customer_ids: set[str], handles: set[tuple[str, str]]
) -> list:
    """Ids of quarantined CRM rows (source ``customers:...``) that name one of the customers or handles."""
    found = []
    for row_id, raw in conn.execute("SELECT id, raw FROM quarantine WHERE source LIKE 'customers:%'"):
        try:
            values = json.loads(raw or "{}")
        except json.JSONDecodeError:
            values = {}
        if not isinstance(values, dict):
            continue
        cells = {str(value).strip() for value in values.values() if value is not None}
        tokens = {platform_handle(platform, cell) for cell in cells for platform, _h in handles}
        if cells & customer_ids or tokens & {handle for _p, handle in handles}:
            found.append(row_id)
    return found


def _forget_handle_rows(conn: sqlite3.Connection, handles: set[tuple[str, str]], kept: str) -> int:
    """Delete the ``customer_handles`` rows of ``handles`` of customers not in ``kept`` (a JSON list)."""
    removed = 0
    for platform, handle in handles:
        removed += conn.execute(
            f"DELETE FROM customer_handles WHERE platform = ? AND handle = ? AND customer_id NOT {_IN}",
            [platform, handle, kept],
        ).rowcount
    return removed


def _erase(
    db: sqlite_utils.Database,
    customer_ids: list[str],
    author_ids: list[str],
    handles: set[tuple[str, str]],
    *,
    every_claim: bool,
) -> ForgetReport:
    """Delete the posts, authors, customers, handle rows and quarantined rows; audit without identifiers.

    ``every_claim``: also delete ``handles`` where other customers recorded them (erasing an account).
    """
    author_ids = sorted(set(author_ids) | set(_linked_authors(db.conn, customer_ids)))
    own = _post_ids(db.conn, author_ids)
    reposts = sorted(set(_reposts(db.conn, author_ids)) - set(own))
    posts = delete_posts(db, own, reason=ERASE_REASON, purge_index=not reposts)
    reposts = delete_posts(db, reposts, reason=ERASE_REASON)
    with transaction(db) as conn:
        quarantined = _quarantined_rows(conn, set(customer_ids), handles)
        conn.execute(f"DELETE FROM quarantine WHERE id {_IN}", [json.dumps(quarantined)])
        ids = json.dumps(customer_ids)
        conn.execute(f"DELETE FROM authors WHERE id {_IN}", [json.dumps(author_ids)])
        removed_handles = conn.execute(
            f"SELECT count(*) FROM customer_handles WHERE customer_id {_IN}", [ids]
        ).fetchone()[0]
        if every_claim:
            removed_handles += _forget_handle_rows(conn, handles, ids)
        conn.execute(f"UPDATE link_audit SET customer_id = NULL WHERE customer_id {_IN}", [ids])
        customers = conn.execute(f"DELETE FROM customers WHERE customer_id {_IN}", [ids]).rowcount
        report = ForgetReport(customers, len(author_ids), posts, reposts, removed_handles, len(quarantined))
        reason = (
            f"erased on request: {report.customers} customer(s), {report.authors} account(s), "
            f"{report.posts} post(s), {report.reposts} repost(s), {report.handles} handle(s)"
        )
        conn.execute(
            "INSERT INTO link_audit (at, action, reason) VALUES (?, 'forgotten', ?)",
            [to_iso(utc_now()), reason],
        )
    reclaim(db)
    return report


def reclaim(db: sqlite_utils.Database) -> None:
    """Checkpoint the WAL into the file, rewrite the file without its free pages, and empty the WAL."""
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.execute("VACUUM")
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def forget_customer(db: sqlite_utils.Database, customer_id: str) -> ForgetReport:
    """Remove customer ``customer_id`` everywhere: their linked accounts, those accounts' posts and all
    that derives from them, the customer row and all that hangs off it; then reclaim the freed pages.

    Raises :class:`NothingToForget` when no such customer is stored (nothing is changed then).
    """
    conn = db.conn
    if conn.execute("SELECT 1 FROM customers WHERE customer_id = ?", [customer_id]).fetchone() is None:
        raise NothingToForget(f"no customer {customer_id!r} is stored: nothing to forget (check the id)")
    handles = {
        (normalize_platform(platform), platform_handle(platform, handle))
        for platform, handle in conn.execute(
            "SELECT platform, handle FROM customer_handles WHERE customer_id = ?", [customer_id]
        )
    }
    return _erase(db, [customer_id], [], handles, every_claim=False)


def forget_handle(db: sqlite_utils.Database, platform: str, handle: str) -> ForgetReport:
    """Remove the account ``handle`` on ``platform`` everywhere (matched after normalisation, as linking
    does), with its posts; a customer linked to it is forgotten whole (:func:`forget_customer`), and the
    handle is removed from every customer who recorded it.

    Raises :class:`NothingToForget` when no account and no customer handle match (nothing is changed).
    """
    platform = normalize_platform(platform)
    handle = platform_handle(platform, handle)
    if not platform or not handle:
        raise ValueError("give the handle as PLATFORM:HANDLE, for example x:@someone")
    conn = db.conn
    author_ids = _handle_authors(conn, platform, handle)
    customer_ids = sorted(
        {row[0] for row in conn.execute(
            f"SELECT customer_id FROM customer_links WHERE author_id {_IN}",
            [json.dumps(author_ids)],
        )}
    )  # fmt: skip
    recorded = conn.execute(
        "SELECT count(*) FROM customer_handles WHERE platform = ? AND handle = ?", [platform, handle]
    ).fetchone()[0]
    if not author_ids and not recorded:
        raise NothingToForget(
            f"no account and no customer handle match {platform}:{handle}: nothing to forget"
        )
    return _erase(db, customer_ids, author_ids, {(platform, handle)}, every_claim=True)
