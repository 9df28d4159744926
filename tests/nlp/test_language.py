"""Language: labelled posts, short English tweets kept English, ``und``, the source's label when unsure."""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from nlp.language import LanguageAnnotator, detection_text, source_label

AIRLINE = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "data"
    / "twitter-airline-sentiment"
    / "Tweets.csv"
)


@pytest.fixture(scope="module")
def annotator() -> LanguageAnnotator:
    return LanguageAnnotator()


def lang(annotator, text, source=None):
    return annotator.annotate([("x:1", text, source)])[0][1]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Je voudrais vraiment que mon opérateur propose enfin une vraie option eSIM pour la montre", "fr"),
        ("Hola, ¿alguien sabe por qué no tengo señal en el centro desde ayer? Es un desastre total", "es"),
        ("Warum bietet mein Anbieter keine vernünftige Kindersicherung an? Das ist wirklich ärgerlich", "de"),
        ("por que a operadora não tem um pacote de roaming decente? absurdo", "pt"),
        ("I wish my carrier offered a decent roaming pass for Europe", "en"),
    ],
)
def test_languages_are_labelled(annotator, text, expected):
    assert lang(annotator, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "@united thanks for the help",
        "@JetBlue @SouthwestAir on hold for 2 hours now #fail http://t.co/x1",
        "@AmericanAir late again smh 😤😤",
        "@VirginAmerica you guys rock!! 😍 #love",
        "@united lol no",
        "@SouthwestAir ok",
    ],
)
def test_short_english_tweets_with_handles_are_not_labelled_foreign(annotator, text):
    assert lang(annotator, text) in ("en", "und")


@pytest.mark.parametrize("text", ["", "🙏🙏🙏", "@JetBlue #fail 🙄", "https://t.co/abc", "12:45 !!!"])
def test_nothing_to_judge_is_und(annotator, text):
    assert annotator.annotate([("x:1", text, None)]) == [("x:1", "und", 0.0)]
    assert lang(annotator, text, "und") == "und"


def test_the_source_label_is_kept_when_the_detector_is_unsure(annotator):
    assert lang(annotator, "ok ok 👍", "fr") == "fr"  # too short to judge
    assert lang(annotator, "gracias", "es") == "es"
    assert lang(annotator, "@united lol no", "en") == "en"
    # a confident detector overrules a wrong source label
    assert lang(annotator, "I have been on hold with support for two hours and nobody answers", "es") == "en"


def test_html_entities_and_case(annotator):
    assert lang(annotator, "AT&amp;T and me: I WISH MY PHONE HAD A DECENT SIGNAL AT HOME") == "en"


def test_source_labels_are_normalised():
    assert source_label("en-GB") == "en"
    assert source_label("PT_br") == "pt"
    assert source_label("und") is None and source_label("zxx") is None and source_label(None) is None


def test_detection_text_keeps_only_words():
    text = "@JetBlue loved it!!! 😍 #blessed https://t.co/x www.site.com 5 stars & more"
    assert detection_text(text) == "loved it stars more"


def test_batched_scores_agree_with_py3langid(annotator):
    detector = annotator.detector
    texts = ["the flight was late again", "Je suis en retard", "¿dónde está mi maleta?", "Danke schön"]
    for text, probs in zip(texts, detector.probabilities(texts), strict=True):
        ranked = dict(detector.identifier.rank(text))
        expected = np.array([ranked[label] for label in detector.labels])
        assert np.allclose(probs, expected, atol=1e-4)


def test_fingerprint_follows_the_settings(annotator):
    assert LanguageAnnotator(["en", "fr"]).fingerprint != annotator.fingerprint
    assert LanguageAnnotator(min_confidence=0.5).fingerprint != annotator.fingerprint
    with pytest.raises(ValueError, match="does not know"):
        LanguageAnnotator(["en", "klingon"])


def test_rerun_reads_the_source_label_not_its_own(db):
    """With a database, the source's label comes from ``posts.lang``, not the runner's ``lang`` argument."""
    from nlp.language import LanguageAnnotator as Annotator

    db.conn.execute(
        "INSERT INTO posts (id, platform, native_id, text, lang, created_at, content_hash, first_seen_at, "
        "updated_at) VALUES ('x:1', 'x', '1', 'ok 👍', 'fr', '2026-01-01', 'h', '2026-01-01', '2026-01-01')"
    )
    with_db = Annotator(db=db)
    assert with_db.annotate([("x:1", "ok 👍", "und")]) == [("x:1", "fr", 0.0)]


def test_demo_world_languages(small_demo, annotator):
    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))["posts"]
    with sqlite3.connect(small_demo.db_path) as conn:
        posts = conn.execute("SELECT id, text, lang FROM posts").fetchall()
    rows = annotator.annotate(posts)
    wrong = [(pid, got) for pid, got, _ in rows if got not in (truth[pid]["lang"], "und")]
    foreign = [pid for pid, _, _ in posts if truth[pid]["lang"] != "en"]
    assert len(wrong) <= 0.002 * len(posts)
    labelled = sum(1 for pid, got, _ in rows if pid in set(foreign) and got == truth[pid]["lang"])
    assert labelled >= 0.95 * len(foreign)


@pytest.mark.skipif(not AIRLINE.exists(), reason="../shared/data is absent")
def test_airline_tweets_are_not_labelled_foreign(annotator):
    with AIRLINE.open(newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)][::4]  # a quarter keeps the test fast
    rows = annotator.annotate([(str(i), text, None) for i, text in enumerate(texts)])
    foreign = [row for row in rows if row[1] not in ("en", "und")]
    assert len(foreign) <= 0.002 * len(rows)  # all are English; 0 of the 14,640 measured
