"""Whose voice a post is: the one definition of a **brand account post**.

A post is a brand account post when its author's handle (``posts.author_handle``) is one of the configured
handles of any brand, the own one or a competitor (``BrandTerms.handles``: ``TMobileHelp``, ``ATTCares``,
``sprintcare`` ...). Handles compare case-insensitively and without a leading ``@`` (:func:`handle_key`), on
any platform. Such a post is the brand speaking, typically a care agent's reply ("please use this link to
cancel", "feel free to get in touch with our support team"): it states no customer need and no customer
intent, so the needs and intents annotators give it no rows.

Only brands with a name count (as in ``nlp.mentions.MentionAnnotator``, whose fingerprint holds every named
brand's handles: an annotator that includes that fingerprint is redone when a handle is added). Accounts the
configuration does not list (another company's care desk) are not recognised: a deployment lists its own and
its competitors' accounts. Building the handle set needs nothing but the configuration; the posts are looked
up per batch, in :meth:`BrandAccounts.among`, with one query by primary key (no scan of ``posts``).

The same definition in SQL, for a query that selects posts (the topic model's scope, :mod:`nlp.topics.stage`),
is :func:`brand_account_sql`, bound to :func:`handles_json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from nlp.mentions import BrandTerms

__all__ = [
    "BrandAccounts",
    "brand_account_posts",
    "brand_account_sql",
    "brand_handles",
    "handle_key",
    "handles_json",
]

#: The ASCII characters ``str.strip()`` removes (tab, newline, vertical tab, form feed, carriage return, the
#: separators 0x1c-0x1f, space): SQLite's ``trim(x)`` alone removes spaces only.
_ASCII_SPACE = "char(9, 10, 11, 12, 13, 28, 29, 30, 31, 32)"


def handle_key(handle: str) -> str:
    """The form handles compare in: no surrounding spaces, no leading ``@``, case folded."""
    return handle.strip().lstrip("@").casefold()


def brand_handles(brands: Iterable[BrandTerms]) -> frozenset[str]:
    """The configured handles of every named brand (own and competitors), as :func:`handle_key` has them."""
    keys = {handle_key(handle) for brand in brands if brand.name for handle in brand.handles}
    keys.discard("")
    return frozenset(keys)


def handles_json(handles: Iterable[str]) -> str:
    """The parameter :func:`brand_account_sql` binds: the handle keys as a sorted JSON array."""
    return json.dumps(sorted(set(handles)))


def brand_account_sql(author: str = "p.author_handle", handles: str = "?") -> str:
    """An SQL expression that is 1 when ``author`` (a column) is a brand account's handle, else 0 (not NULL).

    ``handles`` is the placeholder (``?`` or ``:name``) bound to :func:`handles_json` of the handle keys of
    :func:`brand_handles`; an empty array makes every post a non-brand post. The expression is
    :func:`handle_key` in SQL: surrounding ASCII whitespace and leading ``@`` removed, then ``lower()``,
    compared with the keys. SQLite's ``lower()`` folds ASCII letters only, where the keys are
    ``casefold()``-ed: the two agree on ASCII handles (every platform's handles are ASCII in practice). The
    batch lookup (:func:`brand_account_posts`) and the topic model's scope both use this expression.
    """
    key = f"lower(ltrim(trim({author}, {_ASCII_SPACE}), '@'))"
    return f"coalesce({key} IN (SELECT value FROM json_each({handles})), 0)"


#: The batch's brand account posts, looked up by primary key (``json_each`` drives the join: ``CROSS JOIN``
#: keeps that order, so SQLite searches ``posts`` by ``id`` once per id and never scans it).
_BRAND_POSTS_SQL = f"""
SELECT p.id FROM json_each(?) AS batch CROSS JOIN posts AS p ON p.id = batch.value
WHERE {brand_account_sql("p.author_handle", "?")}"""


def brand_account_posts(conn, post_ids: Iterable[str], handles: Iterable[str]) -> set[str]:
    """The ids among ``post_ids`` whose author is one of ``handles`` (keys of :func:`handle_key`).

    ``conn``: a ``sqlite3.Connection`` or a ``sqlite_utils.Database``; None (no database: unit use), no
    handles or no ids give an empty set. One query for the whole batch.
    """
    handles = frozenset(handles)
    ids = list(post_ids)
    if conn is None or not handles or not ids:
        return set()
    connection = getattr(conn, "conn", conn)
    rows = connection.execute(_BRAND_POSTS_SQL, [json.dumps(ids), handles_json(handles)]).fetchall()
    return {post_id for (post_id,) in rows}


class BrandAccounts:
    """The configured brand accounts and the database to look their posts up in (None: nothing is one)."""

    def __init__(self, brands: Iterable[BrandTerms], db=None) -> None:
        #: The lowercased configured handles (:func:`brand_handles`).
        self.handles = brand_handles(brands)
        self.db = db

    def among(self, post_ids: Iterable[str]) -> set[str]:
        """The ids among ``post_ids`` posted by a configured brand account (one query; none without a db)."""
        return brand_account_posts(self.db, post_ids, self.handles)
