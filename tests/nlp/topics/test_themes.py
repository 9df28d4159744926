"""Need themes on crafted phrases (HashingEncoder) and crafted vectors: clustering, names, stats, the gap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from nlp.embeddings import HashingEncoder
from nlp.topics.themes import (
    GapSettings,
    NeedRow,
    Praise,
    ThemeSettings,
    cluster_needs,
    competitor_gap,
    display_phrase,
    normalize_phrase,
    theme_stats,
)

BRANDS = ("Nimbus Mobile", "Nimbus", "NimbusHelp", "nimbusmobile", "Titan Telecom", "Titan", "TitanTelecom")
#: Three needs, each phrased several ways around a shared core (what the hashing encoder sees).
NEEDS = {
    "roaming": ["roaming pass for europe", "a cheap roaming pass", "proper roaming pass abroad",
                "roaming pass when travelling", "daily roaming pass"],
    "hotspot": ["a bigger hotspot allowance", "more hotspot allowance", "hotspot allowance for tethering",
                "proper hotspot allowance cap", "unlimited hotspot allowance"],
    "esim": ["esim activation support", "working esim activation", "esim activation in the app",
             "quick esim activation", "esim activation on my watch"],
}  # fmt: skip
#: Brand mentions planted in the phrases (kept out of names and terms).
MENTIONS = ["", "Nimbus ", "@NimbusHelp ", "Titan's ", "#nimbusmobile "]
FAST = ThemeSettings(neighbours=(5, 10), resolutions=(1.0,), seeds=(0,), min_theme_size=5)


def crafted_phrases(per_need: int = 20) -> tuple[list[str], list[str]]:
    """``per_need`` phrases per need (variants with and without a brand mention) and their need."""
    phrases, truth = [], []
    for need, variants in NEEDS.items():
        for index in range(per_need):
            variant = variants[index % len(variants)]
            mention = MENTIONS[(index // len(variants)) % len(MENTIONS)]
            phrases.append(f"{mention}{variant}")
            truth.append(need)
    return phrases, truth


def embed(phrases: list[str]) -> np.ndarray:
    """HashingEncoder vectors of the normalised phrases (brands cut, as the bench embeds them)."""
    return HashingEncoder().encode([normalize_phrase(phrase, BRANDS) for phrase in phrases])


def centres(count: int, dim: int = 24, seed: int = 0) -> np.ndarray:
    """``count`` orthonormal unit vectors."""
    return np.linalg.qr(np.random.RandomState(seed).normal(size=(dim, count)))[0].T


def around(centre: np.ndarray, count: int, rng: np.random.RandomState, spread: float = 0.15) -> np.ndarray:
    """``count`` noisy copies of ``centre``."""
    return centre + rng.normal(scale=spread, size=(count, len(centre)))


# --- text -------------------------------------------------------------------------------------------------


def test_normalize_phrase_cuts_brands_handles_tags_and_urls():
    assert normalize_phrase("Titan's roaming pass", BRANDS) == "roaming pass"
    assert (
        normalize_phrase("@NimbusHelp a proper esim https://t.co/x #nimbusmobile!", BRANDS) == "a proper esim"
    )
    assert normalize_phrase("nimbus-mobile VAT invoices &amp; receipts", BRANDS) == "vat invoices & receipts"
    assert normalize_phrase("  Roaming  pass...  ") == "roaming pass"


def test_display_phrase_cuts_leading_fillers_only():
    assert display_phrase("a proper roaming pass") == "roaming pass"
    assert display_phrase("the esim for a watch") == "esim for a watch"
    assert display_phrase("a") == "a"


# --- clustering -------------------------------------------------------------------------------------------


def test_three_crafted_needs_give_three_readable_themes_without_brands():
    phrases, truth = crafted_phrases()
    result = cluster_needs(phrases, embed(phrases), FAST, stop_terms=BRANDS)
    assert len(result.themes) == 3
    assert (result.labels >= 0).all()
    assert adjusted_rand_score(truth, result.labels) == 1.0
    assert [theme.index for theme in result.themes] == [0, 1, 2]
    normalized = {display_phrase(normalize_phrase(phrase, BRANDS)) for phrase in phrases}
    for theme in result.themes:
        assert theme.name in normalized  # a real phrase of the theme, brand-free
        words = (theme.name + " " + " ".join(term for term, _ in theme.terms)).lower()
        assert not any(brand in words for brand in ("nimbus", "titan"))
        assert theme.size == int((result.labels == theme.index).sum())
        assert np.isclose(np.linalg.norm(theme.centroid), 1.0)
        assert theme.context_centroid is None
    core = {"roaming": "roaming pass", "hotspot": "hotspot allowance", "esim": "esim activation"}
    for need, words in core.items():
        theme = result.themes[result.labels[truth.index(need)]]
        assert words in theme.name
        assert any(words in term for term, _ in theme.terms)


def test_clustering_is_deterministic():
    phrases, _ = crafted_phrases()
    vectors = embed(phrases)
    first = cluster_needs(phrases, vectors, FAST, stop_terms=BRANDS)
    second = cluster_needs(phrases, vectors, FAST, stop_terms=BRANDS)
    assert np.array_equal(first.labels, second.labels)
    assert [theme.name for theme in first.themes] == [theme.name for theme in second.themes]


def test_noise_phrases_stay_unthemed_and_themes_stay_pure():
    rng = np.random.RandomState(1)
    points = centres(6)
    vectors = np.vstack([around(points[0], 30, rng), around(points[1], 30, rng), around(points[2], 30, rng)])
    # 3 lone phrases, unlike any theme and each other
    noise = points[3:6] + rng.normal(scale=0.05, size=(3, points.shape[1]))
    phrases = [f"need {i // 30} phrase {i % 5}" for i in range(90)] + ["odd one", "odd two", "odd three"]
    result = cluster_needs(phrases, np.vstack([vectors, noise]), FAST)
    assert len(result.themes) == 3
    assert (result.labels[90:] == -1).all()
    assert adjusted_rand_score(np.repeat([0, 1, 2], 30), result.labels[:90]) == 1.0


def test_small_group_close_to_a_theme_is_folded_into_it():
    rng = np.random.RandomState(2)
    points = centres(3)
    big = [around(points[0], 30, rng), around(points[1], 30, rng)]
    near = 0.8 * points[0] + 0.6 * points[2]  # cosine 0.8 to theme 0, a group of 3 (under the minimum)
    vectors = np.vstack([*big, around(near, 3, rng, spread=0.02)])
    phrases = [f"p{i}" for i in range(len(vectors))]
    result = cluster_needs(phrases, vectors, FAST)
    assert len(result.themes) == 2
    assert (result.labels[60:] == result.labels[0]).all()
    assert [theme.size for theme in result.themes] == [33, 30]  # ordered by size after folding
    assert result.labels[0] == 0


def test_context_regroups_phrases_that_read_alike():
    """Rows whose phrases read more like need A (cosine 0.8) than B (0.6) but whose posts are B's join B.

    (With the default weight 0.4 such rows form a theme of their own next to B here: their phrases are
    alike among themselves; a weight of 0.25 lets the shared post context decide.)"""
    rng = np.random.RandomState(3)
    points = centres(4)
    like_a = 0.8 * points[0] + 0.6 * points[1]
    phrase = np.vstack(
        [around(points[0], 30, rng, 0.08), around(points[1], 30, rng, 0.08), around(like_a, 20, rng, 0.08)]
    )
    context = np.vstack([around(points[i], n, rng, 0.08) for i, n in ((2, 30), (3, 30), (3, 20))])
    truth = np.repeat([0, 1, 1], [30, 30, 20])
    phrases = [f"p{i}" for i in range(len(phrase))]
    alone = cluster_needs(phrases, phrase, FAST)
    consensus = replace(ThemeSettings(), min_theme_size=5, phrase_weight=0.25)  # 8 Louvain runs
    mixed = cluster_needs(phrases, phrase, consensus, context=context)
    assert not set(alone.labels[60:]) & {alone.labels[30]}  # by phrase alone they are not B's
    assert adjusted_rand_score(truth, mixed.labels) == 1.0
    assert all(theme.context_centroid is not None for theme in mixed.themes)


def test_rows_beyond_the_sample_are_assigned_to_the_nearest_theme():
    rng = np.random.RandomState(4)
    points = centres(4)
    vectors = np.vstack([around(points[i], 40, rng) for i in range(3)])
    truth = np.repeat([0, 1, 2], 40)
    result = cluster_needs([f"p{i}" for i in range(120)], vectors, replace(FAST, max_rows=60))
    assert len(result.themes) == 3
    assert adjusted_rand_score(truth, result.labels) == 1.0
    assigned = result.assign(np.vstack([around(points[1], 2, rng), points[3:4]]))
    assert list(assigned) == [result.labels[40], result.labels[40], -1]  # the last is unlike every theme


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="vectors for"):
        cluster_needs(["a", "b"], np.ones((3, 4)))
    with pytest.raises(ValueError, match="context rows"):
        cluster_needs(["a", "b"], np.ones((2, 4)), context=np.ones((3, 4)))


# --- statistics and the gap -------------------------------------------------------------------------------


def two_themes(seed: int = 5):
    """A crafted result with two themes of 30 rows each; phrase and context vectors as returned."""
    rng = np.random.RandomState(seed)
    points = centres(4)
    phrase = np.vstack([around(points[0], 30, rng), around(points[1], 30, rng)])
    context = np.vstack([around(points[2], 30, rng, 0.1), around(points[3], 30, rng, 0.1)])
    phrases = ["roaming pass"] * 30 + ["esim activation"] * 30
    return cluster_needs(phrases, phrase, FAST, context=context), points


def test_theme_stats_counts_volume_days_growth_sentiment_and_brands():
    result, _ = two_themes()
    first = result.labels[0]
    rows, sentiment = [], {}
    for i in range(60):
        in_first = result.labels[i] == first
        day = f"2026-07-{(9 + i % 4) if in_first else (21 + i % 2):02d}"  # first: days 9-12; other: 21-22
        brand = ("Nimbus Mobile" if i % 3 else "Titan Telecom") if in_first else None
        post = f"post{i // 2}" if in_first else f"post{i}"  # the first theme's posts hold two rows each
        rows.append(NeedRow(post, "x", brand, day))
        sentiment[post] = -0.5 if in_first else 0.25
    stats = {item.theme: item for item in theme_stats(result, rows, sentiment=sentiment, window_days=7)}
    one, other = stats[first], stats[1 - first]
    assert (one.volume, one.posts) == (30, 15)
    assert one.daily == (("2026-07-09", 8), ("2026-07-10", 8), ("2026-07-11", 7), ("2026-07-12", 7))
    assert (one.recent, one.previous, one.growth) == (0, 30, round(1 / 31 - 1, 4))  # Jul 16-22 / Jul 9-15
    assert one.brands == (("Nimbus Mobile", 20), ("Titan Telecom", 10))
    assert one.mean_sentiment == -0.5
    assert (other.recent, other.previous, other.growth) == (30, 0, 30.0)
    assert other.brands == () and other.mean_sentiment == 0.25
    assert one.name == result.themes[first].name


def test_theme_stats_windows_follow_until():
    result, _ = two_themes()
    rows = [NeedRow(f"p{i}", "x", None, "2026-07-10" if i % 2 else "2026-07-03") for i in range(60)]
    stats = theme_stats(result, rows, window_days=7, until="2026-07-10")
    assert sum(item.recent for item in stats) == 30 and sum(item.previous for item in stats) == 30
    with pytest.raises(ValueError, match="rows for"):
        theme_stats(result, rows[:5])


def test_competitor_gap_finds_planted_praise_and_ignores_own_and_unrelated_praise():
    result, points = two_themes()
    roaming = result.labels[0]  # the theme of the first 30 rows; its posts sit at points[2]
    rows = [
        NeedRow(f"n{i}", "x", "Nimbus Mobile" if i < 30 else "Volt Mobile", "2026-07-01") for i in range(60)
    ]
    stats = theme_stats(result, rows)
    rng = np.random.RandomState(6)
    praise = [Praise(f"t{i}", "Titan Telecom") for i in range(6)]  # praised for the roaming need
    praise += [Praise(f"o{i}", "Nimbus Mobile") for i in range(6)]  # the own brand: ignored
    praise += [Praise(f"u{i}", "Pebble Mobile") for i in range(6)]  # about something else: ignored
    praise += [Praise(f"v{i}", "Orbit Wireless") for i in range(6)]  # praised for the other theme
    unrelated = rng.normal(size=points.shape[1])
    unrelated -= points.T @ (points @ unrelated)  # orthogonal to both themes' phrases and posts
    vectors = np.vstack([
        around(points[2], 6, rng, 0.05), around(points[2], 6, rng, 0.05),
        around(unrelated, 6, rng, 0.05), around(points[3], 6, rng, 0.05),
    ])  # fmt: skip
    gaps = {
        gap.theme: gap for gap in competitor_gap(result, stats, praise, vectors, own_brand="Nimbus Mobile")
    }
    gap = gaps[roaming]
    assert [item.brand for item in gap.competitors] == ["Titan Telecom"]
    assert gap.competitors[0].posts == 6 and len(gap.competitors[0].examples) == GapSettings().examples
    assert gap.against_own == 30 and gap.is_gap
    other = gaps[1 - roaming]
    assert [item.brand for item in other.competitors] == ["Orbit Wireless"]
    assert other.against_own == 0 and not other.is_gap  # praised, but never voiced against the own brand


def test_competitor_gap_needs_enough_praise():
    result, points = two_themes()
    rows = [NeedRow(f"n{i}", "x", "Nimbus Mobile", "2026-07-01") for i in range(60)]
    stats = theme_stats(result, rows)
    rng = np.random.RandomState(8)
    praise = [Praise(f"t{i}", "Titan Telecom") for i in range(10)] + [Praise("v0", "Volt Mobile")] * 3
    vectors = around(points[2], 13, rng, 0.05)
    gaps = competitor_gap(result, stats, praise, vectors, own_brand="Nimbus Mobile")
    listed = [item.brand for gap in gaps for item in gap.competitors]
    assert listed == ["Titan Telecom"]  # Volt: one post (repeated), under min_praise
    loose = competitor_gap(
        result,
        stats,
        praise,
        vectors,
        own_brand="Nimbus Mobile",
        settings=GapSettings(min_praise=1, min_share=0),
    )
    assert sorted(item.brand for gap in loose for item in gap.competitors) == ["Titan Telecom", "Volt Mobile"]
