"""Fitting topics on stored embeddings: BERTopic over a sample, outlier reduction, labels, a saved model.

:func:`fit_topics` draws at most ``max_posts`` posts (seeded), clusters their stored embeddings (never
re-embedding a post) and returns a :class:`~nlp.topics.model.TopicModel` plus the topic of every sampled post.

**Clustering.** Backend ``umap`` is BERTopic with its default reducer and clusterer made explicit and seeded:
``UMAP(n_neighbors=15, n_components=5, min_dist=0, metric="cosine")`` and ``HDBSCAN(min_cluster_size,
metric="euclidean", cluster_selection_method="eom")``, fitted with ``embeddings=`` so the documents are never
embedded (BERTopic gets no embedding model at all; its own c-TF-IDF is not used). Backend ``fast`` runs
``PCA(10) + HDBSCAN`` from scikit-learn directly, without importing BERTopic (16 s of imports: torch,
sentence-transformers, spaCy, UMAP): for tests and quick looks. Both import their libraries inside the
functions, so importing this module is cheap.

**Topics.** Clusters become topics ``0..k-1`` by decreasing size; a centroid is the normalised mean of its
members' embeddings. Labels, terms and representative posts come from :mod:`nlp.topics.labels`.

**Outliers.** HDBSCAN leaves many posts in -1 (36-46% of tweets with BERTopic's defaults). An outlier joins
its nearest topic when its cosine to that centroid reaches the model's ``threshold``, the same rule
:meth:`TopicModel.assign` applies to every new post. The threshold is the :data:`COHESION_QUANTILE` quantile
of the members' cosines to their own centroid (an outlier joins only if it is as close to a topic as 95% of
the members are to theirs), lowered when needed to the highest value that leaves at most ``max_unassigned``
of the sample unassigned under :meth:`~TopicModel.assign`; ``params`` records both values. Members keep the
topic HDBSCAN gave them; ``params["assign_agreement"]`` is the share of the sample whose
:meth:`~TopicModel.assign` topic equals its fitted one.

**Figures** (demo world, 20,000 posts with stored MiniLM vectors, backend ``umap``, 2 cores shared with
other jobs; a sanity script, not a test): with the default topic size (50), 70 topics, 13.0% raw outliers,
0.2% unassigned after reduction (the cohesion threshold 0.473 was enough), assignment agreement 0.82, 1.5% of
all posts unassigned by :meth:`~TopicModel.assign`; the fit took 121 s in a fresh process (106 s of CPU, most
of it UMAP, single-threaded by the seed, and numba's first compile), 277 s at a higher machine load with a
MiniLM word encoder. With size 20: 275 topics, 20.2% raw outliers, 3.7% after. Loading the saved model took
6 ms and assigning the 20,000 posts 42 ms, with no network and none of BERTopic, UMAP, HDBSCAN, torch, numba
or scikit-learn imported.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from nlp.topics.labels import label_topics, representative_posts
from nlp.topics.model import Topic, TopicModel

__all__ = ["BACKENDS", "COHESION_QUANTILE", "FitResult", "FitSettings", "fit_topics", "min_topic_size"]

BACKENDS = ("umap", "fast")
#: Quantile of members' cosines to their own centroid that an outlier must reach to join a topic.
COHESION_QUANTILE = 0.05
#: BERTopic's UMAP defaults (with the seed added).
UMAP_PARAMS = {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine", "low_memory": False}
#: Components of the ``fast`` backend's PCA.
PCA_COMPONENTS = 10


@dataclass(frozen=True)
class FitSettings:
    """How to fit: sample size, smallest topic (None: scaled with the sample), seed, backend, outlier target.

    ``stop_terms`` are kept out of labels: brand names, aliases, handles and hashtags of every brand.
    """

    max_posts: int = 100_000
    min_topic_size: int | None = None
    seed: int = 42
    backend: str = "umap"
    max_unassigned: float = 0.15
    stop_terms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"FitSettings.backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.max_posts < 1 or not 0.0 <= self.max_unassigned <= 1.0:
            raise ValueError("FitSettings: max_posts must be >= 1 and max_unassigned within [0, 1]")
        if self.min_topic_size is not None and self.min_topic_size < 2:
            raise ValueError(f"FitSettings.min_topic_size must be >= 2, got {self.min_topic_size}")


def min_topic_size(settings: FitSettings, sampled: int) -> int:
    """The smallest topic for a sample of ``sampled`` posts: the setting, else max(10, sampled / 400).

    On the 20,000-post demo world, sampled / 1,000 (20) gave 275 topics, many of them the same theme twice;
    sampled / 400 (50) gave 83, sampled / 200 (100) 35 with broader, vaguer labels.
    """
    if settings.min_topic_size is not None:
        return settings.min_topic_size
    return max(10, round(sampled / 400))


@dataclass
class FitResult:
    """A fitted model and the topic of each sampled post (-1: unassigned), with outlier shares and time."""

    model: TopicModel
    post_ids: list[str]
    assignments: np.ndarray
    raw_outlier_share: float
    unassigned_share: float
    seconds: float


def fit_topics(
    post_ids: Sequence[str],
    docs: Sequence[str],
    embeddings: np.ndarray,
    settings: FitSettings,
    *,
    embedding_model: str,
    word_encoder=None,
) -> FitResult:
    """Fit topics on a seeded sample of at most ``settings.max_posts`` posts (see the module docstring).

    ``docs[i]`` is the text and ``embeddings[i]`` the stored vector of ``post_ids[i]``; ``embedding_model``
    names the model the vectors come from (stored with the centroids). ``word_encoder`` (an
    :class:`nlp.embeddings.Encoder` of that model) reranks label terms; without it labels follow c-TF-IDF.
    """
    started = time.perf_counter()
    vectors = np.asarray(embeddings, dtype=np.float32)
    if len(post_ids) != len(docs) or len(docs) != len(vectors):
        raise ValueError(f"fit_topics: {len(post_ids)} ids, {len(docs)} docs, {len(vectors)} embeddings")
    sample = _sample(len(post_ids), settings.max_posts, settings.seed)
    ids = [str(post_ids[i]) for i in sample]
    texts = [str(docs[i]) for i in sample]
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    vectors = _normalise(vectors[sample].reshape(len(sample), dim))
    size = min_topic_size(settings, len(sample))
    fitted = _order_by_size(_cluster(texts, vectors, settings, size))
    k = int(fitted.max()) + 1 if len(fitted) else 0
    centroids = np.zeros((k, dim), dtype=np.float32)
    for topic in range(k):
        centroids[topic] = _normalise(vectors[fitted == topic].mean(axis=0, keepdims=True))[0]
    draft = TopicModel("draft", embedding_model, tuple(Topic(i, "") for i in range(k)), centroids, -np.inf)
    nearest, cosines = draft.assign(vectors)  # the very arithmetic the saved model will use
    cohesion, threshold = _threshold(cosines, fitted, centroids, vectors, settings.max_unassigned)
    nearest[cosines < threshold] = -1
    assigned = np.where(fitted >= 0, fitted, nearest)
    topics = _topics(ids, texts, vectors, assigned, centroids, settings, word_encoder)
    raw_share = float(np.mean(fitted == -1)) if len(fitted) else 0.0
    unassigned = float(np.mean(assigned == -1)) if len(assigned) else 0.0
    agreement = float(np.mean(nearest == assigned)) if len(assigned) else 1.0
    params = {
        **asdict(settings),
        "stop_terms": list(settings.stop_terms),
        "min_topic_size": size,
        "posts": len(post_ids),
        "sampled": len(sample),
        "cohesion_threshold": cohesion,
        "raw_outlier_share": raw_share,
        "unassigned_share": unassigned,
        "assign_agreement": agreement,
        "word_encoder": getattr(word_encoder, "identity", None),
        "fitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    version = "topics.bertopic.v1" if settings.backend == "umap" else "topics.fast.v1"
    model = TopicModel(version, embedding_model, topics, centroids, threshold, params)
    seconds = time.perf_counter() - started
    model.params["seconds"] = round(seconds, 3)
    return FitResult(model, ids, assigned, raw_share, unassigned, seconds)


def _sample(total: int, limit: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded sample of at most ``limit`` of ``total`` items (all of them when fewer)."""
    if total <= limit:
        return np.arange(total)
    return np.sort(np.random.default_rng(seed).choice(total, size=limit, replace=False))


def _normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def _cluster(texts: list[str], vectors: np.ndarray, settings: FitSettings, size: int) -> np.ndarray:
    """Cluster labels (-1 for noise) of the sampled posts with the settings' backend."""
    if len(vectors) < max(3 * size, UMAP_PARAMS["n_neighbors"] + 2):
        return np.full(len(vectors), -1, dtype=np.int64)  # too few posts for a topic worth the name
    if settings.backend == "fast":
        from sklearn.cluster import HDBSCAN
        from sklearn.decomposition import PCA

        components = min(PCA_COMPONENTS, vectors.shape[1], len(vectors) - 1)
        reduced = PCA(n_components=components, random_state=settings.seed).fit_transform(vectors)
        return HDBSCAN(min_cluster_size=size, copy=True).fit(reduced).labels_.astype(np.int64)
    import hdbscan
    from umap import UMAP

    reducer = UMAP(**UMAP_PARAMS, random_state=settings.seed)
    clusterer = hdbscan.HDBSCAN(
        min_cluster_size=size, metric="euclidean", cluster_selection_method="eom", prediction_data=False
    )
    return cluster_with_bertopic(texts, vectors, reducer, clusterer)


def cluster_with_bertopic(texts: list[str], vectors: np.ndarray, reducer, clusterer) -> np.ndarray:
    """BERTopic's topic per post (-1: outlier) with ``reducer`` and ``clusterer``, on the given vectors."""
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    model = BERTopic(
        embedding_model=None,
        umap_model=reducer,
        hdbscan_model=clusterer,
        vectorizer_model=CountVectorizer(stop_words="english", max_features=20_000),
        calculate_probabilities=False,
    )
    topics, _ = model.fit_transform(list(texts), embeddings=vectors)
    return np.asarray(topics, dtype=np.int64)


def _order_by_size(labels: np.ndarray) -> np.ndarray:
    """Cluster labels renumbered ``0..k-1`` by decreasing size (ties: lower old label first); -1 kept."""
    labels = np.asarray(labels, dtype=np.int64)
    clusters, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = clusters[np.lexsort((clusters, -counts))]
    mapping = {int(old): new for new, old in enumerate(order)}
    return np.array([mapping.get(int(label), -1) for label in labels], dtype=np.int64)


def _threshold(
    best: np.ndarray, fitted: np.ndarray, centroids: np.ndarray, vectors: np.ndarray, max_unassigned: float
) -> tuple[float, float]:
    """``(cohesion threshold, model threshold)`` from each post's ``best`` cosine to any centroid: see
    "Outliers" in the module docstring."""
    members = np.flatnonzero(fitted >= 0)
    if not len(members):
        return 1.0, 1.0
    own = np.einsum("ij,ij->i", vectors[members], centroids[fitted[members]])
    cohesion = float(np.quantile(own, COHESION_QUANTILE))
    allowed = int(np.floor(max_unassigned * len(best)))
    if np.sum(best < cohesion) <= allowed:
        return cohesion, cohesion
    return cohesion, float(np.sort(best)[allowed])  # all but the `allowed` lowest reach it


def _topics(
    ids: list[str],
    texts: list[str],
    vectors: np.ndarray,
    assigned: np.ndarray,
    centroids: np.ndarray,
    settings: FitSettings,
    word_encoder,
) -> tuple[Topic, ...]:
    """The Topic records (labels, terms, sizes, representative posts) of topics ``0..k-1``."""
    topic_ids = list(range(len(centroids)))
    labelled = label_topics(
        texts, assigned, topic_ids, centroids, stop_terms=settings.stop_terms, word_encoder=word_encoder
    )
    topics = []
    for entry in labelled:
        rows = np.flatnonzero(assigned == entry.topic_id)
        members = [ids[row] for row in rows]
        representative = representative_posts(members, vectors[rows], centroids[entry.topic_id])
        topics.append(Topic(entry.topic_id, entry.label, entry.terms, len(rows), representative))
    return tuple(topics)
