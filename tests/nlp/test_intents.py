"""Churn and switching intents: kinds, brands, negation, conditionals, questions, sarcasm, the demo world."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nlp.intent_patterns import CueMatcher, typo_variants
from nlp.intents import INTENT_KINDS, IntentAnnotator, prepare_text
from nlp.mentions import Brand

BRANDS = (
    Brand("Nimbus Mobile", ("Nimbus",), ("NimbusMobile", "NimbusHelp"), ("nimbusmobile",)),
    Brand("Volt Mobile", ("Volt",), ("VoltMobile",), ("voltmobile",)),
    Brand("Titan Telecom", ("Titan",), ("TitanTelecom",), ()),
)
N, V, T = "Nimbus Mobile", "Volt Mobile", "Titan Telecom"


@pytest.fixture(scope="module")
def annotator() -> IntentAnnotator:
    return IntentAnnotator(BRANDS)


def intents(annotator, text, lang="en"):
    return [tuple(row[1:4]) for row in annotator.annotate([("x:1", text, lang)])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("switching to Volt after the Nimbus price hike", [("switching", N, V)]),
        ("moving from @NimbusHelp to Volt next month", [("switching", N, V)]),
        ("left Nimbus for Volt, so much better", [("switched", N, V)]),
        ("three weeks on Volt after leaving Nimbus, no regrets", [("switched", N, V)]),
        ("should have switched from Nimbus to Volt sooner", [("switched", N, V)]),
        ("why did I not switch from Nimbus to Volt years ago", [("switched", N, V)]),
        ("just switched from Titan to Nimbus, half the price", [("switched", T, N)]),
        ("moved to Nimbus from Titan last week", [("switched", T, N)]),
        ("price hike? bye Nimbus, hello Volt", [("switching", N, V)]),
        ("Nimbus wants $5 more a month? Volt it is", [("switching", N, V)]),
        ("Nimbus -&gt; Volt 🎉", [("switching", N, V)]),
        ("Nimbus ➡️ Volt", [("switching", N, V)]),
        ("ditched NIMBUS for Volt and my bill is finally sane", [("switched", N, V)]),
    ],
)  # fmt: skip
def test_switching_with_both_ends(annotator, text, expected):
    assert intents(annotator, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cancelling Nimbus tomorrow", [("cancel", N, None)]),
        ("how do I cancel Nimbus? the website is a maze", [("cancel", N, None)]),
        ("@NimbusHelp I'm cancelling my plan", [("cancel", N, None)]),
        ("not renewing my Nimbus contract", [("cancel", N, None)]),
        ("calling Nimbus to cancel, wish me luck", [("cancel", N, None)]),
        ("canccel my nimbus plan asap", [("cancel", N, None)]),
        ("that's it, I'm leaving Nimbus", [("leaving", N, None)]),
        ("can't wait to be rid of Nimbus", [("leaving", N, None)]),
        ("👋 @NimbusMobile", [("leaving", N, None)]),
        ("@NimbusHelp never again.", [("leaving", N, None)]),
        ("need my transfer pin from @NimbusHelp", [("port_out", N, None)]),
        ("got my port-out PIN from Nimbus, off to Volt", [("port_out", N, V), ("switching", N, V)]),
        ("just ported my number from Nimbus to Volt, painless", [("port_out", N, V)]),
    ],
)  # fmt: skip
def test_cancel_leaving_and_port_out(annotator, text, expected):
    assert intents(annotator, text) == expected


def test_several_kinds_in_one_post_one_row_each(annotator):
    rows = intents(annotator, "so done with Nimbus. Volt here I come, switching to Volt on Monday")
    assert rows == [("leaving", N, V), ("switching", N, V)]


@pytest.mark.parametrize(
    "text",
    [
        "thinking of switching from Nimbus to Volt",
        "should I switch from Nimbus to Volt?",
        "anyone moved from Nimbus to Volt? any regrets?",
        "Volt is offering a free month, might jump ship from Nimbus",
        "seriously considering Volt after another month of Nimbus",
    ],
)
def test_hedges_and_questions_are_considering(annotator, text):
    assert intents(annotator, text) == [("considering", N, V)]


@pytest.mark.parametrize(
    "text",
    [
        "I'm not leaving Nimbus",
        "I would never switch to Volt",
        "not switching to Volt, Nimbus is fine",
        "would switch to Nimbus if they had eSIM",
        "the day Nimbus gets eSIM I'm switching",
        "if Nimbus raises prices again I'm cancelling my plan",
        "you should switch to Volt",
        "going to the Volt store tomorrow",
        "switching to Volt lol /s",
        "oh yeah right, leaving Nimbus",
        "Volt > Nimbus, not even close",
        "is satellite texting coming to Nimbus?",
        "cancelled my BT line and Nimbus works fine around the house",
        "VZ will cancel your service, Nimbus won't",
        "the disconnected line still got Nimbus credits",
        "can that be done with Nimbus's fiber?",
        "To cancel lines requires a call to Nimbus",
        "Porting out doesn't require talking to a Nimbus rep",
        "the balance is due as soon as you port out from Nimbus",
        "an offer for people who switch to Nimbus",
        "🔥🔥🔥 💯",
        "",
    ],
)
def test_no_intent(annotator, text):
    assert intents(annotator, text) == []


def test_retweets_and_non_english_are_skipped(annotator):
    assert intents(annotator, "RT @bob: switching to Volt after the Nimbus price hike") == []
    assert intents(annotator, "switching to Volt after the Nimbus price hike", lang="es") == []
    assert intents(annotator, "me cambio a Volt, Nimbus es un desastre", lang=None) == []
    assert intents(annotator, "switching to Volt after the Nimbus price hike", lang="und") == [
        ("switching", N, V)
    ]


def test_line_breaks_end_sentences(annotator):
    # normalize() folds line breaks; the question on the next line must not make the switch a question
    text = "Should have switched from nimbus to Volt sooner\n\nhas anyone had luck with this?"
    assert (
        prepare_text(text)
        == "Should have switched from nimbus to Volt sooner\nhas anyone had luck with this?"
    )
    assert intents(annotator, text) == [("switched", N, V)]


def test_cue_is_text_of_the_normalised_post(annotator):
    rows = annotator.annotate([("x:1", "ＳＷＩＴＣＨＩＮＧ to Volt from Nimbus", "en")])
    assert [row[4] for row in rows] == ["SWITCHING to Volt from Nimbus"]


def test_contract():
    annotator = IntentAnnotator(BRANDS)
    assert annotator.name == "intents.rules.v2"
    assert annotator.table == "post_intents"
    assert annotator.columns == ("post_id", "intent", "from_brand", "to_brand", "cue")
    assert (
        annotator.fingerprint
        == IntentAnnotator(BRANDS).fingerprint
        != IntentAnnotator(BRANDS[:2]).fingerprint
    )
    rows = annotator.annotate([("a", "switching to Volt", "en"), ("b", "nothing here", "en")])
    assert all(len(row) == len(annotator.columns) and row[1] in INTENT_KINDS for row in rows)


def test_typo_variants_skip_real_words():
    assert {"canccel", "cancl", "cacnel"} <= typo_variants("cancel")
    assert "let" not in typo_variants("left") and "form" not in typo_variants("from")
    assert typo_variants("to") == {"to"}


def test_matcher_rejects_a_leading_filler():
    from nlp.intent_patterns import Rule

    with pytest.raises(ValueError):
        CueMatcher((Rule("bad", "move", "*2 to TO"),))


def test_demo_world_intents_match_truth(small_demo):
    from tasteradar.config import load_config

    truth = json.loads((small_demo.db_path.parent / "truth.json").read_text())["posts"]
    config = load_config(small_demo.db_path.parent / "tasteradar.toml")
    conn = sqlite3.connect(f"file:{small_demo.db_path}?mode=ro", uri=True)  # shared: read only
    try:
        batch = [(pid, text, truth[pid]["lang"]) for pid, text in conn.execute("SELECT id, text FROM posts")]
    finally:
        conn.close()
    found: dict[str, list[tuple]] = {}
    for row in IntentAnnotator(config.brands).annotate(batch):
        found.setdefault(row[0], []).append(row)
    english = [pid for pid, _, lang in batch if lang == "en"]
    planted = {pid for pid in english if truth[pid]["intent"] != "none"}
    detected = {pid for pid in english if pid in found}
    precision = len(planted & detected) / len(detected)
    recall = len(planted & detected) / len(planted)
    from_ok = [
        any(row[2] == truth[pid]["from_brand"] for row in found[pid]) for pid in planted & detected
    ]  # fmt: skip
    from_accuracy = sum(from_ok) / len(from_ok)
    print(f"demo intents: precision {precision:.3f} recall {recall:.3f} from-brand {from_accuracy:.3f}")
    assert precision >= 0.9 and recall >= 0.85
    assert from_accuracy >= 0.97
