"""Churn features and the calibrated churn model, on small hand-made worlds (links written by hand)."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from customers.churn import (
    MAX_FACTORS,
    MIN_FACTORS,
    ChurnError,
    customer_risk,
    fit_churn,
    load_model,
    phrase,
    run_churn,
    score_active,
)
from customers.churn_features import SOCIAL_COLUMNS, build_features
from store import (
    Customer,
    CustomerHandle,
    Post,
    to_iso,
    transaction,
    upsert_customers,
    upsert_handles,
    upsert_posts,
)

OWN = "Nimbus Mobile"
NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


# --- building hand-made worlds ------------------------------------------------------------------------------


def add_customers(db, *customers: Customer) -> None:
    upsert_customers(db, customers)


def link(db, customer_id: str, handle: str, *, consent: bool = True, linked: bool = True) -> str:
    """Record ``handle``; with ``linked``, link it by hand. Returns the native id posts carry as author."""
    upsert_handles(db, [CustomerHandle(customer_id, "x", handle, consent=consent, consent_source="test")])
    author_id = f"x:{handle}"
    db.conn.execute(
        "INSERT OR IGNORE INTO authors (id, platform, native_id, handle, first_seen_at, last_seen_at) "
        "VALUES (?, 'x', ?, ?, ?, ?)",
        [author_id, handle, handle, to_iso(NOW), to_iso(NOW)],
    )
    if linked:
        db.conn.execute(
            "INSERT INTO customer_links (author_id, customer_id, platform, linked_at) VALUES (?, ?, 'x', ?)",
            [author_id, customer_id, to_iso(NOW)],
        )
    return handle


def add_posts(db, posts: list[dict]) -> None:
    """Posts ``{id, author, days_ago, score, intents: [(intent, from, to)], brands: [(brand, label)]}``."""
    upsert_posts(
        db,
        [
            Post("x", p["id"], f"post {p['id']}", NOW - timedelta(days=p["days_ago"]), author_id=p["author"])
            for p in posts
        ],
    )
    with transaction(db) as conn:
        for p in posts:
            pid = f"x:{p['id']}"
            if p.get("score") is not None:
                label = "positive" if p["score"] > 0.1 else "negative" if p["score"] < -0.1 else "neutral"
                conn.execute(
                    "INSERT INTO post_sentiment VALUES (?, ?, ?, 'sentiment.test.v1')",
                    [pid, label, p["score"]],
                )
            for intent, from_brand, to_brand in p.get("intents", ()):
                conn.execute(
                    "INSERT INTO post_intents VALUES (?, ?, ?, ?, 'cue', 'intents.test.v1')",
                    [pid, intent, from_brand, to_brand],
                )
            for brand, label in p.get("brands", ()):
                conn.execute(
                    "INSERT INTO brand_sentiment VALUES (?, ?, ?, 0.5, 'brand_sentiment.test.v1')",
                    [pid, brand, label],
                )


def planted_world(db, *, customers: int = 360, seed: int = 3) -> dict[str, bool]:
    """Customers whose churn follows the contract and tenure; linked churners mostly say they will switch.

    Two thirds are linked (posting); a few hold a handle without consent; 20 have no known churn. Returns
    ``{customer_id: churned}`` of the labelled ones.
    """
    rng = random.Random(seed)
    truth: dict[str, bool] = {}
    records, posts = [], []
    for number in range(customers):
        cid = f"C{number:04d}"
        contract = rng.choice(["month-to-month", "12-month", "24-month"])
        tenure = rng.randint(1, 60)
        churned = rng.random() < 1 / (
            1 + math.exp(-(-0.6 + 1.0 * (contract == "month-to-month") - 0.02 * tenure))
        )
        labelled = number >= 20
        records.append(
            Customer(cid, plan="Basic", contract=contract, tenure_months=tenure, monthly_charge=30.0,
                     total_charges=30.0 * tenure, churned=churned if labelled else None,
                     attributes={"support_calls_90d": rng.randint(0, 3), "autopay": rng.random() < 0.5})
        )  # fmt: skip
        if labelled:
            truth[cid] = churned
        if number % 3 != 0:
            posts += _posts_of(rng, cid, churned)
    add_customers(db, *records)
    with transaction(db):
        for number in range(customers):
            cid = f"C{number:04d}"
            if number % 3 != 0:
                link(db, cid, f"h{cid.lower()}")
            elif number % 30 == 0:
                link(db, cid, f"h{cid.lower()}", consent=False, linked=False)
    add_posts(db, posts)
    return truth


def _posts_of(rng: random.Random, cid: str, churned: bool) -> list[dict]:
    author = f"h{cid.lower()}"
    posts = [
        {
            "id": f"{cid}-{k}",
            "author": author,
            "days_ago": rng.randint(31, 90),
            "score": rng.uniform(-0.2, 0.6),
        }
        for k in range(3)
    ]
    says_switch = rng.random() < (0.8 if churned else 0.06)
    recent = -0.6 if churned else 0.3
    posts.append(
        {
            "id": f"{cid}-r",
            "author": author,
            "days_ago": rng.randint(1, 29),
            "score": recent,
            "intents": [("switching", OWN, "Volt Mobile")] if says_switch else [],
            "brands": [("Volt Mobile", "positive")] if says_switch else [],
        }
    )
    return posts


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The planted world after one full run: ``(db, truth, report)``."""
    from store import open_db

    database = open_db(tmp_path_factory.mktemp("churn") / "tasteradar.db")
    truth = planted_world(database)
    report = run_churn(database, own_brand=OWN, now=NOW)
    yield database, truth, report
    database.close()


# --- features -----------------------------------------------------------------------------------------------


def test_social_features_count_intents_sentiment_change_and_competitor_praise(db):
    add_customers(db, Customer("A", contract="12-month"), Customer("B"), Customer("C"))
    author = link(db, "A", "alice")
    link(db, "C", "carol", consent=False, linked=False)
    add_posts(
        db,
        [
            {"id": "1", "author": author, "days_ago": 60, "score": 0.6, "brands": [(OWN, "positive")]},
            {"id": "2", "author": author, "days_ago": 50, "score": 0.4,
             "brands": [("Volt Mobile", "positive")]},
            {"id": "3", "author": author, "days_ago": 10, "score": -0.2,
             "intents": [("switching", OWN, "Volt Mobile")], "brands": [("Volt Mobile", "positive")]},
            {"id": "4", "author": author, "days_ago": 5, "score": -0.4,
             "intents": [("cancel", OWN, None), ("considering", OWN, "Volt Mobile")],
             "brands": [("nimbus mobile", "negative")]},
            # toward the own brand: not a churn cue
            {"id": "5", "author": author, "days_ago": 3, "score": 0.0,
             "intents": [("switching", "Titan Telecom", OWN)], "brands": [("Titan Telecom", "positive")]},
            # after ``now``: not read
            {"id": "6", "author": author, "days_ago": -5, "score": -1.0, "intents": [("leaving", OWN, None)]},
            # by an author nobody linked (carol's handle has no consent): never read
            {"id": "7", "author": "carol", "days_ago": 5, "score": -1.0,
             "intents": [("cancel", OWN, None)]},
        ],
    )  # fmt: skip
    features = build_features(db, own_brand=OWN, now=NOW)
    a = features.matrix.loc["A"]
    assert a["has_social"] == 1 and a["posts"] == 5
    assert a["intent_switching"] == 2 and a["intent_cancel"] == 1 and a["intent_leaving"] == 0
    assert a["sentiment_mean"] == pytest.approx((0.6 + 0.4 - 0.2 - 0.4 + 0.0) / 5)
    assert a["sentiment_change_30d"] == pytest.approx((-0.2 - 0.4 + 0.0) / 3 - (0.6 + 0.4) / 2)
    assert a["competitor_praise"] == 3 and a["own_brand_negative"] == 1
    assert features.context.loc["A", "switch_to"] == "Volt Mobile"
    assert features.context.loc["A", "praised"] == "Volt Mobile"
    for other in ("B", "C"):
        assert (features.matrix.loc[other, list(SOCIAL_COLUMNS)] == 0).all()
    assert features.opted_in.to_dict() == {"A": True, "B": False, "C": False}


def test_crm_features_impute_one_hot_and_pick_attributes(db):
    attrs = [
        {"calls": 2, "autopay": True, "Partner": "Yes", "region": "North", "rare": 1, "Churn": "Yes"},
        {"calls": 0, "autopay": False, "Partner": "No", "region": "South", "Churn": "No"},
        {"calls": 5, "autopay": True, "Partner": "No", "region": None, "Churn": "No"},
    ]
    contracts = ["month-to-month", "24-month", "month-to-month"]
    tenures, totals = [1, 30, 5], [None, 600.0, 100.0]
    add_customers(
        db,
        *[
            Customer(f"K{i}", contract=contracts[i], plan="Basic", tenure_months=tenures[i],
                     monthly_charge=20.0, total_charges=totals[i], attributes=attrs[i])
            for i in range(3)
        ],
    )  # fmt: skip
    features = build_features(db, own_brand=OWN, now=NOW)
    m = features.matrix
    assert m["total_charges"].tolist() == [350.0, 600.0, 100.0]  # the median fills the blank
    assert m["total_charges_missing"].tolist() == [1.0, 0.0, 0.0]
    assert m["contract=month-to-month"].tolist() == [1.0, 0.0, 1.0]
    assert m["attr:calls"].tolist() == [2.0, 0.0, 5.0]
    assert m["attr:Partner"].tolist() == [1.0, 0.0, 0.0]
    assert m["attr:region=North"].tolist() == [1.0, 0.0, 0.0]
    assert features.kinds["attr:autopay"] == "flag" and features.kinds["contract"] == "category"
    assert features.groups["contract=24-month"] == "contract"
    assert not any("rare" in c or "Churn" in c for c in m.columns)
    assert not m.isna().any().any()
    assert set(features.crm_only().matrix.columns).isdisjoint(SOCIAL_COLUMNS)


def test_an_attribute_with_many_distinct_strings_is_not_a_feature(db):
    add_customers(
        db, *[Customer(f"M{i}", attributes={"device": f"phone {i}", "lines": i}) for i in range(20)]
    )
    columns = build_features(db, own_brand=OWN, now=NOW).matrix.columns
    assert "attr:lines" in columns and not any(c.startswith("attr:device") for c in columns)


# --- the model ----------------------------------------------------------------------------------------------


def test_model_learns_the_planted_signal_and_social_features_help(world):
    database, truth, report = world
    assert report.kind == "full" and report.labelled == len(truth)
    assert report.auc_opted_in > 0.85
    crm = fit_churn(build_features(database, own_brand=OWN, now=NOW).crm_only())
    assert crm.model.kind == "crm_only"
    assert report.auc_opted_in > crm.metrics["auc_opted_in"] + 0.1
    _, model = load_model(database)
    coef = dict(zip(model.features, model.coef, strict=True))
    assert coef["intent_switching"] > 0 and coef["contract=month-to-month"] > 0


def test_calibrated_risk_stays_in_unit_interval_and_matches_the_churn_rate(world):
    database, truth, report = world
    features = build_features(database, own_brand=OWN, now=NOW)
    fit = fit_churn(features)
    assert fit.oof_risk.between(0, 1).all()
    assert abs(fit.oof_risk.mean() - np.mean(list(truth.values()))) < 0.05
    assert fit.metrics["brier"] < fit.metrics["brier_baseline"]
    extreme = features.matrix.iloc[:2].copy()
    extreme["intent_switching"] = [1e6, -1e6]
    assert ((fit.model.risk(extreme) >= 0) & (fit.model.risk(extreme) <= 1)).all()


def test_factors_are_readable_ordered_and_add_up_to_the_risk(world):
    database, _, _ = world
    _, model = load_model(database)
    features = build_features(database, own_brand=OWN, now=NOW)
    rows = database.conn.execute("SELECT factors FROM churn_scores").fetchall()
    phrases = set()
    for (text,) in rows:
        factors = json.loads(text)
        assert MIN_FACTORS <= len(factors) <= MAX_FACTORS
        sizes = [abs(f["contribution"]) for f in factors]
        assert sizes == sorted(sizes, reverse=True)
        assert all(set(f) == {"feature", "phrase", "contribution"} for f in factors)
        assert not any("attr:" in f["phrase"] or "=" in f["phrase"] for f in factors)
        phrases |= {f["phrase"] for f in factors}
    assert "said they would switch to Volt Mobile" in phrases
    assert "month-to-month contract" in phrases
    assert any(p.startswith("sentiment fell ") and p.endswith(" in the last 30 days") for p in phrases)
    row = features.matrix.iloc[[5]]
    total = model.base_logit + model.contributions(row).to_numpy().sum()
    assert total == pytest.approx(model.logit(row)[0])


def test_only_opted_in_customers_are_scored_and_withdrawal_removes_the_score(world, db):
    database, _, report = world
    scored = {row[0] for row in database.conn.execute("SELECT customer_id FROM churn_scores")}
    linked = {row[0] for row in database.conn.execute("SELECT customer_id FROM customer_links")}
    assert scored == linked and report.scored == len(linked) == report.opted_in
    assert customer_risk(database, "C0000") is None  # not opted in
    assert customer_risk(database, "C0030") is None  # a handle without consent
    add_customers(db, *[Customer(f"D{i}", tenure_months=i, churned=i % 2 == 0) for i in range(24)])
    link(db, "D1", "d1")
    upsert_handles(db, [CustomerHandle("D2", "x", "d2", consent=True)])  # opted in, nothing linked yet
    run_churn(db, own_brand=OWN, now=NOW)
    assert {r[0] for r in db.conn.execute("SELECT customer_id FROM churn_scores")} == {"D1", "D2"}
    with transaction(db) as conn:
        conn.execute("DELETE FROM customer_links WHERE customer_id = 'D1'")
        conn.execute("UPDATE customer_handles SET consent = 0 WHERE customer_id = 'D1'")
    assert score_active(db, own_brand=OWN, now=NOW) == 1
    assert customer_risk(db, "D1") is None and customer_risk(db, "D2") is not None


def test_model_is_stored_without_customer_data_and_reloads_to_the_same_risks(world, db):
    database, _, report = world
    version, model = load_model(database)
    assert version == report.version
    features = build_features(database, own_brand=OWN, now=NOW)
    stored = dict(database.conn.execute("SELECT customer_id, risk FROM churn_scores"))
    ids = sorted(stored)
    assert np.allclose(model.risk(features.matrix.loc[ids]), [stored[i] for i in ids])
    text = " ".join(str(v) for v in database.conn.execute("SELECT * FROM churn_models").fetchone())
    assert "C00" not in text and "hc00" not in text
    planted_world(db, customers=120)
    first = run_churn(db, own_brand=OWN, now=NOW)
    second = run_churn(db, own_brand=OWN, now=NOW, crm_only=True)
    assert (first.version, second.version) == (1, 2)
    assert db.conn.execute("SELECT version FROM churn_models WHERE active = 1").fetchall() == [(2,)]
    assert load_model(db, 1)[1].kind == "full" and load_model(db)[1].kind == "crm_only"


def test_clear_errors(db):
    with pytest.raises(ValueError, match="no customers"):
        build_features(db, own_brand=OWN)
    with pytest.raises(ChurnError, match="fit one first"):
        load_model(db)
    add_customers(db, *[Customer(f"E{i}", tenure_months=i, churned=False) for i in range(30)])
    with pytest.raises(ValueError, match="own_brand"):
        run_churn(db, own_brand=" ")
    with pytest.raises(ChurnError, match="both churned and retained"):
        run_churn(db, own_brand=OWN)
    add_customers(db, *[Customer(f"F{i}", tenure_months=i, churned=True) for i in range(4)])
    with pytest.raises(ChurnError, match="4 churned and 30 retained"):
        run_churn(db, own_brand=OWN)
    assert db.conn.execute("SELECT COUNT(*) FROM churn_models").fetchone() == (0,)


def test_phrases_read_like_reasons(world):
    database, _, _ = world
    _, model = load_model(database)

    def say(group, context=None, **values):
        return phrase(model, group, {"posts": 4.0, **values}, context or {}, OWN)

    assert say("sentiment_change_30d", sentiment_change_30d=-0.4) == "sentiment fell 0.4 in the last 30 days"
    assert say("intent_switching", {"switch_to": "Volt Mobile"}, intent_switching=1.0) == (
        "said they would switch to Volt Mobile"
    )
    assert say("intent_switching", intent_switching=2.0) == "said they would switch (twice)"
    assert say("intent_switching", intent_switching=0.0) == "never said they would switch"
    assert say("contract", **{"contract=month-to-month": 1.0}) == "month-to-month contract"
    assert say("tenure_months", tenure_months=3.0) == "customer for 3 months"
    assert say("tenure_months", tenure_months=54.0) == "customer for 4.5 years"
    assert say("attr:autopay", **{"attr:autopay": 0.0}) == "autopay: no"
    assert say("attr:support_calls_90d", **{"attr:support_calls_90d": 3.0}) == "support calls 90d: 3"
    praised = {"praised": "Volt Mobile"}
    assert say("competitor_praise", praised, competitor_praise=1.0) == "praised Volt Mobile"
    assert say("own_brand_negative", own_brand_negative=3.0) == "spoke negatively of Nimbus Mobile 3 times"
    assert say("posts", posts=0.0) == "no linked posts"
