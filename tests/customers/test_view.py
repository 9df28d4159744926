"""The customer view: CRM fields, linked posts only, weekly sentiment, topics, needs, intents, churn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from customers.linking import link_consented
from customers.view import UnknownCustomerError, customer_view, need_counts, weekly_sentiment
from store import Customer, CustomerHandle, Post, transaction, upsert_customers, upsert_handles, upsert_posts

# (native id, author id, handle, day in October 2026, text, sentiment score)
POSTS = [
    ("1", "10", "mia", 5, "Nimbus roaming is a rip-off &amp; slow", -0.8),
    ("2", "10", "mia", 6, "need a roaming pass for my trips", -0.2),
    ("3", "10", "mia", 14, "thinking of switching to Volt", 0.4),
    ("4", "20", "bob", 14, "bob has no consent: never shown", -1.0),
    ("5", "10", "mia", 20, "not annotated yet", None),
]


@pytest.fixture
def world(db):
    """Customer C1 opted in @mia on x; C2 recorded @bob without consent; annotations written by hand."""
    upsert_customers(db, [
        Customer("C1", broad_segment="family postpaid", plan="Unlimited", contract="24-month",
                 tenure_months=30, monthly_charge=45.0, total_charges=1350.0, churned=False,
                 attributes={"region": "North"}),
        Customer("C2", broad_segment="seniors"),
    ])  # fmt: skip
    upsert_handles(db, [CustomerHandle("C1", "x", "@Mia", consent=True, consent_source="app"),
                        CustomerHandle("C2", "x", "bob", consent=False)])  # fmt: skip
    upsert_posts(db, [
        Post(platform="x", native_id=n, text=t, created_at=datetime(2026, 10, d, 9, tzinfo=UTC), author_id=a,
             author_handle=h)
        for n, a, h, d, t, _s in POSTS
    ])  # fmt: skip
    link_consented(db)
    rows = {
        "post_sentiment": [(f"x:{n}", "negative" if s < 0 else "positive", s, "s.v1") for n, *_r, s in POSTS
                           if s is not None],
        "topics": [(7, "roaming prices", "[]", 2, "active", "t@1", "t@1", "2026-10-30"),
                   (8, "switching", "[]", 1, "active", "t@1", "t@1", "2026-10-30")],
        "post_topics": [("x:1", 7, 0.9, "t@1"), ("x:2", 7, 0.8, "t@1"), ("x:3", 8, 0.7, "t@1"),
                        ("x:4", 8, 0.9, "t@1"), ("x:5", -1, 0.0, "t@1")],
        "post_needs": [("x:2", "request", "roaming pass", 7, 19, None, "n.v1"),
                       ("x:4", "wish", "bob's secret need", 0, 5, None, "n.v1")],
        "post_intents": [("x:3", "switching", "Nimbus Mobile", "Volt Mobile", "switching to", "i.v1"),
                         ("x:4", "cancel", None, None, "cancel", "i.v1")],
        "churn_scores": [("C1", 3, 0.71, '[{"factor": "switching intent", "weight": 0.4}]',
                          "2026-10-30T00:00:00Z")],
        "segments": [(5, "customers", "family postpaid", "Frequent travellers", 1, 0.1, -0.2, "{}", None,
                      "active", 1, 1, "2026-10-30")],
        "segment_members": [("C1", 5, 1, 0.93)],
    }  # fmt: skip
    with transaction(db) as conn:
        for table, values in rows.items():
            marks = ", ".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    return db


def test_the_view_holds_crm_fields_and_only_linked_posts(world):
    view = customer_view(world, "C1")
    assert (view.customer_id, view.plan, view.tenure_months, view.churned) == ("C1", "Unlimited", 30, False)
    assert view.attributes == {"region": "North"}
    assert [(a.author_id, a.platform, a.handle, a.consent_source) for a in view.accounts] == [
        ("x:10", "x", "mia", "app")
    ]
    assert [post.id for post in view.posts] == ["x:1", "x:2", "x:3", "x:5"]
    assert view.posts[0].text == "Nimbus roaming is a rip-off & slow"  # entities decoded, as annotated
    assert (view.posts[0].sentiment, view.posts[0].sentiment_score) == ("negative", -0.8)
    assert (view.posts[3].sentiment, view.posts[3].sentiment_score) == (None, None)
    assert "bob" not in repr(view)


def test_the_view_aggregates_signals_of_the_linked_posts(world):
    view = customer_view(world, "C1")
    # Weeks start on Monday: Oct 5 and 6 (2026-10-05), Oct 14 (2026-10-12); Oct 20 has no score.
    assert [(w.week, w.mean, w.posts) for w in view.sentiment_weekly] == [
        ("2026-10-05", -0.5, 2),
        ("2026-10-12", 0.4, 1),
    ]
    assert [(t.topic_id, t.label, t.posts) for t in view.topics] == [
        (7, "roaming prices", 2),
        (8, "switching", 1),
    ]
    assert [(n.post_id, n.kind, n.phrase) for n in view.needs] == [("x:2", "request", "roaming pass")]
    assert need_counts(view) == [("roaming pass", 1)]
    assert [(i.intent, i.from_brand, i.to_brand) for i in view.intents] == [
        ("switching", "Nimbus Mobile", "Volt Mobile")
    ]
    assert (view.churn.risk, view.churn.model_version) == (0.71, 3)
    assert view.churn.factors == [{"factor": "switching intent", "weight": 0.4}]
    assert (view.segment.segment_id, view.segment.name, view.segment.score) == (
        5,
        "Frequent travellers",
        0.93,
    )
    assert view.to_dict()["segment"]["name"] == "Frequent travellers"


def test_a_customer_without_consent_shows_crm_fields_only(world):
    view = customer_view(world, "C2")
    assert view.broad_segment == "seniors"
    assert (view.accounts, view.posts, view.topics, view.needs, view.intents) == ([], [], [], [], [])
    assert view.churn is None and view.segment is None and view.churned is None


def test_an_unknown_customer_is_a_clear_error(world):
    with pytest.raises(UnknownCustomerError, match="no customer 'C404' in the database: check the id"):
        customer_view(world, "C404")


def test_weekly_sentiment_of_no_posts_is_empty():
    assert weekly_sentiment([]) == []
