"""Per-brand sentiment: switching and comparison roles, clauses, the annotator, the demo world's truth."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nlp.brand_sentiment import brand_labels, clauses_of
from nlp.mentions import Brand, MentionAnnotator
from nlp.normalize import normalize
from nlp.sentiment import BrandSentimentAnnotator, SentimentScorer
from nlp.sentiment_model import SentimentModel

BRANDS = (
    Brand("T-Mobile", ("TMo",), ("TMobile",)),
    Brand("Verizon", (), ("Verizon", "VerizonSupport")),
    Brand("Orbit Wireless", ("Orbit",), ("OrbitWireless",)),
)


@pytest.fixture(scope="module")
def matcher() -> MentionAnnotator:
    return MentionAnnotator(BRANDS)


def labels(matcher, text, post_label):
    text = normalize(text)
    spans = [(brand, start, end) for brand, _, start, end in matcher.mentions_in(matcher.nlp.make_doc(text))]
    return brand_labels(text, spans, post_label)


@pytest.mark.parametrize(
    ("text", "post", "expected"),
    [
        ("left @TMobile for @Verizon, so much better", "positive",
         {"T-Mobile": "negative", "Verizon": "positive"}),
        ("switched from Verizon to T-Mobile last week", "neutral",
         {"Verizon": "negative", "T-Mobile": "neutral"}),
        ("just ported from verizon to tmobile, half the price!", "positive",
         {"Verizon": "negative", "T-Mobile": "positive"}),
        ("Orbit is way better than Verizon for coverage", "positive",
         {"Orbit Wireless": "positive", "Verizon": "negative"}),
        ("T-Mobile is so much worse than Orbit", "negative",
         {"T-Mobile": "negative", "Orbit Wireless": "positive"}),
        ("@OrbitWireless > @Verizon, not even close", "positive",
         {"Orbit Wireless": "positive", "Verizon": "negative"}),
        ("bye Verizon, hello TMo", "neutral", {"Verizon": "negative", "T-Mobile": "positive"}),
        ("Orbit lets me pause the kids' data from the app. come on T-Mobile", "negative",
         {"Orbit Wireless": "positive", "T-Mobile": "negative"}),
        ("love my Orbit signal but Verizon keeps dropping my calls", "negative",
         {"Orbit Wireless": "positive", "Verizon": "negative"}),
        ("anyone moved from Verizon to T-Mobile? worth it?", "neutral",
         {"Verizon": "neutral", "T-Mobile": "neutral"}),
    ],
)  # fmt: skip
def test_the_clause_around_each_mention_decides(matcher, text, post, expected):
    assert labels(matcher, text, post) == expected


def test_a_single_brand_takes_the_post_label_however_often_named(matcher):
    assert labels(matcher, "@TMobile thanks, T-Mobile support fixed it", "positive") == {
        "T-Mobile": "positive"
    }
    assert labels(matcher, "no brand here", "negative") == {}


def test_clauses_split_at_sentence_ends_and_but():
    text = "great coverage. but the bill; is awful while roaming"
    assert [text[a:b] for a, b in clauses_of(text)] == ["great coverage", "the bill", "is awful", "roaming"]


def fixed_model(label_index: int, dim: int = 4) -> SentimentModel:
    """A model that always answers one class (to test the annotator's plumbing, not the classifier)."""
    import numpy as np

    intercept = np.full(3, -5.0, dtype=np.float32)
    intercept[label_index] = 5.0
    full = np.zeros((3, dim + 18), dtype=np.float32)
    return SentimentModel(full, intercept, np.zeros((3, 18), dtype=np.float32), intercept.copy())


def test_annotator_rows_per_brand_skip_non_english_and_decode_entities():
    annotator = BrandSentimentAnnotator(SentimentScorer(None, None, model=fixed_model(2)), BRANDS)
    rows = annotator.annotate([
        ("x:1", "left @TMobile for @Verizon &amp; so much better", "en"),
        ("x:2", "Verizon ist super", "de"),
        ("x:3", "no brand at all", "en"),
        ("x:4", "Orbit rocks", None),
    ])  # fmt: skip
    by_key = {(row[0], row[1]): (row[2], row[3]) for row in rows}
    assert by_key == {
        ("x:1", "T-Mobile"): ("negative", -0.6),
        ("x:1", "Verizon"): ("positive", pytest.approx(by_key[("x:4", "Orbit Wireless")][1])),
        ("x:4", "Orbit Wireless"): ("positive", by_key[("x:4", "Orbit Wireless")][1]),
    }
    assert (
        annotator.columns == ("post_id", "brand", "label", "score") and annotator.table == "brand_sentiment"
    )
    assert annotator.fingerprint.endswith(annotator.mentions.fingerprint)


def test_beats_copying_the_post_label_on_the_demo_world(small_demo):
    """With the demo's true post labels, the clause rules beat giving every brand the post's label."""
    from tasteradar.config import load_config

    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))["posts"]
    matcher = MentionAnnotator(load_config(small_demo.config_path).brands)
    with sqlite3.connect(small_demo.db_path) as conn:
        texts = dict(conn.execute("SELECT id, text FROM posts"))
    names = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    ours = copied = total = 0
    for post_id, planted in truth.items():
        if planted["lang"] != "en" or len(planted["brand_sentiment"]) < 2:
            continue
        post = names[planted["sentiment"]]
        got = labels(matcher, texts[post_id], post)
        for brand, label in planted["brand_sentiment"].items():
            total += 1
            ours += got.get(brand) == names[label]
            copied += post == names[label]
    assert total > 100
    assert ours / total >= copied / total + 0.15  # measured: 0.77 against 0.52 on the 20k world


def test_reads_current_mentions_and_post_labels_from_the_database(db):
    from datetime import UTC, datetime

    from nlp.annotate import run_annotators
    from nlp.sentiment import SentimentAnnotator
    from store import Post, upsert_posts

    when = datetime(2026, 1, 2, tzinfo=UTC)
    texts = [
        "left @TMobile for @Verizon, so much better",
        "Orbit is great",
        "no brand",
        "Verizon &amp; Orbit",
    ]
    upsert_posts(db, [Post("x", str(i), text, when, lang="en") for i, text in enumerate(texts)])
    scorer = SentimentScorer(db, None, model=fixed_model(0))
    run_annotators(db, [MentionAnnotator(BRANDS), SentimentAnnotator(scorer)])
    upsert_posts(db, [Post("x", "9", "switched from Orbit to T-Mobile", when, lang="en")])  # not yet matched
    annotator = BrandSentimentAnnotator(scorer, BRANDS)
    batch = [(f"x:{i}", text, "en") for i, text in enumerate(texts)] + [
        ("x:9", "switched from Orbit to T-Mobile", "en")
    ]
    stored = annotator._stored_mentions([pid for pid, _, _ in batch])
    assert set(stored) == {"x:0", "x:1", "x:2", "x:3"} and stored["x:2"] == []
    standalone = BrandSentimentAnnotator(SentimentScorer(None, None, model=fixed_model(0)), BRANDS)
    assert sorted(annotator.annotate(batch)) == sorted(standalone.annotate(batch))
    assert ("x:9", "Orbit Wireless", "negative", pytest.approx(-1.0, abs=0.01)) in annotator.annotate(batch)
