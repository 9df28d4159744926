"""Emerging-series detection on synthetic daily counts (fixed seeds) and term counting on crafted texts."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.topics.trends import (
    SOCIAL_STOP_WORDS,
    TrendSettings,
    count_terms,
    detect,
    drivers,
    periods,
    scan,
)

DAYS = 120


def make_totals(rs: np.random.RandomState, level: float = 400.0) -> np.ndarray:
    """All posts per day: a weekly cycle around ``level``."""
    return rs.poisson(level * (1 + 0.2 * np.sin(2 * np.pi * np.arange(DAYS) / 7)))


def null_world(seed: int, n: int, phi: float) -> tuple[np.ndarray, dict[tuple, np.ndarray]]:
    """``n`` stationary series (a constant share of the totals, 1-25 posts a day); NB2, Poisson at phi 0."""
    rs = np.random.RandomState(seed)
    totals = make_totals(rs)
    series = {}
    for i in range(n):
        mu = np.exp(rs.uniform(np.log(1.0), np.log(25.0))) / 400.0 * totals
        lam = rs.gamma(1 / phi, mu * phi) if phi > 0 else mu
        series[("null", i)] = rs.poisson(lam)
    return totals, series


@pytest.mark.parametrize("phi", [0.0, 0.3])
def test_p_values_are_calibrated_on_stationary_series(phi: float) -> None:
    totals, series = null_world(seed=1, n=2000, phi=phi)
    tested = detect(series, totals, 90, TrendSettings(min_ratio=0.0, min_count=1), all_tested=True)
    p = np.array([e.p_value for e in tested])
    assert len(p) == 2000 and not any(e.flagged for e in tested)
    for level in (0.05, 0.01):  # at most the nominal level, give or take 3 binomial sd
        assert np.mean(p < level) <= level + 3 * np.sqrt(level * (1 - level) / len(p))
    assert np.mean(p < 0.05) >= 0.015  # and not so conservative that power is thrown away


def test_a_poisson_test_would_be_fooled_by_the_overdispersed_fixture() -> None:
    # Guards the test above: the phi = 0.3 world really is over-dispersed for a Poisson test of the window.
    from scipy import special

    totals, series = null_world(seed=1, n=2000, phi=0.3)
    base, window = periods(90)
    counts = np.array(list(series.values()))
    share = counts[:, base.start : base.stop].sum(1) / totals[base.start : base.stop].sum()
    expected = share * totals[window.start : window.stop].sum()
    p = special.pdtrc(counts[:, window.start : window.stop].sum(1) - 1, expected)  # P(X >= window count)
    assert np.mean(p < 0.01) > 0.05  # five times the nominal level and more


@pytest.mark.parametrize("phi", [0.0, 0.3])
def test_rolling_scans_of_stationary_series_raise_few_false_alarms(phi: float) -> None:
    settings = TrendSettings()
    days = DAYS - (settings.window_days + settings.min_baseline_days - 1)
    worlds = [null_world(seed, 100, phi) for seed in range(4)]
    alarms = sum(len(scan(series, totals, settings)) for totals, series in worlds)
    # Under the global null BH makes "any flag today" an event of probability <= alpha, so a world raises
    # about alpha * days (1 here) false alarms on average; allow twice that for the rolling windows' clumping.
    assert alarms <= 2 * len(worlds) * settings.alpha * days


def step_world(seed: int, base_rate: float, factor: float, start: int = 99, nulls: int = 40):
    """Null series plus one ("step",) series whose rate is multiplied by ``factor`` from day ``start``."""
    totals, series = null_world(seed, nulls, phi=0.1)
    rs = np.random.RandomState(seed + 100)
    mu = base_rate / 400.0 * totals * np.where(np.arange(DAYS) >= start, factor, 1.0)
    series[("step",)] = rs.poisson(rs.gamma(10.0, mu / 10.0))
    return totals, series


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_tripled_rate_is_flagged_within_seven_days(seed: int) -> None:
    totals, series = step_world(seed, base_rate=5.0, factor=3.0)  # 5 posts a day, then 15, among 40 others
    first = scan(series, totals)
    assert 99 <= first[("step",)] <= 105
    (found,) = [e for e in detect(series, totals, 105) if e.key == ("step",)]
    assert found.ratio >= 2 and found.window_count >= 8 and found.q_value <= 0.01


def test_smaller_tripled_series_are_mostly_caught_in_time_and_never_early() -> None:
    first = [
        scan(series, totals).get(("step",)) for totals, series in (step_world(s, 2.0, 3.0) for s in range(10))
    ]
    assert all(day is None or day >= 99 for day in first)
    assert sum(day is not None and day <= 105 for day in first) >= 5  # 2 a day, then 6: 7 of 10 measured


def test_a_series_that_follows_the_totals_is_not_flagged() -> None:
    rs = np.random.RandomState(7)
    flat = make_totals(rs)
    tripled = flat * np.where(np.arange(DAYS) >= 90, 3, 1)  # everything triples from day 90
    share = rs.poisson(8.0 / 400.0 * tripled)  # 8 a day, then 24 a day: a constant share of all posts
    assert scan({"share": share}, tripled) == {}
    # The same counts against flat totals are a real rise: the normalisation is what keeps it quiet.
    assert 90 <= scan({"share": share}, flat)["share"] <= 96


def test_min_count_suppresses_tiny_series() -> None:
    totals = np.full(DAYS, 300)
    tiny = np.zeros(DAYS, dtype=int)
    tiny[[20, 45]] = 1
    tiny[[75, 76, 77, 78, 79]] = 1  # 5 posts in the window against 2 in 28 days before it
    settings = TrendSettings(min_count=5)
    (emerging,) = detect({"tiny": tiny}, totals, 79, settings)
    assert emerging.window_count == 5 and emerging.baseline_count == 1 and emerging.ratio > 10
    assert detect({"tiny": tiny}, totals, 79) == []  # the default floor is 8 posts in the window


def test_too_little_history_is_skipped() -> None:
    totals = np.full(DAYS, 300)
    burst = np.zeros(DAYS, dtype=int)
    burst[10:17] = 20
    assert detect({"burst": burst}, totals, 16) == []  # 10 baseline days < min_baseline_days
    assert detect({"burst": burst}, totals, 16, TrendSettings(min_baseline_days=7))[0].key == "burst"


def strong_and_weak() -> tuple[np.ndarray, dict]:
    """Three series at 4 posts a day that rise to 20, 16 and 12 a day from day 100 (no noise)."""
    totals = np.full(DAYS, 400)
    series = {}
    for name, level in (("x5", 20), ("x4", 16), ("x3", 12)):
        y = np.full(DAYS, 4)
        y[100:] = level
        series[name] = y
    return totals, series


def test_results_are_ordered_by_significance_with_bh_q_values() -> None:
    totals, series = strong_and_weak()
    found = detect(series, totals, 106)
    assert [e.key for e in found] == ["x5", "x4", "x3"]
    p = [e.p_value for e in found]
    q = [e.q_value for e in found]
    assert p == sorted(p) and q == sorted(q)
    assert all(qi >= pi for pi, qi in zip(p, q, strict=True))
    # All three are the only series tested, so BH gives q_(k) = min over j >= k of p_(j) * 3 / j.
    expected_q = [min(p[j] * 3 / (j + 1) for j in range(k, 3)) for k in range(3)]
    assert q == pytest.approx(expected_q, rel=1e-9)


def test_q_values_grow_with_the_number_of_series_tested_that_day() -> None:
    totals, series = strong_and_weak()
    alone = {e.key: e for e in detect(series, totals, 106)}
    _, nulls = null_world(seed=5, n=60, phi=0.1)
    crowded = {e.key: e for e in detect({**series, **nulls}, totals, 106)}
    assert crowded["x5"].p_value == pytest.approx(alone["x5"].p_value)
    assert crowded["x5"].q_value > 10 * alone["x5"].q_value


def test_ties_in_significance_are_broken_by_ratio() -> None:
    totals = np.full(DAYS, 100_000)
    a = np.full(DAYS, 100)
    a[100:107] = 2000  # 20 times the baseline: the p-value underflows to 0
    b = a.copy()
    b[100:107] = 4000
    found = detect({"a": a, "b": b}, totals, 106)
    assert [e.key for e in found] == ["b", "a"] and found[0].p_value == found[1].p_value == 0.0


def test_shapes_and_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="series 'a' has shape"):
        detect({"a": np.zeros(5)}, np.ones(6), 3)
    with pytest.raises(ValueError, match="alpha"):
        TrendSettings(alpha=0.0)
    with pytest.raises(ValueError, match="outside"):
        detect({"a": np.zeros(6)}, np.ones(6), 6)


def test_drivers_name_the_terms_that_grew() -> None:
    totals = np.full(DAYS, 300)
    rs = np.random.RandomState(0)
    terms = {
        "plan": rs.poisson(3.0, DAYS),  # steady
        "satellite texting": np.where(np.arange(DAYS) >= 100, rs.poisson(4.0, DAYS), 0),
        "coverage": np.where(np.arange(DAYS) >= 100, rs.poisson(1.0, DAYS), rs.poisson(0.5, DAYS)),
    }
    top = drivers(terms, totals, 106)
    assert top[0].term == "satellite texting"
    assert top[0].excess == pytest.approx(top[0].window_count - top[0].expected)
    assert "plan" not in [d.term for d in top[:2]]


# --- count_terms ------------------------------------------------------------------------------------------


def test_count_terms_drops_stop_words_brands_handles_urls_and_numbers() -> None:
    texts = [
        "Nimbus Mobile please add satellite texting!!! https://t.co/abc @NimbusHelp",
        "NimbusMob, satellite texting in dead zones would be 10x better than 5G hype 2026",
        "Satellite texting satellite texting satellite texting",  # once per post
        "the the and of rt lol",
    ]
    counts = count_terms(texts, [0, 1, 1, 2], 3, stop_terms=["Nimbus Mobile", "NimbusMob"], min_total=1)
    assert counts["satellite texting"].tolist() == [1, 2, 0]
    assert counts["satellite"].tolist() == [1, 2, 0]
    assert counts["dead zones"].tolist() == [0, 1, 0]
    for dropped in ("nimbus", "mobile", "nimbus mobile", "nimbusmob", "nimbushelp", "https", "2026", "t.co"):
        assert dropped not in counts
    assert "10x" in counts and "5g" in counts  # tokens with letters stay; pure numbers go
    assert not {"the", "and", "rt", "lol", "please"} & set(counts)
    assert {"rt", "lol"} <= SOCIAL_STOP_WORDS


def test_bigrams_never_span_a_stop_word_a_dropped_token_or_punctuation() -> None:
    texts = ["texting over satellite", "satellite, texting", "hotspot @handle data", "eSIM support's great"]
    counts = count_terms(texts, [0, 0, 0, 0], 1, min_total=1)
    assert {"texting", "satellite", "hotspot", "data", "esim", "support", "great"} <= set(counts)
    assert not {"texting satellite", "satellite texting", "hotspot data"} & set(counts)
    assert "esim support" in counts and "support great" in counts  # possessive 's is dropped, not a break


def test_a_multiword_stop_term_only_drops_its_phrase() -> None:
    texts = ["volt mobile has better mobile data", "mobile data caps"]
    counts = count_terms(texts, [0, 1], 2, stop_terms=["Volt Mobile"], min_total=1)
    assert "volt" not in counts and "volt mobile" not in counts
    assert counts["mobile data"].tolist() == [1, 1] and counts["mobile"].tolist() == [1, 1]


def test_count_terms_min_total_and_pruning_keep_frequent_terms_exact() -> None:
    rs = np.random.RandomState(2)
    common = ["roaming pass", "hotspot data", "family plan"]
    texts, days = [], []
    for i in range(600):
        rare = f"zz{i}a qq{i}b"  # a new rare bigram every post
        texts.append(f"{common[i % 3]} {rare}")
        days.append(int(rs.randint(0, 10)))
    exact = count_terms(texts, days, 10, min_total=3)
    pruned = count_terms(texts, days, 10, min_total=3, max_terms=50)
    assert (
        set(exact)
        == set(pruned)
        == {
            "roaming",
            "pass",
            "roaming pass",
            "hotspot",
            "data",
            "hotspot data",
            "family",
            "plan",
            "family plan",
        }
    )
    for term in exact:
        assert pruned[term].sum() >= exact[term].sum() - 5  # lossy counting: at most a few early posts lost
    assert exact["roaming pass"].sum() == 200 and exact["roaming pass"].dtype == np.int64


def test_count_terms_rejects_mismatched_inputs() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 days"):
        count_terms(["a b", "c d"], [0], 1)
    with pytest.raises(ValueError, match="outside"):
        count_terms(["satellite"], [5], 3)
