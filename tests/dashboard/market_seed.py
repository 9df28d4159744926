"""A small, hand-made analysed world for the brand pages (Overview, Topics, Emerging, Competitors).

56 days of posts (2026-08-01 to 2026-09-25) on X and Reddit about three topics, naming Nimbus Mobile (the own
brand), Volt Mobile and Titan Telecom; the third topic ("satellite sos") quadruples in the last week and is
flagged emerging with its need theme and a term. Every row the pages read is written directly (sentiment,
mentions, topics with a saved model, need themes with vectors so the competitor gap can be computed, the
emerging flags, switching intents, collection runs), then the rollups are rebuilt by the real writers (and
the trend step's marks cleared: the flags written stand for its run). One
post carries hostile text (``HOSTILE_TEXT``) and is its topic's most central post and its theme's newest need.
Writing it takes well under a second, so tests never run ``analyze``.

:func:`market_app` is the app shell the tests drive: the four brand pages in ``st.navigation`` after
:func:`dashboard.filters.sidebar_filters` in the sidebar, as ``dashboard/app.py`` wires them, without the
login gate and the people pages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

import dashboard
from nlp.brand_daily import clear_stale, rebuild_brand_daily
from nlp.topics.daily import rebuild_daily
from nlp.topics.model import Topic, TopicModel
from store import Post, open_db, transaction, upsert_posts

OWN = "Nimbus Mobile"
FIRST_DAY = date(2026, 8, 1)
DAYS = 56
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
TOPICS = {0: "esim activation", 1: "roaming prices", 2: "satellite sos"}
THEMES = {0: "esim for smartwatches", 1: "sos via satellite"}
BRANDS = ("Nimbus Mobile", "Volt Mobile", "Titan Telecom")
MODEL = "topics.test.v1@1"
#: Would run script or render as formatting if post text were ever shown as HTML or Markdown.
HOSTILE_TEXT = (
    "<script>window.__xss=1</script> **bold** [esim deal](javascript:window.__xss=1) "
    '<img src=x onerror="window.__xss=1"> # heading Nimbus Mobile esim'
)


PAGES_DIR = Path(dashboard.__file__).with_name("views")
PAGES = ("overview", "topics", "emerging", "competitors")
APP_SHELL = f"""
import streamlit as st
from dashboard.filters import sidebar_filters
navigation = st.navigation(
    [st.Page({str(PAGES_DIR)!r} + "/" + name + ".py", default=name == "overview") for name in {PAGES!r}]
)
with st.sidebar:
    sidebar_filters()
navigation.run()
"""


def market_app(page: str = "overview", query: dict | None = None) -> AppTest:
    """The brand pages' app on ``page`` with URL parameters ``query``, run once."""
    app = AppTest.from_string(APP_SHELL, default_timeout=60)
    app.query_params.update(query or {})
    app.run()
    if page != "overview":
        app.switch_page(str(PAGES_DIR / f"{page}.py")).run()
    return app


@dataclass(frozen=True)
class Seeded:
    """What the world holds, for assertions: posts per platform, posts naming each brand."""

    path: Path
    posts: dict[str, int]
    mentions: dict[str, int]


def _text(topic: int, brands: tuple[str, ...], n: int) -> str:
    words = {0: "esim activation failed again", 1: "roaming prices abroad", 2: "satellite sos saved a hiker"}
    return f"{' and '.join(brands)}: {words[topic]} #{n}"


def _plan() -> list[tuple[Post, int, tuple[str, ...]]]:
    """Every post with its topic and the brands it names."""
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, 8, tzinfo=UTC)
    planned, n = [], 0
    for day in range(DAYS):
        per_topic = {0: 4, 1: 3, 2: 1 if day < DAYS - 7 else 4}
        for topic, count in per_topic.items():
            for _ in range(count):
                n += 1
                brands = (BRANDS[n % 3],) if n % 5 else (BRANDS[n % 3], BRANDS[(n + 1) % 3])
                platform = "x" if n % 3 else "reddit"
                when = start + timedelta(days=day, minutes=7 * n % 600)
                planned.append(
                    (
                        Post(platform, f"m{n}", _text(topic, brands, n), when, author_handle=f"u{n % 17}"),
                        topic,
                        brands,
                    )
                )
    hostile = Post(
        "x", "hostile", HOSTILE_TEXT, start + timedelta(days=DAYS - 1, hours=12), author_handle="mallory"
    )
    planned.append((hostile, 0, (OWN,)))
    return planned


def _sentiment(n: int, brand: str, topic: int) -> tuple[str, float]:
    """Volt is praised for esim (the competitor gap); Nimbus gets more complaints; the rest cycles."""
    if brand == "Volt Mobile" and topic == 0:
        return "positive", 0.8
    cycle = ("negative", "neutral", "positive") if brand != OWN else ("negative", "negative", "neutral")
    label = cycle[n % 3]
    return label, {"negative": -0.7, "neutral": 0.0, "positive": 0.7}[label]


def _annotate(conn, planned) -> None:
    """Sentiment, mentions, topics, embeddings and needs of every post."""
    for n, (post, topic, brands) in enumerate(planned):
        label, score = _sentiment(n, brands[0], topic)
        conn.execute(
            "INSERT INTO post_sentiment VALUES (?, ?, ?, 'sentiment.test.v1')", (post.id, label, score)
        )
        for brand in brands:
            at = post.text.index(brand)
            conn.execute(
                "INSERT INTO post_mentions VALUES (?, ?, ?, ?, ?, 'mentions.test.v1')",
                (post.id, brand, brand, at, at + len(brand)),
            )
            brand_label, brand_score = _sentiment(n, brand, topic)
            conn.execute(
                "INSERT INTO brand_sentiment VALUES (?, ?, ?, ?, 'brand_sentiment.test.v1')",
                (post.id, brand, brand_label, brand_score),
            )
        score = 0.99 if post.native_id == "hostile" else 0.5 + (n % 40) / 100
        conn.execute("INSERT INTO post_topics VALUES (?, ?, ?, ?)", (post.id, topic, score, MODEL))
        vector = np.eye(4, dtype=np.float32)[topic].tobytes()
        conn.execute(
            "INSERT INTO post_embeddings VALUES (?, 'hash', 4, ?, 'embeddings.test.v1')", (post.id, vector)
        )
        if topic in (0, 2):
            theme = 0 if topic == 0 else 1
            conn.execute(
                "INSERT INTO post_needs VALUES (?, 'request', ?, 0, 10, ?, 'needs.test.v1')",
                (post.id, THEMES[theme], brands[0]),
            )
            conn.execute(
                "INSERT INTO post_need_themes VALUES (?, 0, ?, 0.9, 'themes.test.v1')", (post.id, theme)
            )


def _clusters(conn, folder: Path) -> None:
    """The topics and themes, the active topic model (saved to files) and its row."""
    now = "2026-09-26T00:00:00Z"
    for table, column, names in (("topics", "topic_id", TOPICS), ("need_themes", "theme_id", THEMES)):
        for key, label in names.items():
            terms = json.dumps([[word, 0.1 - 0.01 * i] for i, word in enumerate(label.split())])
            conn.execute(
                f"INSERT INTO {table} ({column}, label, terms, size, status, born_model, last_model,"
                " updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
                (key, label, terms, 100 + 50 * key, MODEL, MODEL, now),
            )
    topics = tuple(
        Topic(key, label, ((label.split()[0], 0.1),), 100 + 50 * key) for key, label in TOPICS.items()
    )
    TopicModel(MODEL, "hash", topics, np.eye(3, 4, dtype=np.float32), 0.1).save(folder / "topics" / "v1")
    conn.execute(
        "INSERT INTO cluster_models VALUES"
        " (?, 'topic', 'topics.test.v1', ?, 100, 3, 0, 0, 1, 'topics/v1', '{}', 1)",
        (MODEL, now),
    )


def _signals(conn) -> None:
    """Emerging flags, switching intents and collection runs."""
    drivers = {
        "drivers": [["satellite sos", 28, 6.5], ["hiker", 20, 4.0]],
        "brands": {OWN: 12, "Volt Mobile": 9},
    }
    for back in range(5):
        day = (LAST_DAY - timedelta(days=back)).isoformat()
        for kind, key in (("topic", "2"), ("theme", "1"), ("term", "satellite sos")):
            explanation = drivers if kind != "term" else {"brands": drivers["brands"]}
            conn.execute(
                "INSERT INTO emerging VALUES (?, ?, ?, 28, 6.5, 4.3, 1e-6, 1e-4, ?, ?)",
                (kind, key, day, json.dumps(explanation), day),
            )
    posts = conn.execute("SELECT id FROM posts WHERE id LIKE 'x:m%' ORDER BY created_at").fetchall()
    for n, (post_id,) in enumerate(posts[::9]):
        source, target = (OWN, "Volt Mobile") if n % 3 else ("Titan Telecom", OWN)
        conn.execute(
            "INSERT INTO post_intents VALUES (?, 'switching', ?, ?, 'switching to', 'intents.test.v1')",
            (post_id, source, target),
        )
    runs = [
        ("x", "ok", None, "2026-09-25T10:00:00Z"),
        ("reddit", "ok", None, "2026-09-24T10:00:00Z"),
        ("reddit", "failed", "HTTP 503 from the API", "2026-09-25T10:00:00Z"),
    ]
    for source, status, error, started in runs:
        conn.execute(
            "INSERT INTO collection_runs (source, query, started_at, finished_at, status, error)"
            " VALUES (?, 'telecom', ?, ?, ?, ?)",
            (source, started, started, status, error),
        )


def seed_market_world(db_path: Path) -> Seeded:
    """Write the world to a new database at ``db_path`` (and ``tasteradar.toml`` naming the own brand)."""
    planned = _plan()
    db = open_db(db_path)
    try:
        upsert_posts(db, [post for post, _, _ in planned], source="test")
        with transaction(db) as conn:
            _annotate(conn, planned)
            _clusters(conn, db_path.parent / "models")
            _signals(conn)
        rebuild_daily(db)
        rebuild_brand_daily(db)
        with transaction(db) as conn:  # the emerging rows written above stand for the trend step's run
            clear_stale(conn, "emerging")
    finally:
        db.close()
    db_path.with_name("tasteradar.toml").write_text(f'[brand]\nname = "{OWN}"\n', encoding="utf-8")
    posts: dict[str, int] = {}
    mentions: dict[str, int] = {}
    for post, _, brands in planned:
        posts[post.platform] = posts.get(post.platform, 0) + 1
        for brand in brands:
            mentions[brand] = mentions.get(brand, 0) + 1
    return Seeded(db_path, posts, mentions)
