"""A small planted world for the micro-segment tests: customers in two broad segments, consented links, posts
with topics, need themes and sentiment, and an audience of unlinked authors.

Each planted micro-segment has its own data volume and roaming days in the CRM and its own topics and need
theme in posts; every other customer is linked (5 posts each), the rest have CRM fields only. Topic 0 is
generic (everyone posts in it). Audience authors (4 posts each) follow two planted interests.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from store import Customer, Post, transaction, upsert_customers, upsert_posts


@dataclass(frozen=True)
class Planted:
    """One planted micro-segment: CRM usage and what its members post about."""

    name: str
    broad: str
    data_gb: float
    roaming_days: int
    topics: tuple[int, ...]
    need: int


PLANTED = (
    Planted("travellers", "alpha", 20.0, 14, (1, 2), 1),
    Planted("gamers", "alpha", 45.0, 1, (3, 4), 2),
    Planted("savers", "alpha", 4.0, 1, (5, 6), 3),
    Planted("shops", "beta", 8.0, 1, (7, 8), 4),
    Planted("remote", "beta", 40.0, 1, (9, 10), 5),
)
TOPIC_LABELS = {
    0: "bill, price", 1: "roaming pass, travel", 2: "airport, lounge", 3: "ping, gaming", 4: "ranked, lag",
    5: "cheap deal, sim only", 6: "promo, switch", 7: "card reader, shop", 8: "vat invoice, staff",
    9: "zoom calls, laptop", 10: "hotspot, coworking", 11: "stream, obs", 12: "live, upload",
}  # fmt: skip
NEED_LABELS = {
    1: "roaming pass", 2: "low latency gaming", 3: "no-contract deal", 4: "vat invoices", 5: "hotspot",
    6: "upload speed",
}  # fmt: skip
#: A micro-segment that appears in a later run of some tests.
STREAMERS = Planted("streamers", "alpha", 90.0, 1, (11, 12), 6)
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
TOPIC_MODEL, THEME_MODEL, SENTIMENT = "topics.test.v1@1", "themes.test.v1@1", "sentiment.test.v1"


def _customer(rng: random.Random, cid: str, planted: Planted) -> Customer:
    return Customer(
        cid, planted.broad, rng.choice(["Basic", "Plus"]), rng.choice(["monthly", "24-month"]),
        rng.randint(1, 60), round(rng.uniform(10, 50), 2), None, rng.random() < 0.2,
        {"data_gb": round(planted.data_gb * rng.lognormvariate(0, 0.15), 1),
         "roaming_days_90d": int(planted.roaming_days * rng.lognormvariate(0, 0.2)),
         "region": rng.choice(["North", "South"]), "autopay": rng.random() < 0.5,
         "churn_flag": "no", "rare_note": "x" if rng.random() < 0.1 else None},
    )  # fmt: skip


def _posts(
    rng: random.Random, native: str, planted: Planted, count: int, tag: str
) -> list[tuple[Post, int, int]]:
    """``count`` posts of one author, each with its topic and need theme (-1 for none)."""
    out = []
    for number in range(count):
        topic = 0 if number == 0 else rng.choice(planted.topics)
        need = planted.need if number % 2 else -1
        when = START + timedelta(days=rng.randint(0, 60), hours=number)
        text = f"{TOPIC_LABELS[topic]} post {number} by {native}"
        out.append(
            (
                Post("x", f"{tag}{native}-{number}", text, when, author_id=native, author_handle=native),
                topic,
                need,
            )
        )
    return out


def seed_world(
    db,
    *,
    seed: int = 0,
    per_segment: int = 40,
    planted: tuple[Planted, ...] = PLANTED,
    first: int = 1,
    audience: bool = True,
) -> dict[str, str]:
    """Write the world into ``db``; return the planted micro-segment of every customer and audience author.

    Customer ids are ``C-<number>`` from ``first``; linked customers post as author ``x:u<number>``.
    """
    rng = random.Random(seed)
    truth: dict[str, str] = {}
    customers, posts, links = [], [], []
    number = first
    for segment in planted:
        for _ in range(per_segment):
            cid = f"C-{number:04d}"
            customers.append(_customer(rng, cid, segment))
            truth[cid] = segment.name
            if number % 2 == 0:
                posts += _posts(rng, f"u{number}", segment, 5, "p")
                links.append((f"x:u{number}", cid))
            number += 1
    if audience:
        for index in range(50):
            segment = planted[0] if index % 2 else planted[-1]
            posts += _posts(rng, f"a{first}-{index}", segment, 4, "q")
            truth[f"x:a{first}-{index}"] = segment.name
    upsert_customers(db, customers)
    upsert_posts(db, [post for post, _, _ in posts])
    _annotate(db, posts, links)
    return truth


def _annotate(db, posts: list[tuple[Post, int, int]], links: list[tuple[str, str]]) -> None:
    with transaction(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO customer_links (author_id, customer_id, platform, linked_at)"
            " VALUES (?, ?, 'x', ?)",
            [(author, cid, "2026-06-01T00:00:00Z") for author, cid in links],
        )
        for post, topic, need in posts:
            conn.execute("INSERT INTO post_topics VALUES (?, ?, 0.9, ?)", (post.id, topic, TOPIC_MODEL))
            if need >= 0:
                conn.execute(
                    "INSERT INTO post_need_themes VALUES (?, 0, ?, 0.9, ?)", (post.id, need, THEME_MODEL)
                )
            score = -0.5 if topic == 0 else 0.4
            label = "negative" if score < 0 else "positive"
            conn.execute("INSERT INTO post_sentiment VALUES (?, ?, ?, ?)", (post.id, label, score, SENTIMENT))
            conn.execute(
                "INSERT INTO annotation_runs VALUES (?, 'sentiment.test', 1, 'f', 'h', ?)",
                (post.id, "2026-06-01T00:00:00Z"),
            )
        _models(conn)


def _models(conn) -> None:
    """The active topic and theme models and their clusters (idempotent)."""
    for version, kind in ((TOPIC_MODEL, "topic"), (THEME_MODEL, "theme")):
        conn.execute(
            "INSERT OR IGNORE INTO cluster_models VALUES (?, ?, ?, ?, 1, 1, 0, 0, 0, 'x', '{}', 1)",
            (version, kind, version.split("@")[0], "2026-06-01T00:00:00Z"),
        )
    for table, column, labels, model in (
        ("topics", "topic_id", TOPIC_LABELS, TOPIC_MODEL),
        ("need_themes", "theme_id", NEED_LABELS, THEME_MODEL),
    ):
        conn.executemany(
            f"INSERT OR IGNORE INTO {table} ({column}, label, terms, size, status, born_model, last_model,"
            " updated_at) VALUES (?, ?, '[]', 1, 'active', ?, ?, '2026-06-01T00:00:00Z')",
            [(key, label, model, model) for key, label in labels.items()],
        )
