"""Brand mentions: variants, several brands per post, handles and hashtags as whole tokens, the demo world."""

from __future__ import annotations

import json
import sqlite3

import pytest

from nlp.mentions import Brand, MentionAnnotator, find_mentions, term_variants

BRANDS = (
    Brand("T-Mobile", ("TMo",), ("TMobile", "TMobileHelp"), ("TMobile",)),
    Brand("Verizon", ("Big Red",), ("VerizonSupport",), ("verizon",)),
    Brand("Orbit Wireless", ("Orbit",), ("OrbitWireless",), ("orbitwireless",)),
)


@pytest.fixture(scope="module")
def annotator() -> MentionAnnotator:
    return MentionAnnotator(BRANDS)


def mentions(annotator, text):
    return [(brand, surface) for _, brand, surface, _, _ in annotator.annotate([("x:1", text, "en")])]


def test_variants_cover_spacing_hyphen_and_camel_case():
    assert term_variants("T-Mobile") == {"T-Mobile", "T Mobile", "TMobile"}
    assert {"NimbusMobile", "Nimbus Mobile", "Nimbus-Mobile"} <= term_variants("NimbusMobile")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("T-Mobile dropped my call", [("T-Mobile", "T-Mobile")]),
        ("tmobile and T Mobile and t-mobile and TMOBILE", [("T-Mobile", s) for s in
                                                           ("tmobile", "T Mobile", "t-mobile", "TMOBILE")]),
        ("hey @TMobile #TMobile @tmobilehelp", [("T-Mobile", "@TMobile"), ("T-Mobile", "#TMobile"),
                                                ("T-Mobile", "@tmobilehelp")]),
        ("TMo's coverage", [("T-Mobile", "TMo")]),
        ("left @TMobile for Big Red, so much better", [("T-Mobile", "@TMobile"), ("Verizon", "Big Red")]),
        ("Orbit Wireless beats verizon", [("Orbit Wireless", "Orbit Wireless"), ("Verizon", "verizon")]),
        ("AT&amp;T vs T&#8209;Mobile", [("T-Mobile", "T-Mobile")]),
        ("Ｔ－Ｍｏｂｉｌｅ in fullwidth", [("T-Mobile", "T-Mobile")]),
    ],
)  # fmt: skip
def test_crafted_mentions(annotator, text, expected):
    assert mentions(annotator, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "@TMobileFan posted this",  # a handle matches only as a whole token
        "#TMobileSucks trending",
        "mytmobile.com is down",
        "a 12 orbit rotation",  # a lowercase common-word alias after a number is the common word
        "tmob and verizonwireless",  # no partial words
    ],
)
def test_no_false_positives(annotator, text):
    assert [brand for brand, _ in mentions(annotator, text) if brand != "Verizon"] == []


def test_offsets_point_into_the_normalised_text(annotator):
    from nlp.normalize import normalize

    text = "AT&amp;T? no: @TMobile &amp; Orbit"
    rows = annotator.annotate([("x:1", text, None)])
    assert [normalize(text)[start:end] for _, _, _, start, end in rows] == ["@TMobile", "Orbit"]


def test_no_brand_configured_is_a_clear_error():
    with pytest.raises(ValueError, match="no brand is configured"):
        MentionAnnotator([Brand("")])


def test_demo_world_brands_match_truth(small_demo):
    from tasteradar.config import load_config

    truth = json.loads((small_demo.db_path.parent / "truth.json").read_text())["posts"]
    config = load_config(small_demo.db_path.parent / "tasteradar.toml")
    annotator = MentionAnnotator(config.brands)
    conn = sqlite3.connect(f"file:{small_demo.db_path}?mode=ro", uri=True)  # shared: read only, no migration
    try:
        batch = conn.execute("SELECT id, text, lang FROM posts").fetchall()
    finally:
        conn.close()
    found: dict[str, set[str]] = {}
    for post_id, brand, *_ in annotator.annotate(batch):
        found.setdefault(post_id, set()).add(brand)
    agree = sum(set(truth[pid]["brands"]) == found.get(pid, set()) for pid, _, _ in batch)
    share = agree / len(batch)
    print(f"brand agreement on the demo world: {share:.4f} of {len(batch)} posts")
    assert share >= 0.97


def test_dot_before_a_handle_is_split_off() -> None:
    """``.@united`` (a reply made public) and ``hi.@united`` mention the handle."""
    brands = [Brand("United", handles=("united",))]
    assert find_mentions(".@united call my work", brands) == [("United", "@united")]
    assert find_mentions("thanks.@united: landed", brands) == [("United", "@united")]
