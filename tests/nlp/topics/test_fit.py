"""Fitting topics on fixed embeddings with the fast backend (PCA + HDBSCAN): no UMAP, no BERTopic import."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from nlp.topics.fit import FitSettings, brand_directions, fit_topics, min_topic_size, without_directions
from nlp.topics.model import TopicModel

#: Words planted in each topic's posts (two per post) beside filler, a brand name and a handle.
PLANTED = [
    ["roaming", "travel", "abroad", "holiday"],
    ["esim", "activation", "qr", "scan"],
    ["refund", "overcharged", "invoice", "fee"],
    ["signal", "coverage", "tower", "outage"],
    ["upgrade", "trade", "handset", "deal"],
    ["speed", "5g", "slow", "throttling"],
]
FILLER = ["phone", "network", "account", "customer", "service", "month", "week", "app"]
BRANDS = ("Nimbus Mobile", "Nimbus", "@NimbusHelp", "#nimbusmobile", "Titan")


def blobs(per_topic=100, spread=0.12, loose=0, loose_spread=2.6, noise=0, dim=32, seed=0):
    """Posts around 6 fixed orthogonal unit centres: ``per_topic`` tight ones and ``loose`` wider ones per
    topic, plus ``noise`` posts at random directions (truth -1). Returns ids, docs, embeddings, truth."""
    centres = np.linalg.qr(np.random.RandomState(0).normal(size=(dim, len(PLANTED))))[0].T  # orthonormal
    rng = np.random.RandomState(seed)
    ids, docs, vectors, truth = [], [], [], []
    for topic, words in enumerate(PLANTED):
        for index in range(per_topic + loose):
            scale = spread if index < per_topic else spread * loose_spread
            vectors.append(centres[topic] + rng.normal(scale=scale / np.sqrt(dim) * 4, size=dim))
            picked = " ".join(rng.choice(words, 2, replace=False))
            brand = ["Nimbus Mobile", "@NimbusHelp", "#nimbusmobile", "Titan"][index % 4]
            docs.append(f"{brand} {picked}, {' '.join(rng.choice(FILLER, 2, replace=False))}")
            ids.append(f"t{topic}-{index}")
            truth.append(topic)
    for index in range(noise):
        vectors.append(rng.normal(size=dim))
        docs.append(" ".join(rng.choice(FILLER, 3, replace=False)))
        ids.append(f"noise-{index}")
        truth.append(-1)
    vectors = np.asarray(vectors, dtype=np.float32)
    return ids, docs, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.array(truth)


FAST = FitSettings(backend="fast", stop_terms=BRANDS)


def test_fast_fit_recovers_planted_topics_with_clean_labels():
    ids, docs, vectors, truth = blobs()
    result = fit_topics(ids, docs, vectors, FAST, embedding_model="test-model")
    assert result.post_ids == ids and len(result.assignments) == 600
    assert adjusted_rand_score(truth, result.assignments) >= 0.9
    assert result.unassigned_share <= 0.15
    model = result.model
    assert len(model.topics) == 6 and [topic.topic_id for topic in model.topics] == list(range(6))
    assert sum(topic.size for topic in model.topics) == int(np.sum(result.assignments >= 0))
    assert model.embedding_model == "test-model" and model.version == "topics.fast.v1"
    for topic in model.topics:
        members = truth[result.assignments == topic.topic_id]
        planted = PLANTED[np.bincount(members).argmax()]
        words = topic.label.split(", ")
        assert 2 <= len(words) <= 3 and set(words) <= set(planted)
        assert all(word in planted for word, _ in topic.terms[:4])
        assert not {"nimbus", "nimbushelp", "nimbusmobile", "titan", "mobile"} & set(topic.label.split(", "))
        assert len(topic.representative) == 5
        assert all(
            ids.index(post) in np.flatnonzero(result.assignments == topic.topic_id)
            for post in topic.representative
        )


def test_centroids_are_unit_means_and_assign_reproduces_the_fit():
    ids, docs, vectors, _ = blobs(per_topic=60)
    result = fit_topics(ids, docs, vectors, FAST, embedding_model="m")
    model = result.model
    assert np.allclose(np.linalg.norm(model.centroids, axis=1), 1.0, atol=1e-5)
    first = model.topics[0].topic_id
    directions = brand_directions(docs, vectors, BRANDS, min_posts=model.params["min_topic_size"])
    assert model.params["brand_directions"] == len(directions) > 0  # the brands are named by 1 post in 4
    mean = without_directions(vectors, directions)[result.assignments == first].mean(axis=0)
    assert np.allclose(
        model.centroids[0], mean / np.linalg.norm(mean), atol=1e-3
    )  # assigned outliers move it little
    assert np.allclose(model.centroids @ directions.T, 0.0, atol=1e-5)  # centroids carry no brand part
    ids_again, _ = model.assign(vectors)
    assert np.mean(ids_again == result.assignments) >= 0.9
    assert model.params["assign_agreement"] == pytest.approx(np.mean(ids_again == result.assignments))


def test_outliers_join_near_topics_and_random_posts_stay_unassigned():
    ids, docs, vectors, truth = blobs(per_topic=50, loose=40, loose_spread=3.0, noise=40)
    result = fit_topics(ids, docs, vectors, FAST, embedding_model="m")
    assert result.raw_outlier_share > 0.2  # HDBSCAN leaves many loose posts out ...
    assert result.unassigned_share <= 0.15  # ... and the reduction brings most of them in
    assert result.model.params["raw_outlier_share"] == result.raw_outlier_share
    assigned = result.assignments
    assert np.mean(assigned[truth == -1] == -1) >= 0.9  # directions near no topic stay out
    planted = (truth >= 0) & (assigned >= 0)
    assert adjusted_rand_score(truth[planted], assigned[planted]) >= 0.95
    model = result.model
    assert np.mean(model.assign(vectors)[0] == -1) <= 0.15
    # new posts go where the fit put their topic's posts; new random directions stay out
    fitted_topic = {t: np.bincount(assigned[(truth == t) & (assigned >= 0)]).argmax() for t in range(6)}
    _, _, fresh, fresh_truth = blobs(per_topic=10, loose=10, loose_spread=3.0, noise=20, seed=99)
    new_ids, _ = model.assign(fresh)
    expected = np.array([fitted_topic.get(t, -1) for t in fresh_truth])
    assert np.mean(new_ids[fresh_truth >= 0] == expected[fresh_truth >= 0]) >= 0.85
    assert np.mean(new_ids[fresh_truth == -1] == -1) >= 0.8


def test_the_threshold_is_lowered_only_as_far_as_max_unassigned_needs():
    ids, docs, vectors, truth = blobs(per_topic=50, loose=40, loose_spread=3.0, noise=40)
    strict = fit_topics(
        ids, docs, vectors, FitSettings(backend="fast", max_unassigned=0.02), embedding_model="m"
    )
    loose = fit_topics(
        ids, docs, vectors, FitSettings(backend="fast", max_unassigned=0.5), embedding_model="m"
    )
    assert strict.unassigned_share <= 0.02 and np.mean(strict.model.assign(vectors)[0] == -1) <= 0.02
    assert strict.model.threshold < strict.model.params["cohesion_threshold"]
    assert loose.model.threshold == loose.model.params["cohesion_threshold"]
    assert loose.unassigned_share > strict.unassigned_share


def test_the_sample_is_seeded_and_bounded():
    ids, docs, vectors, _ = blobs()
    settings = FitSettings(backend="fast", max_posts=300, seed=7)
    first = fit_topics(ids, docs, vectors, settings, embedding_model="m")
    again = fit_topics(ids, docs, vectors, settings, embedding_model="m")
    other = fit_topics(
        ids, docs, vectors, FitSettings(backend="fast", max_posts=300, seed=8), embedding_model="m"
    )
    assert len(first.post_ids) == 300 == len(first.assignments) and set(first.post_ids) <= set(ids)
    assert first.post_ids == again.post_ids and np.array_equal(first.assignments, again.assignments)
    assert first.post_ids != other.post_ids
    assert first.post_ids == sorted(first.post_ids, key=ids.index)  # kept in input order
    assert first.model.params["sampled"] == 300 and first.model.params["posts"] == 600
    assert sum(topic.size for topic in first.model.topics) <= 300


def test_empty_and_tiny_inputs_give_a_model_without_topics(tmp_path):
    empty = fit_topics([], [], np.zeros((0, 384), dtype=np.float32), FAST, embedding_model="m")
    assert empty.model.topics == () and empty.assignments.shape == (0,) and empty.unassigned_share == 0.0
    assert empty.model.centroids.shape == (0, 384)
    ids, docs, vectors, _ = blobs(per_topic=2)
    tiny = fit_topics(ids, docs, vectors, FAST, embedding_model="m")
    assert tiny.model.topics == () and tiny.assignments.tolist() == [-1] * 12
    loaded = TopicModel.load(tiny.model.save(tmp_path / "tiny"))
    assert loaded.assign(vectors)[0].tolist() == [-1] * 12


def test_a_fitted_model_round_trips_through_its_files(tmp_path):
    ids, docs, vectors, _ = blobs(per_topic=40)
    model = fit_topics(ids, docs, vectors, FAST, embedding_model="m").model
    loaded = TopicModel.load(model.save(tmp_path / "model"))
    assert loaded.topics == model.topics and np.array_equal(loaded.centroids, model.centroids)
    assert loaded.params == model.params and loaded.params["stop_terms"] == list(BRANDS)
    assert np.array_equal(loaded.assign(vectors)[0], model.assign(vectors)[0])


def test_settings_are_checked_and_the_topic_size_scales_with_the_sample():
    with pytest.raises(ValueError, match="backend"):
        FitSettings(backend="gpu")
    with pytest.raises(ValueError, match="max_unassigned"):
        FitSettings(max_unassigned=1.5)
    assert min_topic_size(FitSettings(), 600) == 10
    assert min_topic_size(FitSettings(), 100_000) > min_topic_size(FitSettings(), 20_000) > 10
    assert min_topic_size(FitSettings(min_topic_size=25), 100_000) == 25


def test_inputs_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="2 ids, 1 docs"):
        fit_topics(["a", "b"], ["x"], np.zeros((2, 4), dtype=np.float32), FAST, embedding_model="m")


def branded(per=80, offset=0.8, dim=32, seed=0):
    """Posts on 3 orthogonal topics, each half naming Nimbus (shifted by ``+offset`` along a brand axis) and
    half Titan (``-offset``). Returns ids, docs, embeddings, topic truth, brand truth and the brand axis."""
    basis = np.linalg.qr(np.random.RandomState(1).normal(size=(dim, 4)))[0].T
    rng = np.random.RandomState(seed)
    ids, docs, vectors, topics, brands = [], [], [], [], []
    for topic in range(3):
        for index in range(2 * per):
            brand = index % 2
            sign = 1.0 if brand == 0 else -1.0
            vectors.append(basis[topic] + sign * offset * basis[3] + rng.normal(scale=0.06, size=dim))
            handle = ["@NimbusHelp", "#Titan"][brand] if index % 4 < 2 else ["nimbus", "TITAN"][brand]
            docs.append(f"{handle} {' '.join(rng.choice(PLANTED[topic], 2, replace=False))}")
            ids.append(f"b{topic}-{index}")
            topics.append(topic)
            brands.append(brand)
    vectors = np.asarray(vectors, dtype=np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids, docs, unit, np.array(topics), np.array(brands), basis[3]


def test_brand_directions_span_how_posts_naming_a_brand_differ():
    ids, docs, vectors, _, _, axis = branded()
    directions = brand_directions(docs, vectors, ("Nimbus", "NimbusHelp", "Titan", "Volt"), min_posts=20)
    assert directions.shape[1] == 32 and 1 <= len(directions) <= 3  # Volt is never named
    assert np.allclose(directions @ directions.T, np.eye(len(directions)), atol=1e-5)
    assert np.linalg.norm(directions @ axis) > 0.95  # the brand axis lies in their span
    neutral = without_directions(vectors, directions)
    assert np.allclose(np.linalg.norm(neutral, axis=1), 1.0, atol=1e-5)
    assert np.abs(neutral @ axis).max() < 0.1
    # whole words only, any case, with or without @/#; too rare terms and no terms give no direction
    assert len(brand_directions(["Titanic sank", "titans"] * 50, vectors[:200], ("Titan",), min_posts=5)) == 0
    assert brand_directions(docs, vectors, ("Nimbus",), min_posts=len(docs)).shape == (0, 32)
    assert brand_directions(docs, vectors, (), min_posts=2).shape == (0, 32)
    assert without_directions(vectors, np.zeros((0, 32), dtype=np.float32)) is vectors


def test_topics_follow_what_is_said_not_which_brand_is_named():
    ids, docs, vectors, topics, brands, _ = branded()
    stop = ("Nimbus", "NimbusHelp", "Titan")
    split = fit_topics(
        ids,
        docs,
        vectors,
        FitSettings(backend="fast", stop_terms=stop, brand_neutral=False),
        embedding_model="m",
    )
    assert split.model.params["brand_directions"] == 0
    assert adjusted_rand_score(topics * 2 + brands, split.assignments) >= 0.9  # a topic per brand and theme
    result = fit_topics(ids, docs, vectors, FitSettings(backend="fast", stop_terms=stop), embedding_model="m")
    assert len(result.model.topics) == 3 and adjusted_rand_score(topics, result.assignments) >= 0.95
    for topic in result.model.topics:
        named = brands[result.assignments == topic.topic_id]
        assert 0.4 <= named.mean() <= 0.6  # each topic holds both brands' posts
    assert result.unassigned_share <= 0.15
    assert (
        np.mean(result.model.assign(vectors)[0] == result.assignments) >= 0.95
    )  # the stored vectors as they are
