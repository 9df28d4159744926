"""Fitting topics on stored embeddings: BERTopic over a sample, outlier reduction, labels, a saved model.

:func:`fit_topics` draws at most ``max_posts`` posts (seeded), clusters their stored embeddings (never
re-embedding a post) and returns a :class:`~nlp.topics.model.TopicModel` plus the topic of every sampled post.

**Clustering.** Backend ``umap`` is BERTopic with its default reducer and clusterer made explicit and seeded:
``UMAP(n_neighbors=15, n_components=5, min_dist=0, metric="cosine")`` and ``HDBSCAN(min_cluster_size,
metric="euclidean", cluster_selection_method="eom")`` (``min_samples`` capped at :data:`HDBSCAN_MIN_SAMPLES`
for memory), fitted with ``embeddings=`` so the documents are never
embedded (BERTopic gets no embedding model at all; its own c-TF-IDF is not used). Backend ``fast`` runs
``PCA(10) + HDBSCAN`` from scikit-learn directly, without importing BERTopic (16 s of imports: torch,
sentence-transformers, spaCy, UMAP): for tests and quick looks. Both import their libraries inside the
functions, so importing this module is cheap.

**Brands.** MiniLM places posts that name the same brand near each other whatever they say: on the negative
airline tweets, topics fitted on the stored vectors agreed more with the airline addressed (NMI 0.35) than
with the human complaint reason (0.17), so one complaint became a topic per airline and a topic's share by
brand meant little. With ``brand_neutral`` (the default) :func:`brand_directions` finds, for every stop term
named by at least ``min_topic_size`` posts (and not named by as many), the mean vector of the posts naming it
minus that of the others; :func:`without_directions` removes the span of those directions (at most one per
term) from the vectors before clustering, and centroids are means of these brand-free vectors. A centroid
thus has no part along a brand direction, so :meth:`TopicModel.assign` on a stored vector ranks topics
exactly as it would its brand-free version (the cosine is the brand-free one times the norm of what is left
of the vector; the threshold below is computed on stored vectors, as ``assign`` sees them): new posts need
no projection. Content that goes with one brand only (its own product names) partly goes with its direction.
``params["brand_directions"]`` records how many directions were removed.

**Topics.** Clusters become topics ``0..k-1`` by decreasing size; a centroid is the normalised mean of its
members' brand-free embeddings. Labels, terms and representative posts come from :mod:`nlp.topics.labels`.

**Outliers.** HDBSCAN leaves many posts in -1 (36-46% of tweets with BERTopic's defaults). An outlier joins
its nearest topic when its cosine to that centroid reaches the model's ``threshold``, the same rule
:meth:`TopicModel.assign` applies to every new post. The threshold is the :data:`COHESION_QUANTILE` quantile
of the members' cosines to their own centroid (an outlier joins only if it is as close to a topic as 95% of
the members are to theirs), lowered when needed to the highest value that leaves at most ``max_unassigned``
of the sample unassigned under :meth:`~TopicModel.assign`; ``params`` records both values. Members keep the
topic HDBSCAN gave them; ``params["assign_agreement"]`` is the share of the sample whose
:meth:`~TopicModel.assign` topic equals its fitted one.

**Figures** (default settings, backend ``umap``, all fits in one process on 2 cores shared with other jobs;
a sanity script, not a test). Demo world, 19,233 English posts with stored MiniLM vectors (topic size 48):
133 topics, 17.4% raw outliers, 6.6% unassigned by :meth:`~TopicModel.assign`, NMI of topics with the
planted need over the need posts 0.82; without ``brand_neutral`` 97 topics, 3.6% unassigned, NMI 0.69.
Negative airline tweets, 9,089 (size 23): 56 topics, 6.9% unassigned, NMI with ``negativereason`` 0.205 and
with the airline 0.04; without ``brand_neutral`` 37 topics, 5.3%, 0.167 and 0.34; ``BERTopic()`` defaults
89 topics, 37.6% unassigned, 0.177 (NMI counts -1 as one more cluster). A logistic regression trained on the
reasons (5-fold) reaches only NMI 0.33 on these vectors and k-means with k=10 on the brand-free ones 0.22,
so the vectors, not the topic count, bound that score. Fits took 131 s with numba's first compile, 24-34 s
after. Loading the saved model took 6 ms and assigning 20,000 posts 42 ms, with no network and none of
BERTopic, UMAP, HDBSCAN, torch, numba or scikit-learn imported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from nlp.topics.labels import label_topics, representative_posts
from nlp.topics.model import Topic, TopicModel

__all__ = [
    "BACKENDS",
    "COHESION_QUANTILE",
    "FitResult",
    "FitSettings",
    "brand_directions",
    "fit_topics",
    "min_topic_size",
    "without_directions",
]

BACKENDS = ("umap", "fast")
#: Quantile of members' cosines to their own centroid that an outlier must reach to join a topic.
COHESION_QUANTILE = 0.05
#: BERTopic's UMAP defaults (with the seed added).
UMAP_PARAMS = {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine", "low_memory": False}
#: HDBSCAN's ``min_samples`` (the neighbours behind each point's core distance) is the min topic size, as
#: in BERTopic, up to this cap. Uncapped, a 100,000-post sample (min size 250) held 250 neighbours per point:
#: the fit's peak memory rose by 290 MB and HDBSCAN took 12 s; capped, nothing and 7 s, with 107 topics
#: instead of 77. Samples under 20,000 posts (min size <= 50) are not affected.
HDBSCAN_MIN_SAMPLES = 50
#: Components of the ``fast`` backend's PCA.
PCA_COMPONENTS = 10


@dataclass(frozen=True)
class FitSettings:
    """How to fit: sample size, smallest topic (None: scaled with the sample), seed, backend, outlier target.

    ``stop_terms`` are kept out of labels: brand names, aliases, handles and hashtags of every brand. With
    ``brand_neutral`` the directions along which posts naming a stop term differ from the rest are removed
    from the vectors before clustering (see "Brands" in the module docstring).
    """

    max_posts: int = 100_000
    min_topic_size: int | None = None
    seed: int = 42
    backend: str = "umap"
    max_unassigned: float = 0.15
    stop_terms: tuple[str, ...] = ()
    brand_neutral: bool = True

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
    copy: bool = True,
) -> FitResult:
    """Fit topics on a seeded sample of at most ``settings.max_posts`` posts (see the module docstring).

    ``docs[i]`` is the text and ``embeddings[i]`` the stored vector of ``post_ids[i]``; ``embedding_model``
    names the model the vectors come from (stored with the centroids). ``word_encoder`` (an
    :class:`nlp.embeddings.Encoder` of that model) reranks label terms; without it labels follow c-TF-IDF.
    ``copy=False`` lets the fit scale a float32 ``embeddings`` to unit rows in place when the sample is all
    of it, for a caller that does not use it afterwards (one copy of the matrix less: 154 MB at 100,000).
    """
    started = time.perf_counter()
    vectors = np.asarray(embeddings, dtype=np.float32)
    if len(post_ids) != len(docs) or len(docs) != len(vectors):
        raise ValueError(f"fit_topics: {len(post_ids)} ids, {len(docs)} docs, {len(vectors)} embeddings")
    sample = _sample(len(post_ids), settings.max_posts, settings.seed)
    ids = [str(post_ids[i]) for i in sample]
    texts = [str(docs[i]) for i in sample]
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    if not copy and len(sample) == len(vectors) and vectors.ndim == 2 and vectors.flags.writeable:
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    else:
        vectors = _normalise(vectors[sample].reshape(len(sample), dim))
    size = min_topic_size(settings, len(sample))
    stop_terms = settings.stop_terms if settings.brand_neutral else ()
    directions = brand_directions(texts, vectors, stop_terms, min_posts=size)
    neutral = without_directions(vectors, directions)
    fitted = _order_by_size(_cluster(texts, neutral, settings, size))
    k = int(fitted.max()) + 1 if len(fitted) else 0
    centroids = np.zeros((k, dim), dtype=np.float32)
    for topic in range(k):
        centroids[topic] = _normalise(neutral[fitted == topic].mean(axis=0, keepdims=True))[0]
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
        "brand_directions": len(directions),
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


def brand_directions(
    texts: Sequence[str], vectors: np.ndarray, stop_terms: Sequence[str], *, min_posts: int
) -> np.ndarray:
    """Orthonormal rows spanning how posts naming each stop term differ from the others (``(r, dim)``).

    For every term named (case-insensitive, as a whole word, with or without ``@``/``#``) by at least
    ``min_posts`` posts and left out by at least as many, the direction is the mean vector of the posts
    naming it minus that of the rest; the rows are an orthonormal basis of those directions (SVD, numerical
    rank). No term, or none named often enough: shape ``(0, dim)``.
    """
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    terms = sorted({term.lower() for term in stop_terms if term.strip()}, key=len, reverse=True)
    if not terms or not len(vectors):
        return np.zeros((0, dim), dtype=np.float32)
    index = {term: column for column, term in enumerate(terms)}
    pattern = re.compile(r"(?<!\w)[@#]?(" + "|".join(map(re.escape, terms)) + r")(?!\w)", re.IGNORECASE)
    rows: dict[int, set[int]] = {column: set() for column in range(len(terms))}
    for row, text in enumerate(texts):
        for match in pattern.finditer(text):
            rows[index[match.group(1).lower()]].add(row)
    total = vectors.sum(axis=0, dtype=np.float64)
    found = []
    for members in rows.values():
        if min_posts <= len(members) <= len(vectors) - min_posts:
            inside = vectors[sorted(members)].sum(axis=0, dtype=np.float64)
            found.append(inside / len(members) - (total - inside) / (len(vectors) - len(members)))
    if not found:
        return np.zeros((0, dim), dtype=np.float32)
    _, values, basis = np.linalg.svd(np.stack(found), full_matrices=False)
    return basis[values > 1e-6 * values[0]].astype(np.float32)


def without_directions(vectors: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Unit rows of ``vectors`` with their components along the orthonormal ``directions`` rows removed."""
    if not len(directions):
        return vectors
    return _normalise(vectors - (vectors @ directions.T) @ directions)


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
        min_cluster_size=size,
        min_samples=min(size, HDBSCAN_MIN_SAMPLES),
        metric="euclidean",
        cluster_selection_method="eom",
        prediction_data=False,
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
