"""Accounts that posted: the minimal rows ``upsert_posts`` writes, and the full ``upsert_authors``."""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from store.ids import check_native_id
from store.records import Author
from store.text import repair_optional, repair_text, to_json
from store.transactions import write_in_batches

AUTHOR_UPSERT_SQL = (
    "INSERT INTO authors (id, platform, native_id, handle, display_name, metadata, first_seen_at, "
    "last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "handle = coalesce(excluded.handle, authors.handle), "
    "display_name = coalesce(excluded.display_name, authors.display_name), "
    "metadata = CASE WHEN excluded.metadata = '{}' THEN authors.metadata ELSE excluded.metadata END, "
    "last_seen_at = max(authors.last_seen_at, excluded.last_seen_at) "
    # Skip no-op updates: an author seen again within the same second is not rewritten (nor its page dirtied).
    "WHERE excluded.handle IS NOT NULL AND excluded.handle IS NOT authors.handle "
    "OR excluded.display_name IS NOT NULL AND excluded.display_name IS NOT authors.display_name "
    "OR excluded.metadata <> '{}' AND excluded.metadata IS NOT authors.metadata "
    "OR excluded.last_seen_at > authors.last_seen_at"
)


def clean_handle(handle: str | None) -> str | None:
    """Return an author handle as shown but without a leading ``@`` (``None`` when nothing is left)."""
    if handle is None:
        return None
    return handle.strip().lstrip("@") or None


def author_row_of_post(row: tuple, now: str) -> tuple | None:
    """Return the minimal ``authors`` row for a post row that names its author, else ``None``."""
    platform, author_id, handle = row[1], row[3], clean_handle(row[4])
    if author_id is None:
        return None
    return (f"{platform}:{author_id}", platform, author_id, handle, None, "{}", now, now)


def upsert_authors(db: sqlite_utils.Database, authors: Iterable[Author], *, batch_size: int = 5000) -> int:
    """Insert or update authors (one transaction per ``batch_size``); return how many were written.

    A missing ``handle`` or ``display_name`` and an empty ``metadata`` keep the stored value; ``last_seen_at``
    becomes now. Raises ``ValueError`` for an author without a usable platform or ``native_id``.
    """
    return write_in_batches(db, AUTHOR_UPSERT_SQL, authors, _full_author_row, batch_size)


def _full_author_row(author: Author, now: str) -> tuple:
    """Return the ``authors`` row of ``author``, validated and repaired."""
    if not isinstance(author.platform, str) or not author.platform.strip() or ":" in author.platform:
        raise ValueError(f"author platform must be a non-empty string without ':', got {author.platform!r}")
    problem = check_native_id("author native_id", author.native_id)
    if problem:
        raise ValueError(problem)
    handle = clean_handle(repair_optional(author.handle))
    platform, native_id = repair_text(author.platform), repair_text(author.native_id)
    metadata = to_json(author.metadata or {}, sort_keys=True)
    return (f"{platform}:{native_id}", platform, native_id, handle, repair_optional(author.display_name),
            metadata, now, now)  # fmt: skip
