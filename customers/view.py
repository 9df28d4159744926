"""The customer view: one customer's CRM record beside what their linked (consented) accounts posted.

:func:`customer_view` reads only through ``customer_links``: a post appears when its author is linked to the
customer, which :mod:`customers.linking` allows only through an opted-in handle. Everything else about the
customer comes from their own rows: ``churn_scores`` (risk and its factors, when the churn stage scored
them) and ``segment_members`` (their micro-segment, when segments were found).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from statistics import fmean
from typing import Any

import sqlite_utils

from nlp.normalize import normalize


class UnknownCustomerError(LookupError):
    """No customer with that id is stored."""


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    """An account linked to the customer through an opted-in handle."""

    author_id: str
    platform: str
    handle: str | None
    consent_source: str | None
    consent_date: str | None
    linked_at: str


@dataclass(frozen=True, slots=True)
class CustomerPost:
    """A post of a linked account with its post-level sentiment (None when not annotated yet)."""

    id: str
    created_at: str
    platform: str
    text: str
    sentiment: str | None
    sentiment_score: float | None


@dataclass(frozen=True, slots=True)
class WeeklySentiment:
    """Mean sentiment score (-1 to 1) of the scored posts of the week starting Monday ``week``."""

    week: str
    mean: float
    posts: int


@dataclass(frozen=True, slots=True)
class TopicCount:
    """How many of the customer's posts the topic model put in a topic."""

    topic_id: int
    label: str | None
    posts: int


@dataclass(frozen=True, slots=True)
class NeedMention:
    """A need found in one post: kind (wish, request, complaint, question), the phrase, the brand."""

    post_id: str
    kind: str
    phrase: str
    brand: str | None


@dataclass(frozen=True, slots=True)
class IntentMention:
    """A churn or switching intent in one post, with the brands it leaves and goes to when named."""

    post_id: str
    intent: str
    from_brand: str | None
    to_brand: str | None


@dataclass(frozen=True, slots=True)
class ChurnRisk:
    """The churn stage's score: risk in [0, 1], the model version, and the top factors as stored."""

    risk: float
    model_version: int
    factors: list[Any]
    scored_at: str


@dataclass(frozen=True, slots=True)
class SegmentMembership:
    """The micro-segment the customer belongs to."""

    segment_id: int
    name: str
    broad_segment: str
    status: str
    score: float | None


@dataclass(frozen=True)
class CustomerView:
    """Everything known about one customer: CRM fields, linked accounts and what they posted."""

    customer_id: str
    broad_segment: str | None
    plan: str | None
    contract: str | None
    tenure_months: int | None
    monthly_charge: float | None
    total_charges: float | None
    churned: bool | None
    attributes: dict[str, Any]
    accounts: list[LinkedAccount] = field(default_factory=list)
    posts: list[CustomerPost] = field(default_factory=list)
    sentiment_weekly: list[WeeklySentiment] = field(default_factory=list)
    topics: list[TopicCount] = field(default_factory=list)
    needs: list[NeedMention] = field(default_factory=list)
    intents: list[IntentMention] = field(default_factory=list)
    churn: ChurnRisk | None = None
    segment: SegmentMembership | None = None

    def to_dict(self) -> dict[str, Any]:
        """The view as plain JSON-able data."""
        return asdict(self)


_CRM_SQL = (
    "SELECT customer_id, broad_segment, plan, contract, tenure_months, monthly_charge, total_charges, "
    "churned, attributes FROM customers WHERE customer_id = ?"
)
_ACCOUNTS_SQL = (
    "SELECT l.author_id, l.platform, a.handle, l.consent_source, l.consent_date, l.linked_at "
    "FROM customer_links AS l JOIN authors AS a ON a.id = l.author_id WHERE l.customer_id = ? "
    "ORDER BY l.platform, l.author_id"
)
_POSTS_SQL = (
    "SELECT p.id, p.created_at, p.platform, p.text, s.label, s.score FROM customer_links AS l "
    "JOIN authors AS a ON a.id = l.author_id "
    "JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id "
    "LEFT JOIN post_sentiment AS s ON s.rowid = "
    "(SELECT rowid FROM post_sentiment WHERE post_id = p.id LIMIT 1) "
    "WHERE l.customer_id = ? ORDER BY p.created_at, p.id"
)
_IN = "post_id IN (SELECT value FROM json_each(?))"
_TOPICS_SQL = (
    f"SELECT t.topic_id, k.label, count(*) FROM post_topics AS t LEFT JOIN topics AS k "
    f"ON k.topic_id = t.topic_id WHERE t.{_IN} AND t.topic_id >= 0 GROUP BY t.topic_id ORDER BY 3 DESC, 1"
)
_NEEDS_SQL = f"SELECT post_id, kind, phrase, brand FROM post_needs WHERE {_IN} ORDER BY post_id, start_char"
_INTENTS_SQL = f"SELECT post_id, intent, from_brand, to_brand FROM post_intents WHERE {_IN} ORDER BY post_id"
_CHURN_SQL = "SELECT risk, model_version, factors, scored_at FROM churn_scores WHERE customer_id = ?"
_SEGMENT_SQL = (
    "SELECT s.id, s.name, s.broad_segment, s.status, m.score FROM segment_members AS m "
    "JOIN segments AS s ON s.id = m.segment_id WHERE m.customer_id = ?"
)


def weekly_sentiment(posts: list[CustomerPost]) -> list[WeeklySentiment]:
    """Mean sentiment score per week (weeks start on Monday), over the posts that have a score."""
    weeks: dict[str, list[float]] = defaultdict(list)
    for post in posts:
        if post.sentiment_score is None:
            continue
        day = date.fromisoformat(post.created_at[:10])
        weeks[(day - timedelta(days=day.weekday())).isoformat()].append(post.sentiment_score)
    return [
        WeeklySentiment(week, round(fmean(scores), 4), len(scores)) for week, scores in sorted(weeks.items())
    ]


def _crm(conn: sqlite3.Connection, customer_id: str) -> dict[str, Any]:
    row = conn.execute(_CRM_SQL, [customer_id]).fetchone()
    if row is None:
        raise UnknownCustomerError(
            f"no customer {customer_id!r} in the database: check the id, or import the CRM with "
            "`tasteradar customers import FILE`"
        )
    names = ("customer_id", "broad_segment", "plan", "contract", "tenure_months", "monthly_charge",
             "total_charges", "churned", "attributes")  # fmt: skip
    crm = dict(zip(names, row, strict=True))
    crm["churned"] = None if crm["churned"] is None else bool(crm["churned"])
    crm["attributes"] = json.loads(crm["attributes"] or "{}")
    return crm


def _churn(conn: sqlite3.Connection, customer_id: str) -> ChurnRisk | None:
    row = conn.execute(_CHURN_SQL, [customer_id]).fetchone()
    if row is None:
        return None
    return ChurnRisk(risk=row[0], model_version=row[1], factors=json.loads(row[2] or "[]"), scored_at=row[3])


def _segment(conn: sqlite3.Connection, customer_id: str) -> SegmentMembership | None:
    row = conn.execute(_SEGMENT_SQL, [customer_id]).fetchone()
    return None if row is None else SegmentMembership(*row)


def customer_view(db: sqlite_utils.Database, customer_id: str) -> CustomerView:
    """Return the :class:`CustomerView` of ``customer_id``; only posts of linked accounts appear.

    Post texts are normalised (HTML entities decoded once), the form the annotations' offsets refer to.
    Raises :class:`UnknownCustomerError` when no such customer is stored.
    """
    conn = db.conn
    crm = _crm(conn, customer_id)
    accounts = [LinkedAccount(*row) for row in conn.execute(_ACCOUNTS_SQL, [customer_id])]
    posts = [
        CustomerPost(post_id, created_at, platform, normalize(text), label, score)
        for post_id, created_at, platform, text, label, score in conn.execute(_POSTS_SQL, [customer_id])
    ]
    ids = json.dumps([post.id for post in posts])
    return CustomerView(
        **crm,
        accounts=accounts,
        posts=posts,
        sentiment_weekly=weekly_sentiment(posts),
        topics=[TopicCount(*row) for row in conn.execute(_TOPICS_SQL, [ids])],
        needs=[NeedMention(*row) for row in conn.execute(_NEEDS_SQL, [ids])],
        intents=[IntentMention(*row) for row in conn.execute(_INTENTS_SQL, [ids])],
        churn=_churn(conn, customer_id),
        segment=_segment(conn, customer_id),
    )


def need_counts(view: CustomerView) -> list[tuple[str, int]]:
    """The customer's need phrases with how often each was raised, most frequent first."""
    return Counter(need.phrase.lower() for need in view.needs).most_common()
