"""Topic labels: c-TF-IDF terms without brands, handles or stop words; MMR; representative posts."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.topics.labels import (
    ctfidf_terms,
    label_topics,
    make_label,
    near_duplicates,
    phrase_analyzer,
    pick_label_terms,
    prefer_phrases,
    representative_posts,
)

BRANDS = ("Nimbus Mobile", "Nimbus", "NimbusMob", "@NimbusHelp", "#nimbusmobile", "T-Mobile", "Titan")


def test_analyzer_drops_brands_handles_urls_numbers_and_stop_words():
    analyze = phrase_analyzer(BRANDS)
    text = (
        "NIMBUS MOBILE's roaming pass is great for travel abroad! @NimbusHelp pls fix eSIM support "
        "#nimbusmobile https://t.co/x1y2 2024 5G coverage, can't believe nimbus-mobile and TMobile rock"
    )
    terms = analyze(text)
    for wanted in ("roaming pass", "travel abroad", "esim support", "5g coverage", "5g"):
        assert wanted in terms
    words = {word for term in terms for word in term.split()}
    assert not words & {"nimbus", "mobile", "nimbushelp", "nimbusmobile", "tmobile", "t.co", "2024", "https"}
    assert not words & {"is", "for", "and", "can", "can't", "s"}


def test_analyzer_never_joins_words_across_a_brand_handle_or_stop_word():
    analyze = phrase_analyzer(("Titan",))
    terms = analyze("signal titan tower @someone outage and dropped calls")
    assert "signal tower" not in terms and "tower outage" not in terms and "outage dropped" not in terms
    assert "dropped calls" in terms


def test_brand_stop_terms_match_whole_words_only():
    terms = phrase_analyzer(("Titan",))("titanium case with titans logo")
    assert "titanium case" in terms and "titans logo" in terms


#: Each crafted topic's phrases (two per post).
PLANTED = [
    ["roaming pass", "travel abroad", "holiday"],
    ["esim", "esim support", "esim activation", "qr code"],
    ["refund", "overcharged", "bill"],
]
PLANTED_WORDS = [{word for phrase in phrases for word in phrase.split()} for phrases in PLANTED]
#: Words every topic uses about as often (one in four posts each).
SHARED = ["phone", "network", "account", "customer", "service", "month", "week", "app"]


def topic_docs() -> tuple[list[str], np.ndarray]:
    """Three crafted topics; every post also names brands, a handle, a link and filler words."""
    rng = np.random.RandomState(5)
    docs, topics = [], []
    for topic, phrases in enumerate(PLANTED):
        for index in range(40):
            picked = list(rng.choice(phrases, 2, replace=False))
            brand = ["Nimbus Mobile", "@NimbusHelp", "#nimbusmobile", "Titan"][index % 4]
            shared = " ".join(rng.choice(SHARED, 2, replace=False))
            docs.append(f"{brand} {picked[0]}, really {picked[1]}. {shared} https://t.co/{index} thanks 100")
            topics.append(topic)
    return docs, np.array(topics)


def test_ctfidf_ranks_each_topics_planted_words_first():
    docs, topics = topic_docs()
    terms = ctfidf_terms(docs, topics, [0, 1, 2], stop_terms=BRANDS, top_n=5)
    planted = {"roaming pass", "travel abroad", "holiday", "roaming", "pass", "travel", "abroad"}
    assert {term for term, _ in terms[0][:5]} <= planted
    assert terms[1][0][0] == "esim"
    assert {term for term, _ in terms[2][:3]} == {"refund", "overcharged", "bill"}
    for ranked in terms.values():
        weights = [weight for _, weight in ranked]
        assert weights == sorted(weights, reverse=True) and weights[0] > 0
        # words every topic uses score below each topic's own words
        assert not {word for term, _ in ranked[:3] for word in term.split()} & set(SHARED)


def test_ctfidf_handles_no_docs_and_unknown_topics():
    assert ctfidf_terms([], np.zeros(0, dtype=int), [0, 1]) == {0: [], 1: []}
    assert ctfidf_terms(["the and of it @x 42"], np.array([0]), [0]) == {0: []}
    terms = ctfidf_terms(["bill refund"], np.array([0]), [0, 1])
    assert [term for term, _ in terms[0]] == ["bill", "bill refund", "refund"] and terms[1] == []
    assert len({weight for _, weight in terms[0]}) == 1 and terms[0][0][1] > 0


def test_labels_hold_planted_words_never_brands_and_no_near_duplicates():
    docs, topics = topic_docs()
    centroids = np.eye(3, 8, dtype=np.float32)
    labelled = label_topics(docs, topics, [0, 1, 2], centroids, stop_terms=BRANDS)
    labels = {entry.topic_id: entry.label for entry in labelled}
    # "support" and "activation" occur only in "esim support" / "esim activation": the phrases stand in for
    # them, and no label term holds another ("esim" beside "esim support")
    for topic, entry in enumerate(labelled):
        terms = entry.label.split(", ")
        assert all(term in PLANTED[topic] or set(term.split()) <= set(PLANTED_WORDS[topic]) for term in terms)
        assert not any(near_duplicates(a, b) for i, a in enumerate(terms) for b in terms[i + 1 :])
    assert "esim" in labels[1] and "qr code" in labels[1]
    assert "refund" in labels[2] or "overcharged" in labels[2]
    for entry in labelled:
        assert 2 <= len(entry.label.split(", ")) <= 3
        text = " ".join([entry.label, *(term for term, _ in entry.terms)]).lower()
        assert not {"nimbus", "nimbushelp", "nimbusmobile", "titan", "http", "100"} & set(text.split())


def test_near_duplicates_hold_each_others_words():
    assert near_duplicates("esim", "esim support") and near_duplicates("esim support", "esims")
    assert near_duplicates("plan", "plans") and near_duplicates("data plans", "plan data")
    assert not near_duplicates("roaming pass", "travel pass") and not near_duplicates("pass", "passport")


def test_pick_label_terms_skips_near_duplicates():
    candidates = ["esim", "esim support", "esims", "activation", "qr code", "code scan"]
    assert pick_label_terms(candidates) == ["esim", "activation", "qr code"]
    assert pick_label_terms(candidates, count=5) == ["esim", "activation", "qr code", "code scan"]


def test_mmr_trades_relevance_for_diversity():
    candidates = ["refund", "money back", "billing error"]
    vectors = np.array([[1, 0, 0], [0.995, 0.0999, 0], [0, 0, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.array([0.9, 0.88, 0.7])
    assert pick_label_terms(candidates, relevance, vectors, diversity=0.0)[:2] == ["refund", "money back"]
    assert pick_label_terms(candidates, relevance, vectors, diversity=0.3)[:2] == ["refund", "billing error"]


class DictEncoder:
    """A word encoder from a fixed table of vectors (the Encoder protocol)."""

    identity = "dict"
    dim = 3
    label = "dict"

    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def encode(self, texts):
        rows = np.array([self.table.get(text, [0.0, 0.0, 0.01]) for text in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_word_encoder_reranks_terms_by_closeness_to_the_centroid():
    docs = ["bill"] * 6 + ["refund"] * 4 + ["invoice"] * 3 + ["money"] * 2 + ["signal tower"] * 10
    topics = np.array([0] * 15 + [1] * 10)
    centroids = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    plain = label_topics(docs, topics, [0, 1], centroids)
    assert [term for term, _ in plain[0].terms] == ["bill", "refund", "invoice", "money"]
    assert plain[0].label == "bill, refund, invoice"
    encoder = DictEncoder({"money": [1, 0, 0], "invoice": [0.9, 0.1, 0], "bill": [0.2, 1, 0]})
    ranked = label_topics(docs, topics, [0, 1], centroids, word_encoder=encoder)
    # relevance = cosine x share of the top weight: invoice 0.99 x 0.69 > money 1.0 x 0.54 > bill 0.2 x 1.0
    assert ranked[0].label == "invoice, money, bill"
    assert ranked[0].terms == plain[0].terms  # terms stay the c-TF-IDF ranking


def test_a_word_gives_way_to_the_phrase_holding_most_of_its_uses():
    candidates = [("support", 0.5, 10), ("esim", 0.4, 30), ("esim support", 0.3, 8), ("qr code", 0.2, 9)]
    assert prefer_phrases(candidates) == [("esim support", 0.3), ("esim", 0.4), ("qr code", 0.2)]
    assert [term for term, _ in prefer_phrases(candidates, share=0.9)] == [
        "support",
        "esim",
        "esim support",
        "qr code",
    ]


def test_a_label_already_taken_gets_a_number():
    docs = ["esim, activation"] * 12 + ["roaming pass"] * 4
    labelled = label_topics(docs, np.array([0] * 6 + [1] * 3 + [2] * 3 + [3] * 4), [0, 1, 2, 3], np.eye(4))
    labels = [entry.label for entry in labelled]
    base = labels[0]
    assert sorted(base.split(", ")) == ["activation", "esim"]
    assert labels == [base, f"{base} (2)", f"{base} (3)", "roaming pass"]


def test_make_label_keeps_a_third_term_only_while_short():
    assert make_label(["roaming pass", "travel abroad", "holiday"]) == "roaming pass, travel abroad, holiday"
    assert (
        make_label(["roaming pass", "travel abroad", "international day passes"])
        == "roaming pass, travel abroad"
    )
    assert make_label(["esim"]) == "esim" and make_label([]) == ""


def test_representative_posts_are_nearest_and_skip_near_duplicates():
    centroid = np.array([1, 0, 0], dtype=np.float32)
    posts = np.array(
        [[1, 0.05, 0], [1, 0.06, 0], [1, -0.35, 0], [1, 0, 0.5], [1, 2, 0], [0, 1, 0]], np.float32
    )
    ids = ["a", "a-copy", "b", "c", "d", "e"]
    assert representative_posts(ids, posts, centroid, n=3) == ("a", "b", "c")
    assert representative_posts(ids, posts, centroid, n=10) == ("a", "b", "c", "d", "e")
    assert representative_posts([], np.zeros((0, 3)), centroid) == ()


@pytest.mark.parametrize("hashtag", ["#NimbusMobile", "#nimbusmobile"])
def test_hashtag_stop_terms_match_case_insensitively(hashtag):
    assert phrase_analyzer((hashtag,))("love #NIMBUSMOBILE deals") == ["love", "deals"]


def test_foreign_function_words_are_stop_words_but_english_lookalikes_are_not():
    assert phrase_analyzer()("la verdad que el servicio es malo") == ["verdad", "servicio", "malo"]
    assert "unlimited plus" in phrase_analyzer()("the unlimited plus plan")
