"""Unmet needs: the cue list, the phrase, the classifier's rejections, the brand, offsets, the demo world."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nlp.mentions import Brand
from nlp.needs import NeedAnnotator
from nlp.normalize import normalize

BRANDS = (
    Brand("Nimbus Mobile", ("Nimbus",), ("NimbusMobile",), ("nimbusmobile",)),
    Brand("Orbit Wireless", ("Orbit",), ("OrbitWireless",)),
    Brand("Titan Telecom", ("Titan",), ("TitanTelecom",)),
)


@pytest.fixture(scope="module")
def annotator() -> NeedAnnotator:
    return NeedAnnotator(BRANDS)


def needs(annotator, text, lang="en"):
    return [
        (kind, phrase, brand) for _, kind, phrase, _, _, brand in annotator.annotate([("x:1", text, lang)])
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I wish Nimbus had satellite texting in rural areas", ("wish", "satellite texting in rural areas")),
        ("why can't @NimbusMobile offer an eSIM option for the watch?",
         ("question", "an eSIM option for the watch")),
        ("please add wifi calling, Nimbus 🙏", ("request", "wifi calling")),
        ("no option to get a data-only SIM on Orbit. sigh", ("complaint", "a data-only SIM")),
        ("still waiting for Titan to roll out eSIM support https://t.co/x", ("complaint", "eSIM support")),
        ("would switch to Orbit if they had a proper roaming pass", ("wish", "a proper roaming pass")),
        ("we need a family data plan", ("request", "family data plan")),
        ("why is there no parental controls option in the Nimbus app",
         ("complaint", "parental controls option in the Nimbus app")),
        ("when will you add eSIM support @NimbusMobile", ("question", "eSIM support")),
        ("can't believe there's no hotspot allowance on my Titan plan",
         ("complaint", "hotspot allowance on my Titan plan")),
        ("would be nice if Nimbus offered cheaper calls to Lagos", ("wish", "cheaper calls to Lagos")),
        ("bring back the unlimited plan @TitanTelecom", ("request", "the unlimited plan")),
        ("Nimbus give us a proper roaming pass already", ("request", "proper roaming pass")),
        ("it's 2026 and Orbit still doesn't have wifi calling", ("complaint", "wifi calling")),
        ("any plans for satellite SOS, Nimbus?", ("question", "satellite SOS")),
    ],
)  # fmt: skip
def test_cues_and_phrase(annotator, text, expected):
    found = needs(annotator, text)
    assert [(kind, phrase) for kind, phrase, _ in found] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "I wish you a happy new year",
        "I wish you all the best, Nimbus team!",
        "still waiting for my friend, lol",
        "I don't need anything else",
        "I don't need a new phone, Nimbus",
        "do I need a better plan for this?",
        "oh great, I wish every call dropped like this /s",
        "🙏🙏🙏",
        "",
        "please let me know, Nimbus",
        "@NimbusMobile please do something",
        "should have switched from Nimbus to Orbit years ago",
        "if you need to add more lines just call Nimbus",
        "does Nimbus have a student discount?",
        "Titan will return the charge if the device isn't returned",
    ],
)
def test_rejected(annotator, text):
    assert needs(annotator, text) == []


def test_non_english_posts_are_skipped(annotator):
    assert needs(annotator, "ojalá Nimbus tuviera un bono de roaming barato", lang="es") == []
    assert needs(annotator, "I wish Nimbus had eSIM support", lang="und") != []
    assert needs(annotator, "I wish Nimbus had eSIM support", lang=None) != []


@pytest.mark.parametrize(
    ("text", "phrase", "brand"),
    [
        ("Orbit has had eSIM for ages, I wish Nimbus had an eSIM option", "an eSIM option", "Nimbus Mobile"),
        ("I wish Nimbus had wifi calling like Orbit does", "wifi calling", "Nimbus Mobile"),
        ("Titan rocks. please add satellite texting, @OrbitWireless", "satellite texting", "Orbit Wireless"),
        ("I wish they had a roaming pass", "a roaming pass", None),
    ],
)
def test_brand_is_the_one_the_need_is_raised_against(annotator, text, phrase, brand):
    assert needs(annotator, text) == [(needs(annotator, text)[0][0], phrase, brand)]


def test_a_brand_opening_a_new_clause_ends_the_phrase(annotator):
    found = needs(annotator, "I wish Nimbus had an eSIM option Orbit did mine in five minutes")
    assert found == [("wish", "an eSIM option", "Nimbus Mobile")]


def test_a_need_that_points_back_takes_the_clause_before(annotator):
    found = needs(annotator, "Titan has data-only SIMs for $5, why can't Nimbus do the same")
    assert found == [("question", "has data-only SIMs for $5", "Nimbus Mobile")]
    found = needs(annotator, "Orbit's parental controls are great. @NimbusMobile take notes")
    assert found == [("complaint", "parental controls are great", "Nimbus Mobile")]


def test_sarcasm_keeps_a_real_complaint(annotator):
    # a sarcastic post is no wish, but "no option to" still names what is missing
    found = needs(annotator, "love how there's no option to pay online, thanks a lot Titan")
    assert found == [("complaint", "pay online", "Titan Telecom")]


def test_offsets_point_into_the_normalised_text_with_html_entities(annotator):
    text = "AT&amp;T? no... I wish Nimbus had a WhatsApp &amp; WeChat pass 😤 #fail"
    rows = annotator.annotate([("x:1", text, "en")])
    assert len(rows) == 1
    _, kind, phrase, start, end, brand = rows[0]
    assert normalize(text)[start:end] == phrase == "a WhatsApp & WeChat pass"
    assert (kind, brand) == ("wish", "Nimbus Mobile")


def test_several_needs_in_one_post(annotator):
    text = "please add eSIM support, Nimbus. Also why is there no family data sharing?"
    found = needs(annotator, text)
    assert [phrase for _, phrase, _ in found] == ["eSIM support", "family data sharing"]


def test_works_without_configured_brands():
    found = NeedAnnotator(()).find("I wish they had a roaming pass")
    assert [(n.phrase, n.brand) for n in found] == [("a roaming pass", None)]


def test_fingerprint_follows_the_brands():
    assert NeedAnnotator(BRANDS).fingerprint == NeedAnnotator(BRANDS).fingerprint
    assert NeedAnnotator(BRANDS).fingerprint != NeedAnnotator(BRANDS[:1]).fingerprint


def test_demo_world_detection_and_phrases(small_demo):
    """On the planted needs of the 3,000-post demo world: per-post F1 and phrase overlap stay high."""
    from tasteradar.config import load_config

    annotator = NeedAnnotator(load_config(small_demo.config_path).brands)
    truth = json.loads(small_demo.truth_path.read_text(encoding="utf-8"))["posts"]
    with sqlite3.connect(small_demo.db_path) as conn:
        posts = conn.execute("SELECT id, text, lang FROM posts").fetchall()
    rows = annotator.annotate(posts)
    found = {row[0] for row in rows}
    english = [pid for pid, _, _ in posts if truth[pid]["lang"] == "en"]
    tp = sum(1 for pid in english if truth[pid]["need"] and pid in found)
    fp = sum(1 for pid in english if not truth[pid]["need"] and pid in found)
    fn = sum(1 for pid in english if truth[pid]["need"] and pid not in found)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision > 0.95 and recall > 0.85
    inside = [
        row[2].lower() in normalize_truth(truth[row[0]]["need_phrase"])
        for row in rows
        if truth[row[0]]["need_phrase"]
    ]
    assert sum(inside) / len(inside) > 0.8  # the phrase is (mostly) a piece of the planted need sentence
    assert not any(truth[row[0]]["lang"] != "en" for row in rows if truth[row[0]]["lang"])


def normalize_truth(phrase: str) -> str:
    return normalize(phrase).lower()


def test_a_shared_doc_is_left_as_it_was(annotator):
    doc = annotator.nlp.make_doc("@NimbusMobile please add eSIM support, you guys")
    before = [token.norm_ for token in doc]
    assert [need.phrase for need in annotator.needs_in(doc)] == ["eSIM support"]
    assert [token.norm_ for token in doc] == before
