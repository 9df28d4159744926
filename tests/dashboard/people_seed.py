"""A small, hand-made world for the dashboard's people pages and the browser test.

Three customers: C-001 (opted in on X) and C-002 (opted in on Reddit) may be shown one by one; C-003 recorded
a handle *without* consent, yet is written into every per-person table (a link, a segment membership, a churn
score, an example post), as after a consent withdrawal that later stages have not caught up with: the pages
must still never show them. Audience authors post too, three of them hostile payloads (``XSS_TEXTS``).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from nlp.brand_daily import rebuild_brand_daily
from nlp.topics.daily import rebuild_daily
from store import (
    Customer,
    CustomerHandle,
    Post,
    open_db,
    transaction,
    upsert_customers,
    upsert_handles,
    upsert_posts,
)

NOW = "2026-07-30T12:00:00Z"
START = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
ANNOTATOR = "sentiment.test.v1"
#: Posts that would run script if post text were ever rendered as HTML or Markdown links.
XSS_TEXTS = (
    "<script>window.__xss=1</script> esim roaming is broken",
    '<img src=x onerror="window.__xss=1"> esim activation failed',
    "[free esim here](javascript:window.__xss=1) click me",
)
MARKDOWN_TEXT = "**esim** # not a heading _really_"
CUSTOMER_TEXTS = {
    "C-001": [
        "Volt Mobile has a cheaper esim deal, thinking of switching",
        "Nimbus Mobile streaming data cap again, so annoying",
        "love the Nimbus Mobile game pass, great esim support",
        "support call took an hour, still no fix",
        "wish Nimbus Mobile had unlimited gaming data",
        "ok the 5g is fast today",
    ],
    "C-002": [
        "Nimbus Mobile roaming in Spain was flawless",
        "paid too much this month",
        "esim swap was easy",
    ],
    "C-003": ["this customer did not consent: never show me", "esim question from the no-consent customer"],
}
AUDIENCE_TEXTS = [
    "which carrier has the best esim for travel",
    "Titan roaming prices are wild",
    "Volt Mobile coverage in the hills is bad",
    "Nimbus Mobile please add esim for smartwatches",
]


def _posts() -> tuple[list[Post], dict[str, str]]:
    """Every post, and which author each post id belongs to (``platform:native`` author ids)."""
    handles = {
        "C-001": ("x", "1001", "alice"),
        "C-002": ("reddit", "b1", "bob"),
        "C-003": ("x", "1003", "carol"),
    }
    posts, owners, number = [], {}, 0
    for customer, texts in CUSTOMER_TEXTS.items():
        platform, native, handle = handles[customer]
        for text in texts:
            number += 1
            when = START + timedelta(days=3 * number % 28, hours=number)
            posts.append(Post(platform, f"p{number}", text, when, author_id=native, author_handle=handle))
            owners[f"{platform}:p{number}"] = f"{platform}:{native}"
    audience = list(AUDIENCE_TEXTS) * 3 + list(XSS_TEXTS) + [MARKDOWN_TEXT]
    for index, text in enumerate(audience):
        number += 1
        native = f"20{index % 5}"
        when = START + timedelta(days=index % 29, hours=index)
        posts.append(Post("x", f"p{number}", text, when, author_id=native, author_handle=f"fan{index % 5}"))
        owners[f"x:p{number}"] = f"x:{native}"
    return posts, owners


def _customers() -> tuple[list[Customer], list[CustomerHandle]]:
    customers = [
        Customer("C-001", "prepaid youth", "Prepaid Unlimited", "monthly", 14, 25.0, 350.0, False),
        Customer("C-002", "prepaid youth", "Prepaid Basic", "12-month", 40, 15.0, 600.0, False),
        Customer("C-003", "prepaid youth", "Prepaid Basic", "monthly", 3, 15.0, 45.0, True),
    ]
    consented = date(2026, 1, 5)
    handles = [
        CustomerHandle("C-001", "x", "alice", True, "store-form", consented),
        CustomerHandle("C-002", "reddit", "bob", True, "app", consented),
        CustomerHandle("C-003", "x", "carol", False, None, None),
    ]
    return customers, handles


def _sentiment(text: str) -> tuple[str, float]:
    negative = ("annoying", "broken", "bad", "wild", "too much", "failed", "hour")
    positive = ("love", "flawless", "easy", "fast", "great")
    if any(word in text for word in negative):
        return "negative", -0.7
    if any(word in text for word in positive):
        return "positive", 0.8
    return "neutral", 0.05


def _annotations(conn, posts: list[Post]) -> None:
    """Sentiment, brand mentions, needs, one need theme and one topic for every post."""
    brands = ("Nimbus Mobile", "Volt Mobile", "Titan")
    for post in posts:
        label, score = _sentiment(post.text)
        conn.execute("INSERT INTO post_sentiment VALUES (?, ?, ?, ?)", (post.id, label, score, ANNOTATOR))
        for brand in brands:
            if brand in post.text:
                start = post.text.index(brand)
                conn.execute(
                    "INSERT INTO post_mentions VALUES (?, ?, ?, ?, ?, 'mentions.test.v1')",
                    (post.id, brand, brand, start, start + len(brand)),
                )
        if "esim" in post.text or "wish" in post.text:
            conn.execute(
                "INSERT INTO post_needs VALUES (?, 'request', ?, 0, 10, NULL, 'needs.test.v1')",
                (post.id, "esim support" if "esim" in post.text else "unlimited gaming data"),
            )
            conn.execute("INSERT INTO post_need_themes VALUES (?, 0, 1, 0.9, 'm1')", (post.id,))
        conn.execute("INSERT INTO post_topics VALUES (?, 1, 0.8, 'm1')", (post.id,))
    for table, key in (("topics", "topic_id"), ("need_themes", "theme_id")):
        conn.execute(
            f"INSERT INTO {table} ({key}, label, terms, size, status, born_model, last_model, updated_at) "
            "VALUES (1, ?, ?, ?, 'active', 'm1', 'm1', ?)",
            ("esim and roaming", json.dumps([["esim", 0.31], ["roaming", 0.22]]), len(posts), NOW),
        )


LIFT = {
    1: [{"feature": "topic:gaming", "label": "talks about mobile gaming", "lift": 3.2},
        {"feature": "plan=Prepaid Unlimited", "label": "Prepaid Unlimited plan", "lift": 2.1},
        {"feature": "intent:switching", "label": "mentions switching", "lift": 1.6}],
    2: [{"feature": "tenure", "label": "long tenure", "lift": 1.9}],
    3: [{"feature": "topic:travel", "label": "talks about travel eSIMs", "lift": 4.0},
        {"feature": "brand:Titan", "label": "mentions Titan", "lift": 2.5}],
}  # fmt: skip


def _segments(conn, owners: dict[str, str]) -> None:
    """Two customer segments and one audience segment, with members, examples and churn scores."""
    conn.execute("INSERT INTO segment_runs (id, started_at, finished_at) VALUES (1, ?, ?)", (NOW, NOW))
    rows = [
        (1, "customers", "prepaid youth", "Streaming gamers", 3, 0.33, -0.1),
        (2, "customers", "prepaid youth", "Loyal savers", 0, 0.0, 0.2),
        (3, "audience", "prepaid youth", "Travel eSIM fans", 5, None, -0.3),
    ]
    for row in rows:
        conn.execute(
            "INSERT INTO segments (id, population, broad_segment, name, size, churn_rate, sentiment, profile,"
            " born_run, last_run, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?)",
            (*row, json.dumps({"lift": LIFT[row[0]]}), NOW),
        )
    for customer in ("C-001", "C-002", "C-003"):
        conn.execute("INSERT INTO segment_members VALUES (?, 1, 1, 0.9)", (customer,))
    for native in ("200", "201", "202", "203", "204"):
        conn.execute("INSERT INTO audience_members VALUES (?, 3, 1, 0.8)", (f"x:{native}",))
    links = {"x:1001": ("C-001", "x"), "reddit:b1": ("C-002", "reddit"), "x:1003": ("C-003", "x")}
    for author, (customer, platform) in links.items():
        conn.execute(
            "INSERT INTO customer_links VALUES (?, ?, ?, 'store-form', '2026-01-05', ?)",
            (author, customer, platform, NOW),
        )
    examples = [post for post, author in owners.items() if author in ("x:1001", "x:1003")]
    for rank, post_id in enumerate(examples):
        conn.execute("INSERT INTO segment_examples VALUES (?, 1, ?)", (post_id, rank))
    factors = [
        {
            "feature": "intent_switching",
            "phrase": "talks about switching to Volt Mobile",
            "contribution": 0.9,
        },
        {"feature": "sentiment_mean", "phrase": "negative posts about Nimbus Mobile", "contribution": 0.4},
        {"feature": "tenure_months", "phrase": "14 months with us", "contribution": -0.3},
    ]
    for customer, risk in (("C-001", 0.72), ("C-002", 0.15), ("C-003", 0.5)):
        conn.execute(
            "INSERT INTO churn_scores VALUES (?, 1, ?, ?, ?)",
            (customer, risk, json.dumps(factors if customer != "C-002" else []), NOW),
        )


def seed_people_world(db_path: Path) -> Path:
    """Write the world to a new database at ``db_path`` (migrated through ``store``), with the daily rollups
    ``analyze`` would build over it; return the path."""
    db = open_db(db_path)
    try:
        posts, owners = _posts()
        upsert_posts(db, posts, source="test")
        customers, handles = _customers()
        upsert_customers(db, customers)
        upsert_handles(db, handles)
        with transaction(db) as conn:
            _annotations(conn, posts)
            _segments(conn, owners)
        rebuild_brand_daily(db)  # the rollups `analyze` keeps, as the market pages read them
        rebuild_daily(db)
    finally:
        db.close()
    return db_path
