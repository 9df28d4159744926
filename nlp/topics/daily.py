"""The daily rollups of topics and need themes that the dashboard and the trend detector read.

``topic_daily``: posts per UTC day (``YYYY-MM-DD`` of ``posts.created_at``), topic and brand mentioned
(``''`` for a post naming no configured brand; a post naming two brands counts once for each), with the
sentiment toward that brand (``brand_sentiment``) or else the post's (``post_sentiment``). ``theme_daily``:
need rows per day, theme and the brand the need is raised against, with the post's sentiment. Both are
rebuilt whole in one transaction (a GROUP BY over the assignment tables: well under a second on the demo
world), so they always agree with the assignments they summarise.
"""

from __future__ import annotations

import sqlite_utils

from store.transactions import transaction

__all__ = ["rebuild_daily"]

# Each (post, brand) pair is labelled once (MATERIALIZED: the label feeds three sums) and its brand sentiment
# is looked up by post (``+b.brand`` keeps SQLite off the brand index, which would scan a brand's rows).
_TOPIC_DAILY_SQL = """
WITH labelled AS MATERIALIZED (
    SELECT day, topic_id, brand,
           COALESCE(
               (SELECT b.label FROM brand_sentiment AS b
                WHERE b.post_id = pairs.post_id AND +b.brand = pairs.brand LIMIT 1),
               (SELECT s.label FROM post_sentiment AS s WHERE s.post_id = pairs.post_id LIMIT 1)
           ) AS label
    FROM (
        SELECT DISTINCT t.post_id AS post_id, t.topic_id AS topic_id, substr(p.created_at, 1, 10) AS day,
               COALESCE(m.brand, '') AS brand
        FROM post_topics AS t
        JOIN posts AS p ON p.id = t.post_id
        LEFT JOIN post_mentions AS m ON m.post_id = t.post_id
    ) AS pairs
)
INSERT INTO topic_daily (day, topic_id, brand, posts, positive, neutral, negative)
SELECT day, topic_id, brand, count(*),
       total(label = 'positive'), total(label = 'neutral'), total(label = 'negative')
FROM labelled
GROUP BY day, topic_id, brand"""

_THEME_DAILY_SQL = """
WITH labelled AS MATERIALIZED (
    SELECT substr(p.created_at, 1, 10) AS day, t.theme_id AS theme_id, COALESCE(n.brand, '') AS brand,
           (SELECT s.label FROM post_sentiment AS s WHERE s.post_id = t.post_id LIMIT 1) AS label
    FROM post_need_themes AS t
    JOIN posts AS p ON p.id = t.post_id
    LEFT JOIN post_needs AS n ON n.post_id = t.post_id AND n.start_char = t.start_char
)
INSERT INTO theme_daily (day, theme_id, brand, needs, positive, neutral, negative)
SELECT day, theme_id, brand, count(*),
       total(label = 'positive'), total(label = 'neutral'), total(label = 'negative')
FROM labelled
GROUP BY day, theme_id, brand"""


def rebuild_daily(db: sqlite_utils.Database) -> dict[str, int]:
    """Rebuild both rollups from the assignments; return the rows written per table."""
    with transaction(db):
        db.conn.execute("DELETE FROM topic_daily")
        db.conn.execute(_TOPIC_DAILY_SQL)
        db.conn.execute("DELETE FROM theme_daily")
        db.conn.execute(_THEME_DAILY_SQL)
        return {
            table: db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("topic_daily", "theme_daily")
        }
