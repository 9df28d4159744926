"""Cheap construction: mentions, needs, intents and language build spaCy and py3langid on first use only.

A second ``analyze`` with nothing new reads each annotator's name and fingerprint and annotates nothing, so
it must not pay for importing spaCy (which imports torch through thinc) or loading the langid model. The
fingerprints are pinned to the values the eager annotators had: a change would re-annotate every database.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from nlp.intents import IntentAnnotator
from nlp.language import COMMON_LANGUAGES, LanguageAnnotator, LanguageDetector, candidate_labels
from nlp.mentions import Brand, MentionAnnotator
from nlp.needs import NeedAnnotator

ROOT = Path(__file__).resolve().parents[2]

BRANDS = (
    Brand("Nimbus Mobile", ("Nimbus", "NimbusMobile"), ("NimbusHelp",), ("nimbusmobile",)),
    Brand("Volt Mobile", ("Volt",), ("VoltMobile",)),
    Brand("T-Mobile", ("Magenta",), (), ("#tmobile",)),
)
#: Computed with the eager annotators (before construction became lazy), for BRANDS.
PINNED = {
    "mentions": "3519912416164a54",
    "needs": "dfd750f70e1b81ea",
    "needs without brands": "3088b8e7c7b2d807",
    "intents": "3519912416164a54",
    "language": "a5208f4965c6a5be",
    "language fr, en (min_letters 5)": "76bbe5ba1b87ffd6",
}

POSTS = [
    ("p:1", "Switching from Nimbus to Volt Mobile next month, done with the dropped calls", "en"),
    ("p:2", "@NimbusHelp please add eSIM support for the watch! #nimbusmobile", None),
    ("p:3", "I wish tmobile had a decent roaming pass. thanks.@VoltMobile for yours", "en"),
    ("p:4", "my 12 volt charger died, cancelling my Nimbus Mobile plan today", "und"),
    ("p:5", "Je voudrais vraiment que Nimbus propose enfin une vraie option eSIM pour la montre", "fr"),
    ("p:6", "Hola, ¿alguien sabe por qué Volt no tiene señal en el centro desde ayer?", None),
    ("p:7", "ok", "en"),
    ("p:8", "Thinking of porting my number from T Mobile to Nimbus?", "en"),
]
#: The rows the eager annotators gave for POSTS.
EXPECTED_ROWS = {
    "mentions.phrase.v2": [
        ("p:1", "Nimbus Mobile", "Nimbus", 15, 21),
        ("p:1", "Volt Mobile", "Volt Mobile", 25, 36),
        ("p:2", "Nimbus Mobile", "@NimbusHelp", 0, 11),
        ("p:2", "Nimbus Mobile", "#nimbusmobile", 51, 64),
        ("p:3", "T-Mobile", "tmobile", 7, 14),
        ("p:3", "Volt Mobile", "@VoltMobile", 49, 60),
        ("p:4", "Nimbus Mobile", "Nimbus Mobile", 39, 52),
        ("p:5", "Nimbus Mobile", "Nimbus", 25, 31),
        ("p:6", "Volt Mobile", "Volt", 28, 32),
        ("p:8", "T-Mobile", "T Mobile", 35, 43),
        ("p:8", "Nimbus Mobile", "Nimbus", 47, 53),
    ],
    "needs.cues.v2": [
        ("p:2", "request", "eSIM support for the watch", 23, 49, "Nimbus Mobile"),
        ("p:3", "wish", "a decent roaming pass", 19, 40, "T-Mobile"),
    ],
    "intents.rules.v2": [
        ("p:1", "switching", "Nimbus Mobile", "Volt Mobile", "Switching from Nimbus to Volt Mobile"),
        ("p:4", "cancel", "Nimbus Mobile", None, "cancelling my Nimbus Mobile plan"),
        ("p:8", "considering", "T-Mobile", "Nimbus Mobile", "porting my number from T Mobile to Nimbus"),
    ],
    "language.langid.v1": [
        ("p:1", "en", 0.9997),
        ("p:2", "en", 0.9963),
        ("p:3", "en", 0.9999),
        ("p:4", "en", 0.9815),
        ("p:5", "fr", 0.9999),
        ("p:6", "es", 1.0),
        ("p:7", "en", 0.0),
        ("p:8", "en", 0.9937),
    ],
}


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (nothing imported yet) from the repository root."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def test_fingerprints_are_those_of_the_eager_annotators():
    assert MentionAnnotator(BRANDS).fingerprint == PINNED["mentions"]
    assert NeedAnnotator(BRANDS).fingerprint == PINNED["needs"]
    assert NeedAnnotator().fingerprint == PINNED["needs without brands"]
    assert IntentAnnotator(BRANDS).fingerprint == PINNED["intents"]
    assert LanguageAnnotator().fingerprint == PINNED["language"]
    assert (
        LanguageAnnotator(["fr", "en", "fr"], min_letters=5).fingerprint
        == PINNED["language fr, en (min_letters 5)"]
    )


def test_rows_are_those_of_the_eager_annotators():
    for annotator in (
        MentionAnnotator(BRANDS), NeedAnnotator(BRANDS), IntentAnnotator(BRANDS), LanguageAnnotator()
    ):  # fmt: skip
        assert annotator.annotate(POSTS) == EXPECTED_ROWS[annotator.name], annotator.name


def test_building_the_annotators_imports_no_spacy_and_loads_no_langid():
    run_python(
        """
        import sys
        from nlp.mentions import Brand
        from nlp.registry import build_annotators

        heavy = ("spacy", "thinc", "torch", "py3langid")
        brands = [Brand("Nimbus Mobile", ("Nimbus",), ("NimbusHelp",)), Brand("Volt Mobile", ("Volt",))]
        annotators = {a.name: a for a in build_annotators(brands)}
        for name in ("language.langid", "mentions.phrase", "needs.cues", "intents.rules"):
            (annotator,) = [a for key, a in annotators.items() if key.startswith(name + ".v")]
            assert annotator.fingerprint and annotator.table and annotator.columns
        loaded = [module for module in heavy if module in sys.modules]
        assert not loaded, loaded

        rows = annotators["mentions.phrase.v2"].annotate([("x:1", "left @NimbusHelp for volt", "en")])
        assert rows == [
            ("x:1", "Nimbus Mobile", "@NimbusHelp", 5, 16), ("x:1", "Volt Mobile", "volt", 21, 25)
        ]
        assert "spacy" in sys.modules and "py3langid" not in sys.modules
        language = annotators["language.langid.v1"]
        assert language.annotate([("x:1", "bonjour tout le monde, ça va bien", None)])[0][1] == "fr"
        assert "py3langid" in sys.modules
        """
    )


def test_a_run_with_nothing_new_imports_no_spacy(db, tmp_path):
    """The runner reads name and fingerprint, finds nothing pending and never builds the heavy parts."""
    from nlp.annotate import run_annotators
    from nlp.registry import build_annotators
    from store import Post, upsert_posts

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    upsert_posts(db, [Post("x", str(i), text, when, lang=lang) for i, (_, text, lang) in enumerate(POSTS)])
    names = ["language.langid", "mentions.phrase", "needs.cues", "intents.rules"]
    done = run_annotators(db, build_annotators(BRANDS, names, db=db))
    assert set(done.values()) == {len(POSTS)}
    result = run_python(
        f"""
        import sys
        from nlp.annotate import run_annotators
        from nlp.mentions import Brand
        from nlp.registry import build_annotators
        from store import open_db

        db = open_db({str(tmp_path / "tasteradar.db")!r})
        brands = {BRANDS!r}
        print(run_annotators(db, build_annotators(brands, {names!r}, db=db)))
        loaded = [module for module in ("spacy", "thinc", "torch", "py3langid") if module in sys.modules]
        assert not loaded, loaded
        """
    )
    assert result.stdout.strip() == str(dict.fromkeys(done, 0))


def test_errors_still_come_at_construction():
    with pytest.raises(ValueError, match="no brand is configured"):
        MentionAnnotator([])
    with pytest.raises(ValueError, match="no brand is configured"):
        IntentAnnotator([Brand("")])
    with pytest.raises(ValueError, match=r"does not know \['klingon'\]"):
        LanguageAnnotator(["en", "klingon"])


def test_heavy_parts_are_built_once():
    mentions, needs, intents = MentionAnnotator(BRANDS), NeedAnnotator(BRANDS), IntentAnnotator(BRANDS)
    assert mentions.matcher is mentions.matcher and needs.matcher is needs.matcher
    assert mentions.nlp is needs.nlp is intents.nlp  # the one shared tokenizer
    assert intents.matcher is intents.matcher and intents.triggers is intents.triggers


@pytest.mark.parametrize("languages", [COMMON_LANGUAGES, ("sr", "en", "uz"), ("fr",)])
def test_candidate_labels_are_the_detector_labels(languages):
    assert candidate_labels(languages) == LanguageDetector(languages).labels


def test_listed_labels_are_the_installed_models():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from nlp import language

    if candidate_labels(["en"]) is None:
        pytest.skip("this py3langid version is not listed: the model is loaded at construction")
    model = LanguageIdentifier.from_model_file(MODEL_FILE).nb_classes
    assert candidate_labels(set(model)) == list(model)
    assert any(tuple(model) == listed for listed in language._PY3LANGID_LABELS.values())


def test_an_unlisted_py3langid_loads_the_model_at_construction(monkeypatch):
    from nlp import language

    monkeypatch.setattr(language, "_PY3LANGID_LABELS", {})
    annotator = LanguageAnnotator()
    assert "detector" in vars(annotator)  # loaded now, not on first use
    assert annotator.fingerprint == PINNED["language"]
    with pytest.raises(ValueError, match="does not know"):
        LanguageAnnotator(["en", "klingon"])


def test_a_wrong_label_list_is_caught_when_the_model_loads(monkeypatch):
    from importlib.metadata import version

    from nlp import language

    monkeypatch.setattr(language, "_PY3LANGID_LABELS", {version("py3langid"): ("en", "sr")})
    annotator = LanguageAnnotator(["sr"])  # the model lists sr twice
    with pytest.raises(RuntimeError, match="differ"):
        annotator.annotate([("x:1", "zdravo svima", None)])
