"""The need-theme table as export records (``tasteradar export themes``), with the competitor gap.

One record per theme ever issued, in id order:

``theme_id, label, status, terms, needs, needs_7d, growth, net_sentiment, raised_against,
competitors_praised, competitor_gap, born_model, last_model``

- ``needs``: need rows of the theme (all time); ``needs_7d`` over the last 7 days, ``growth`` their daily rate
  against the 28 days before (null without a baseline); ``net_sentiment``: (positive - negative) / needs;
- ``raised_against``: need rows per brand they are raised against;
- ``competitors_praised``: posts praising a competitor (positive ``brand_sentiment``) for what the theme
  asks, by brand: a praising post counts for the theme whose mean post vector is nearest to its own, at
  cosine >= :attr:`nlp.topics.themes.GapSettings.similarity` (:func:`nlp.topics.themes.competitor_gap`);
- ``competitor_gap``: the theme is raised against the own brand and a competitor is praised for it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from nlp.topics.export import BASELINE_DAYS, WINDOW_DAYS, day_offset
from nlp.topics.themes import Praise, Theme, ThemeResult, ThemeSettings, ThemeStats, competitor_gap
from nlp.vectors import unpack
from store.exports import Column

__all__ = ["THEME_COLUMNS", "theme_records"]

THEME_COLUMNS: tuple[Column, ...] = (
    Column("theme_id", "int"), Column("label"), Column("status"), Column("terms", "list"),
    Column("needs", "int"), Column("needs_7d", "int"), Column("growth", "float"),
    Column("net_sentiment", "float"), Column("raised_against", "map"), Column("competitors_praised", "map"),
    Column("competitor_gap", "bool"), Column("born_model"), Column("last_model"),
)  # fmt: skip


def _volumes(conn: sqlite3.Connection) -> dict[int, dict]:
    """Per theme: need rows, sentiment counts, rows per brand, rows in the window and in the baseline."""
    found: dict[int, dict] = defaultdict(lambda: {"n": 0, "pos": 0, "neg": 0, "w": 0, "b": 0, "brands": {}})
    rows = conn.execute(
        "SELECT day, theme_id, brand, needs, positive, negative FROM theme_daily WHERE theme_id >= 0"
    ).fetchall()
    if not rows:
        return found
    last = max(row[0] for row in rows)
    window, baseline = day_offset(last, 1 - WINDOW_DAYS), day_offset(last, 1 - WINDOW_DAYS - BASELINE_DAYS)
    for day, theme, brand, needs, positive, negative in rows:
        entry = found[theme]
        entry["n"] += needs
        entry["pos"] += positive
        entry["neg"] += negative
        period = "w" if day >= window else "b" if day >= baseline else None
        if period:
            entry[period] += needs
        if brand:
            entry["brands"][brand] = entry["brands"].get(brand, 0) + needs
    return found


def _context_centroids(conn: sqlite3.Connection) -> dict[int, np.ndarray]:
    """Per theme: the unit mean of the stored vectors of the posts its need rows come from."""
    sums: dict[int, np.ndarray] = {}
    for theme, dim, blob in conn.execute(
        "SELECT t.theme_id, e.dim, e.vector FROM post_need_themes AS t"
        " JOIN post_embeddings AS e ON e.post_id = t.post_id WHERE t.theme_id >= 0"
    ):
        vector = unpack(blob, dim)
        sums[theme] = sums[theme] + vector if theme in sums else vector.astype(np.float64)
    return {theme: (total / np.linalg.norm(total)).astype(np.float32) for theme, total in sums.items()}


def _praise(conn: sqlite3.Connection, own_brand: str) -> tuple[list[Praise], np.ndarray]:
    """Posts praising a competitor, with their stored vectors."""
    items, vectors = [], []
    for post_id, brand, dim, blob in conn.execute(
        "SELECT b.post_id, b.brand, e.dim, e.vector FROM brand_sentiment AS b"
        " JOIN post_embeddings AS e ON e.post_id = b.post_id WHERE b.label = 'positive' AND +b.brand != ?",
        [own_brand],
    ):
        items.append(Praise(post_id, brand))
        vectors.append(unpack(blob, dim))
    return items, (np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float32))


def theme_records(conn: sqlite3.Connection, own_brand: str) -> Iterator[dict]:
    """One export record per need theme (see the module docstring)."""
    rows = conn.execute(
        "SELECT theme_id, label, status, terms, born_model, last_model FROM need_themes ORDER BY theme_id"
    ).fetchall()
    volumes, centroids = _volumes(conn), _context_centroids(conn)
    themes = [
        Theme(theme_id, label, (), 0, centroid, centroid, centroid, ())
        for theme_id, label, *_ in rows
        if (centroid := centroids.get(theme_id)) is not None
    ]
    stats = [
        ThemeStats(theme.index, theme.name, volumes[theme.index]["n"], 0, (), 0, 0, 0.0, None,
                   tuple(volumes[theme.index]["brands"].items()))
        for theme in themes
    ]  # fmt: skip
    praise, vectors = _praise(conn, own_brand)
    result = ThemeResult(labels=np.zeros(0, dtype=np.int64), themes=tuple(themes), settings=ThemeSettings())
    gaps = {gap.theme: gap for gap in competitor_gap(result, stats, praise, vectors, own_brand=own_brand)}
    for theme_id, label, status, terms, born, last in rows:
        entry = volumes[theme_id]
        baseline = entry["b"] / BASELINE_DAYS
        gap = gaps.get(theme_id)
        yield {
            "theme_id": theme_id,
            "label": label,
            "status": status,
            "terms": [term for term, _ in json.loads(terms)],
            "needs": entry["n"],
            "needs_7d": entry["w"],
            "growth": round(entry["w"] / WINDOW_DAYS / baseline, 4) if baseline else None,
            "net_sentiment": round((entry["pos"] - entry["neg"]) / entry["n"], 4) if entry["n"] else None,
            "raised_against": {brand: str(count) for brand, count in sorted(entry["brands"].items())},
            "competitors_praised": {item.brand: str(item.posts) for item in gap.competitors} if gap else {},
            "competitor_gap": bool(gap and gap.is_gap),
            "born_model": born,
            "last_model": last,
        }
