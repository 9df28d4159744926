"""The daily brand rollup the dashboard's overview reads: posts per UTC day, platform and brand, sentiment.

``brand_daily`` has one row per ``(day, platform, brand)``:

- ``brand = ''``: every post of that day (``YYYY-MM-DD`` of ``posts.created_at``) and platform, with the
  counts of its post-level sentiment labels (``post_sentiment``) and the sum of their scores;
- ``brand = <name>``: the posts naming that brand (``post_mentions``; a post naming it twice counts once, a
  post naming two brands counts once for each), with the sentiment toward the brand (``brand_sentiment``).

A post without a sentiment row (sentiment runs on English posts only) counts in ``posts`` and in none of
``positive``, ``neutral``, ``negative``, so a net sentiment is ``(positive - negative) / (positive + neutral
+ negative)``, and a mean score ``sentiment_sum / (positive + neutral + negative)``. When a post holds rows
of two annotator versions the first stored row is used (the runner keeps one version per post).

**Kept current, not rebuilt.** Triggers (migration 9, :mod:`store.rollup_marks`) and the annotation runner
(for the rows it inserts, one statement per batch) mark in ``rollup_dirty`` the (day, platform) keys every
write to posts, mentions or sentiment touches, deletions by prune, erase and forget included.
:func:`rebuild_brand_daily` recomputes only those keys (their posts read through the (platform, created_at)
index), then clears their mark (its own bit of the key's mask: the other rollups' and the trend step's bits
stay for them; migration 10 added the trend step's), in one transaction; with nothing marked it writes
nothing. When at least :data:`FULL_SHARE` of the table's keys are marked (migration 9 marks them all) it
rebuilds the table whole, reading the posts in table order. :func:`refresh` is that bookkeeping for any
rollup; :mod:`nlp.topics.daily` uses it too.

Measured on the synthetic world of ``bench/dashboard_bench.py`` (1,000,000 posts, 1,020,000 mentions; a
shared 2-core machine at load average 4-5): a rebuild from scratch took 19 s and writes 2,774 rows (6.1 s
when re-measured at load 3-5, the database in the page cache). With nothing marked, a run reads two counts
(under 10 ms); after a new day of 2,739 posts with their annotations it recomputes that day in 0.06 s.

:func:`rollup_select` is the aggregation with a condition on the posts, for readers that want it on the raw
tables (the dashboard's raw mode, the benchmark, tests).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Literal

import sqlite_utils

from store.rollup_marks import ROLLUP_BITS
from store.transactions import transaction

__all__ = [
    "ALL_POSTS", "COLUMNS", "FULL_SHARE", "all_posts_select", "brand_daily_sql", "brand_posts_select",
    "clear_stale", "delete_stale", "rebuild_brand_daily", "refresh", "refresh_plan", "rollup_select",
    "stale_posts",
]  # fmt: skip

#: The columns of ``brand_daily`` in the order :func:`rollup_select` returns them.
COLUMNS = ("day", "platform", "brand", "posts", "positive", "neutral", "negative", "sentiment_sum")

#: From this share of a rollup's (day, platform) keys marked stale, the whole table is rebuilt. A post read
#: through the index on a marked key costs about 6 times one read in a full pass in table order (1,000,000
#: posts: 5% of the keys 1.8 s, all of them 35 s, a full rebuild 6.1 s), so the two meet near 15%.
FULL_SHARE = 0.15

#: The posts read by a full rebuild: in table order (NOT INDEXED), since through the (platform, created_at)
#: index each row would be a random read of the table for its id (measured 4x slower on 1M posts).
ALL_POSTS = "posts AS p NOT INDEXED"

# Every post with its first post-level sentiment row (a primary-key probe per post).
_ALL_POSTS = """
SELECT substr(p.created_at, 1, 10) AS day, p.platform AS platform, '' AS brand, count(*) AS posts,
       CAST(total(s.label = 'positive') AS INTEGER) AS positive,
       CAST(total(s.label = 'neutral') AS INTEGER) AS neutral,
       CAST(total(s.label = 'negative') AS INTEGER) AS negative, total(s.score) AS sentiment_sum
FROM {posts}
LEFT JOIN post_sentiment AS s
    ON s.rowid = (SELECT min(x.rowid) FROM post_sentiment AS x WHERE x.post_id = p.id)
{where}
GROUP BY day, p.platform"""

# Each (post, brand) pair once (its first mention row), with the first sentiment row toward that brand; the
# posts' mentions and sentiment by primary key (post_id first: ``+brand`` keeps SQLite off the brand indexes,
# which would scan every row of a brand).
_BRAND_POSTS = """
SELECT substr(p.created_at, 1, 10) AS day, p.platform AS platform, m.brand AS brand, count(*) AS posts,
       CAST(total(b.label = 'positive') AS INTEGER) AS positive,
       CAST(total(b.label = 'neutral') AS INTEGER) AS neutral,
       CAST(total(b.label = 'negative') AS INTEGER) AS negative, total(b.score) AS sentiment_sum
FROM {posts}
JOIN post_mentions AS m ON m.post_id = p.id
LEFT JOIN brand_sentiment AS b
    ON b.rowid = (
        SELECT min(x.rowid) FROM brand_sentiment AS x WHERE x.post_id = m.post_id AND +x.brand = m.brand
    )
WHERE m.rowid = (
    SELECT min(y.rowid) FROM post_mentions AS y WHERE y.post_id = m.post_id AND +y.brand = m.brand
)
{where}
GROUP BY day, p.platform, m.brand"""


def stale_posts(rollup: str) -> str:
    """A FROM clause of the posts (alias ``p``) on the keys marked stale for ``rollup``: each marked (day,
    platform) of ``rollup_dirty`` (alias ``d``) first, then its posts through the (platform, created_at)
    index (CROSS JOIN fixes that order)."""
    return (
        f"rollup_dirty AS d CROSS JOIN posts AS p ON d.rollups & {ROLLUP_BITS[rollup]}"
        " AND p.platform = d.platform AND p.created_at >= d.day AND p.created_at < date(d.day, '+1 day')"
    )


def all_posts_select(where: str = "", *, posts: str = ALL_POSTS) -> str:
    """The SELECT of the ``brand = ''`` rows (columns :data:`COLUMNS`) from the raw tables.

    ``where``: an SQL condition on the posts (alias ``p``), e.g. ``"p.created_at >= :since"``; the caller
    binds its parameters. Empty: every post. ``posts``: the FROM clause naming them ``p`` (every post in
    table order, or :func:`stale_posts`).
    """
    return _ALL_POSTS.format(posts=posts, where=f"WHERE {where}" if where else "")


def brand_posts_select(where: str = "", *, posts: str = ALL_POSTS) -> str:
    """The SELECT of the brand rows (columns :data:`COLUMNS`) from the raw tables; arguments as above."""
    return _BRAND_POSTS.format(posts=posts, where=f"AND {where}" if where else "")


def rollup_select(where: str = "", *, posts: str = ALL_POSTS) -> str:
    """Every ``brand_daily`` row from the raw tables; arguments as in :func:`all_posts_select`."""
    return all_posts_select(where, posts=posts) + "\nUNION ALL" + brand_posts_select(where, posts=posts)


def _stale_count(conn: sqlite3.Connection, rollup: str) -> int:
    bit = ROLLUP_BITS[rollup]
    return conn.execute(f"SELECT count(*) FROM rollup_dirty WHERE rollups & {bit}").fetchone()[0]


def refresh_plan(
    conn: sqlite3.Connection, rollup: str, *, full: bool = False
) -> Literal["full", "keys"] | None:
    """How to bring the table ``rollup`` up to date: ``"full"`` (rebuild it whole: asked, or at least
    :data:`FULL_SHARE` of its (day, platform) keys marked stale), ``"keys"`` (recompute the marked keys) or
    None (nothing marked: nothing to do)."""
    if full:
        return "full"
    stale = _stale_count(conn, rollup)
    if not stale:
        return None
    (keys,) = conn.execute(f"SELECT count(*) FROM (SELECT DISTINCT day, platform FROM {rollup})").fetchone()
    return "full" if stale >= FULL_SHARE * keys else "keys"


def delete_stale(conn: sqlite3.Connection, rollup: str) -> None:
    """Delete the rows of the table ``rollup`` whose (day, platform) is marked stale for it."""
    conn.execute(
        f"DELETE FROM {rollup} WHERE (day, platform) IN"
        f" (SELECT day, platform FROM rollup_dirty WHERE rollups & {ROLLUP_BITS[rollup]})"
    )


def clear_stale(conn: sqlite3.Connection, rollup: str) -> None:
    """Unmark every key of ``rollup`` (call in the transaction that brought it up to date)."""
    bit = ROLLUP_BITS[rollup]
    conn.execute(f"UPDATE rollup_dirty SET rollups = rollups & ~{bit} WHERE rollups & {bit}")
    conn.execute("DELETE FROM rollup_dirty WHERE rollups = 0")


def refresh(conn: sqlite3.Connection, rollup: str, insert: Callable[..., str], *, full: bool = False) -> bool:
    """Bring the table ``rollup`` up to date inside the caller's write transaction; return whether it wrote.

    Following :func:`refresh_plan`: deletes the whole table or the marked keys' rows, runs the INSERT that
    ``insert(stale=...)`` returns (``stale``: of the posts on marked keys only), then clears the marks.
    """
    plan = refresh_plan(conn, rollup, full=full)
    if plan is None:
        return False
    if plan == "full":
        conn.execute(f"DELETE FROM {rollup}")
    else:
        delete_stale(conn, rollup)
    conn.execute(insert(stale=plan == "keys"))
    clear_stale(conn, rollup)
    return True


def brand_daily_sql(*, stale: bool) -> str:
    """The INSERT of ``brand_daily`` rows: of every post, or (``stale``) of the posts on marked keys."""
    posts = stale_posts("brand_daily") if stale else ALL_POSTS
    return f"INSERT INTO brand_daily ({', '.join(COLUMNS)}) {rollup_select(posts=posts)}"


def rebuild_brand_daily(db: sqlite_utils.Database, *, full: bool = False) -> int:
    """Bring ``brand_daily`` up to date in one transaction; return its rows.

    Recomputes the (day, platform) keys marked stale, or the whole table when ``full`` (``analyze --refit``)
    or when many keys are marked (see :func:`refresh_plan`); with nothing marked it only counts the rows.
    """
    if refresh_plan(db.conn, "brand_daily", full=full) is not None:
        with transaction(db) as conn:
            refresh(conn, "brand_daily", brand_daily_sql, full=full)  # plans again, under the write lock
    return db.conn.execute("SELECT count(*) FROM brand_daily").fetchone()[0]
