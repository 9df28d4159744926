"""Stable cluster ids across refits, and the lineage events that record what became of each id.

A refit (of topics, need themes or micro-segments) numbers its clusters afresh. :func:`match` maps each new
cluster to a *stable* id: the id of the old cluster it continues, or a fresh id from ``next_id``. Ids are
never reused, and a kept id keeps its old meaning (the caller keeps the old label with it: a refit never
renames an existing topic). Pure numpy/scipy; the caller stores the result.

**Similarity.** Three signals, each in [0, 1], mixed with :class:`Weights` renormalised over the signals a
pair has:

- *centroid*: the cosine of the two centroids, negatives clipped to 0 (always available);
- *terms*: weighted Jaccard of the two top-term lists, the term at rank ``r`` weighing ``1 / log2(r + 2)``
  (available when both clusters list terms; compared case-insensitively);
- *members*: overlap of the two member sets (available when both give members). Members are counted only
  over the ids that *both* runs clustered (in some old and in some new cluster), so posts that one run did
  not see (another sample, new posts) do not dilute it; a pair with no such shared id has no member signal.

The member overlap is Jaccard (``|A & B| / |A | B|``) in the *match* score and containment
(``|A & B| / min(|A|, |B|)``) in the *link* score; centroid and terms are the same in both. A pair is
*linked* when its link score reaches ``threshold``: one cluster is (mostly) drawn from the other.

**Assignment.** Among linked pairs, a one-to-one assignment (Hungarian method) maximises the sum of
``match + link``, so when one old cluster splits, the child holding more of it (higher Jaccard) keeps the
id. Each assigned pair is ``kept``. Because the assignment is optimal, no linked pair is left with both sides
unassigned, so every other cluster falls in exactly one case:

- an unassigned new cluster linked to an old one is ``split`` from its best-linked old cluster (which some
  other new cluster kept), with a fresh id;
- an unassigned new cluster linked to none is ``born`` with a fresh id;
- an unassigned old cluster linked to a new one is ``merged`` into its best-linked new cluster (which kept
  another id); its own id is retired;
- an unassigned old cluster linked to none is ``retired``.

Fresh ids go to split and born clusters together in order of size (largest first), then local id. Inputs are
put in id order first, so the result does not depend on the order of the sequences given; exact ties go to
the lower id. A first fit (no old clusters) gives every cluster a fresh id: ``next_id``, ``next_id + 1``...
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["Cluster", "LineageEvent", "Matching", "Weights", "match", "similarity_matrix"]

EventKind = Literal["kept", "born", "merged", "split", "retired"]
Overlap = Literal["jaccard", "containment"]

#: Default link threshold on the mixed score; calibrate per embedding model (see the module docstring).
THRESHOLD = 0.5


@dataclass(frozen=True, eq=False)
class Cluster:
    """One cluster of a fit: a topic, need theme or micro-segment.

    ``id`` is the cluster's id in its own run: the stable id for an old cluster, the fit's local label for a
    new one (non-negative; leave an outlier pseudo-topic such as BERTopic's -1 out). ``centroid`` is a vector
    (normalised here, so any non-zero length will do). ``terms`` are the top terms, most important first
    (may be empty). ``members`` are the ids of the members (posts, customers: any hashable), when known.
    ``size`` orders fresh ids (largest first); when 0, the number of members is used.
    """

    id: int
    centroid: np.ndarray
    terms: tuple[str, ...] = ()
    members: frozenset[Hashable] | None = None
    size: int = 0


@dataclass(frozen=True)
class LineageEvent:
    """What became of one stable id in a refit.

    - ``kept``: ``topic_id`` is an old id carried by a new cluster; ``related`` is empty.
    - ``born``: ``topic_id`` is a fresh id for a new cluster linked to no old one; ``related`` is empty.
    - ``split``: ``topic_id`` is a fresh id for a new cluster drawn from an old one that another new cluster
      kept; ``related`` is ``(parent id,)``.
    - ``merged``: ``topic_id`` is an old id that no new cluster kept but whose content went into a new cluster
      that kept another id; ``related`` is ``(surviving id,)``. The old id is retired (never used again).
    - ``retired``: ``topic_id`` is an old id linked to no new cluster; ``related`` is empty.

    ``similarity`` is the link score behind the event (for ``born`` and ``retired``: the best link score to
    any cluster of the other run, below the threshold, or 0.0 when that run has none). ``topic_id`` names a
    topic's or a segment's stable id alike. Each old id and each id of a new cluster has exactly one event.
    """

    event: EventKind
    topic_id: int
    related: tuple[int, ...] = ()
    similarity: float = 0.0


@dataclass(frozen=True)
class Matching:
    """The result of :func:`match`.

    ``ids`` maps each new cluster's local id to its stable id (in local id order); ``events`` are ordered by
    ``topic_id``; ``next_id`` is the first id never handed out (store it and pass it to the next refit).
    """

    ids: dict[int, int]
    events: tuple[LineageEvent, ...]
    next_id: int


@dataclass(frozen=True)
class Weights:
    """Relative weights of the three signals (non-negative, renormalised over those a pair has).

    Members weigh most by default: shared members are direct evidence, while the centroids of neighbouring
    clusters can be nearly equal.
    """

    centroid: float = 1.0
    terms: float = 1.0
    members: float = 2.0

    def __post_init__(self) -> None:
        values = (self.centroid, self.terms, self.members)
        if min(values) < 0 or not any(values):
            raise ValueError(f"Weights: expected non-negative weights, not all 0, got {values}")


def similarity_matrix(
    old: Sequence[Cluster],
    new: Sequence[Cluster],
    *,
    weights: Weights = Weights(),
    overlap: Overlap = "jaccard",
) -> np.ndarray:
    """The mixed similarity of every (old, new) pair, shape ``(len(old), len(new))``, rows and columns in
    the order given; ``overlap`` picks the member overlap (``"jaccard"``: match score, ``"containment"``:
    link score)."""
    return _Signals.of(old, new).mix(weights, overlap)


def match(
    old: Sequence[Cluster],
    new: Sequence[Cluster],
    *,
    next_id: int,
    threshold: float = THRESHOLD,
    weights: Weights = Weights(),
) -> Matching:
    """Stable ids for the ``new`` clusters of a refit, and the lineage events, given the ``old`` clusters.

    ``next_id`` is the first id never handed out before (greater than every old id). See the module
    docstring for the rules. Raises ``ValueError`` on duplicate or negative ids, mismatched centroid
    dimensions, a zero centroid, a ``next_id`` not above the old ids, or a threshold outside (0, 1].
    """
    old_sorted = _canonical(old, "old")
    new_sorted = _canonical(new, "new")
    if old_sorted and next_id <= old_sorted[-1].id:
        raise ValueError(
            f"match: next_id={next_id} must exceed every old id (max {old_sorted[-1].id}); pass the next_id "
            "stored with the previous Matching so that no id is ever reused"
        )
    if not 0 < threshold <= 1:
        raise ValueError(f"match: threshold must be in (0, 1], got {threshold}")
    signals = _Signals.of(old_sorted, new_sorted)
    link = signals.mix(weights, "containment")
    linked = link >= threshold
    score = np.where(linked, signals.mix(weights, "jaccard") + link, 0.0)
    pairs = _assign(score, linked)

    ids: dict[int, int] = {}
    events: list[LineageEvent] = []
    kept_old = {o for o, _ in pairs}
    kept_new = {n for _, n in pairs}
    for o, n in pairs:
        ids[new_sorted[n].id] = old_sorted[o].id
        events.append(LineageEvent("kept", old_sorted[o].id, (), float(link[o, n])))
    fresh = sorted(
        (n for n in range(len(new_sorted)) if n not in kept_new),
        key=lambda n: (-_size(new_sorted[n]), new_sorted[n].id),
    )
    for n in fresh:
        ids[new_sorted[n].id] = next_id
        parent = _best(link[:, n], linked[:, n], kept_old)
        if parent is None:
            events.append(LineageEvent("born", next_id, (), _max(link[:, n])))
        else:
            parent_id = old_sorted[parent].id
            events.append(LineageEvent("split", next_id, (parent_id,), float(link[parent, n])))
        next_id += 1
    for o in range(len(old_sorted)):
        if o in kept_old:
            continue
        heir = _best(link[o, :], linked[o, :], kept_new)
        if heir is None:
            events.append(LineageEvent("retired", old_sorted[o].id, (), _max(link[o, :])))
        else:
            survivor = ids[new_sorted[heir].id]
            events.append(LineageEvent("merged", old_sorted[o].id, (survivor,), float(link[o, heir])))
    events.sort(key=lambda e: e.topic_id)
    return Matching(ids=dict(sorted(ids.items())), events=tuple(events), next_id=next_id)


def _canonical(clusters: Sequence[Cluster], side: str) -> list[Cluster]:
    """``clusters`` in id order, checked: ids non-negative and unique."""
    ordered = sorted(clusters, key=lambda c: c.id)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.id == after.id:
            raise ValueError(f"match: duplicate {side} cluster id {after.id}")
    if ordered and ordered[0].id < 0:
        raise ValueError(
            f"match: {side} cluster id {ordered[0].id} is negative; leave the outlier pseudo-cluster out"
        )
    return ordered


def _assign(score: np.ndarray, linked: np.ndarray) -> list[tuple[int, int]]:
    """The one-to-one (old, new) pairs maximising the summed ``score``, linked pairs only, by old index."""
    if score.size == 0 or not linked.any():
        return []
    from scipy.optimize import linear_sum_assignment  # 0.3 s to import: only when ids are matched

    rows, cols = linear_sum_assignment(score, maximize=True)
    return [(int(o), int(n)) for o, n in zip(rows, cols, strict=True) if linked[o, n]]


def _best(link: np.ndarray, linked: np.ndarray, among: set[int]) -> int | None:
    """The index in ``among`` with the highest link score among linked ones (lowest index on ties)."""
    candidates = [i for i in sorted(among) if linked[i]]
    if not candidates:
        return None
    return max(candidates, key=lambda i: (link[i], -i))


def _max(values: np.ndarray) -> float:
    return float(values.max()) if values.size else 0.0


def _size(cluster: Cluster) -> int:
    if cluster.size or cluster.members is None:
        return cluster.size
    return len(cluster.members)


@dataclass(frozen=True)
class _Signals:
    """The per-pair signals, each ``(n_old, n_new)``; a ``has_*`` mask says where a signal exists."""

    centroid: np.ndarray
    terms: np.ndarray
    has_terms: np.ndarray
    jaccard: np.ndarray
    containment: np.ndarray
    has_members: np.ndarray

    @classmethod
    def of(cls, old: Sequence[Cluster], new: Sequence[Cluster]) -> _Signals:
        terms, has_terms = _term_similarity(old, new)
        jaccard, containment, has_members = _member_overlap(old, new)
        return cls(_centroid_cosine(old, new), terms, has_terms, jaccard, containment, has_members)

    def mix(self, weights: Weights, overlap: Overlap) -> np.ndarray:
        """The weighted mean of the available signals of each pair (0 where none has weight)."""
        members = self.jaccard if overlap == "jaccard" else self.containment
        total = weights.centroid * self.centroid
        total = total + weights.terms * np.where(self.has_terms, self.terms, 0.0)
        total = total + weights.members * np.where(self.has_members, members, 0.0)
        norm = weights.centroid + weights.terms * self.has_terms + weights.members * self.has_members
        return np.divide(total, norm, out=np.zeros_like(total), where=norm > 0)


def _centroid_cosine(old: Sequence[Cluster], new: Sequence[Cluster]) -> np.ndarray:
    """Cosine of every pair of centroids, clipped to [0, 1]."""
    a, b = _unit_rows(old, "old"), _unit_rows(new, "new")
    if not old or not new:
        return np.zeros((len(old), len(new)))
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"match: old centroids have {a.shape[1]} dimensions, new ones {b.shape[1]}")
    return np.clip(a @ b.T, 0.0, 1.0)


def _unit_rows(clusters: Sequence[Cluster], side: str) -> np.ndarray:
    """The centroids as unit rows; raises on differing dimensions or a zero or non-finite centroid."""
    if not clusters:
        return np.zeros((0, 0))
    rows = [np.asarray(c.centroid, dtype=np.float64).ravel() for c in clusters]
    if len({row.shape[0] for row in rows}) > 1:
        raise ValueError(f"match: {side} centroids differ in dimension")
    matrix = np.vstack(rows)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    bad = [c.id for c, n in zip(clusters, norms[:, 0], strict=True) if not (np.isfinite(n) and n > 0)]
    if bad:
        raise ValueError(f"match: {side} cluster(s) {bad} have a zero centroid or non-finite values")
    return matrix / norms


def _term_weights(terms: tuple[str, ...]) -> dict[str, float]:
    """Rank weights of the distinct terms, ``1 / log2(rank + 2)`` (first occurrence wins)."""
    weights: dict[str, float] = {}
    for rank, term in enumerate(terms):
        weights.setdefault(term.casefold(), 1.0 / math.log2(rank + 2))
    return weights


def _term_similarity(old: Sequence[Cluster], new: Sequence[Cluster]) -> tuple[np.ndarray, np.ndarray]:
    """Rank-weighted Jaccard (sum of minima over sum of maxima) of every pair of term lists, and the mask of
    pairs where both list terms."""
    old_w = [_term_weights(c.terms) for c in old]
    new_w = [_term_weights(c.terms) for c in new]
    index: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for o, weights in enumerate(old_w):
        for term, weight in weights.items():
            index[term].append((o, weight))
    minima = np.zeros((len(old), len(new)))
    for n, weights in enumerate(new_w):
        for term, weight in weights.items():
            for o, other in index.get(term, ()):
                minima[o, n] += min(weight, other)
    old_sum = np.array([sum(w.values()) for w in old_w]).reshape(-1, 1)
    new_sum = np.array([sum(w.values()) for w in new_w]).reshape(1, -1)
    maxima = old_sum + new_sum - minima
    has = (old_sum > 0) & (new_sum > 0)
    return np.divide(minima, maxima, out=np.zeros_like(minima), where=has), has


def _member_overlap(
    old: Sequence[Cluster], new: Sequence[Cluster]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jaccard and containment of every pair of member sets, counted over the ids both runs clustered, and
    the mask of pairs where both sets are known and non-empty over those ids."""
    shape = (len(old), len(new))
    shared = _all_members(old) & _all_members(new)
    codes = {member: code for code, member in enumerate(shared)}
    old_incidence = _incidence(old, codes)
    new_incidence = _incidence(new, codes)
    common = (old_incidence @ new_incidence.T).toarray().astype(np.float64).reshape(shape)
    old_size = np.asarray(old_incidence.sum(axis=1), dtype=np.float64).reshape(-1, 1)
    new_size = np.asarray(new_incidence.sum(axis=1), dtype=np.float64).reshape(1, -1)
    has = (old_size > 0) & (new_size > 0)
    union = old_size + new_size - common
    smaller = np.minimum(old_size, new_size)
    jaccard = np.divide(common, union, out=np.zeros(shape), where=has)
    containment = np.divide(common, smaller, out=np.zeros(shape), where=has)
    return jaccard, containment, has


def _all_members(clusters: Sequence[Cluster]) -> set[Hashable]:
    return set().union(*(c.members for c in clusters if c.members is not None))


def _incidence(clusters: Sequence[Cluster], codes: dict[Hashable, int]) -> sparse.csr_matrix:
    """The 0/1 matrix (cluster x coded member) of the members that have a code."""
    from scipy import sparse

    cols: list[int] = []
    counts: list[int] = []
    for cluster in clusters:
        found = [code for code in map(codes.get, cluster.members or ()) if code is not None]
        cols.extend(found)
        counts.append(len(found))
    rows = np.repeat(np.arange(len(clusters)), counts)
    data = np.ones(len(cols), dtype=np.int64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(clusters), len(codes)))
