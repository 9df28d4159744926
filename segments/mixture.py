"""A finite mixture over mixed data (a latent class / latent profile model), fitted by EM.

Each segment ``k`` has a share ``pi_k`` and, per column family of a :class:`~segments.encode.Design`:

- a normal per standardised number (diagonal covariance; variance at least ``variance_floor``);
- a category distribution per categorical column (Dirichlet smoothing ``alpha``);
- a multinomial per social count block (smoothing ``beta``): the posts of a row are draws from its segment's
  topic (need, intent, brand, sentiment) distribution.

A missing value adds nothing to a row's likelihood (NaN numbers, a missing category, a row without posts), so
rows without social data are placed by their CRM fields alone. Columns independent of the segments are fitted
as well by one component as by several, so they do not create segments by themselves.

The model's parameters are counted for BIC: ``(K - 1) + K * (2 G + sum(levels - 1) + sum(keys - 1))``.
Starts are seeded (k-means++ on views of the design, then a short EM); the same seed gives the same fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segments.encode import Design, Span

__all__ = ["MixtureFit", "MixtureParams", "fit_mixture", "log_likelihoods", "responsibilities", "row_logliks"]

_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True)
class MixtureParams:
    """Fitted parameters of ``K`` segments: log shares ``(K,)``, means and variances ``(K, G)``, log
    category probabilities ``(K, sum of levels)`` and log count rates ``(K, sum of keys)``."""

    log_shares: np.ndarray
    means: np.ndarray
    variances: np.ndarray
    log_levels: np.ndarray
    log_rates: np.ndarray

    @property
    def k(self) -> int:
        """The number of segments."""
        return self.log_shares.shape[0]

    def centroids(self) -> np.ndarray:
        """One vector per segment in :attr:`Design.features` order: means, category probabilities and count
        rates (each row of probabilities sums to 1 within its column or block)."""
        return np.hstack([self.means, np.exp(self.log_levels), np.exp(self.log_rates)])

    def contrasts(self, design: Design) -> np.ndarray:
        """:meth:`centroids` minus their share-weighted mean, each column family scaled to unit length per
        segment: what sets each segment apart from its whole group. Features every segment shares (a plan mix
        that does not differ) cancel out, and the numbers, the categories and each social block weigh the
        same, so two segments compare by all of what distinguishes them (all zeros for a lone segment)."""
        centroids = self.centroids()
        contrasts = centroids - np.exp(self.log_shares) @ centroids
        width, levels = self.means.shape[1], self.log_levels.shape[1]
        families = [(0, width), (width, width + levels)]
        families += [(width + levels + s.start, width + levels + s.stop) for s in design.blocks]
        for start, stop in families:
            part = contrasts[:, start:stop]
            norms = np.linalg.norm(part, axis=1, keepdims=True)
            contrasts[:, start:stop] = np.divide(part, norms, out=np.zeros_like(part), where=norms > 1e-12)
        return contrasts


@dataclass(frozen=True)
class MixtureFit:
    """One EM fit: parameters, responsibilities ``(n, K)``, log-likelihood, parameters counted, iterations."""

    params: MixtureParams
    resp: np.ndarray
    loglik: float
    n_params: int
    iterations: int
    converged: bool

    def bic(self, n: int) -> float:
        """Bayesian information criterion (lower is better)."""
        return -2.0 * self.loglik + self.n_params * np.log(max(n, 2))

    def icl(self, n: int) -> float:
        """Integrated completed likelihood: BIC plus twice the entropy of the assignment (lower is better);
        favours well-separated segments over a closer fit of one segment's shape by several components."""
        resp = np.clip(self.resp, 1e-300, 1.0)
        return self.bic(n) - 2.0 * float(np.sum(self.resp * np.log(resp)))

    @property
    def labels(self) -> np.ndarray:
        """The most likely segment of each row."""
        return np.argmax(self.resp, axis=1)


def _span_log_normalise(matrix: np.ndarray, spans: tuple[Span, ...]) -> np.ndarray:
    """Row-wise log of ``matrix`` normalised to sum 1 within each span."""
    out = np.zeros_like(matrix)
    for span in spans:
        part = matrix[:, span.start : span.stop]
        out[:, span.start : span.stop] = np.log(part) - np.log(part.sum(axis=1, keepdims=True))
    return out


def m_step(
    design: Design, resp: np.ndarray, *, alpha: float, beta: float, variance_floor: float
) -> MixtureParams:
    """Maximum a-posteriori parameters given responsibilities ``resp`` ``(n, K)``."""
    weight = resp.sum(axis=0)
    log_shares = np.log((weight + 1e-3) / (weight.sum() + 1e-3 * resp.shape[1]))
    observed = ~np.isnan(design.gaussian)
    values = np.where(observed, design.gaussian, 0.0)
    # One pseudo-row of the standardised prior (mean 0, variance 1) keeps empty components defined.
    mass = resp.T @ observed + 1.0
    means = (resp.T @ values) / mass
    variances = (resp.T @ (values**2) + 1.0) / mass - means**2 + variance_floor
    log_levels = _span_log_normalise(resp.T @ design.onehot + alpha, design.categories)
    log_rates = _span_log_normalise(resp.T @ design.counts + beta, design.blocks)
    return MixtureParams(log_shares, means, variances, log_levels, log_rates)


def log_likelihoods(design: Design, params: MixtureParams) -> np.ndarray:
    """``log pi_k + log p(row | k)`` for every row and segment, ``(n, K)``."""
    observed = (~np.isnan(design.gaussian)).astype(np.float64)
    values = np.where(observed > 0, design.gaussian, 0.0)
    inverse = 1.0 / params.variances
    gaussian = -0.5 * (
        observed @ (np.log(params.variances) + _LOG_2PI).T
        + (values**2) @ inverse.T
        - 2.0 * values @ (params.means * inverse).T
        + observed @ (params.means**2 * inverse).T
    )
    return (
        params.log_shares
        + design.gaussian_weight * gaussian
        + design.onehot @ params.log_levels.T
        + design.counts @ params.log_rates.T
    )


def _logsumexp(values: np.ndarray) -> np.ndarray:
    """Row-wise ``log(sum(exp(values)))``, computed stably (scipy's version costs more than EM does here)."""
    top = values.max(axis=1)
    return top + np.log(np.exp(values - top[:, None]).sum(axis=1))


def row_logliks(design: Design, params: MixtureParams) -> np.ndarray:
    """The log-likelihood of each row under the whole mixture, ``(n,)``."""
    return _logsumexp(log_likelihoods(design, params))


def responsibilities(design: Design, params: MixtureParams) -> tuple[np.ndarray, float]:
    """Posterior segment probabilities ``(n, K)`` and the total log-likelihood."""
    joint = log_likelihoods(design, params)
    total = _logsumexp(joint)
    return np.exp(joint - total[:, None]), float(total.sum())


def n_params(design: Design, k: int) -> int:
    """Free parameters of a ``k``-segment model of ``design``."""
    per_segment = 2 * design.gaussian.shape[1]
    per_segment += sum(span.stop - span.start - 1 for span in design.categories)
    per_segment += sum(span.stop - span.start - 1 for span in design.blocks)
    return (k - 1) + k * per_segment


def embeddings(design: Design) -> list[np.ndarray]:
    """Numeric views of the design for k-means++ starts: one per column family present (numbers with missing
    as 0, one-hots, the square root of each block's count shares), each scaled to a total variance of about
    1, and all of them side by side."""
    parts = []
    if design.gaussian.shape[1]:
        parts.append(np.nan_to_num(design.gaussian) / design.gaussian.shape[1] ** 0.5)
    if design.onehot.shape[1]:
        parts.append(design.onehot / len(design.categories) ** 0.5)
    for span in design.blocks:
        block = design.counts[:, span.start : span.stop]
        totals = block.sum(axis=1, keepdims=True)
        parts.append(np.sqrt(np.divide(block, totals, out=np.zeros_like(block), where=totals > 0)))
    if not parts:
        return [np.zeros((design.n, 1))]
    return parts + [np.hstack(parts)] if len(parts) > 1 else parts


def kmeanspp_labels(view: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Rows labelled by their nearest of ``k`` centres chosen by k-means++ seeding (D^2 sampling)."""
    centres = [view[rng.integers(len(view))]]
    nearest = ((view - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = nearest.sum()
        pick = rng.choice(len(view), p=nearest / total) if total > 0 else rng.integers(len(view))
        centres.append(view[pick])
        nearest = np.minimum(nearest, ((view - view[pick]) ** 2).sum(axis=1))
    distances = ((view[:, None, :] - np.asarray(centres)[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(distances, axis=1)


def _em(design: Design, resp: np.ndarray, options: dict, max_iter: int, tol: float) -> tuple:
    """EM from ``resp`` until the relative gain is below ``tol`` or ``max_iter`` iterations:
    ``(resp, loglik, iterations, converged)``."""
    previous, iterations, converged, loglik = -np.inf, 0, False, -np.inf
    while iterations < max_iter and not converged:
        iterations += 1
        resp, loglik = responsibilities(design, m_step(design, resp, **options))
        converged = loglik - previous <= tol * abs(loglik)
        previous = loglik
    return resp, loglik, iterations, converged


def fit_mixture(
    design: Design,
    k: int,
    *,
    seed: int,
    max_iter: int = 300,
    tol: float = 1e-6,
    alpha: float = 0.5,
    beta: float = 0.1,
    variance_floor: float = 0.02,
    start: np.ndarray | None = None,
    short_iter: int = 10,
) -> MixtureFit:
    """One EM fit of ``k`` segments (or from ``start``: labels per row).

    Without ``start``, a "short EM" start (Biernacki et al. 2003): seeded k-means++ on each view of
    :func:`embeddings` with at least ``k`` distinct rows (so no one column family's noise decides the start;
    with no such view, consecutive rows), ``short_iter`` EM iterations from each, and the best continued.
    Stops when the log-likelihood gains less than ``tol`` (relative) or after ``max_iter`` iterations.
    """
    if k < 1 or k > design.n:
        raise ValueError(f"fit_mixture: k must be between 1 and the {design.n} rows, got {k}")
    options = {"alpha": alpha, "beta": beta, "variance_floor": variance_floor}
    if k == 1:
        starts = [np.ones((design.n, 1))]
    elif start is not None:
        starts = [np.eye(k)[start]]
    else:
        rng = np.random.default_rng(seed)
        views = [view for view in embeddings(design) if len(np.unique(view, axis=0)) >= k]
        views = views or [np.arange(design.n, dtype=np.float64)[:, None]]
        starts = [np.eye(k)[kmeanspp_labels(view, k, rng)] for view in views]
    if len(starts) > 1:
        runs = [_em(design, resp, options, short_iter, tol) for resp in starts]
        starts = [max(runs, key=lambda run: run[1])[0]]
    resp, loglik, iterations, converged = _em(design, starts[0], options, max_iter, tol)
    params = m_step(design, resp, **options)
    resp, loglik = responsibilities(design, params)
    return MixtureFit(params, resp, loglik, n_params(design, k), iterations, converged)
