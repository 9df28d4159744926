"""The saved topic model: nearest-centroid assignment, renumbering, and a save/load that needs no network."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.topics.model import ARRAYS_FILE, META_FILE, Topic, TopicModel

ROOT = Path(__file__).resolve().parents[3]


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


@pytest.fixture
def model() -> TopicModel:
    """Three topics on the first three axes of a 4-dimensional space, threshold 0.6."""
    topics = (
        Topic(
            0,
            "roaming pass, travel abroad",
            (("roaming pass", 0.41), ("travel abroad", 0.2)),
            120,
            ("p1", "p2"),
        ),
        Topic(1, "esim, activation", (("esim", 0.5),), 80, ("p3",)),
        Topic(2, "bill, refund", (("bill", 0.3), ("refund", 0.1 + 0.2)), 40, ()),
    )
    centroids = np.eye(4, dtype=np.float32)[:3]
    params = {"backend": "fast", "sampled": 240, "stop_terms": ["Nimbus"], "seed": np.int64(42)}
    return TopicModel(
        "topics.bertopic.v1", "sentence-transformers/all-MiniLM-L6-v2", topics, centroids, 0.6, params
    )


def test_assign_picks_the_nearest_centroid_and_leaves_far_posts_unassigned(model):
    posts = np.vstack([unit(1, 0.2, 0, 0), unit(0, 0, 3, 0.5), unit(1, 1, 0, 0), unit(0, 0, 0, 1)])
    ids, cosines = model.assign(posts)
    assert ids.tolist() == [
        0,
        2,
        0,
        -1,
    ]  # row 2 sits at cosine 0.707 to topics 0 and 1: the first wins the tie
    assert cosines == pytest.approx([1 / np.sqrt(1.04), 3 / np.sqrt(9.25), 1 / np.sqrt(2), 0.0], abs=1e-6)
    assert ids.dtype == np.int64 and cosines.dtype == np.float32


def test_assign_applies_the_threshold_at_its_boundary(model):
    just_above, just_below = unit(0.61, 0.7924, 0, 0), unit(0, 0.59, 0, 0.8073)
    ids, cosines = model.assign(np.vstack([just_above, just_below]))
    assert cosines[0] >= 0.6 > cosines[1]
    assert ids.tolist() == [1, -1]


def test_assign_normalises_rows_and_chunks_without_changing_results(model):
    rng = np.random.RandomState(3)
    posts = rng.normal(size=(1000, 4)).astype(np.float32)
    whole = model.assign(posts)
    chunked = model.assign(posts * 7.5, chunk=37)
    assert np.array_equal(whole[0], chunked[0])
    assert np.allclose(whole[1], chunked[1], atol=1e-6)
    assert set(np.unique(whole[0])) <= {-1, 0, 1, 2}
    expected = (posts / np.linalg.norm(posts, axis=1, keepdims=True)) @ np.eye(4, dtype=np.float32)[:3].T
    assert np.allclose(whole[1], expected.max(axis=1), atol=1e-6)


def test_assign_handles_no_rows_zero_and_nan_rows_and_a_model_without_topics(model):
    ids, cosines = model.assign(np.zeros((0, 4), dtype=np.float32))
    assert ids.shape == cosines.shape == (0,)
    ids, _ = model.assign(np.zeros((0, 0), dtype=np.float32))  # what load_embeddings returns for no vectors
    assert ids.shape == (0,)
    ids, cosines = model.assign(np.array([[0, 0, 0, 0], [np.nan, 1, 0, 0]], dtype=np.float32))
    assert ids.tolist() == [-1, -1]
    empty = TopicModel("v", "m", (), np.zeros((0, 4), dtype=np.float32), 0.5)
    ids, cosines = empty.assign(np.ones((3, 4), dtype=np.float32))
    assert ids.tolist() == [-1, -1, -1] and cosines.tolist() == [0.0, 0.0, 0.0]


def test_assign_rejects_vectors_of_another_length(model):
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        model.assign(np.ones((2, 5), dtype=np.float32))


def test_with_ids_renumbers_topics_and_overrides_labels_by_new_id(model):
    renumbered = model.with_ids({0: 17, 2: 3}, labels={17: "roaming abroad"})
    assert [topic.topic_id for topic in renumbered.topics] == [17, 1, 3]
    assert renumbered.labels() == {17: "roaming abroad", 1: "esim, activation", 3: "bill, refund"}
    assert renumbered.topic(3).terms == model.topic(2).terms and renumbered.topic(17).size == 120
    ids, _ = renumbered.assign(np.vstack([unit(1, 0, 0, 0), unit(0, 0, 1, 0), unit(0, 1, 0, 0)]))
    assert ids.tolist() == [17, 3, 1]
    assert [topic.topic_id for topic in model.topics] == [0, 1, 2]  # the original is untouched
    assert renumbered.centroids is not model.centroids


def test_with_ids_refuses_clashes_and_unknown_topics(model):
    with pytest.raises(ValueError, match="one id"):
        model.with_ids({0: 1})
    with pytest.raises(ValueError, match="no topic"):
        model.with_ids({9: 10})
    with pytest.raises(ValueError, match="labels name no topic"):
        model.with_ids({0: 5}, labels={0: "old id, not the new one"})


def test_save_and_load_round_trip_exactly(model, tmp_path):
    folder = model.save(tmp_path / "topics")
    assert sorted(path.name for path in folder.iterdir()) == sorted([ARRAYS_FILE, META_FILE])
    loaded = TopicModel.load(folder)
    assert loaded.topics == model.topics
    assert loaded.centroids.dtype == np.float32 and np.array_equal(loaded.centroids, model.centroids)
    assert (loaded.version, loaded.embedding_model, loaded.threshold) == (
        model.version,
        model.embedding_model,
        model.threshold,
    )
    assert loaded.params == {"backend": "fast", "sampled": 240, "stop_terms": ["Nimbus"], "seed": 42}
    assert loaded.topic(2).terms[1] == ("refund", 0.1 + 0.2)  # floats survive bit for bit


def test_save_round_trips_random_centroids_bit_for_bit(tmp_path):
    rng = np.random.RandomState(0)
    centroids = rng.normal(size=(5, 384)).astype(np.float32)
    topics = tuple(Topic(10 + i, f"t{i}") for i in range(5))
    model = TopicModel("v", "m", topics, centroids, 0.3712345678901234)
    loaded = TopicModel.load(model.save(tmp_path / "m"))
    assert loaded.centroids.tobytes() == centroids.tobytes()
    assert loaded.threshold == 0.3712345678901234
    assert loaded.topic_ids.tolist() == [10, 11, 12, 13, 14]


def test_save_replaces_an_existing_model_and_leaves_no_temporary_folder(model, tmp_path):
    folder = tmp_path / "topics"
    model.save(folder)
    model.with_ids({0: 7}).save(folder)
    assert TopicModel.load(folder).topic_ids.tolist() == [7, 1, 2]
    assert [path.name for path in tmp_path.iterdir()] == ["topics"]


def test_a_model_without_topics_round_trips(tmp_path):
    empty = TopicModel("v", "m", (), np.zeros((0, 384), dtype=np.float32), 1.0, {"sampled": 0})
    loaded = TopicModel.load(empty.save(tmp_path / "empty"))
    assert loaded.topics == () and loaded.centroids.shape == (0, 384)
    assert loaded.assign(np.ones((2, 384), dtype=np.float32))[0].tolist() == [-1, -1]


def test_load_works_with_the_network_blocked(model, tmp_path, monkeypatch):
    folder = model.save(tmp_path / "topics")

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    loaded = TopicModel.load(folder)
    assert loaded.labels() == model.labels()
    assert loaded.assign(np.eye(4, dtype=np.float32))[0].tolist() == [0, 1, 2, -1]


def test_loading_and_assigning_import_no_heavy_library(model, tmp_path):
    folder = model.save(tmp_path / "topics")
    script = (
        "import sys, numpy as np\n"
        "from nlp.topics.model import TopicModel\n"
        f"TopicModel.load({str(folder)!r}).assign(np.eye(4, dtype=np.float32))\n"
        "print(sorted({'bertopic', 'umap', 'hdbscan', 'torch', 'numba', 'sklearn'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_load_names_the_missing_or_corrupt_file(model, tmp_path):
    with pytest.raises(FileNotFoundError, match=META_FILE):
        TopicModel.load(tmp_path / "nowhere")
    folder = model.save(tmp_path / "topics")
    arrays = (folder / ARRAYS_FILE).read_bytes()
    (folder / ARRAYS_FILE).write_bytes(arrays[: len(arrays) // 2])
    with pytest.raises(ValueError, match=ARRAYS_FILE):
        TopicModel.load(folder)
    (folder / ARRAYS_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=ARRAYS_FILE):
        TopicModel.load(folder)
    (folder / META_FILE).write_text('{"format": "tasteradar.topic-model.1", "topics": [', encoding="utf-8")
    with pytest.raises(ValueError, match=META_FILE):
        TopicModel.load(folder)


def test_load_refuses_topics_that_disagree_with_the_arrays(model, tmp_path):
    folder = model.save(tmp_path / "topics")
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    meta["topics"][0]["topic_id"] = 9
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="topic ids differ"):
        TopicModel.load(folder)


def test_a_model_refuses_inconsistent_parts():
    with pytest.raises(ValueError, match="one row per topic"):
        TopicModel("v", "m", (Topic(0, "a"),), np.zeros((2, 4), dtype=np.float32), 0.5)
    with pytest.raises(ValueError, match="distinct"):
        TopicModel("v", "m", (Topic(1, "a"), Topic(1, "b")), np.zeros((2, 4), dtype=np.float32), 0.5)
