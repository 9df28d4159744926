"""Segment discovery: the number of segments is chosen by the data, never typed.

The mixture model of :mod:`segments.mixture` is fitted for ``k = 1, 2, ...`` and each ``k`` is scored by its
**cross-validated log-likelihood**: the rows are split into :attr:`DiscoverySettings.folds` seeded folds, the
model is fitted without each fold and scores the fold's rows, so every row gets a held-out log-likelihood
under every ``k``. A model with too many segments fits noise and scores held-out rows worse, so the score
rises, then flattens or falls; the search stops after :attr:`DiscoverySettings.patience` values of ``k``
without a new best, or at :attr:`DiscoverySettings.max_k`. The chosen ``k`` is the smallest whose score is
within one standard error of the best (the paired standard error of the per-row differences: the
"one-standard-error rule"), so a segment is only added when the held-out data clearly ask for it.
Cross-validation needs no count of parameters, which BIC gets wrong for sparse topic counts (most of a
segment's topic probabilities are near zero, yet BIC charges each in full and so misses real segments among
authors with few posts); ``criterion="bic"`` or ``"icl"`` are available instead. (On the demo world, BIC
and cross-validation both find the planted number of customer segments in all four broad segments, ICL takes
3 for 4 where customers without posts overlap; among the audience, where 11 interests are planted beside
generic posters, BIC stops at 5 segments and cross-validation finds 12 to 16.)

Two checks then guard the choice, stepping down to the next smaller ``k`` until both pass:

- **size**: the smallest segment of the full fit has at least :meth:`DiscoverySettings.min_members` rows;
- **stability** (Lange et al. 2004): the model refitted on :attr:`DiscoverySettings.stability_runs` seeded
  subsamples labels every row, and the mean adjusted Rand index against the full fit reaches
  :attr:`DiscoverySettings.min_stability` (``k = 1`` is stable by definition).

Everything is seeded: the same data and settings give the same segments.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from segments.encode import Design
from segments.mixture import MixtureFit, fit_mixture, responsibilities, row_logliks

__all__ = ["CRITERIA", "Candidate", "Discovery", "DiscoverySettings", "best_fit", "discover", "stability"]

#: How the number of segments is scored: cross-validated log-likelihood, BIC or ICL.
CRITERIA = ("cv", "bic", "icl")


@dataclass(frozen=True)
class DiscoverySettings:
    """How many segments to try and how a ``k`` is chosen (see the module docstring)."""

    max_k: int = 16
    criterion: str = "cv"
    folds: int = 5
    patience: int = 2
    n_init: int = 3
    cv_init: int = 2
    seed: int = 0
    min_size: int = 10
    min_share: float = 0.02
    stability_runs: int = 3
    subsample: float = 0.8
    min_stability: float = 0.5

    def __post_init__(self) -> None:
        if min(self.max_k, self.n_init, self.cv_init, self.min_size, self.patience) < 1:
            raise ValueError("DiscoverySettings: max_k, n_init, cv_init, min_size and patience must be >= 1")
        if self.criterion not in CRITERIA:
            raise ValueError(f"DiscoverySettings.criterion must be one of {CRITERIA}, got {self.criterion!r}")
        if self.folds < 2 or self.stability_runs < 0:
            raise ValueError("DiscoverySettings: folds must be >= 2 and stability_runs >= 0")
        if not 0 < self.subsample < 1 or not 0 <= self.min_stability <= 1 or not 0 <= self.min_share < 1:
            raise ValueError("DiscoverySettings: subsample in (0, 1), min_stability and min_share in [0, 1)")

    def min_members(self, n: int) -> int:
        """The fewest rows a segment of ``n`` rows may have: ``min_size`` or ``min_share`` of ``n``."""
        return max(self.min_size, int(np.ceil(self.min_share * n)))


@dataclass(frozen=True)
class Candidate:
    """One ``k`` tried: its score (higher is better: held-out log-likelihood, or minus BIC / ICL), and,
    when its full fit was checked, the smallest segment and the stability."""

    k: int
    score: float
    smallest: int | None = None
    stability: float | None = None

    def as_dict(self) -> dict:
        """Plain data for ``segment_runs.summary``."""
        return {
            "k": self.k, "score": round(self.score, 2), "smallest": self.smallest,
            "stability": None if self.stability is None else round(self.stability, 3),
        }  # fmt: skip


@dataclass(frozen=True)
class Discovery:
    """The chosen segmentation: the full fit at the chosen ``k`` and every candidate tried."""

    fit: MixtureFit
    criterion: str
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def k(self) -> int:
        """The number of segments found."""
        return self.fit.params.k

    @property
    def labels(self) -> np.ndarray:
        """The segment (0 .. k-1) of each row."""
        return self.fit.labels

    @property
    def stability(self) -> float | None:
        """The chosen ``k``'s stability (None when not measured)."""
        return next((c.stability for c in self.candidates if c.k == self.k), None)


def best_fit(design: Design, k: int, *, seed: int, n_init: int) -> MixtureFit:
    """The highest-likelihood fit of ``k`` segments over ``n_init`` seeded starts (ties: the first)."""
    starts = n_init if k > 1 else 1
    fits = [fit_mixture(design, k, seed=seed * 1000 + k * 37 + start) for start in range(starts)]
    return max(fits, key=lambda fit: fit.loglik)


def heldout(design: Design, k: int, settings: DiscoverySettings) -> np.ndarray:
    """Each row's log-likelihood under a ``k``-segment model fitted without the row's fold."""
    out = np.zeros(design.n)
    folds = KFold(min(settings.folds, design.n), shuffle=True, random_state=settings.seed)
    for fold, (train, test) in enumerate(folds.split(np.arange(design.n))):
        fit = best_fit(design.take(train), k, seed=settings.seed + 17 * (fold + 1), n_init=settings.cv_init)
        out[test] = row_logliks(design.take(test), fit.params)
    return out


def stability(design: Design, fit: MixtureFit, settings: DiscoverySettings) -> float:
    """Mean adjusted Rand index between ``fit``'s labels and refits on seeded subsamples (see the module)."""
    k = fit.params.k
    if k == 1 or settings.stability_runs == 0:
        return 1.0
    rng = np.random.default_rng(settings.seed + 7919 * k)
    size = max(k, int(round(settings.subsample * design.n)))
    scores = []
    for run in range(settings.stability_runs):
        rows = np.sort(rng.choice(design.n, size=size, replace=False))
        refit = best_fit(design.take(rows), k, seed=settings.seed + 101 * (run + 1), n_init=settings.cv_init)
        labels = np.argmax(responsibilities(design, refit.params)[0], axis=1)
        scores.append(adjusted_rand_score(fit.labels, labels))
    return float(np.mean(scores))


def discover(design: Design, settings: DiscoverySettings = DiscoverySettings()) -> Discovery:
    """Choose the number of segments and fit them (see the module docstring).

    Runs with one BLAS/OpenMP thread: the matrices are small (one broad segment), and thread start-up and
    contention on a shared machine cost far more than they save. Raises ``ValueError`` without rows.
    """
    if design.n == 0:
        raise ValueError("discover: no rows to segment")
    with threadpool_limits(limits=1):
        return _discover(design, settings)


def _discover(design: Design, settings: DiscoverySettings) -> Discovery:
    ceiling = max(1, min(settings.max_k, design.n // settings.min_members(design.n)))
    scores, preferred = _scan(design, settings, ceiling)
    candidates = {k: Candidate(k, score) for k, score in scores.items()}
    fits: dict[int, MixtureFit] = {}
    for k in range(preferred, 0, -1):
        fits[k] = fit = best_fit(design, k, seed=settings.seed, n_init=settings.n_init)
        smallest = int(np.bincount(fit.labels, minlength=k).min())
        candidate = replace(candidates[k], smallest=smallest)
        if k > 1 and smallest < settings.min_members(design.n):
            candidates[k] = candidate
            continue
        candidates[k] = candidate = replace(candidate, stability=stability(design, fit, settings))
        if candidate.stability >= settings.min_stability:
            return Discovery(fit, settings.criterion, tuple(candidates[j] for j in sorted(candidates)))
    return Discovery(fits[1], settings.criterion, tuple(candidates[j] for j in sorted(candidates)))


def _scan(design: Design, settings: DiscoverySettings, ceiling: int) -> tuple[dict[int, float], int]:
    """The score of each ``k`` tried (higher is better) and the ``k`` the criterion prefers (1, unscored, when
    the rows allow no more than one segment)."""
    if ceiling == 1:
        return {1: 0.0}, 1
    scores: dict[int, float] = {}
    rows: dict[int, np.ndarray] = {}
    best, since_best = 1, 0
    for k in range(1, ceiling + 1):
        if settings.criterion == "cv":
            rows[k] = heldout(design, k, settings)
            scores[k] = float(rows[k].sum())
        else:
            fit = best_fit(design, k, seed=settings.seed, n_init=settings.n_init)
            scores[k] = -(fit.bic(design.n) if settings.criterion == "bic" else fit.icl(design.n))
        if scores[k] > scores[best]:
            best, since_best = k, 0
        else:
            since_best += 1
            if since_best >= settings.patience:
                break
    if settings.criterion != "cv":
        return scores, best
    return scores, _one_standard_error(rows, best)


def _one_standard_error(rows: dict[int, np.ndarray], best: int) -> int:
    """The smallest ``k`` whose held-out log-likelihood is within one paired standard error of the best."""
    for k in sorted(rows):
        gap = rows[best] - rows[k]
        if gap.sum() <= np.sqrt(len(gap)) * gap.std(ddof=1 if len(gap) > 1 else 0):
            return k
    return best
