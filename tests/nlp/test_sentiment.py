"""Post-level sentiment: crafted cases, stored embeddings or the text-only path, the runner, model files."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import numpy as np
import pytest

from nlp.annotate import Annotator, pending_count, run_annotators
from nlp.mentions import Brand
from nlp.sentiment import (
    ModelStore,
    SentimentAnnotator,
    SentimentScorer,
    seed_embeddings,
    seeds_digest,
    shipped_seed_embeddings,
)
from nlp.sentiment_features import Cues, features, lexicon_score, tokens
from nlp.sentiment_model import SentimentModel, fit_seeds, load_seeds
from nlp.vectors import pack
from store import Post, upsert_posts

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DIM = 32


BRANDS = (Brand("AcmeAir", handles=("AcmeAir",)),)


def fake_embed(texts):
    """A tiny deterministic embedding: hashed bag of words, unit length (no model needed)."""
    matrix = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in tokens(text):
            matrix[row, zlib.crc32(word.encode()) % DIM] += 1.0
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


@pytest.fixture(scope="module")
def text_only() -> SentimentAnnotator:
    """The annotator with no database: every post goes through the text-only head of the seed model."""
    return SentimentAnnotator(SentimentScorer(None, None, embed=fake_embed))


def label_of(annotator, text, lang="en"):
    rows = annotator.annotate([("x:1", text, lang)])
    return rows[0][1] if rows else None


def test_lexicon_negation_flips_the_next_words_of_the_clause():
    positive, negative, *_ = lexicon_score(tokens("not bad at all"))
    assert positive > 0 and negative == 0
    positive, negative, *_ = lexicon_score(tokens("not happy. good"))
    assert negative > 0 and positive > 0  # the full stop ends the negation
    assert Cues("not happy with my bill").complaint == 1 and Cues("not happy with my bill").praise == 0
    assert Cues("no delays at all").praise == 1


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("not bad at all, the upgrade went fine", "positive"),
        ("@NovaTel not happy with my bill at all", "negative"),
        ("thanks for nothing @AcmeAir", "negative"),
        ("great job losing my bag again @AcmeAir", "negative"),
        ("@AcmeAir what time does boarding start?", "neutral"),
        ("😍😍😍", "positive"),
        ("😡😡", "negative"),
        ("@AcmeAir thank you so much, the crew was wonderful", "positive"),
        ("@NovaTel still no signal after four days, worst service ever", "negative"),
    ],
)
def test_crafted_cases(text_only, text, label):
    assert label_of(text_only, text) == label


def test_sarcasm_cue_fires_on_praise_glued_to_a_failure():
    assert Cues("thanks for nothing").sarcasm and Cues("great job losing my luggage").sarcasm
    assert Cues("love waiting on hold for an hour").sarcasm
    assert not Cues("thanks for the help").sarcasm and not Cues("great job on the landing").sarcasm


def test_html_entities_are_decoded_once_before_scoring(text_only):
    assert label_of(text_only, "love you guys &lt;3") == "positive"
    assert features("love you guys <3")[11] > 0  # the <3 emoticon counts as a positive emoji


def test_non_english_posts_get_no_row_and_scores_are_in_range(text_only):
    rows = text_only.annotate(
        [("x:1", "das ist schlecht", "de"), ("x:2", "worst day", "en"), ("x:3", "ok", None)]
    )
    assert [row[0] for row in rows] == ["x:2", "x:3"]
    assert all(-1.0 <= row[2] <= 1.0 for row in rows) and rows[0][2] < 0


def test_seed_file_is_balanced_and_parses():
    seeds = load_seeds()
    counts = {
        label: sum(1 for lab, _ in seeds if lab == label) for label in ("negative", "neutral", "positive")
    }
    assert len(seeds) >= 300 and min(counts.values()) >= 90


def posts(texts):
    return [Post("x", str(1000 + i), text, WHEN, lang="en") for i, text in enumerate(texts)]


def store_vectors(db, texts, skip=()):
    rows = [
        (f"x:{1000 + i}", "fake", DIM, pack(vector), "embeddings.fake.v1")
        for i, vector in enumerate(fake_embed(texts))
        if i not in skip
    ]
    with db.conn:
        db.conn.executemany(
            "INSERT INTO post_embeddings (post_id, model, dim, vector, annotator) VALUES (?, ?, ?, ?, ?)",
            rows,
        )


TEXTS = [
    "@AcmeAir thank you, lovely crew",
    "@AcmeAir cancelled again, worst airline",
    "@AcmeAir what time is boarding?",
    "@AcmeAir my bag is lost and nobody answers",
    "@AcmeAir great flight, landed early",
    "@AcmeAir do you fly to lisbon?",
]


def test_stored_embeddings_feed_the_full_head_and_missing_ones_the_text_head(db, tmp_path):
    upsert_posts(db, posts(TEXTS))
    store_vectors(db, TEXTS, skip={5})
    scorer = SentimentScorer(db, tmp_path / "models", embed=fake_embed)
    ids = [f"x:{1000 + i}" for i in range(len(TEXTS))]
    proba = scorer.score(ids, TEXTS)
    model = scorer.model
    assert model.dim == DIM
    full = model.proba_full(fake_embed(TEXTS[:5]), np.vstack([features(t) for t in TEXTS[:5]]))
    assert np.allclose(proba[:5], full, atol=1e-5)
    assert np.allclose(proba[5], model.proba_text(features(TEXTS[5])[None, :])[0], atol=1e-5)


def test_runner_is_idempotent_and_a_new_model_recomputes_only_this_family(db, tmp_path):
    upsert_posts(db, posts(TEXTS))
    store_vectors(db, TEXTS)
    models = tmp_path / "models"
    annotator = SentimentAnnotator(SentimentScorer(db, models, embed=fake_embed))
    assert isinstance(annotator, Annotator)
    assert run_annotators(db, [annotator]) == {"sentiment.seedlr.v2": 6}
    assert run_annotators(db, [SentimentAnnotator(SentimentScorer(db, models))]) == {"sentiment.seedlr.v2": 0}
    labels = dict(db.conn.execute("SELECT post_id, label FROM post_sentiment").fetchall())
    assert labels["x:1001"] == "negative" and labels["x:1000"] == "positive"
    # A different model (as `sentiment train` would publish) changes the fingerprint: everything is redone.
    store = ModelStore(models)
    current = store.load_current()
    changed = SentimentModel(current.full_coef * 1.01, current.full_intercept, current.text_coef,
                             current.text_intercept, current.feature_weight, dict(current.meta))  # fmt: skip
    store.publish(changed)
    fresh = SentimentAnnotator(SentimentScorer(db, models))
    assert pending_count(db, fresh) == 6
    assert [path.name for path in store.versions()] == ["model-0001.npz", "model-0002.npz"]
    assert run_annotators(db, [fresh]) == {"sentiment.seedlr.v2": 6}
    assert db.conn.execute("SELECT count(*) FROM post_sentiment").fetchone()[0] == 6


def test_version_bump_recomputes_sentiment_and_leaves_other_families(db, tmp_path):
    from nlp.sentiment import BrandSentimentAnnotator

    upsert_posts(db, posts(TEXTS))
    scorer = SentimentScorer(db, tmp_path / "models", embed=fake_embed)
    post_level, brand_level = SentimentAnnotator(scorer), BrandSentimentAnnotator(scorer, BRANDS)
    run_annotators(db, [post_level, brand_level])

    class Bumped(SentimentAnnotator):
        name = "sentiment.seedlr.v3"

    counts = run_annotators(db, [Bumped(scorer), BrandSentimentAnnotator(scorer, BRANDS)])
    assert counts == {"sentiment.seedlr.v3": 6, "brand_sentiment.clause.v1": 0}
    names = {row[0] for row in db.conn.execute("SELECT DISTINCT annotator FROM post_sentiment")}
    assert names == {"sentiment.seedlr.v3"}


def test_seed_embeddings_are_cached_in_the_model_folder(tmp_path):
    store = ModelStore(tmp_path / "models")
    calls = []

    def counting():
        calls.append(1)
        return fake_embed

    first = seed_embeddings(store, counting, shipped=False)
    assert (tmp_path / "models" / "sentiment" / f"seeds-{seeds_digest()}.npy").exists()
    assert np.array_equal(seed_embeddings(store, counting), first) and len(calls) == 1


def test_the_shipped_seed_embeddings_belong_to_the_current_seed_file():
    path = shipped_seed_embeddings(seeds_digest())
    assert path.exists(), (
        "seed file edited: run python -c 'from nlp.sentiment import write_shipped_seed_embeddings as w; w()'"
    )
    assert np.load(path).shape == (len(load_seeds()), 384)


def test_model_round_trips_through_its_file(tmp_path):
    model = fit_seeds(fake_embed([text for _, text in load_seeds()]))
    path = model.save(tmp_path / "m.npz")
    loaded = SentimentModel.load(path)
    assert loaded.digest() == model.digest() and loaded.meta == model.meta
    assert SentimentScorer(None, None, model=loaded).model is loaded


def test_a_seed_model_of_an_older_seed_file_is_refitted_but_a_labelled_model_is_kept(tmp_path):
    store = ModelStore(tmp_path / "models")
    seed_model = fit_seeds(fake_embed([text for _, text in load_seeds()]))
    meta = dict(seed_model.meta)
    old = SentimentModel(seed_model.full_coef * 2, seed_model.full_intercept, seed_model.text_coef,
                         seed_model.text_intercept, seed_model.feature_weight, meta)  # fmt: skip
    store.publish(old)  # a seed model with no seeds_digest: fitted on an older seed file
    refitted = SentimentScorer(None, tmp_path / "models", embed=fake_embed).model
    assert refitted.meta["seeds_digest"] == seeds_digest() and refitted.digest() != old.digest()
    assert [path.name for path in store.versions()] == ["model-0001.npz", "model-0002.npz"]
    assert SentimentScorer(None, tmp_path / "models", embed=fake_embed).model.digest() == refitted.digest()
    labelled = SentimentModel(old.full_coef, old.full_intercept, old.text_coef, old.text_intercept,
                              old.feature_weight, {"method": "labelled", "labels": 500})  # fmt: skip
    store.publish(labelled)
    assert SentimentScorer(None, tmp_path / "models", embed=fake_embed).model.digest() == labelled.digest()
