"""Segment discovery: the number of segments chosen from the data, the mixture model, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from segments.discover import DiscoverySettings, discover
from segments.encode import encode
from segments.features import CountBlock, FeatureTable
from segments.mixture import fit_mixture, log_likelihoods, n_params


def _table(numeric: dict, categorical: dict | None = None, counts: np.ndarray | None = None) -> FeatureTable:
    n = len(next(iter(numeric.values())))
    blocks = {}
    if counts is not None:
        keys = tuple(f"topic:{i}" for i in range(counts.shape[1]))
        blocks["topic"] = CountBlock("topic", keys, keys, counts)
    return FeatureTable(
        "customers", tuple(f"c{i:04d}" for i in range(n)), np.array(["b"] * n, dtype=object),
        categorical or {}, numeric, blocks,
        posts=np.zeros(n, dtype=np.int64) if counts is None else counts.sum(axis=1).astype(np.int64),
        sentiment=np.full(n, np.nan), churned=np.zeros(n),
    )  # fmt: skip


def _blobs(
    rng: np.random.Generator, centres: list[tuple[float, float]], size: int
) -> tuple[dict, np.ndarray]:
    points = np.vstack([rng.normal(centre, 0.35, size=(size, 2)) for centre in centres])
    truth = np.repeat(np.arange(len(centres)), size)
    return {"usage": points[:, 0], "minutes": points[:, 1]}, truth


@pytest.mark.parametrize("centres", [[(0, 0), (4, 0), (0, 4)], [(0, 0), (4, 0), (0, 4), (4, 4), (8, 2)]])
def test_the_number_of_segments_is_found_on_synthetic_blobs(centres) -> None:
    numeric, truth = _blobs(np.random.default_rng(1), centres, 60)
    found = discover(encode(_table(numeric)))
    assert found.k == len(centres)
    assert adjusted_rand_score(truth, found.labels) > 0.95
    assert found.stability is not None and found.stability > 0.9
    assert [c.k for c in found.candidates][: len(centres) + 1] == list(range(1, len(centres) + 2))


def test_one_blob_with_unrelated_columns_stays_one_segment() -> None:
    rng = np.random.default_rng(2)
    n = 300
    numeric = {"usage": rng.normal(0, 1, n), "lines": rng.integers(1, 6, n).astype(float)}
    categorical = {"region": rng.choice(["N", "S", "E", "W"], n).astype(object)}
    assert discover(encode(_table(numeric, categorical))).k == 1


def test_sparse_topic_counts_separate_authors_with_few_posts() -> None:
    rng = np.random.default_rng(3)
    profiles = np.full((3, 30), 0.2 / 27)
    for segment in range(3):
        profiles[segment, segment * 10 : segment * 10 + 3] = 0.8 / 3
    profiles /= profiles.sum(axis=1, keepdims=True)
    truth = np.repeat(np.arange(3), 80)
    counts = np.vstack([rng.multinomial(4, profiles[t]) for t in truth]).astype(float)
    noise = {"tenure": rng.normal(0, 1, len(truth))}
    found = discover(encode(_table(noise, counts=counts)))
    assert found.k == 3 and adjusted_rand_score(truth, found.labels) > 0.85


def test_rows_without_posts_are_placed_by_their_crm_fields() -> None:
    rng = np.random.default_rng(4)
    numeric, truth = _blobs(rng, [(0, 0), (5, 5)], 80)
    counts = np.zeros((160, 4))
    for row in range(0, 160, 2):  # every other row posts, in its segment's topics
        counts[row, 2 * truth[row] : 2 * truth[row] + 2] = rng.integers(1, 4, 2)
    found = discover(encode(_table(numeric, counts=counts)))
    assert found.k == 2
    assert adjusted_rand_score(truth[1::2], found.labels[1::2]) == 1.0


def test_the_same_seed_gives_the_same_segments() -> None:
    numeric, _ = _blobs(np.random.default_rng(5), [(0, 0), (3, 0), (0, 3)], 40)
    design = encode(_table(numeric))
    first, second = discover(design), discover(design)
    assert np.array_equal(first.labels, second.labels) and first.candidates == second.candidates


@pytest.mark.parametrize("criterion", ["bic", "icl"])
def test_bic_and_icl_choose_too(criterion) -> None:
    numeric, truth = _blobs(np.random.default_rng(6), [(0, 0), (4, 4)], 50)
    found = discover(encode(_table(numeric)), DiscoverySettings(criterion=criterion))
    assert found.k == 2 and found.criterion == criterion
    assert adjusted_rand_score(truth, found.labels) == 1.0


def test_segments_smaller_than_the_minimum_are_not_accepted() -> None:
    numeric, _ = _blobs(np.random.default_rng(7), [(0, 0), (6, 6)], 40)
    numeric = {key: values[:48] for key, values in numeric.items()}  # 40 + 8 rows
    found = discover(encode(_table(numeric)), DiscoverySettings(min_size=10))
    assert found.k == 1
    assert discover(encode(_table(numeric)), DiscoverySettings(min_size=5)).k == 2


def test_a_missing_value_adds_nothing_to_the_likelihood() -> None:
    numeric, _ = _blobs(np.random.default_rng(8), [(0, 0), (4, 4)], 30)
    design = encode(_table(numeric))
    fit = fit_mixture(design, 2, seed=0)
    gaps = design.gaussian.copy()
    gaps[0, 1] = np.nan
    with_gap = log_likelihoods(design.__class__(**{**design.__dict__, "gaussian": gaps}), fit.params)
    only_first = design.__class__(
        **{**design.__dict__, "gaussian": design.gaussian[:, :1], "gaussian_names": ("u",)}
    )
    params = fit.params.__class__(
        fit.params.log_shares, fit.params.means[:, :1], fit.params.variances[:, :1],
        fit.params.log_levels, fit.params.log_rates,
    )  # fmt: skip
    assert np.allclose(with_gap[0], log_likelihoods(only_first, params)[0])
    assert n_params(design, 2) == 1 + 2 * 4


def test_settings_and_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="criterion"):
        DiscoverySettings(criterion="silhouette")
    with pytest.raises(ValueError, match="folds"):
        DiscoverySettings(folds=1)
    numeric, _ = _blobs(np.random.default_rng(9), [(0, 0)], 5)
    design = encode(_table(numeric))
    with pytest.raises(ValueError, match="k must be between"):
        fit_mixture(design, 6, seed=0)
    with pytest.raises(ValueError, match="no rows"):
        discover(design.take(np.zeros(0, dtype=np.int64)))
    assert discover(design).k == 1  # too few rows for two segments of the minimum size
