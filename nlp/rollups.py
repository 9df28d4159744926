"""Read-only rollups over the annotation tables, for the dashboard and the export: who switches to whom each
week, and each brand's share of voice each day.

Both functions take a ``sqlite3.Connection`` or a ``sqlite_utils.Database`` (its ``.conn`` is used), never
write, and never hold a read transaction open after they return (the WAL must be able to checkpoint).

**Switching matrix** (:func:`switching_matrix`): posts with a ``switching``, ``switched``, ``port_out`` or
``leaving`` intent (``intents.rules.v2``: see ``nlp.intents``; posts by configured brand accounts have no
intent rows, so a care agent's reply never counts), grouped by the ISO week of the post
(``posts.created_at``, UTC; a week is named by its Monday, ``YYYY-MM-DD``) and by ``(from_brand,
to_brand)``. A post counts once per distinct brand pair its rows name (its rows of several kinds may repeat
a pair: it still counts once). A post none of whose rows names both ends is counted with the ends its rows
name together (``leaving`` from A plus ``switching`` to B make A -> B); if an end is still missing the post
goes to the **unknown bucket**, returned only with ``unknown=True``, with the missing end ``None``.
``considering`` (a question or a hedge is not a move) and ``cancel`` (it names no destination) are left out
unless passed in ``intents=``.

**Share of voice** (:func:`share_of_voice`): per UTC day (``YYYY-MM-DD`` of ``posts.created_at``) and
brand, the posts that mention the brand (``post_mentions``; a post counts once per brand, however often it
names it) and ``share`` = those posts / the posts of that day that mention any configured brand. A post
naming two brands counts for both, so a day's shares can add up to more than 1; divide by the day's sum for
shares that add up to 1 (share of brand-post pairs rather than of posts).

``since`` is inclusive and ``until`` exclusive; both take an ISO string (``"2026-07-01"`` or a full
``"2026-07-01T12:00:00Z"``), a ``date`` or a ``datetime`` (naive means UTC).

**Plans and timings.** Without a window the matrix scans ``post_intents`` (a few percent of posts) and looks
posts up by primary key; share of voice scans ``post_mentions`` and looks posts up likewise. With a window
both read the window's posts through the ``(platform, created_at)`` index (the platforms are listed first by
a skip scan of that index, then ``platform IN (...) AND created_at`` ranges are searched), then their
intents or mentions by those tables' primary keys (``post_id`` first): a week of a year reads a week of rows.
Measured (best of 3, a shared 2-core machine at load average 6-7, so roughly 3x slower than idle): demo
world, 20,000 posts: matrix 13-20 ms, one week 1 ms; share of voice 200-300 ms, one week 7-12 ms. Synthetic
1M posts over a year (0.95M mentions, 70k intent rows): matrix 0.7-0.8 s, one week 0.3-0.44 s; share of
voice 5.2-6.2 s, one week 0.67-0.75 s. The windowed cost is the random reads of the window's post rows (the
index lacks ``id``); an index on ``posts (created_at, id)`` would make them index-only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from store import to_iso

__all__ = ["MATRIX_INTENTS", "SwitchRow", "VoiceRow", "share_of_voice", "switching_matrix"]

#: The intent kinds the switching matrix counts by default.
MATRIX_INTENTS: tuple[str, ...] = ("switching", "switched", "port_out", "leaving")


class SwitchRow(NamedTuple):
    """One cell of the weekly switching matrix."""

    week: str  # the Monday of the ISO week, YYYY-MM-DD (UTC)
    from_brand: str | None  # None only in the unknown bucket
    to_brand: str | None
    posts: int


class VoiceRow(NamedTuple):
    """One brand's share of voice on one day."""

    day: str  # YYYY-MM-DD (UTC)
    brand: str
    posts: int
    share: float  # posts / posts of that day mentioning any brand


def _connection(conn):
    """The ``sqlite3.Connection`` behind ``conn`` (a ``sqlite_utils.Database`` or a connection)."""
    return getattr(conn, "conn", conn)


def _bound(value: str | date | datetime | None) -> str | None:
    """A ``since``/``until`` value as text comparable with ``posts.created_at`` (ISO, UTC, ``Z``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"since/until must be an ISO string, a date or a datetime, got {value!r}")


def _window(connection, since, until, params: dict) -> tuple[str, str]:
    """``(index hint, SQL condition on p)`` selecting the posts of the window (``("", "")`` for no window).

    With a window, posts are read through the ``(platform, created_at)`` index: its platforms are listed by a
    skip scan (one probe per platform) so SQLite can search each platform's date range.
    """
    conditions = []
    if (low := _bound(since)) is not None:
        params["since"] = low
        conditions.append("p.created_at >= :since")
    if (high := _bound(until)) is not None:
        params["until"] = high
        conditions.append("p.created_at < :until")
    if not conditions:
        return "", ""
    if not _has_index(connection, _POSTS_BY_TIME):
        return "", " AND ".join(conditions)
    params["platforms"] = json.dumps([row[0] for row in connection.execute(PLATFORMS_SQL)])
    conditions.insert(0, "p.platform IN (SELECT value FROM json_each(:platforms))")
    return f"INDEXED BY {_POSTS_BY_TIME}", " AND ".join(conditions)


def _has_index(connection, name: str) -> bool:
    """Whether the database has the index ``name`` (older or hand-made databases may lack it)."""
    found = connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name])
    return found.fetchone() is not None


_POSTS_BY_TIME = "idx_posts_platform_created_at"

# A skip scan of the (platform, created_at) index: one probe per distinct platform, not one row per post.
PLATFORMS_SQL = """
WITH RECURSIVE platforms(name) AS (
  SELECT min(platform) FROM posts
  UNION ALL
  SELECT (SELECT min(platform) FROM posts WHERE platform > name) FROM platforms WHERE name IS NOT NULL
)
SELECT name FROM platforms WHERE name IS NOT NULL"""

# hits: the intent rows of the posts in the window (whole table: scan post_intents, posts by primary key;
# window: the window's posts by index, their intents by the post_intents primary key, post_id first).
_MATRIX_SQL = """
WITH hits AS (
  SELECT i.post_id, date(substr(p.created_at, 1, 10), '-6 days', 'weekday 1') AS week, i.from_brand,
    i.to_brand
  FROM {source}
  WHERE i.intent IN (SELECT value FROM json_each(:intents)) {conditions}
),
pairs AS (
  SELECT DISTINCT post_id, week, from_brand, to_brand FROM hits
  WHERE from_brand IS NOT NULL AND to_brand IS NOT NULL
),
joined AS (
  SELECT post_id, week, max(from_brand) AS from_brand, max(to_brand) AS to_brand FROM hits
  WHERE post_id NOT IN (SELECT post_id FROM pairs) GROUP BY post_id
),
moves AS (
  SELECT week, from_brand, to_brand FROM pairs
  UNION ALL
  SELECT week, from_brand, to_brand FROM joined
  WHERE :unknown OR (from_brand IS NOT NULL AND to_brand IS NOT NULL)
)
SELECT week, from_brand, to_brand, count(*) AS posts FROM moves
GROUP BY week, from_brand, to_brand
ORDER BY week, posts DESC, from_brand IS NULL, from_brand, to_brand IS NULL, to_brand"""
_INTENTS_FIRST = "post_intents AS i JOIN posts AS p ON p.id = i.post_id"
_POSTS_FIRST = "posts AS p {hint} JOIN post_intents AS i ON i.post_id = p.id"


def switching_matrix(
    conn,
    *,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    annotator: str | None = None,
    intents: Iterable[str] = MATRIX_INTENTS,
    unknown: bool = False,
) -> list[SwitchRow]:
    """Posts per ISO week (its Monday) and ``(from_brand, to_brand)``, from ``post_intents``.

    ``annotator`` restricts to one versioned annotator name (``intents.rules.v2``); by default every row
    counts (the runner keeps one version per post). ``unknown=True`` adds the posts with a missing end, with
    that end ``None``. Rows are ordered by week, then most posts first.
    """
    connection = _connection(conn)
    params: dict = {"intents": json.dumps(list(intents)), "unknown": int(bool(unknown))}
    hint, window = _window(connection, since, until, params)
    conditions = [window] if window else []
    if annotator is not None:
        params["annotator"] = annotator
        conditions.append("i.annotator = :annotator")
    source = _POSTS_FIRST.format(hint=hint) if hint else _INTENTS_FIRST
    where = "".join(f" AND {condition}" for condition in conditions)
    rows = connection.execute(_MATRIX_SQL.format(source=source, conditions=where), params).fetchall()
    return [SwitchRow(*row) for row in rows]


# Posts per (day, brand): a post naming a brand twice counts once. Totals: posts naming any brand, per day.
_VOICE_SQL = """
SELECT substr(p.created_at, 1, 10) AS day, m.brand, count(DISTINCT m.post_id) AS posts
FROM {source}
{where}
GROUP BY day, m.brand"""
_TOTALS_SQL = """
SELECT substr(p.created_at, 1, 10) AS day, count(*) AS total
FROM posts AS p {hint}
WHERE EXISTS (SELECT 1 FROM post_mentions AS m WHERE m.post_id = p.id {annotator}) {window}
GROUP BY day"""
_MENTIONS_FIRST = "post_mentions AS m JOIN posts AS p ON p.id = m.post_id"
_POSTS_THEN_MENTIONS = "posts AS p {hint} JOIN post_mentions AS m ON m.post_id = p.id"


def share_of_voice(
    conn,
    *,
    since: str | date | datetime | None = None,
    until: str | date | datetime | None = None,
    annotator: str | None = None,
) -> list[VoiceRow]:
    """Per UTC day and brand: posts mentioning the brand and their share of that day's brand-mentioning posts.

    ``annotator`` restricts ``post_mentions`` to one versioned name (``mentions.phrase.v2``). Rows are ordered
    by day, then most posts first.
    """
    connection = _connection(conn)
    params: dict = {}
    hint, window = _window(connection, since, until, params)
    annotator_sql = ""
    if annotator is not None:
        params["annotator"] = annotator
        annotator_sql = "AND m.annotator = :annotator"
    conditions = " AND ".join(part for part in (window, annotator_sql.removeprefix("AND ")) if part)
    source = _POSTS_THEN_MENTIONS.format(hint=hint) if hint else _MENTIONS_FIRST
    brand_sql = _VOICE_SQL.format(source=source, where=f"WHERE {conditions}" if conditions else "")
    window_sql = f"AND {window}" if window else ""
    totals_sql = _TOTALS_SQL.format(hint=hint, annotator=annotator_sql, window=window_sql)
    totals = dict(connection.execute(totals_sql, params).fetchall())
    rows = [
        VoiceRow(day, brand, posts, posts / totals[day])
        for day, brand, posts in connection.execute(brand_sql, params).fetchall()
    ]
    rows.sort(key=lambda row: (row.day, -row.posts, row.brand))
    return rows
