"""Describing segments: lift against the broad segment on hand-made data, names, figures, example posts."""

from __future__ import annotations

import numpy as np
import pytest

from segments.describe import DescribeSettings, LiftItem, describe, example_posts, lift_items, segment_name
from segments.features import CountBlock, FeatureTable
from tests.segments.segment_seed import seed_world

#: Ten customers: segment 0 is rows 0-4, segment 1 rows 5-9.
LABELS = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])


def _table() -> FeatureTable:
    """Hand-made: contract, data volume, churn, and topic/need counts for the rows with posts (0-3, 5-8)."""
    topics = np.zeros((10, 2))
    topics[[0, 1, 2], 0] = 1  # topic 0: three of segment 0's four posters, none of segment 1's
    topics[[0, 5, 6, 7, 8], 1] = 2  # topic 1: one poster of segment 0, all four of segment 1
    needs = np.zeros((10, 1))
    needs[[0, 1, 2, 3], 0] = 1
    posts = np.array([3, 1, 1, 1, 0, 2, 2, 2, 2, 0])
    return FeatureTable(
        population="customers",
        ids=tuple(f"C-{i}" for i in range(10)),
        groups=np.array(["family"] * 10, dtype=object),
        categorical={
            "contract": np.array(["mtm"] * 4 + ["24m"] + ["mtm"] + ["24m"] * 3 + [None], dtype=object)
        },
        numeric={"data_gb": np.array([1.0, 2, 6, 4, 5, 3, 7, 8, 9, 10])},
        blocks={
            "topic": CountBlock(
                "topic", ("topic:0", "topic:1"), ("roaming pass, travel", "kids, school"), topics
            ),
            "need": CountBlock("need", ("need:4",), ("parental controls",), needs),
        },
        posts=posts,
        sentiment=np.array([0.5, 0.1, -0.3, 0.1, np.nan, -0.5, -0.5, 0.0, 0.2, np.nan]),
        churned=np.array([1, 0, 0, 0, np.nan, 1, 1, 0, 0, 0], dtype=float),
    )


def _by_feature(items) -> dict[str, LiftItem]:
    return {item.feature: item for item in items}


def test_lift_is_the_segment_share_over_the_broad_share() -> None:
    lifts = lift_items(_table(), LABELS, DescribeSettings(min_count=1, min_share=0.1))
    first, second = _by_feature(lifts[0]), _by_feature(lifts[1])
    # contract known for 9 customers: 5 month-to-month; segment 0: 4 of 5.
    assert first["contract=mtm"].lift == pytest.approx((4 / 5) / (5 / 9))
    assert (first["contract=mtm"].segment_share, first["contract=mtm"].broad_share) == (
        0.8,
        pytest.approx(5 / 9),
    )
    # segment 1: 3 of its 4 known contracts are 24-month, against 4 of 9.
    assert second["contract=24m"].lift == pytest.approx((3 / 4) / (4 / 9))
    # social items count only rows with posts (8): topic 0 in 3 of them, all in segment 0 (3 of its 4).
    assert first["topic:0"].lift == pytest.approx((3 / 4) / (3 / 8))
    assert first["topic:0"].members == 3 and first["topic:0"].label == "roaming pass, travel"
    assert second["topic:1"].lift == pytest.approx((4 / 4) / (5 / 8))
    assert first["need:4"].lift == pytest.approx(2.0)
    # data volume bands from the broad segment's tertiles: the high band is 8, 9, 10, all in segment 1.
    assert second["data_gb>high"].lift == pytest.approx((3 / 5) / (3 / 10))
    assert first["data_gb<low"].lift == pytest.approx((2 / 5) / (3 / 10))
    assert first["data_gb<low"].label == "low data gb"


def test_under_indexed_and_rare_items_are_left_out() -> None:
    lifts = lift_items(_table(), LABELS, DescribeSettings(min_count=1, min_share=0.1))
    assert "topic:1" not in _by_feature(lifts[0])  # 1 of 4 posters against 5 of 8: under-indexed
    strict = lift_items(_table(), LABELS, DescribeSettings(min_count=4, min_share=0.1))
    assert set(_by_feature(strict[0])) == {"need:4", "contract=mtm"}
    assert [item.lift for item in lifts[0]] == sorted((item.lift for item in lifts[0]), reverse=True)


def test_describe_gives_figures_reason_and_profile() -> None:
    described = describe(_table(), LABELS, DescribeSettings(min_count=1, min_share=0.1))
    first = described[0]
    assert first.size == 5
    assert first.churn_rate == pytest.approx(1 / 4)  # one unknown churn left out
    assert first.sentiment == pytest.approx(np.mean([0.5, 0.1, -0.3, 0.1]))
    assert first.profile["reason"][0] == "parental controls (2.0x)"
    assert first.profile["reason"][1:] == [
        "roaming pass, travel (2.0x)",
        "contract: mtm (1.4x)",
        "low data gb (1.3x)",
    ]
    assert first.profile["lift"][0] == {
        "feature": "need:4", "column": "need", "kind": "need", "label": "parental controls", "lift": 2.0,
        "segment_share": 1.0, "broad_share": 0.5, "members": 4,
    }  # fmt: skip
    assert first.profile["members_with_posts"] == 4 and first.profile["posts"] == 6
    assert first.name == "Parental controls · roaming pass, travel"


def _item(feature: str, kind: str, label: str, lift: float, column: str | None = None) -> LiftItem:
    return LiftItem(feature, column or feature.split(":")[0], kind, label, lift, 0.5, 0.2, 5)


def test_names_prefer_need_themes_then_crm_then_topics_and_stay_short() -> None:
    settings = DescribeSettings()
    items = [
        _item("topic:3", "topic", "airport, lounge", 3.0),
        _item("roaming>high", "band", "high roaming days", 2.9, "roaming"),
        _item("need:1", "need", "roaming pass", 2.6),
        _item("need:2", "need", "esim support", 1.5),
    ]
    assert segment_name(items, "family", settings) == "Roaming pass · high roaming days"
    assert segment_name([], "family", settings) == "Typical family"
    long = [_item("need:1", "need", "x" * 50, 2.0), _item("need:2", "need", "y" * 50, 2.0)]
    name = segment_name(long, "family", settings)
    assert len(name) == settings.name_chars and name.endswith("…")


def test_examples_come_from_members_posts_in_the_segments_topics(db) -> None:
    truth = seed_world(db, per_segment=12)
    customers = {
        cid: 0 if segment == "travellers" else 1 for cid, segment in truth.items() if cid.startswith("C-")
    }
    lifts = {
        0: [
            _item("topic:1", "topic", "roaming pass, travel", 3.0),
            _item("need:1", "need", "roaming pass", 2.0),
        ],
        1: [_item("topic:3", "topic", "ping, gaming", 2.0)],
    }
    examples = example_posts(db, "customers", customers, lifts, DescribeSettings(examples=4))
    assert len(examples[0]) == 4 and len(examples[1]) == 4
    sql = (
        "SELECT p.id, l.customer_id FROM posts AS p"
        " JOIN customer_links AS l ON l.author_id = p.platform || ':' || p.author_id"
    )
    owners = dict(db.conn.execute(sql).fetchall())
    for segment, posts in examples.items():
        assert len({owners[post] for post in posts}) == len(posts)  # one post per author
        assert all(customers[owners[post]] == segment for post in posts)
    topics = dict(db.conn.execute("SELECT post_id, topic_id FROM post_topics"))
    assert {topics[post] for post in examples[1]} == {3}


def test_audience_segments_show_examples_only_with_enough_authors(db) -> None:
    truth = seed_world(db, per_segment=4)
    authors = {
        author: 0 for author, segment in truth.items() if author.startswith("x:a") and segment == "travellers"
    }
    lifts = {0: [_item("topic:1", "topic", "roaming pass, travel", 3.0)]}
    assert len(authors) == 25
    assert len(example_posts(db, "audience", authors, lifts)[0]) == 5
    few = dict(list(authors.items())[:9])
    assert example_posts(db, "audience", few, lifts) == {}
