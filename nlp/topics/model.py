"""The saved topic model and its light assignment path: nearest topic centroid by cosine, in numpy.

A :class:`TopicModel` is what a fit leaves behind (:mod:`nlp.topics.fit`): one unit-length centroid per
topic in the space of the stored post embeddings, the topic's label, top terms, size and representative
posts, and the ``threshold`` under which a post stays unassigned (topic ``-1``). Assigning a post is one
matrix product (:meth:`TopicModel.assign`), so a run that only assigns new posts never imports BERTopic,
UMAP, HDBSCAN or torch and never compiles numba.

A model is a folder of two files, written to a temporary sibling folder and then renamed into place, so a
crash leaves either the old model, the new one, or (between the two renames) none, never half of one:

- ``model.safetensors``: ``centroids`` (k x d float32) and ``topic_ids`` (k int64), row i is topic i;
- ``model.json``: the format, ``version``, ``embedding_model``, ``threshold``, ``params`` and the topics.

Loading reads local files only (no hub, no network).
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

__all__ = ["ARRAYS_FILE", "FORMAT", "META_FILE", "Topic", "TopicModel"]

ARRAYS_FILE = "model.safetensors"
META_FILE = "model.json"
#: The layout of the two files; bump when it changes.
FORMAT = "tasteradar.topic-model.1"
#: Rows per block in :meth:`TopicModel.assign`: a block's similarity matrix stays near 4 MB per 256 topics.
CHUNK = 4096


@dataclass(frozen=True)
class Topic:
    """One topic: a stable id, its readable label, top terms with weights, size and representative posts."""

    topic_id: int
    label: str
    terms: tuple[tuple[str, float], ...] = ()
    size: int = 0
    representative: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The topic as plain JSON values."""
        return {
            "topic_id": self.topic_id,
            "label": self.label,
            "terms": [[term, weight] for term, weight in self.terms],
            "size": self.size,
            "representative": list(self.representative),
        }

    @classmethod
    def from_json(cls, data: dict) -> Topic:
        """The topic written by :meth:`to_json`."""
        return cls(
            topic_id=int(data["topic_id"]),
            label=str(data["label"]),
            terms=tuple((str(term), float(weight)) for term, weight in data["terms"]),
            size=int(data["size"]),
            representative=tuple(str(post_id) for post_id in data["representative"]),
        )


@dataclass
class TopicModel:
    """Topics with unit centroids (row i of ``centroids`` is ``topics[i]``) and the assignment threshold."""

    version: str
    embedding_model: str
    topics: tuple[Topic, ...]
    centroids: np.ndarray
    threshold: float
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.topics = tuple(self.topics)
        centroids = np.asarray(self.centroids, dtype=np.float32)
        if centroids.ndim != 2 or centroids.shape[0] != len(self.topics):
            raise ValueError(
                f"TopicModel: centroids must have one row per topic ({len(self.topics)}), "
                f"got shape {centroids.shape}"
            )
        ids = [topic.topic_id for topic in self.topics]
        if len(set(ids)) != len(ids) or any(topic_id < 0 for topic_id in ids):
            raise ValueError(f"TopicModel: topic ids must be distinct and >= 0, got {ids}")
        self.centroids = centroids

    @property
    def dim(self) -> int:
        """The length of the embeddings the centroids live among."""
        return int(self.centroids.shape[1])

    @property
    def topic_ids(self) -> np.ndarray:
        """The topic ids in row order (int64)."""
        return np.array([topic.topic_id for topic in self.topics], dtype=np.int64)

    def topic(self, topic_id: int) -> Topic:
        """The topic with id ``topic_id`` (KeyError when there is none)."""
        for topic in self.topics:
            if topic.topic_id == topic_id:
                return topic
        raise KeyError(f"no topic {topic_id} in the model")

    def labels(self) -> dict[int, str]:
        """Topic id -> label."""
        return {topic.topic_id: topic.label for topic in self.topics}

    def assign(self, embeddings: np.ndarray, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
        """The topic id of each row's nearest centroid by cosine and that cosine; id -1 below ``threshold``.

        Rows are normalised here (a zero row has cosine 0 to every topic). Work is done ``chunk`` rows at a
        time, so memory stays bounded for any number of rows. With no topics every id is -1 and every cosine
        0. Returns ``(ids int64, cosines float32)``, both of length ``len(embeddings)``.
        """
        matrix = np.asarray(embeddings)
        rows = matrix.shape[0] if matrix.ndim == 2 else -1
        ids = np.full(max(rows, 0), -1, dtype=np.int64)
        cosines = np.zeros(max(rows, 0), dtype=np.float32)
        if rows == 0 or (rows > 0 and not self.topics):
            return ids, cosines
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise ValueError(f"assign: expected embeddings of shape (n, {self.dim}), got {matrix.shape}")
        topic_ids = self.topic_ids
        for start in range(0, rows, chunk):
            block = np.asarray(matrix[start : start + chunk], dtype=np.float32)
            norms = np.linalg.norm(block, axis=1, keepdims=True)
            similarity = (block / np.maximum(norms, 1e-12)) @ self.centroids.T
            best = np.argmax(similarity, axis=1)
            cosines[start : start + chunk] = similarity[np.arange(len(best)), best]
            ids[start : start + chunk] = topic_ids[best]
        ids[~(cosines >= self.threshold)] = -1  # NaN rows stay unassigned too
        return ids, cosines

    def with_ids(self, mapping: dict[int, int], labels: dict[int, str] | None = None) -> TopicModel:
        """A copy with topic ids renumbered by ``mapping`` (old -> new; unmapped ids are kept).

        ``labels`` (keyed by the new ids) overrides labels, e.g. so a topic matched after a refit keeps the
        label readers already know. Raises ValueError when a key names no topic or two topics end up sharing
        an id.
        """
        current = {topic.topic_id for topic in self.topics}
        unknown = sorted(set(mapping) - current)
        if unknown:
            raise ValueError(f"with_ids: no topic with id {unknown}")
        topics = tuple(
            replace(topic, topic_id=mapping.get(topic.topic_id, topic.topic_id)) for topic in self.topics
        )
        new_ids = [topic.topic_id for topic in topics]
        if len(set(new_ids)) != len(new_ids):
            raise ValueError(f"with_ids: the mapping gives two topics one id ({sorted(new_ids)})")
        labels = labels or {}
        missing = sorted(set(labels) - set(new_ids))
        if missing:
            raise ValueError(f"with_ids: labels name no topic {missing}")
        topics = tuple(replace(topic, label=labels.get(topic.topic_id, topic.label)) for topic in topics)
        return replace(self, topics=topics, centroids=self.centroids.copy(), params=dict(self.params))

    # --- files ----------------------------------------------------------------------------------------

    def save(self, folder: Path) -> Path:
        """Write the model into ``folder`` (replacing any model there) via a temporary folder and a rename."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        arrays = {"centroids": np.ascontiguousarray(self.centroids), "topic_ids": self.topic_ids}
        save_file(arrays, str(partial / ARRAYS_FILE), metadata={"format": FORMAT})
        meta = {
            "format": FORMAT,
            "version": self.version,
            "embedding_model": self.embedding_model,
            "threshold": float(self.threshold),
            "dim": self.dim,
            "params": self.params,
            "topics": [topic.to_json() for topic in self.topics],
        }
        text = json.dumps(meta, indent=1, ensure_ascii=False, default=_json_default)
        (partial / META_FILE).write_text(text + "\n", encoding="utf-8")
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            folder.rename(old)
        partial.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
        return folder

    @classmethod
    def load(cls, folder: Path) -> TopicModel:
        """The model saved in ``folder``.

        Raises FileNotFoundError (missing) or ValueError (unreadable) naming the file.
        """
        folder = Path(folder)
        meta = _read_meta(folder / META_FILE)
        arrays = _read_arrays(folder / ARRAYS_FILE)
        try:
            topics = tuple(Topic.from_json(item) for item in meta["topics"])
            centroids, ids = arrays["centroids"], arrays["topic_ids"]
            if [topic.topic_id for topic in topics] != ids.tolist():
                raise ValueError(f"topic ids differ from those in {ARRAYS_FILE}")
            return cls(
                version=str(meta["version"]),
                embedding_model=str(meta["embedding_model"]),
                topics=topics,
                centroids=centroids.reshape(len(topics), int(meta["dim"])),
                threshold=float(meta["threshold"]),
                params=dict(meta.get("params") or {}),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"topic model {folder / META_FILE}: not a valid model ({error!r})") from error


def _json_default(value):
    """JSON for numpy scalars and arrays, tuples and paths in ``params``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"topic model: {type(value).__name__} in params is not JSON serialisable")


def _read_meta(path: Path) -> dict:
    """The parsed ``model.json`` at ``path``, checked for the format."""
    if not path.is_file():
        raise FileNotFoundError(f"topic model: {path} is missing (save a model with `analyze --refit`)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"topic model: {path} is corrupt ({error})") from error
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise ValueError(f"topic model: {path} has format {found!r}, expected {FORMAT!r}")
    threshold = meta.get("threshold")
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise ValueError(f"topic model: {path} has no finite threshold")
    return meta


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``model.safetensors`` at ``path``."""
    from safetensors.numpy import load_file

    if not path.is_file():
        raise FileNotFoundError(f"topic model: {path} is missing (save a model with `analyze --refit`)")
    try:
        arrays = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types for a damaged header or body
        raise ValueError(f"topic model: {path} is corrupt ({error})") from error
    missing = {"centroids", "topic_ids"} - set(arrays)
    if missing:
        raise ValueError(f"topic model: {path} lacks {sorted(missing)}")
    return arrays
