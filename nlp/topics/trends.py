"""Emerging series: daily counts (topics, need themes, terms) whose volume grows against their own baseline.

**What is tested.** For a day ``d`` a series is judged on its *window* (the ``window_days`` days up to and
including ``d``) against its *baseline* (the ``baseline_days`` days before the window). Counts are read as a
share of ``totals`` (all posts per day), so a day that is busy for everyone is not a trend: a series that
doubles while everything doubles keeps its share and is not flagged.

**Count model** (``TRENDS_VERSION``). Daily counts are negative binomial (NB2): ``y_t`` has mean ``p * N_t``
and variance ``mu + phi * mu^2``, with ``p`` the series' share of all posts and ``N_t`` the day's total.

- *Expected*: ``window posts * (baseline count + prior_count) / baseline posts``; a series never seen gets
  ``prior_count`` pseudo-events (its expectation is small but not zero).
- *Test*: each period's total is read as a scaled Gamma with the shape its NB2 mean and variance give under
  the null (share pooled over both periods), so ``(window count - 1/2) / expected`` is F-distributed with
  ``2 a_window`` and ``2 a_baseline`` degrees of freedom. This carries the baseline's own noise (a series seen
  2 times in 4 weeks is not tested as if its rate were known) and, at ``phi = 0``, is the F form of the
  conditional test of two Poisson rates. A negative binomial matched to the window's predictive moments
  was 1.3-2x too eager at ``phi`` 0.3-0.6 in simulation; the F form stays at or under the nominal level.
- *Over-dispersion*: ``phi`` is the method-of-moments estimate on the ``dispersion_days`` before the window,
  shrunk by precision towards a prior centred on the median estimate of the day's well-measured series
  (empirical Bayes; ``dispersion_prior`` when fewer than 5): a sparse series says little about its
  ``phi`` and takes the family's; a big series gets its own. Even 56 days pin ``phi`` down poorly (relative
  error 30-50%) and an underestimate makes tail p-values far too small, so the p-value is averaged over the
  posterior of ``phi`` (3-point Gauss-Hermite). Poisson (``phi = 0``) is too eager on social data, where a
  series' daily share wanders.

Negative binomial rather than beta-binomial on shares: shares here are small (a topic or term is a few percent
of posts at most), where the two coincide, and NB2's ``phi`` is per day and per unit of the series' own mean,
which the baseline residuals estimate directly. Days are treated as independent given ``p``: a burst lasting
several days is under-counted by the variance, which ``min_ratio`` guards against (a big series moves a little
but significantly all the time).

**Flagging and multiple tests.** A series is *tested* on a day when it has at least ``min_baseline_days``
baseline days with posts and its window plus baseline hold at least ``min_count`` events (a series below that
could never be flagged; the sum of both periods is, for a rate comparison, nearly independent of the
window-versus-baseline split under the null, so this filter does not bias the test). p-values of the series
tested on the same day get Benjamini-Hochberg q-values; a series is flagged when ``q <= alpha``, its window
count is at least ``min_count`` and its ratio (window count / expected) at least ``min_ratio``. Under the
global null BH at ``alpha`` makes a day with any flag an event of probability at most about ``alpha``, so a
rolling :func:`scan` over ``D`` days raises on average at most about ``alpha * D`` false-alarm days (fewer,
as ``min_ratio`` also has to hold).

**Terms.** :func:`count_terms` turns texts into daily counts of 1-2 gram terms to scan for emerging terms, and
:func:`drivers` explains a flagged series by the terms of its posts that grew most.

Pure numpy/scipy (scikit-learn only for its English stop-word list, imported by :func:`count_terms`); no
database access.
"""

from __future__ import annotations

import html
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "SOCIAL_STOP_WORDS",
    "TRENDS_VERSION",
    "Driver",
    "Emerging",
    "TrendSettings",
    "count_terms",
    "detect",
    "drivers",
    "periods",
    "scan",
]

#: The version of the count model, to store with every derived row.
TRENDS_VERSION = "trends.nb.v1"


@dataclass(frozen=True)
class TrendSettings:
    """How emerging series are detected (see the module docstring for the model)."""

    window_days: int = 7  # days tested, up to and including the day evaluated
    baseline_days: int = 28  # days before the window that the window is compared with
    dispersion_days: int = 56  # days before the window that phi is estimated on (the baseline at least)
    min_baseline_days: int = 14  # fewer baseline days with posts (start of the data): the series is skipped
    min_count: int = 8  # minimum events in the window to be flagged (about one a day)
    min_ratio: float = 2.0  # minimum window count / expected
    alpha: float = 0.01  # false discovery rate (Benjamini-Hochberg) across the series tested on one day
    prior_count: float = 0.5  # pseudo-events added to the baseline count (a never-seen series)
    dispersion_prior: float = 0.1  # NB2 phi prior centre when not pooled (daily CV of the share ~0.3)
    pool_dispersion: bool = True  # centre the prior on the day's well-measured series (empirical Bayes)
    dispersion_prior_sd: float = 0.5  # prior sd: wide, so that a big series' own estimate wins

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.baseline_days < 1:
            raise ValueError("TrendSettings: window_days and baseline_days must be >= 1")
        if self.dispersion_days < 2:
            raise ValueError("TrendSettings: dispersion_days must be >= 2 (phi is a variance)")
        if not 1 <= self.min_baseline_days <= self.baseline_days:
            raise ValueError("TrendSettings: min_baseline_days must be between 1 and baseline_days")
        if not 0 < self.alpha < 1:
            raise ValueError(f"TrendSettings: alpha is a false discovery rate in (0, 1), got {self.alpha}")
        if self.min_count < 0 or self.min_ratio < 0:
            raise ValueError("TrendSettings: min_count and min_ratio must be >= 0")
        if self.prior_count <= 0 or self.dispersion_prior < 0 or self.dispersion_prior_sd <= 0:
            raise ValueError(
                "TrendSettings: prior_count and dispersion_prior_sd must be > 0, dispersion_prior >= 0"
            )


@dataclass(frozen=True)
class Emerging:
    """One series flagged on one day."""

    key: Hashable  # the series key, e.g. ("topic", 12) or ("term", "satellite texting")
    day: int  # index of the day evaluated (the last day of the window)
    window_count: int  # events in the window
    expected: float  # events expected in the window from the baseline share and the window's totals
    ratio: float  # window_count / expected
    p_value: float
    q_value: float  # Benjamini-Hochberg, across the series tested that day
    baseline_count: int  # events in the baseline
    baseline_rate: float  # baseline share of all posts (events / posts)
    window_rate: float  # window share of all posts
    dispersion: float  # the NB2 phi (posterior mean: the series' estimate shrunk to the prior)
    flagged: bool = True  # False only in detect(..., all_tested=True) for series that did not pass


@dataclass(frozen=True)
class Driver:
    """One term that explains a flagged series: it grew in the window against its own baseline."""

    term: str
    window_count: int
    expected: float
    excess: float  # window_count - expected: the extra posts this term accounts for
    ratio: float


def periods(day: int, settings: TrendSettings = TrendSettings()) -> tuple[range, range]:
    """The ``(baseline, window)`` day ranges tested on ``day`` (the baseline is cut at day 0)."""
    start = day - settings.window_days + 1
    return range(max(0, start - settings.baseline_days), max(0, start)), range(max(0, start), day + 1)


class _Prefix:
    """Prefix sums of a (series x days) count matrix and of the totals, for O(series) period sums."""

    def __init__(self, counts: np.ndarray, totals: np.ndarray) -> None:
        def cum(x: np.ndarray) -> np.ndarray:
            pad = np.zeros(x.shape[:-1] + (1,), dtype=np.float64)
            return np.concatenate([pad, np.cumsum(x, axis=-1, dtype=np.float64)], axis=-1)

        self.y, self.y2, self.yn = cum(counts), cum(counts**2), cum(counts * totals)
        self.n = [cum(totals**k) for k in range(5)]  # n[k]: sums of totals^k (n[1]: posts)
        self.days = cum((totals > 0).astype(np.float64))


def _sum(prefix: np.ndarray, period: range) -> np.ndarray:
    """The sum of ``prefix``'s underlying values over the days of ``period``."""
    return prefix[..., period.stop] - prefix[..., period.start]


def _bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of ``p`` (same order)."""
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _dispersion(pre: _Prefix, base: range, s: TrendSettings) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and sd of each series' NB2 ``phi``: baseline method of moments shrunk to a prior.

    The moment estimate is ``sum((y - mu)^2 - mu) / sum(mu^2)`` with ``mu_t = p_hat * N_t`` (times
    ``D / (D - 1)`` for the estimated mean); its sampling variance is about ``sum((2 + 6 phi) sigma^4 + mu) /
    (sum mu^2)^2`` (``sigma^2 = mu + phi mu^2``), taken at the larger of the estimate and the prior so that a
    noisy low estimate does not look precise. The prior is centred on the median estimate of the series
    whose own estimate is at least as precise as the prior (at least ``_POOL_MIN`` of them; otherwise, or
    with ``pool_dispersion`` off, on ``dispersion_prior``).
    """
    c_b, n_b, days = _sum(pre.y, base), _sum(pre.n[1], base), _sum(pre.days, base)
    p_hat = c_b / n_b if n_b > 0 else np.zeros_like(c_b)
    m2, m3, m4 = (p_hat**k * _sum(pre.n[k], base) for k in (2, 3, 4))  # sums of mu^k
    resid = _sum(pre.y2, base) - 2 * p_hat * _sum(pre.yn, base) + m2 - c_b * (days - 1) / max(days, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi_hat = np.where(m2 > 0, np.clip(resid / m2 * days / max(days - 1, 1), 0.0, 10.0), 0.0)
        ref = np.maximum(phi_hat, s.dispersion_prior)
        sigma4 = m2 + 2 * ref * m3 + ref**2 * m4
        precision = np.where(m2 > 0, m2**2 / ((2 + 6 * ref) * sigma4 + c_b), 0.0)
    prior_precision = 1.0 / s.dispersion_prior_sd**2
    informative = phi_hat[precision >= prior_precision]
    pooled = s.pool_dispersion and informative.size >= _POOL_MIN
    centre = float(np.median(informative)) if pooled else s.dispersion_prior
    total = precision + prior_precision
    return (precision * phi_hat + prior_precision * centre) / total, 1.0 / np.sqrt(total)


#: Fewest informative series for a pooled dispersion prior.
_POOL_MIN = 5

#: Three-point Gauss-Hermite rule: the p-value is averaged over phi's posterior (mean + k * sd).
_NODES = ((-np.sqrt(3.0), 1 / 6), (0.0, 2 / 3), (np.sqrt(3.0), 1 / 6))


def _p_values(pre: _Prefix, base: range, window: range, idx: np.ndarray, s: TrendSettings) -> dict:
    """Expected window counts of all series and the upper-tail p-values of the series in ``idx``.

    Each period's total is taken as a scaled Gamma with the shape its NB2 mean and variance give (under the
    null, with the share pooled over both periods), so their ratio is F-distributed: ``R = (window - 1/2) /
    expected ~ F(2 a_window, 2 a_baseline)``. With ``phi = 0`` this is the classic F form of the conditional
    test of two Poisson rates. (A negative binomial matched to the window's predictive moments was 1.3-2x too
    eager at ``phi`` 0.3-0.6 in simulation; the F form stays at or under the nominal level.)
    """
    c_b, c_w = _sum(pre.y, base), _sum(pre.y, window)
    n_b, n_w = max(_sum(pre.n[1], base), 1.0), _sum(pre.n[1], window)
    n2_b, n2_w = _sum(pre.n[2], base), _sum(pre.n[2], window)
    history = range(max(0, base.stop - max(s.dispersion_days, s.baseline_days)), base.stop)
    phi, phi_sd = _dispersion(pre, history, s)
    expected = n_w * (c_b + s.prior_count) / n_b
    p, tail = np.ones(c_w.shape), np.zeros(idx.size)
    pooled = (c_b[idx] + c_w[idx] + s.prior_count) / (n_b + n_w)
    mu_b, mu_w = pooled * n_b, pooled * n_w
    ratio = np.maximum(c_w[idx] - 0.5, 0.0) / expected[idx]
    from scipy import special  # 0.3 s to import: only when a series is tested

    for k, weight in _NODES:
        f = np.maximum(phi[idx] + k * phi_sd[idx], 0.0)
        a_b = mu_b**2 / (mu_b + f * pooled**2 * n2_b)
        a_w = mu_w**2 / (mu_w + f * pooled**2 * n2_w)
        tail += weight * special.fdtrc(2 * a_w, 2 * a_b, ratio)  # F survival function
    p[idx] = tail
    return {"c_w": c_w, "c_b": c_b, "expected": expected, "p": p, "phi": phi, "n_w": n_w, "n_b": n_b}


def _evaluate(pre: _Prefix, day: int, s: TrendSettings) -> dict[str, np.ndarray]:
    """Window statistics, p- and q-values and the flag of every series on ``day`` (vectorised)."""
    base, window = periods(day, s)
    c_all = _sum(pre.y, range(base.start, window.stop))
    enough = (
        len(window) == s.window_days
        and _sum(pre.days, base) >= s.min_baseline_days
        and _sum(pre.n[1], window) > 0
    )
    tested = (c_all >= max(s.min_count, 1)) if enough else np.zeros(c_all.shape, dtype=bool)
    r = _p_values(pre, base, window, np.flatnonzero(tested), s)
    r["q"] = np.ones(c_all.shape)
    r["q"][tested] = _bh(r["p"][tested])
    r["ratio"] = np.where(r["expected"] > 0, r["c_w"] / np.maximum(r["expected"], 1e-300), np.inf)
    r["tested"] = tested
    r["flagged"] = tested & (r["q"] <= s.alpha) & (r["c_w"] >= s.min_count) & (r["ratio"] >= s.min_ratio)
    r["share_b"] = r["c_b"] / r["n_b"]
    r["share_w"] = r["c_w"] / max(r["n_w"], 1.0)
    return r


def _matrix(series: Mapping[Hashable, np.ndarray], totals: np.ndarray) -> tuple[list, np.ndarray, np.ndarray]:
    """Keys, the (series x days) float matrix and the totals, checked for shape and sign."""
    totals = np.asarray(totals, dtype=np.float64)
    if totals.ndim != 1:
        raise ValueError(f"totals must be one count per day (1 dimension), got shape {totals.shape}")
    keys = list(series)
    counts = np.zeros((len(keys), totals.size))
    for i, key in enumerate(keys):
        row = np.asarray(series[key], dtype=np.float64)
        if row.shape != totals.shape:
            raise ValueError(f"series {key!r} has shape {row.shape}; every series needs {totals.shape}")
        counts[i] = row
    if (counts < 0).any() or (totals < 0).any():
        raise ValueError("daily counts and totals must be >= 0")
    return keys, counts, totals


def detect(
    series: Mapping[Hashable, np.ndarray],
    totals: np.ndarray,
    day: int,
    settings: TrendSettings = TrendSettings(),
    *,
    all_tested: bool = False,
) -> list[Emerging]:
    """The series emerging on ``day``, most significant first (then by ratio).

    ``series`` maps any key to daily counts (one value per day, as long as ``totals``, the posts of each day);
    ``day`` indexes the last day of the window. Series with too little history that day are skipped (see the
    module docstring for the model, the filter and the multiple-test control). With ``all_tested`` every
    series tested that day is returned, each with its ``flagged`` verdict (a watch list, or a calibration).
    """
    keys, counts, totals = _matrix(series, totals)
    if not 0 <= day < totals.size:
        raise ValueError(f"day {day} is outside the {totals.size} days of totals")
    r = _evaluate(_Prefix(counts, totals), day, settings)
    found = [
        Emerging(
            key=keys[i],
            day=day,
            window_count=int(r["c_w"][i]),
            expected=float(r["expected"][i]),
            ratio=float(r["ratio"][i]),
            p_value=float(r["p"][i]),
            q_value=float(r["q"][i]),
            baseline_count=int(r["c_b"][i]),
            baseline_rate=float(r["share_b"][i]),
            window_rate=float(r["share_w"][i]),
            dispersion=float(r["phi"][i]),
            flagged=bool(r["flagged"][i]),
        )
        for i in np.flatnonzero(r["tested"] if all_tested else r["flagged"])
    ]
    return sorted(found, key=lambda e: (e.p_value, -e.ratio))


def scan(
    series: Mapping[Hashable, np.ndarray],
    totals: np.ndarray,
    settings: TrendSettings = TrendSettings(),
    start_day: int | None = None,
    end_day: int | None = None,
) -> dict[Hashable, int]:
    """The first day each series is flagged by a rolling :func:`detect` over ``start_day .. end_day``.

    Defaults: from the first day with ``min_baseline_days`` of baseline to the last day of ``totals``
    (both inclusive). Series never flagged are absent.
    """
    keys, counts, totals = _matrix(series, totals)
    first = settings.window_days + settings.min_baseline_days - 1
    start = first if start_day is None else max(0, start_day)
    end = totals.size - 1 if end_day is None else min(end_day, totals.size - 1)
    pre, found = _Prefix(counts, totals), {}
    for day in range(start, end + 1):
        for i in np.flatnonzero(_evaluate(pre, day, settings)["flagged"]):
            found.setdefault(keys[i], day)
    return found


def drivers(
    term_series: Mapping[str, np.ndarray],
    totals: np.ndarray,
    day: int,
    settings: TrendSettings = TrendSettings(),
    *,
    top: int = 10,
    min_count: int = 3,
) -> list[Driver]:
    """The terms that drive a flagged series on ``day``: largest excess over their baseline share first.

    ``term_series`` are the daily term counts of the flagged series' posts (e.g. :func:`count_terms` over a
    topic's posts). With ``totals`` = all posts per day (as given to :func:`detect`) the drivers are what the
    series' extra posts talk about; with ``totals`` = the series' own daily counts they are what changed
    inside it (a term whose share of the series rose). Terms with fewer than ``min_count`` window posts or no
    excess are left out.
    """
    keys, counts, totals = _matrix(term_series, totals)
    if not keys:
        return []
    r = _evaluate(_Prefix(counts, totals), day, settings)
    excess = r["c_w"] - r["expected"]
    keep = np.flatnonzero((r["c_w"] >= min_count) & (excess > 0))
    ranked = sorted(keep, key=lambda i: (-excess[i], -r["ratio"][i], str(keys[i])))[:top]
    return [
        Driver(
            term=keys[i],
            window_count=int(r["c_w"][i]),
            expected=float(r["expected"][i]),
            excess=float(excess[i]),
            ratio=float(r["ratio"][i]),
        )
        for i in ranked
    ]


# --- terms -----------------------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")
_TOKEN = re.compile(r"#?[^\W_]+(?:['’][^\W_]+)*|[^\w\s]")
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th|s)")
_CONTRACTION = frozenset({"t", "re", "ve", "ll", "d", "m"})
#: Social-media fillers dropped with the English stop words.
SOCIAL_STOP_WORDS = frozenset({"rt", "amp", "pls", "plz", "lol", "im", "dont", "cant", "u", "ur"})
_BREAK = None  # a dropped token: bigrams never span it


def _tokens(text: str) -> list[str | None]:
    """Lowercased tokens of ``text``; punctuation, handles and URLs become breaks (``None``)."""
    text = _HANDLE.sub(" . ", _URL.sub(" . ", html.unescape(text))).lower()
    out: list[str | None] = []
    for tok in _TOKEN.findall(text):
        if not (tok[0].isalnum() or tok[0] == "#"):
            out.append(_BREAK)
            continue
        tok = tok.lstrip("#").replace("’", "'")
        head, _, tail = tok.partition("'")
        if tail:
            tok = head if tail == "s" else ("" if tail in _CONTRACTION else tok)
        out.append(tok or _BREAK)
    return out


class _Terms:
    """Turns a post into its distinct 1-2 gram terms (stop lists fixed at construction, verdicts memoised)."""

    def __init__(self, stop_terms: Iterable[str]) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS  # 1-3 s to import: only when needed

        stop_tokens = [tuple(t for t in _tokens(term) if t is not None) for term in stop_terms]
        self.stop = ENGLISH_STOP_WORDS | SOCIAL_STOP_WORDS | {t[0] for t in stop_tokens if len(t) == 1}
        self.phrases = frozenset(t for t in stop_tokens if len(t) > 1)
        self.longest = max((len(t) for t in self.phrases), default=0)
        self.verdict: dict[str, bool] = {}

    def keep(self, tok: str) -> bool:
        """Whether a token is a term word (not a stop word, a number or a single letter)."""
        kept = self.verdict.get(tok)
        if kept is None:
            kept = self.verdict[tok] = (
                len(tok) > 1
                and any(ch.isalpha() for ch in tok)
                and not _ORDINAL.fullmatch(tok)
                and tok not in self.stop
            )
        return kept

    def __call__(self, text: str) -> set[str]:
        toks = _tokens(text)
        for n in range(self.longest, 1, -1):  # stop phrases: their tokens become breaks where they occur
            for i in range(len(toks) - n + 1):
                if tuple(toks[i : i + n]) in self.phrases:
                    toks[i : i + n] = [_BREAK] * n
        kept = [tok if tok is not None and self.keep(tok) else _BREAK for tok in toks]
        terms = {tok for tok in kept if tok is not None}
        terms.update(f"{a} {b}" for a, b in zip(kept, kept[1:], strict=False) if a and b)
        return terms


def count_terms(
    texts: Sequence[str],
    days: Sequence[int],
    n_days: int,
    *,
    stop_terms: Iterable[str] = (),
    min_total: int = 5,
    max_terms: int = 200_000,
) -> dict[str, np.ndarray]:
    """Daily post counts of the 1-2 gram terms of ``texts`` (``days[i]`` is the day index of ``texts[i]``).

    Text is HTML-unescaped and lowercased; URLs, @handles, numbers, one-letter tokens, English stop words
    (scikit-learn's list, as BERTopic's labels use), :data:`SOCIAL_STOP_WORDS` and ``stop_terms`` (brand
    names, handles: one word or several, matched as a phrase) are dropped, and bigrams never span a dropped
    token or punctuation. A post counts a term once. Only terms in at least ``min_total`` posts are returned,
    each as an int64 array of ``n_days``. Memory is bounded: when more than ``max_terms`` terms are held, the
    rarest are pruned (lossy counting), so a term can lose at most the few posts it had when it was pruned.
    """
    if len(texts) != len(days):
        raise ValueError(f"count_terms: {len(texts)} texts but {len(days)} days")
    terms_of = _Terms(stop_terms)
    daily: dict[str, dict[int, int]] = {}
    for text, day in zip(texts, days, strict=True):
        if not 0 <= day < n_days:
            raise ValueError(f"count_terms: day {day} is outside 0..{n_days - 1}")
        for term in terms_of(text):
            by_day = daily.get(term)
            if by_day is None:
                by_day = daily[term] = {}
            by_day[day] = by_day.get(day, 0) + 1
        if len(daily) > max_terms:
            _prune(daily, max_terms // 2)
    out: dict[str, np.ndarray] = {}
    for term, by_day in daily.items():
        if sum(by_day.values()) >= min_total:
            row = np.zeros(n_days, dtype=np.int64)
            row[list(by_day)] = list(by_day.values())
            out[term] = row
    return out


def _prune(daily: dict[str, dict[int, int]], target: int) -> None:
    """Drop the rarest terms (by raising a count threshold) until at most ``target`` remain."""
    total = {term: sum(by_day.values()) for term, by_day in daily.items()}
    sizes = np.bincount(np.fromiter(total.values(), dtype=np.int64))
    kept, threshold = len(total), 0
    while kept > target and threshold + 1 < sizes.size:
        threshold += 1
        kept -= sizes[threshold]
    for term, n in total.items():
        if n <= threshold:
            del daily[term]
