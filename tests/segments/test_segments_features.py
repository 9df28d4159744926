"""Micro-segment features: CRM fields, social counts only through consented links, the audience, encoding."""

from __future__ import annotations

import numpy as np
import pytest

from segments.encode import EncodeSettings, encode
from segments.features import (
    FeatureSettings,
    FeatureTable,
    load_audience,
    load_customers,
    readable_annotators,
    source_versions,
)
from store import Customer, Post, transaction, upsert_customers, upsert_posts
from tests.segments.segment_seed import START, seed_world


@pytest.fixture
def world(db):
    truth = seed_world(db, per_segment=12)
    return db, truth


def test_customers_get_crm_columns_typed_and_churn_keys_left_out(world) -> None:
    db, _ = world
    table = load_customers(db)
    assert len(table) == 60 and set(table.groups) == {"alpha", "beta"}
    assert {"plan", "contract", "region", "autopay"} <= set(table.categorical)
    assert {"tenure_months", "monthly_charge", "data_gb", "roaming_days_90d"} <= set(table.numeric)
    assert set(table.categorical["autopay"]) <= {"yes", "no"}
    # ``churn_flag`` names the label; ``rare_note`` is present in too few customers.
    assert "churn_flag" not in table.categorical and "rare_note" not in table.categorical
    assert np.all(np.isnan(table.numeric["total_charges"]))
    assert set(np.unique(table.churned)) <= {0.0, 1.0}


def test_social_counts_come_only_from_consented_links(world) -> None:
    db, _ = world
    table = load_customers(db)
    linked = {cid for (cid,) in db.conn.execute("SELECT customer_id FROM customer_links")}
    has = dict(zip(table.ids, table.has_social, strict=True))
    assert {cid for cid, social in has.items() if social} == linked
    row = table.ids.index(sorted(linked)[0])
    assert table.posts[row] == 5
    assert table.blocks["topic"].counts[row].sum() == 5
    assert table.blocks["need"].counts[row].sum() == 2
    assert table.blocks["topic"].keys[0] == "topic:0" and table.blocks["topic"].labels[0] == "bill, price"
    unlinked = [i for i, cid in enumerate(table.ids) if cid not in linked]
    assert all(table.blocks[name].counts[unlinked].sum() == 0 for name in table.blocks)
    assert np.all(np.isnan(table.sentiment[unlinked]))


def test_a_customers_author_without_a_link_counts_in_the_audience_only(world) -> None:
    db, _ = world
    with transaction(db) as conn:
        (author, cid) = conn.execute("SELECT author_id, customer_id FROM customer_links LIMIT 1").fetchone()
        conn.execute("DELETE FROM customer_links WHERE author_id = ?", [author])
    customers = load_customers(db)
    assert customers.posts[customers.ids.index(cid)] == 0
    audience = load_audience(db)
    assert author in audience.ids and audience.posts[audience.ids.index(author)] == 5


def test_audience_needs_enough_posts_and_excludes_linked_authors(world) -> None:
    db, _ = world
    audience = load_audience(db)
    assert len(audience) == 50 and set(audience.groups) == {"audience"}
    assert not any(a.startswith("x:u") for a in audience.ids)
    assert len(load_audience(db, FeatureSettings(audience_min_posts=5))) == 0


def test_same_native_id_on_another_platform_is_another_author(world) -> None:
    db, _ = world
    (author,) = db.conn.execute("SELECT author_id FROM customer_links ORDER BY author_id LIMIT 1").fetchone()
    native = author.split(":", 1)[1]
    upsert_posts(db, [Post("reddit", f"r{i}", "someone else", START, author_id=native) for i in range(3)])
    table = load_customers(db)
    cid = db.conn.execute("SELECT customer_id FROM customer_links WHERE author_id = ?", [author]).fetchone()[
        0
    ]
    assert table.posts[table.ids.index(cid)] == 5


def test_older_annotator_versions_are_not_mixed_in(world) -> None:
    db, _ = world
    (post_id,) = db.conn.execute("SELECT post_id FROM post_sentiment LIMIT 1").fetchone()
    with transaction(db) as conn:
        conn.execute("INSERT INTO post_sentiment VALUES (?, 'positive', 1.0, 'sentiment.test.v0')", [post_id])
        conn.execute(
            "INSERT INTO post_intents VALUES (?, 'switching', NULL, NULL, 'cue', 'intents.x.v3')", [post_id]
        )
    assert readable_annotators(db) == ["intents.x.v3", "sentiment.test.v1"]
    versions = source_versions(db)
    assert versions["sentiment.test"] == "sentiment.test.v1"
    assert versions["topic_model"] == "topics.test.v1@1" and versions["theme_model"] == "themes.test.v1@1"
    assert load_customers(db).blocks["sentiment"].counts.sum() == 150  # 30 linked customers x 5 posts


def test_customers_without_a_broad_segment_are_left_out(db) -> None:
    upsert_customers(
        db, [Customer("C-1", None, "Basic"), Customer("C-2", " ", "Basic"), Customer("C-3", "a")]
    )
    assert load_customers(db).ids == ("C-3",)


def test_feature_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="min_present"):
        FeatureSettings(min_present=0)
    with pytest.raises(ValueError, match="unknown block"):
        EncodeSettings(blocks=("topic", "mood"))


def _table(**columns) -> FeatureTable:
    n = len(next(iter(columns.values())))
    categorical = {k: v for k, v in columns.items() if v.dtype == object}
    numeric = {k: v for k, v in columns.items() if v.dtype != object}
    ids = tuple(f"c{i}" for i in range(n))
    groups = np.array(["b"] * n, dtype=object)
    return FeatureTable(
        "customers", ids, groups, categorical, numeric,
        posts=np.zeros(n, dtype=np.int64), sentiment=np.full(n, np.nan), churned=np.zeros(n),
    )  # fmt: skip


def test_encode_models_each_column_in_its_family_and_keeps_descriptors_out() -> None:
    table = _table(
        contract=np.array(["m", "m", "y", None], dtype=object),
        lines=np.array([1.0, 2.0, 2.0, 3.0]),
        data_gb=np.array([1.5, 7.25, np.nan, 30.1]),
        monthly_charge=np.array([10.5, 20.25, 30.0, 40.75]),
        constant=np.array([5.5, 5.5, 5.5, 5.5]),
    )
    design = encode(table)
    assert design.gaussian_names == ("data_gb",)
    assert np.isnan(design.gaussian[2, 0]) and abs(np.nanmean(design.gaussian[:, 0])) < 1e-9
    assert design.onehot_keys == ("contract=m", "contract=y", "lines=1", "lines=2", "lines=3")
    assert design.onehot[3, :2].sum() == 0  # missing category: no evidence
    assert design.counts.shape == (4, 0)
    assert "monthly_charge" not in design.features
    with_charges = encode(table, EncodeSettings(descriptors=()))
    assert "monthly_charge" in with_charges.gaussian_names


def test_encode_caps_each_rows_social_evidence(world) -> None:
    db, _ = world
    table = load_customers(db)
    capped = encode(table, EncodeSettings(social_cap=2.0))
    topic = next(span for span in capped.blocks if span.name == "topic")
    totals = capped.counts[:, topic.start : topic.stop].sum(axis=1)
    assert totals.max() == pytest.approx(2.0) and totals.min() == 0.0
    assert [span.name for span in capped.blocks] == ["topic", "need"]
