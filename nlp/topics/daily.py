"""The daily rollups of topics and need themes that the dashboard and the exports read.

``topic_daily``: posts per UTC day (``YYYY-MM-DD`` of ``posts.created_at``), platform, topic and brand
mentioned (``''`` for a post naming no configured brand; a post naming two brands counts once for each), with
the sentiment toward that brand (``brand_sentiment``) or else the post's (``post_sentiment``).
``theme_daily``: need rows per day, platform, theme and the brand the need is raised against, with the post's
sentiment. Summing over ``platform`` gives the figures of every platform.

Both are kept current like ``brand_daily`` (:mod:`nlp.brand_daily`): triggers and the annotation runner
(:mod:`store.rollup_marks`) mark the (day, platform) keys that writes to posts, mentions, sentiment, topic
assignments, needs or theme assignments touch, and
:func:`rebuild_daily` recomputes only those keys (a GROUP BY over their posts, read through the (platform,
created_at) index) in one transaction, or the whole table when asked (``analyze --refit``) or when many keys
are marked (see :data:`nlp.brand_daily.FULL_SHARE`: a refit that moves posts between topics on most days, the
first run after migration 9). With nothing marked it writes nothing. A rebuild from scratch is well under a
second on the demo world; on the 1,000,000 posts of ``bench/dashboard_bench.py`` it takes 6.6 s (19 s right
after the world is written, its WAL not yet checkpointed), a new day of 2,739 posts 0.05 s, and a run with
nothing marked under 10 ms.
"""

from __future__ import annotations

import sqlite_utils

from nlp.brand_daily import refresh, refresh_plan, stale_posts
from store.transactions import transaction

__all__ = ["TABLES", "rebuild_daily", "theme_daily_sql", "topic_daily_sql"]

#: The rollups :func:`rebuild_daily` keeps.
TABLES = ("topic_daily", "theme_daily")

# Each (post, brand) pair is labelled once (MATERIALIZED: the label feeds three sums) and its brand sentiment
# is looked up by post (``+b.brand`` keeps SQLite off the brand index, which would scan a brand's rows).
_TOPIC_DAILY_SQL = """
WITH labelled AS MATERIALIZED (
    SELECT day, platform, topic_id, brand,
           COALESCE(
               (SELECT b.label FROM brand_sentiment AS b
                WHERE b.post_id = pairs.post_id AND +b.brand = pairs.brand LIMIT 1),
               (SELECT s.label FROM post_sentiment AS s WHERE s.post_id = pairs.post_id LIMIT 1)
           ) AS label
    FROM (
        SELECT DISTINCT t.post_id AS post_id, t.topic_id AS topic_id, substr(p.created_at, 1, 10) AS day,
               p.platform AS platform, COALESCE(m.brand, '') AS brand
        FROM {source}
        LEFT JOIN post_mentions AS m ON m.post_id = t.post_id
    ) AS pairs
)
INSERT INTO topic_daily (day, platform, topic_id, brand, posts, positive, neutral, negative)
SELECT day, platform, topic_id, brand, count(*),
       total(label = 'positive'), total(label = 'neutral'), total(label = 'negative')
FROM labelled
GROUP BY day, platform, topic_id, brand"""

_THEME_DAILY_SQL = """
WITH labelled AS MATERIALIZED (
    SELECT substr(p.created_at, 1, 10) AS day, p.platform AS platform, t.theme_id AS theme_id,
           COALESCE(n.brand, '') AS brand,
           (SELECT s.label FROM post_sentiment AS s WHERE s.post_id = t.post_id LIMIT 1) AS label
    FROM {source}
    LEFT JOIN post_needs AS n ON n.post_id = t.post_id AND n.start_char = t.start_char
)
INSERT INTO theme_daily (day, platform, theme_id, brand, needs, positive, neutral, negative)
SELECT day, platform, theme_id, brand, count(*),
       total(label = 'positive'), total(label = 'neutral'), total(label = 'negative')
FROM labelled
GROUP BY day, platform, theme_id, brand"""


def _source(rollup: str, assignments: str, *, stale: bool) -> str:
    """The rows a rollup reads: every ``assignments`` row (alias ``t``) with its post (``p``), or (``stale``)
    those of the posts on the keys marked for ``rollup``, read through the (platform, created_at) index."""
    if stale:
        return f"{stale_posts(rollup)} JOIN {assignments} AS t ON t.post_id = p.id"
    return f"{assignments} AS t JOIN posts AS p ON p.id = t.post_id"


def topic_daily_sql(*, stale: bool) -> str:
    """The INSERT of ``topic_daily`` rows: of every assignment, or (``stale``) of the posts on marked keys."""
    return _TOPIC_DAILY_SQL.format(source=_source("topic_daily", "post_topics", stale=stale))


def theme_daily_sql(*, stale: bool) -> str:
    """The INSERT of ``theme_daily`` rows: of every need assignment, or (``stale``) those on marked keys."""
    return _THEME_DAILY_SQL.format(source=_source("theme_daily", "post_need_themes", stale=stale))


_INSERTS = {"topic_daily": topic_daily_sql, "theme_daily": theme_daily_sql}


def rebuild_daily(db: sqlite_utils.Database, *, full: bool = False) -> dict[str, int]:
    """Bring both rollups up to date in one transaction; return the rows of each table.

    Per table: the (day, platform) keys marked stale are recomputed, or the whole table when ``full`` or
    when many keys are marked (:func:`nlp.brand_daily.refresh_plan`); with nothing marked nothing is written.
    """
    if full or any(refresh_plan(db.conn, table) for table in TABLES):
        with transaction(db) as conn:
            for table in TABLES:
                refresh(conn, table, _INSERTS[table], full=full)  # plans again, under the write lock
    return {table: db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
