"""The trends step of ``tasteradar analyze``: emerging topics, need themes and terms, with explanations.

Each run reads the English posts of the last ``history_days`` days that hold posts (the days evaluated plus
the window, baseline and dispersion history the detector needs), builds daily series of three kinds (posts
per topic, need rows per theme, posts per 1-2 gram term: :func:`nlp.topics.trends.count_terms`) against
the English posts of each day, and runs :func:`nlp.topics.trends.detect` on each of the last
``evaluate_days`` days, one call per kind (the false discovery rate and the pooled dispersion are per kind).
Flags of those days are replaced in ``emerging``: the last day may have been partial in an earlier run.

**Only when something it reads changed.** The step reads posts (text, language, day), ``post_language``,
``post_topics``, ``post_need_themes`` and ``post_mentions``; every write to them marks its (day, platform) key
in ``rollup_dirty`` with the ``emerging`` bit (migration 10, :mod:`store.rollup_marks`; writes to
``post_needs`` mark it too, as migration 10 has it, though the step no longer reads that table).
With no key marked, :func:`run_trends` reads one row of ``rollup_dirty`` and returns ``{"up_to_date":
True}``; otherwise it evaluates the whole window as above (the detector needs the full history anyway) and
clears the bit in the transaction that writes the flags (unless another connection committed meanwhile: its
marks may stand for posts this run did not read, so they stay for the next run). ``full`` (``analyze
--refit``) always runs.

An ``explanation`` holds aggregates only: the terms that drive the series' growth (its own posts' terms
against their baseline, :func:`nlp.topics.trends.drivers`) and the brands its window posts mention, with
counts. Example posts are looked up when shown (never stored here, so erasure has nothing to chase).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import sqlite_utils

from nlp.annotate import EFFECTIVE_LANG_SQL
from nlp.brand_daily import clear_stale
from nlp.topics.trends import Emerging, TrendSettings, count_terms, detect, drivers, periods
from store import to_iso, utc_now
from store.rollup_marks import TREND_BIT
from store.transactions import transaction

__all__ = [
    "UP_TO_DATE", "TrendStageSettings", "Window", "explain", "load_window", "members", "run_trends",
    "series_of", "trends_stale",
]  # fmt: skip

#: What :func:`run_trends` returns when nothing it reads changed since its last run.
UP_TO_DATE = {"up_to_date": True}


@dataclass(frozen=True)
class TrendStageSettings:
    """What the step evaluates: the detector's settings, how many recent days, how many terms explain."""

    detector: TrendSettings = field(default_factory=TrendSettings)
    evaluate_days: int = 28
    top_drivers: int = 5
    min_term_posts: int = 5

    @property
    def history_days(self) -> int:
        """Days read: the evaluated days plus the window and the longest history the detector looks at."""
        d = self.detector
        return self.evaluate_days + d.window_days + max(d.baseline_days, d.dispersion_days)


@dataclass
class Window:
    """The posts of the days read: day index, text, topic and brands of each; need rows with their theme."""

    first_day: date
    n_days: int
    ids: list[str]
    days: list[int]
    texts: list[str]
    topics: list[int]
    brands: list[tuple[str, ...]]
    need_days: list[int]
    need_themes: list[int]
    need_posts: list[int]  # index into the post lists

    def day_name(self, index: int) -> str:
        return (self.first_day + timedelta(days=index)).isoformat()

    @property
    def totals(self) -> np.ndarray:
        return np.bincount(np.asarray(self.days, dtype=np.int64), minlength=self.n_days)


_POSTS_SQL = f"""
SELECT p.id, substr(p.created_at, 1, 10), p.text, COALESCE(t.topic_id, -1),
       (SELECT json_group_array(DISTINCT m.brand) FROM post_mentions AS m WHERE m.post_id = p.id)
FROM posts AS p LEFT JOIN post_topics AS t ON t.post_id = p.id
WHERE p.created_at >= :since AND {EFFECTIVE_LANG_SQL} = 'en'
ORDER BY p.created_at"""

_NEEDS_SQL = """
SELECT t.post_id, t.theme_id FROM post_need_themes AS t
JOIN posts AS p ON p.id = t.post_id
WHERE p.created_at >= :since AND t.theme_id >= 0"""


def load_window(db: sqlite_utils.Database, history_days: int | None) -> Window | None:
    """The English posts (and need rows) of the last ``history_days`` days up to the newest post (all when
    None); None when there are no posts."""
    (newest,) = db.conn.execute("SELECT max(created_at) FROM posts").fetchone()
    if newest is None:
        return None
    last = date.fromisoformat(newest[:10])
    since = "" if history_days is None else (last - timedelta(days=history_days - 1)).isoformat()
    rows = db.conn.execute(_POSTS_SQL, {"since": since}).fetchall()
    if not rows:
        return None
    first = date.fromisoformat(rows[0][1])
    index = {row[0]: i for i, row in enumerate(rows)}
    days = [(date.fromisoformat(row[1]) - first).days for row in rows]
    window = Window(
        first_day=first, n_days=(last - first).days + 1, ids=[row[0] for row in rows], days=days,
        texts=[row[2] for row in rows],
        topics=[row[3] for row in rows], brands=[tuple(json.loads(row[4] or "[]")) for row in rows],
        need_days=[], need_themes=[], need_posts=[],
    )  # fmt: skip
    for post_id, theme in db.conn.execute(_NEEDS_SQL, {"since": since}):
        at = index.get(post_id)
        if at is not None:
            window.need_days.append(days[at])
            window.need_themes.append(theme)
            window.need_posts.append(at)
    return window


def series_of(window: Window, stop_terms: tuple[str, ...], min_term_posts: int) -> dict[str, dict]:
    """Daily counts per kind: ``{"topic": {id: counts}, "theme": {id: counts}, "term": {term: counts}}``."""
    kinds: dict[str, dict] = {"topic": {}, "theme": {}}
    for kind, keys, days in (
        ("topic", window.topics, window.days),
        ("theme", window.need_themes, window.need_days),
    ):
        grouped: dict[int, list[int]] = defaultdict(list)
        for key, day in zip(keys, days, strict=True):
            if key >= 0:
                grouped[key].append(day)
        kinds[kind] = {key: np.bincount(found, minlength=window.n_days) for key, found in grouped.items()}
    kinds["term"] = count_terms(
        window.texts, window.days, window.n_days, stop_terms=stop_terms, min_total=min_term_posts
    )
    return kinds


def members(window: Window, kind: str, key) -> list[int]:
    """Indices of the posts behind one series."""
    if kind == "topic":
        return [i for i, topic in enumerate(window.topics) if topic == key]
    if kind == "theme":
        return [window.need_posts[j] for j, theme in enumerate(window.need_themes) if theme == key]
    needle = str(key)
    return [i for i, text in enumerate(window.texts) if needle in text.lower()]


def explain(window: Window, kind: str, flag: Emerging, settings: TrendStageSettings, stop_terms) -> dict:
    """The drivers (terms) and brands of one flagged series on its day, as plain counts."""
    found = members(window, kind, flag.key)
    _, span = periods(flag.day, settings.detector)
    in_window = [i for i in found if window.days[i] in span]
    brands = Counter(brand for i in in_window for brand in window.brands[i])
    explanation: dict = {"brands": dict(brands.most_common())}
    if kind != "term":
        terms = count_terms(
            [window.texts[i] for i in found], [window.days[i] for i in found], window.n_days,
            stop_terms=stop_terms, min_total=3,
        )  # fmt: skip
        found = drivers(terms, window.totals, flag.day, settings.detector, top=settings.top_drivers)
        explanation["drivers"] = [[d.term, d.window_count, round(d.expected, 2)] for d in found]
    return explanation


def trends_stale(conn) -> bool:
    """Whether any (day, platform) key is marked stale for ``emerging`` (one probe of ``rollup_dirty``)."""
    return (
        conn.execute(f"SELECT 1 FROM rollup_dirty WHERE rollups & {TREND_BIT} LIMIT 1").fetchone() is not None
    )


def run_trends(
    db: sqlite_utils.Database,
    *,
    stop_terms: tuple[str, ...] = (),
    settings: TrendStageSettings | None = None,
    full: bool = False,
) -> dict:
    """Evaluate the recent days and replace their flags in ``emerging``; return flags per kind (``{}`` when
    there are no English posts), or :data:`UP_TO_DATE` without reading any post when no key is marked for
    ``emerging`` and not ``full``."""
    settings = settings or TrendStageSettings()
    if not full and not trends_stale(db.conn):
        return dict(UP_TO_DATE)
    (seen,) = db.conn.execute("PRAGMA data_version").fetchone()
    window = load_window(db, settings.history_days)
    if window is None:
        with transaction(db) as conn:
            _clear_marks(conn, seen)
        return {}
    totals = window.totals
    kinds = series_of(window, stop_terms, settings.min_term_posts)
    first = max(0, window.n_days - settings.evaluate_days)
    rows, counts = [], {}
    for kind, series in kinds.items():
        flags = [
            flag
            for day in range(first, window.n_days)
            for flag in detect(series, totals, day, settings.detector)
        ]
        counts[kind] = len(flags)
        explained: dict = {}
        for flag in sorted(flags, key=lambda f: -f.day):  # explain each series once, at its latest flag
            if flag.key not in explained:
                explained[flag.key] = explain(window, kind, flag, settings, stop_terms)
            rows.append(_row(window, kind, flag, explained[flag.key]))
    now = to_iso(utc_now())
    with transaction(db) as conn:
        conn.execute("DELETE FROM emerging WHERE day >= ?", [window.day_name(first)])
        conn.executemany(
            "INSERT INTO emerging (kind, key, day, window_count, expected, ratio, p_value, q_value,"
            " explanation, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, now) for row in rows],
        )
        _clear_marks(conn, seen)
    return counts


def _clear_marks(conn, seen: int) -> None:
    """Clear the ``emerging`` bit, unless another connection committed since ``PRAGMA data_version`` read
    ``seen`` (before the window was read): then a mark may stand for a write this run did not see."""
    if conn.execute("PRAGMA data_version").fetchone()[0] == seen:
        clear_stale(conn, "emerging")


def _row(window: Window, kind: str, flag: Emerging, explanation: dict) -> tuple:
    return (
        kind, str(flag.key), window.day_name(flag.day), flag.window_count, round(flag.expected, 4),
        round(flag.ratio, 4), flag.p_value, flag.q_value, json.dumps(explanation, ensure_ascii=False),
    )  # fmt: skip
