"""Need themes: the need phrases (``post_needs``) clustered into named themes, their statistics, and the
competitor gap (a need voiced against the own brand that a competitor is praised for).

**Input.** One row per need phrase: its vector (MiniLM of :func:`normalize_phrase`, i.e. the phrase with
brand names, handles, hashtags and URLs cut out) and, optionally, its *context*: the stored vector of the
post it was found in (``post_embeddings``, same space). The number of themes is found by the algorithm.

**Clustering** (:func:`cluster_needs`). Each row is the unit mix ``phrase_weight * phrase + (1 -
phrase_weight) * context`` (the phrase alone without context). Louvain communities (networkx) are found on
k-nearest-neighbour cosine graphs of the rows for every ``neighbours`` x ``resolutions`` x ``seeds``; the
share of those runs in which two rows fall together (their co-association) is cut by average linkage at
``1 - cut``. Rows of groups smaller than ``min_theme_size``, and rows whose cosine to their own theme's
centroid is under ``fold_similarity``, go to the nearest theme when their cosine to it reaches
``fold_similarity``, else are left unthemed (-1). Above ``max_rows`` rows a seeded sample is clustered and
the rest assigned the same way (:meth:`ThemeResult.assign`, also the light path for new phrases). The
co-association matrix is ``max_rows``² float32 (100 MB at 5,000); the 8 runs took 22 s on the demo world.

Why (``python bench/theme_quality.py``, demo world: 4,663 need rows, 19 planted needs, F1 of the best theme
per need): plain agglomerative clustering of the phrase vectors (cosine, average linkage, threshold
0.5-0.75) reached a macro F1 of 0.70-0.87 with the worst need at 0.35-0.49: phrase vectors put "multi-sim
business plans" next to "sim-only plan without a contract" and "a home phone service" next to "a simple
phone option". HDBSCAN (with or without UMAP) fragmented the duplicates (F1 <= 0.83, min <= 0.47); adding
c-TF-IDF word vectors, dropping corpus-frequent words or stripping filler words did not help. The post
vector carries the need's context (the praise of the competitor, the segment's talk) and graph communities
follow it where a global distance threshold cannot; the consensus over 8 runs removes Louvain's seed
dependence (single runs: min F1 0.43-0.65 by seed and k). The default: 27 themes, 1.8% of rows unthemed,
macro F1 0.916, 17 of 19 needs >= 0.7; the two others (0.64, 0.65) are each split into 2-3 clean sub-themes
("low latency option for gamers" / "ping that doesn't spike every evening" / "network that can handle
ranked games", precision 1.0) that no merge rule tried (centroid, context, c-TF-IDF or graph-edge
similarity) separated from wrong merges such as "home phone service" + "simple phone". The phrase vectors
alone with the same consensus: F1 0.70, min 0.43.

**Names and terms.** A theme's ``name`` is its most representative phrase: among its distinct phrases (at
most :data:`NAME_WORDS` words, leading "a"/"the"/"proper"... cut), the one maximising its count times the
cosine of its mean vector to the theme centroid, never a name already given to a larger theme. ``terms``
are the theme's c-TF-IDF 1- and 2-grams (:func:`nlp.topics.labels.ctfidf_terms`, brand terms excluded).

**Statistics** (:func:`theme_stats`): volume, distinct posts, daily counts (for ``nlp.topics.trends``), the
count in the last ``window_days`` against the window before (``growth``), the mean post sentiment score and
the brands each theme is raised against. **Competitor gap** (:func:`competitor_gap`): every post with a
positive sentiment towards a competitor goes to the theme whose context centroid (mean post vector) is
nearest, when the cosine reaches ``GapSettings.similarity``; a competitor is listed for a theme with at least
``min_praise`` such posts and ``min_share`` of the most praised competitor's; a theme raised against the own
brand at least ``min_own`` times with a competitor listed is a gap. On the demo world (2,953 pairs of a post
and a positively rated competitor) the similarity 0.6 / 0.65 / 0.7 matched 828 / 577 / 425 of them, 73% /
84% / 88% to a theme of their planted need, and listed 12 / 5 / 1 competitors other than a theme's planted
gap competitor; the planted one was listed first for all 14 gap needs at each (13 of 14 at 0.5 and 0.55).
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np

from nlp.topics.labels import ctfidf_terms, stop_term_pattern

__all__ = [
    "NAME_WORDS",
    "CompetitorPraise",
    "GapSettings",
    "NeedRow",
    "Praise",
    "Theme",
    "ThemeGap",
    "ThemeResult",
    "ThemeSettings",
    "ThemeStats",
    "cluster_needs",
    "competitor_gap",
    "display_phrase",
    "match_praise",
    "normalize_phrase",
    "row_vectors",
    "theme_stats",
]

#: Phrases longer than this (words) are named only when a theme has no shorter one (run-on extractions).
NAME_WORDS = 8
#: Leading words cut from a theme's name ("a proper roaming pass" -> "roaming pass").
_NAME_FILLER = frozenset({"a", "an", "the", "some", "any", "proper", "decent", "real", "actual", "working"})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"[@#]\w+")
_EDGE = re.compile(r"^[^\w$]+|[^\w$%)]+$")


@dataclass(frozen=True)
class ThemeSettings:
    """How need phrases are clustered (defaults measured on the demo world; see the module docstring)."""

    #: Share of the phrase vector in a row's vector; the rest is its post's vector (when given).
    phrase_weight: float = 0.4
    #: Neighbours per row of the k-NN graphs (one graph per value).
    neighbours: tuple[int, ...] = (20, 40)
    #: Louvain resolutions run on each graph (higher: smaller communities).
    resolutions: tuple[float, ...] = (0.5, 1.0)
    #: Louvain seeds run per graph and resolution.
    seeds: tuple[int, ...] = (0, 1)
    #: Rows are themed together when their average co-association reaches ``1 - cut``.
    cut: float = 0.7
    #: Smaller communities are folded into the nearest theme or left unthemed.
    min_theme_size: int = 15
    #: Least cosine of a row to a theme centroid (row space) to be folded or assigned into it.
    fold_similarity: float = 0.5
    #: Rows clustered at most (a seeded sample above it; the co-association matrix is rows x rows).
    max_rows: int = 5_000
    #: Seed of that sample.
    seed: int = 0


@dataclass(frozen=True)
class Theme:
    """One need theme. ``centroid`` is the unit mean phrase vector of its members, ``context_centroid`` the
    unit mean of their post vectors (None without context), ``vector`` the unit centroid in row space."""

    index: int
    name: str
    terms: tuple[tuple[str, float], ...]
    size: int
    centroid: np.ndarray
    context_centroid: np.ndarray | None
    vector: np.ndarray
    examples: tuple[tuple[str, int], ...]  # commonest normalised phrases with counts


@dataclass(frozen=True)
class ThemeResult:
    """``labels[i]`` is the theme index of phrase ``i`` (-1: unthemed); themes are ordered by size."""

    labels: np.ndarray
    themes: tuple[Theme, ...]
    settings: ThemeSettings = field(default_factory=ThemeSettings)

    def assign(self, embeddings: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """Theme indices of new rows: the nearest theme in row space, -1 below ``fold_similarity``."""
        if not self.themes:
            return np.full(len(embeddings), -1, dtype=np.int64)
        rows = row_vectors(embeddings, context, self.settings.phrase_weight)
        centroids = np.vstack([theme.vector for theme in self.themes])
        return _nearest(rows, centroids, self.settings.fold_similarity)


# --- text --------------------------------------------------------------------------------------------------


def normalize_phrase(phrase: str, stop_terms: Sequence[str] = ()) -> str:
    """``phrase`` lowercased, without URLs, handles, hashtags and ``stop_terms`` (brand names), one space
    between words and no punctuation at either end: what is embedded and shown."""
    text = _URL.sub(" ", html.unescape(phrase).replace("\u2019", "'"))
    pattern = stop_term_pattern(stop_terms, sigil=True)
    if pattern is not None:
        text = pattern.sub(" ", text)
    text = _TAG.sub(" ", text).lower()
    return _EDGE.sub("", " ".join(text.split()))


def display_phrase(normalized: str) -> str:
    """A normalised phrase as a theme name: leading articles and fillers ("a proper ...") cut."""
    words = normalized.split()
    while len(words) > 1 and words[0] in _NAME_FILLER:
        words = words[1:]
    return " ".join(words)


# --- clustering --------------------------------------------------------------------------------------------


def _unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def row_vectors(embeddings: np.ndarray, context: np.ndarray | None, weight: float) -> np.ndarray:
    """The unit row vectors: the phrase vector, mixed with the context vector when there is one."""
    phrases = _unit(embeddings)
    if context is None:
        return phrases
    if len(context) != len(phrases):
        raise ValueError(f"themes: {len(context)} context rows for {len(phrases)} phrases")
    return _unit(weight * phrases + (1.0 - weight) * _unit(context))


def _nearest(rows: np.ndarray, centroids: np.ndarray, least: float) -> np.ndarray:
    """Index of each row's most similar centroid, -1 where the cosine stays below ``least``."""
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    similarity = rows @ centroids.T
    best = similarity.argmax(axis=1)
    return np.where(similarity[np.arange(len(rows)), best] >= least, best, -1).astype(np.int64)


def _knn_graph(rows: np.ndarray, k: int):
    """The symmetric k-nearest-neighbour graph of ``rows``, edges weighted by cosine (positive ones only)."""
    import networkx as nx

    similarity = rows @ rows.T
    np.fill_diagonal(similarity, -np.inf)
    k = min(k, len(rows) - 1)
    neighbours = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    sources = np.repeat(np.arange(len(rows)), k)
    targets = neighbours.ravel()
    weights = similarity[sources, targets]
    positive = weights > 0  # an unrelated row gets no edge and stays alone
    sources, targets, weights = sources[positive], targets[positive], weights[positive]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(rows)))
    graph.add_weighted_edges_from(zip(sources.tolist(), targets.tolist(), weights.tolist(), strict=True))
    return graph


def _coassociation(rows: np.ndarray, settings: ThemeSettings) -> np.ndarray:
    """Share of the Louvain runs in which each pair of rows falls in one community."""
    import networkx as nx

    n = len(rows)
    together = np.zeros((n, n), dtype=np.float32)
    runs = 0
    for k in settings.neighbours:
        graph = _knn_graph(rows, k)
        for resolution in settings.resolutions:
            for seed in settings.seeds:
                communities = nx.community.louvain_communities(
                    graph, weight="weight", resolution=resolution, seed=seed
                )
                labels = np.empty(n, dtype=np.int64)
                for index, members in enumerate(communities):
                    labels[list(members)] = index
                together += labels[:, None] == labels[None, :]
                runs += 1
    return together / max(runs, 1)


def _consensus(rows: np.ndarray, settings: ThemeSettings) -> np.ndarray:
    """Community index per row: the co-association matrix cut by average linkage."""
    if len(rows) < 3:
        return np.zeros(len(rows), dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    distance = 1.0 - _coassociation(rows, settings).astype(np.float64)
    np.fill_diagonal(distance, 0.0)
    clusterer = AgglomerativeClustering(
        n_clusters=None, distance_threshold=settings.cut, metric="precomputed", linkage="average"
    )
    return clusterer.fit_predict(distance).astype(np.int64)


def _fold(rows: np.ndarray, groups: np.ndarray, settings: ThemeSettings) -> np.ndarray:
    """Theme index per row, themes by size (largest first). Rows of small groups, and rows whose cosine to
    their own theme's centroid is under ``fold_similarity``, go to the nearest theme or are unthemed."""
    sizes = Counter(groups.tolist())
    kept = sorted(
        (g for g, size in sizes.items() if size >= settings.min_theme_size), key=lambda g: (-sizes[g], g)
    )
    order = {group: index for index, group in enumerate(kept)}
    labels = np.array([order.get(group, -1) for group in groups.tolist()], dtype=np.int64)
    if not kept:
        return labels
    centroids = _unit(np.vstack([rows[labels == index].mean(axis=0) for index in range(len(kept))]))
    own = np.einsum("ij,ij->i", rows, centroids[np.maximum(labels, 0)])
    loose = np.flatnonzero((labels == -1) | (own < settings.fold_similarity))
    labels[loose] = _nearest(rows[loose], centroids, settings.fold_similarity)
    return labels


def cluster_needs(
    phrases: Sequence[str],
    embeddings: np.ndarray,
    settings: ThemeSettings | None = None,
    *,
    context: np.ndarray | None = None,
    stop_terms: Sequence[str] = (),
) -> ThemeResult:
    """Cluster need phrases into named themes (see the module docstring).

    ``embeddings[i]`` is the vector of ``phrases[i]`` (best: of its :func:`normalize_phrase` form);
    ``context[i]``, when given, the vector of the post it came from. ``stop_terms`` (brand names, aliases,
    handles, hashtags) are kept out of names and terms.
    """
    settings = settings or ThemeSettings()
    if len(embeddings) != len(phrases):
        raise ValueError(f"themes: {len(embeddings)} vectors for {len(phrases)} phrases")
    rows = row_vectors(embeddings, context, settings.phrase_weight)
    sample = _sample(len(rows), settings.max_rows, settings.seed)
    labels = np.full(len(rows), -1, dtype=np.int64)
    labels[sample] = _fold(rows[sample], _consensus(rows[sample], settings), settings)
    count = int(labels.max()) + 1 if len(labels) else 0
    rest = np.setdiff1d(np.arange(len(rows)), sample)
    if count and len(rest):
        centroids = _unit(np.vstack([rows[labels == index].mean(axis=0) for index in range(count)]))
        labels[rest] = _nearest(rows[rest], centroids, settings.fold_similarity)
    labels = _by_size(labels)
    themes = _describe(phrases, _unit(embeddings), context, rows, labels, stop_terms)
    return ThemeResult(labels=labels, themes=themes, settings=settings)


def _by_size(labels: np.ndarray) -> np.ndarray:
    """``labels`` renumbered 0, 1, ... by final theme size, largest first (ties by old index)."""
    sizes = Counter(label for label in labels.tolist() if label >= 0)
    order = {old: new for new, old in enumerate(sorted(sizes, key=lambda label: (-sizes[label], label)))}
    return np.array([order.get(label, -1) for label in labels.tolist()], dtype=np.int64)


def _sample(total: int, limit: int, seed: int) -> np.ndarray:
    """Sorted row indices to cluster: all of them, or a seeded sample of ``limit``."""
    if total <= limit:
        return np.arange(total)
    return np.sort(np.random.RandomState(seed).choice(total, size=limit, replace=False))


# --- names and terms ---------------------------------------------------------------------------------------


def _describe(
    phrases: Sequence[str],
    vectors: np.ndarray,
    context: np.ndarray | None,
    rows: np.ndarray,
    labels: np.ndarray,
    stop_terms: Sequence[str],
) -> tuple[Theme, ...]:
    """The :class:`Theme` of every label, named in size order so no two share a name."""

    normalized = [normalize_phrase(phrase, stop_terms) for phrase in phrases]
    context = None if context is None else _unit(context)
    count = int(labels.max()) + 1 if len(labels) else 0
    terms = ctfidf_terms(normalized, labels, list(range(count)), stop_terms=stop_terms, top_n=10)
    taken: set[str] = set()
    themes = []
    for index in range(count):
        members = np.flatnonzero(labels == index)
        centroid = _unit(vectors[members].mean(axis=0))
        name = _name([normalized[i] for i in members], vectors[members], centroid, taken)
        taken.add(name)
        themes.append(
            Theme(
                index=index,
                name=name,
                terms=tuple((term, round(weight, 4)) for term, weight in terms[index]),
                size=len(members),
                centroid=centroid,
                context_centroid=None
                if context is None
                else _unit(np.asarray(context)[members].mean(axis=0)),
                vector=_unit(rows[members].mean(axis=0)),
                examples=tuple(Counter(normalized[i] for i in members).most_common(5)),
            )
        )
    return tuple(themes)


def _name(normalized: list[str], vectors: np.ndarray, centroid: np.ndarray, taken: set[str]) -> str:
    """The member phrase with the highest count x cosine to the centroid, not in ``taken``."""
    by_phrase: dict[str, list[int]] = defaultdict(list)
    for position, phrase in enumerate(normalized):
        by_phrase[display_phrase(phrase)].append(position)
    scored = []
    for phrase, positions in by_phrase.items():
        if not phrase:
            continue
        cosine = float(_unit(vectors[positions].mean(axis=0)) @ centroid)
        too_long = len(phrase.split()) > NAME_WORDS
        scored.append((too_long, -len(positions) * max(cosine, 0.0), len(phrase), phrase))
    for *_, phrase in sorted(scored):
        if phrase not in taken:
            return phrase
    base = min(scored)[-1] if scored else "need"
    number = 2
    while f"{base} ({number})" in taken:
        number += 1
    return f"{base} ({number})"


# --- statistics --------------------------------------------------------------------------------------------


class NeedRow(NamedTuple):
    """One need phrase with what the statistics need: its post, the brand it names and the post's day."""

    post_id: str
    phrase: str
    brand: str | None
    day: str  # YYYY-MM-DD (UTC) of the post


@dataclass(frozen=True)
class ThemeStats:
    """A theme's volume, daily counts, growth, sentiment and the brands it is raised against."""

    theme: int
    name: str
    volume: int  # need rows
    posts: int  # distinct posts
    daily: tuple[tuple[str, int], ...]  # (day, rows), days with rows only, in order
    recent: int  # rows in the last window
    previous: int  # rows in the window before it
    growth: float  # (recent + 1) / (previous + 1) - 1
    mean_sentiment: float | None  # mean post sentiment score over its posts with a score
    brands: tuple[tuple[str, int], ...]  # (brand, rows), most first; rows naming no brand left out


def theme_stats(
    result: ThemeResult,
    rows: Sequence[NeedRow],
    *,
    sentiment: Mapping[str, float] | None = None,
    window_days: int = 14,
    until: str | None = None,
) -> list[ThemeStats]:
    """Statistics of every theme over ``rows`` (aligned with ``result.labels``).

    The recent window is the ``window_days`` days ending with ``until`` (default: the latest day of any
    row), the previous one the ``window_days`` before it. ``sentiment`` maps a post id to its score.
    """
    if len(rows) != len(result.labels):
        raise ValueError(f"themes: {len(rows)} rows for {len(result.labels)} labels")
    end = date.fromisoformat(until or max((row.day for row in rows), default="1970-01-01"))
    recent_start = end - timedelta(days=window_days - 1)
    previous_start = recent_start - timedelta(days=window_days)
    grouped: dict[int, list[NeedRow]] = defaultdict(list)
    for row, label in zip(rows, result.labels.tolist(), strict=True):
        if label >= 0:
            grouped[label].append(row)
    stats = []
    for theme in result.themes:
        members = grouped.get(theme.index, [])
        days = Counter(row.day for row in members)
        recent = sum(n for day, n in days.items() if recent_start <= date.fromisoformat(day) <= end)
        previous = sum(
            n for day, n in days.items() if previous_start <= date.fromisoformat(day) < recent_start
        )
        posts = {row.post_id for row in members}
        scores = [sentiment[post] for post in posts if sentiment and post in sentiment]
        brands = Counter(row.brand for row in members if row.brand)
        stats.append(
            ThemeStats(
                theme=theme.index,
                name=theme.name,
                volume=len(members),
                posts=len(posts),
                daily=tuple(sorted(days.items())),
                recent=recent,
                previous=previous,
                growth=round((recent + 1) / (previous + 1) - 1, 4),
                mean_sentiment=round(float(np.mean(scores)), 4) if scores else None,
                brands=tuple(sorted(brands.items(), key=lambda item: (-item[1], item[0]))),
            )
        )
    return stats


# --- competitor gap ----------------------------------------------------------------------------------------


class Praise(NamedTuple):
    """A post with a positive sentiment towards ``brand`` (one per post and brand)."""

    post_id: str
    brand: str


@dataclass(frozen=True)
class GapSettings:
    """When a praise counts for a theme and when a theme is a gap."""

    #: Least cosine of the praising post's vector to the theme's context centroid (mean post vector).
    similarity: float = 0.65
    #: Need rows against the own brand a theme needs to be a gap.
    min_own: int = 3
    #: Praising posts a competitor needs to be listed for a theme...
    min_praise: int = 5
    #: ... and at least this share of the posts of the theme's most praised competitor.
    min_share: float = 0.2
    #: Example post ids kept per competitor.
    examples: int = 3


@dataclass(frozen=True)
class CompetitorPraise:
    """A competitor praised in posts near a theme."""

    brand: str
    posts: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class ThemeGap:
    """The competitors praised for a theme; ``is_gap`` when it is also voiced against the own brand."""

    theme: int
    name: str
    against_own: int
    competitors: tuple[CompetitorPraise, ...]
    is_gap: bool


def match_praise(
    result: ThemeResult, praise: Sequence[Praise], vectors: np.ndarray, *, own_brand: str, similarity: float
) -> np.ndarray:
    """The theme each praising post counts for, -1 for none (or for praise of ``own_brand``).

    ``vectors[i]`` is the stored post vector of ``praise[i]``; the post goes to the theme whose context
    centroid (the phrase centroid when the themes were clustered without context) is nearest, when the
    cosine reaches ``similarity``.
    """
    if len(vectors) != len(praise):
        raise ValueError(f"themes: {len(vectors)} vectors for {len(praise)} praising posts")
    matched = np.full(len(praise), -1, dtype=np.int64)
    keep = [i for i, item in enumerate(praise) if item.brand != own_brand]
    if result.themes and keep:
        centroids = np.vstack([_gap_centroid(theme) for theme in result.themes])
        matched[keep] = _nearest(_unit(np.asarray(vectors)[keep]), centroids, similarity)
    return matched


def competitor_gap(
    result: ThemeResult,
    stats: Sequence[ThemeStats],
    praise: Sequence[Praise],
    vectors: np.ndarray,
    *,
    own_brand: str,
    settings: GapSettings | None = None,
) -> list[ThemeGap]:
    """The competitors praised for each theme (posts matched by :func:`match_praise`), and whether the theme
    is a gap for ``own_brand`` (raised against it in ``stats`` at least ``settings.min_own`` times)."""
    settings = settings or GapSettings()
    matched = match_praise(result, praise, vectors, own_brand=own_brand, similarity=settings.similarity)
    found: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for item, theme in zip(praise, matched.tolist(), strict=True):
        if theme >= 0:
            found[theme][item.brand].add(item.post_id)
    own = {item.theme: dict(item.brands).get(own_brand, 0) for item in stats}
    return [
        _theme_gap(theme, found[theme.index], own.get(theme.index, 0), settings) for theme in result.themes
    ]


def _theme_gap(theme: Theme, found: Mapping[str, set[str]], against: int, settings: GapSettings) -> ThemeGap:
    """One theme's :class:`ThemeGap` from the posts praising each competitor near it."""
    most = max((len(posts) for posts in found.values()), default=0)
    listed = [
        CompetitorPraise(brand, len(posts), tuple(sorted(posts)[: settings.examples]))
        for brand, posts in found.items()
        if len(posts) >= max(settings.min_praise, settings.min_share * most)
    ]
    listed.sort(key=lambda item: (-item.posts, item.brand))
    return ThemeGap(
        theme=theme.index,
        name=theme.name,
        against_own=against,
        competitors=tuple(listed),
        is_gap=bool(listed) and against >= settings.min_own,
    )


def _gap_centroid(theme: Theme) -> np.ndarray:
    """The centroid a praising post is compared with: the mean post vector, else the phrase centroid."""
    return theme.context_centroid if theme.context_centroid is not None else theme.centroid
