"""The topic table as export records (``tasteradar export topics``): labels, sizes, trend and lineage.

One record per topic ever issued (retired and merged ones included, with their status), in id order:

``topic_id, label, status, terms, posts, share, posts_7d, daily_rate_7d, daily_rate_baseline, growth,
net_sentiment, brands, segments, emerging_since, representative_posts, born_model, last_model, lineage``

- ``posts``: posts the active model assigns to it; ``share`` of all posts with a topic;
- the trend is counted at the latest day with posts: ``posts_7d`` over the last 7 days,
  ``daily_rate_7d`` their daily mean, ``daily_rate_baseline`` the daily mean of the 28 days before,
  ``growth`` the ratio of the two (null without a baseline);
- ``net_sentiment``: (positive - negative) / posts, all time; ``brands``: posts per brand mentioned;
- ``segments``: posts by customers linked through an opted-in handle, per broad CRM segment (aggregates
  only: no customer is named);
- ``emerging_since``: the first day of the current run of days the trend detector flags it (null if it is
  not flagged on the latest day evaluated);
- ``representative_posts``: ids of the posts nearest the topic's centroid (highest assignment score),
  one per distinct text, at most 5;
- ``lineage``: its events, oldest first, as ``event@model`` (``merged->7``, ``split<-3``: the related id).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from store.exports import Column

__all__ = [
    "BASELINE_DAYS", "TOPIC_COLUMNS", "WINDOW_DAYS", "day_offset", "representative_posts", "topic_records",
]  # fmt: skip

TOPIC_COLUMNS: tuple[Column, ...] = (
    Column("topic_id", "int"), Column("label"), Column("status"), Column("terms", "list"),
    Column("posts", "int"), Column("share", "float"), Column("posts_7d", "int"),
    Column("daily_rate_7d", "float"), Column("daily_rate_baseline", "float"), Column("growth", "float"),
    Column("net_sentiment", "float"), Column("brands", "map"), Column("segments", "map"),
    Column("emerging_since"),
    Column("representative_posts", "list"),
    Column("born_model"), Column("last_model"), Column("lineage", "list"),
)  # fmt: skip

WINDOW_DAYS = 7
BASELINE_DAYS = 28


def day_offset(text: str, offset: int) -> str:
    """The ISO day ``offset`` days after ``text`` (an ISO day)."""
    return (date.fromisoformat(text) + timedelta(days=offset)).isoformat()


def _empty() -> dict:
    return {"pos": 0, "neg": 0, "n": 0, "w": 0, "b": 0, "brands": {}}


def _stats(conn: sqlite3.Connection) -> dict[int, dict]:
    """Per topic: posts and their sentiment (all time), posts per brand, posts in the window and baseline."""
    stats: dict[int, dict] = defaultdict(_empty)
    for topic, posts, positive, negative in conn.execute(
        "SELECT t.topic_id, count(*), sum(s.label = 'positive'), sum(s.label = 'negative')"
        " FROM post_topics AS t LEFT JOIN post_sentiment AS s ON s.post_id = t.post_id GROUP BY 1"
    ):
        stats[topic].update(n=posts, pos=positive or 0, neg=negative or 0)
    for topic, brand, posts in conn.execute(
        "SELECT topic_id, brand, sum(posts) FROM topic_daily WHERE brand != '' GROUP BY 1, 2"
    ):
        stats[topic]["brands"][brand] = posts
    per_day = conn.execute(
        "SELECT t.topic_id, substr(p.created_at, 1, 10), count(*) FROM post_topics AS t"
        " JOIN posts AS p ON p.id = t.post_id GROUP BY 1, 2"
    ).fetchall()
    if not per_day:
        return stats
    last = max(day for _, day, _ in per_day)
    window_start, baseline_start = (
        day_offset(last, 1 - WINDOW_DAYS),
        day_offset(last, 1 - WINDOW_DAYS - BASELINE_DAYS),
    )
    for topic, day, posts in per_day:
        if day >= window_start:
            stats[topic]["w"] += posts
        elif day >= baseline_start:
            stats[topic]["b"] += posts
    return stats


#: Posts of customers linked through an opted-in handle, per topic and broad CRM segment.
_SEGMENTS_SQL = """
SELECT t.topic_id, c.broad_segment, count(*)
FROM customer_links AS l JOIN authors AS a ON a.id = l.author_id
JOIN posts AS p ON p.author_id = a.native_id AND p.platform = a.platform
JOIN post_topics AS t ON t.post_id = p.id
JOIN customers AS c ON c.customer_id = l.customer_id
WHERE t.topic_id >= 0 AND c.broad_segment IS NOT NULL
GROUP BY 1, 2"""


def _segments(conn: sqlite3.Connection) -> dict[int, dict[str, str]]:
    """Per topic: posts of linked customers per broad segment (counts as text, like ``brands``)."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for topic, broad, posts in conn.execute(_SEGMENTS_SQL):
        found[topic][broad] = str(posts)
    return found


def _lineage(conn: sqlite3.Connection) -> dict[int, list[str]]:
    events: dict[int, list[str]] = defaultdict(list)
    marks = {"merged": "->", "split": "<-"}
    for cluster, event, related, version in conn.execute(
        "SELECT cluster_id, event, related, model_version FROM cluster_lineage"
        " WHERE kind = 'topic' ORDER BY id"
    ):
        ids = json.loads(related)
        suffix = marks.get(event, "") + ",".join(map(str, ids)) if event in marks and ids else ""
        events[cluster].append(f"{event}{suffix}@{version}")
    return events


def _emerging_since(conn: sqlite3.Connection) -> dict[int, str]:
    """Topics flagged on the latest evaluated day, with the first day of their unbroken run of flags."""
    (last,) = conn.execute("SELECT max(day) FROM emerging").fetchone()
    if last is None:
        return {}
    flagged: dict[str, set[str]] = defaultdict(set)
    for key, day in conn.execute("SELECT key, day FROM emerging WHERE kind = 'topic'"):
        flagged[key].add(day)
    since = {}
    for key, days in flagged.items():
        if last not in days:
            continue
        start = last
        while day_offset(start, -1) in days:
            start = day_offset(start, -1)
        since[int(key)] = start
    return since


def representative_posts(conn: sqlite3.Connection, topic_id: int, n: int = 5) -> list[str]:
    """Ids of the ``n`` posts nearest the topic's centroid, one per distinct text."""
    seen, found = set(), []
    for post_id, text in conn.execute(
        "SELECT t.post_id, p.text FROM post_topics AS t JOIN posts AS p ON p.id = t.post_id"
        " WHERE t.topic_id = ? ORDER BY t.score DESC LIMIT ?",
        [topic_id, n * 10],
    ):
        key = " ".join(text.lower().split())
        if key not in seen:
            seen.add(key)
            found.append(post_id)
        if len(found) == n:
            break
    return found


def topic_records(conn: sqlite3.Connection) -> Iterator[dict]:
    """One export record per topic (see the module docstring)."""
    stats, lineage, emerging, segments = _stats(conn), _lineage(conn), _emerging_since(conn), _segments(conn)
    total = sum(entry["n"] for topic, entry in stats.items() if topic >= 0) or 1
    rows = conn.execute(
        "SELECT topic_id, label, status, terms, born_model, last_model FROM topics ORDER BY topic_id"
    ).fetchall()
    for topic_id, label, status, terms, born, last in rows:
        entry = stats.get(topic_id) or _empty()
        rate_7d = entry["w"] / WINDOW_DAYS
        baseline = entry["b"] / BASELINE_DAYS
        yield {
            "topic_id": topic_id,
            "label": label,
            "status": status,
            "terms": [term for term, _ in json.loads(terms)],
            "posts": entry["n"],
            "share": round(entry["n"] / total, 6),
            "posts_7d": entry["w"],
            "daily_rate_7d": round(rate_7d, 4),
            "daily_rate_baseline": round(baseline, 4),
            "growth": round(rate_7d / baseline, 4) if baseline else None,
            "net_sentiment": round((entry["pos"] - entry["neg"]) / entry["n"], 4) if entry["n"] else None,
            "brands": {brand: str(count) for brand, count in sorted(entry["brands"].items())},
            "segments": dict(sorted(segments.get(topic_id, {}).items())),
            "emerging_since": emerging.get(topic_id),
            "representative_posts": representative_posts(conn, topic_id),
            "born_model": born,
            "last_model": last,
            "lineage": lineage.get(topic_id, []),
        }
