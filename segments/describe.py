"""What sets a segment apart from its broad segment: lift, a readable name, figures, and example posts.

**Lift items.** Every row of a broad segment has 0/1 items, each defined over the rows that have the data:

- a category of a categorical column (``contract = month-to-month``, ``plan = Prepaid 10GB``): rows where the
  column is known;
- a band of a number: ``high`` above the broad segment's upper tertile, ``low`` below its lower tertile
  (``high data gb``); for ``sentiment`` (the mean post sentiment), over rows with posts;
- a key of a social block: the row has at least one post in that topic, need theme, intent or brand, over rows
  with posts (so customers without linked posts neither raise nor lower it).

An item's *lift* in a segment is its share among the segment's rows divided by its share in the whole broad
segment. Items are kept when they are over-indexed (lift >= :attr:`DescribeSettings.min_lift`) and common
enough in the segment to mean something (at least :attr:`DescribeSettings.min_share` of the segment's rows
with the data, and :attr:`DescribeSettings.min_count` rows); they are ranked by lift, highest first.

**Name.** Among the items whose lift is at least :attr:`DescribeSettings.name_lift_share` of the top lift, the
labels of :attr:`DescribeSettings.name_items` items of different columns, need themes first (they read best),
then CRM bands and categories, then topic terms, each kind by lift; joined with ``" · "`` (``"Roaming that
doesn't cost a fortune · High roaming days"``), capitalised and cut to :attr:`DescribeSettings.name_chars`
characters; ``"Typical <broad segment>"`` when nothing is over-indexed.
**Reason**: the top :attr:`DescribeSettings.reason_items` items as ``"label (2.4x)"``.

**Examples** (:func:`example_posts`): posts by members that fall in the segment's over-indexed topics and need
themes, scored by the lift of what they match, one post per author, at most
:attr:`DescribeSettings.examples`; an audience segment gets examples only when it has at least
:attr:`DescribeSettings.audience_example_authors` authors (aggregates only otherwise). Examples are post ids;
no text is copied.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from segments.features import FeatureTable, active_models, owned_posts_sql

__all__ = ["DescribeSettings", "LiftItem", "SegmentDescription", "describe", "example_posts", "lift_items"]

_KIND_BY_BLOCK = {"topic": "topic", "need": "need", "intent": "intent", "brand": "brand"}
#: Which items name a segment first: need themes read best, then CRM bands and categories, then topic terms.
_NAME_ORDER = {"need": 0, "band": 1, "category": 1, "topic": 2}
_PERIOD = re.compile(r"\s\d+d$")


@dataclass(frozen=True)
class DescribeSettings:
    """How segments are described (see the module docstring)."""

    min_lift: float = 1.2
    min_share: float = 0.15
    min_count: int = 3
    lift_items: int = 20
    reason_items: int = 5
    name_items: int = 2
    name_lift_share: float = 0.8
    name_chars: int = 70
    examples: int = 5
    audience_example_authors: int = 10


@dataclass(frozen=True)
class LiftItem:
    """One over-indexed item of a segment: ``feature`` its key (``need:6``, ``data_gb>high``), ``column`` the
    column or block it comes from, shares in the segment and the broad segment, ``members`` the segment rows
    that have it."""

    feature: str
    column: str
    kind: str
    label: str
    lift: float
    segment_share: float
    broad_share: float
    members: int

    def as_dict(self) -> dict:
        """Plain data for ``segments.profile['lift']``."""
        return {
            "feature": self.feature, "column": self.column, "kind": self.kind, "label": self.label,
            "lift": round(self.lift, 3), "segment_share": round(self.segment_share, 4),
            "broad_share": round(self.broad_share, 4), "members": self.members,
        }  # fmt: skip

    @property
    def reason(self) -> str:
        """``"label (2.4x)"``."""
        return f"{self.label} ({self.lift:.1f}x)"


@dataclass(frozen=True)
class SegmentDescription:
    """A segment's name, figures and profile (the JSON of ``segments.profile``)."""

    name: str
    size: int
    churn_rate: float | None
    sentiment: float | None
    lift: tuple[LiftItem, ...]
    profile: dict


@dataclass(frozen=True)
class _Item:
    """An item over the broad segment: its 0/1 values and where it is defined."""

    feature: str
    column: str
    kind: str
    label: str
    values: np.ndarray
    defined: np.ndarray


def humanize(name: str) -> str:
    """A column name as words: ``roaming_days_90d`` -> ``roaming days``."""
    return _PERIOD.sub("", name.replace("_", " ").strip()) or name


def _band_items(column: str, values: np.ndarray, defined: np.ndarray) -> Iterator[_Item]:
    """``high`` and ``low`` tertile bands of a number (skipped when the band would be empty)."""
    present = values[defined & ~np.isnan(values)]
    if present.size < 3 or np.ptp(present) == 0:
        return
    low, high = np.quantile(present, [1 / 3, 2 / 3])
    known = defined & ~np.isnan(values)
    safe = np.where(known, values, 0.0)
    label = humanize(column)
    if high < present.max():
        yield _Item(f"{column}>high", column, "band", f"high {label}", known & (safe > high), known)
    if low > present.min():
        yield _Item(f"{column}<low", column, "band", f"low {label}", known & (safe < low), known)


def _items(table: FeatureTable) -> Iterator[_Item]:
    """Every lift item of ``table`` (see the module docstring)."""
    for column, values in table.categorical.items():
        defined = np.array([value is not None for value in values])
        for level in sorted({str(value) for value in values[defined]}):
            hit = np.array([value is not None and str(value) == level for value in values])
            yield _Item(f"{column}={level}", column, "category", f"{humanize(column)}: {level}", hit, defined)
    everyone = np.ones(len(table), dtype=bool)
    for column, values in table.numeric.items():
        yield from _band_items(column, values, everyone)
    social = table.has_social
    yield from _band_items("sentiment", table.sentiment, social)
    for name, block in table.blocks.items():
        kind = _KIND_BY_BLOCK.get(name)
        if kind is None:
            continue
        for col, (key, label) in enumerate(zip(block.keys, block.labels, strict=True)):
            shown = label if kind in ("topic", "need") else f"{kind}: {label}"
            yield _Item(key, name, kind, shown or key, block.counts[:, col] > 0, social)


def lift_items(
    table: FeatureTable, labels: np.ndarray, settings: DescribeSettings = DescribeSettings()
) -> dict[int, tuple[LiftItem, ...]]:
    """The over-indexed items of each segment label, highest lift first (ties: feature key)."""
    found: dict[int, list[LiftItem]] = defaultdict(list)
    segments = sorted(set(labels.tolist()))
    for item in _items(table):
        broad_rows = item.defined.sum()
        broad_hits = (item.values & item.defined).sum()
        if broad_rows == 0 or broad_hits == 0:
            continue
        broad_share = broad_hits / broad_rows
        for segment in segments:
            mine = item.defined & (labels == segment)
            rows, hits = int(mine.sum()), int((item.values & mine).sum())
            if rows == 0 or hits < settings.min_count or hits / rows < settings.min_share:
                continue
            lift = (hits / rows) / broad_share
            if lift >= settings.min_lift:
                found[segment].append(
                    LiftItem(
                        item.feature, item.column, item.kind, item.label, lift, hits / rows, broad_share, hits
                    )
                )
    return {
        segment: tuple(sorted(found[segment], key=lambda i: (-i.lift, i.feature))[: settings.lift_items])
        for segment in segments
    }


def segment_name(items: Sequence[LiftItem], broad_segment: str, settings: DescribeSettings) -> str:
    """The name from the most over-indexed items of different columns (see the module docstring)."""
    parts: list[str] = []
    columns: set[str] = set()
    top = max((item.lift for item in items), default=0.0)
    near_top = [item for item in items if item.lift >= settings.name_lift_share * top]
    for item in sorted(near_top, key=lambda i: (_NAME_ORDER.get(i.kind, 3), -i.lift, i.feature)):
        if item.column in columns and item.kind not in ("topic", "need"):
            continue
        if item.label.casefold() in (part.casefold() for part in parts):
            continue
        parts.append(item.label)
        columns.add(item.column)
        if len(parts) == settings.name_items:
            break
    if not parts:
        return f"Typical {broad_segment}"[: settings.name_chars]
    name = " · ".join(parts)
    name = name[0].upper() + name[1:]
    return name if len(name) <= settings.name_chars else name[: settings.name_chars - 1].rstrip() + "…"


def _mean(values: np.ndarray) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else None


def describe(
    table: FeatureTable, labels: np.ndarray, settings: DescribeSettings = DescribeSettings()
) -> dict[int, SegmentDescription]:
    """Name, size, churn rate, mean sentiment, lift and profile of each segment label of ``table``'s rows."""
    lifts = lift_items(table, labels, settings)
    broad = str(table.groups[0]) if len(table) else ""
    out = {}
    for segment, items in lifts.items():
        rows = labels == segment
        social = rows & table.has_social
        churn = _mean(table.churned[rows])
        sentiment = _mean(table.sentiment[social])
        profile = {
            "reason": [item.reason for item in items[: settings.reason_items]],
            "lift": [item.as_dict() for item in items],
            "members_with_posts": int(social.sum()),
            "posts": int(table.posts[rows].sum()),
            "churn_known": int((~np.isnan(table.churned[rows])).sum()),
        }
        out[segment] = SegmentDescription(
            segment_name(items, broad, settings), int(rows.sum()), churn, sentiment, items, profile
        )
    return out


# --- examples --------------------------------------------------------------------------------------------

_EXAMPLE_SQL = """
WITH owned AS MATERIALIZED ({owned})
SELECT o.owner, o.post_id, 'topic:' || t.topic_id FROM owned AS o
CROSS JOIN post_topics AS t ON t.post_id = o.post_id AND t.topic_id >= 0
    AND (t.model_version = :topics OR :topics = '')
UNION ALL
SELECT o.owner, o.post_id, 'need:' || n.theme_id FROM owned AS o
CROSS JOIN post_need_themes AS n ON n.post_id = o.post_id AND n.theme_id >= 0
    AND (n.model_version = :themes OR :themes = '')"""


def example_posts(
    db: sqlite_utils.Database,
    population: str,
    members: dict[str, int],
    lifts: dict[int, Sequence[LiftItem]],
    settings: DescribeSettings = DescribeSettings(),
) -> dict[int, list[str]]:
    """Example post ids per segment: ``members`` maps owner (customer or author id) to segment; a post scores
    the summed lift of the segment's topic and need items it falls in; the best post of each author, best
    authors first, at most ``settings.examples`` (see the module docstring)."""
    weights = {
        segment: {item.feature: item.lift for item in items if item.kind in ("topic", "need")}
        for segment, items in lifts.items()
    }
    allowed = _allowed_segments(population, members, settings)
    scores: dict[tuple[str, str], float] = defaultdict(float)
    sql = _EXAMPLE_SQL.format(owned=owned_posts_sql(population))
    for owner, post_id, key in db.conn.execute(sql, active_models(db)):
        segment = members.get(owner)
        if segment in allowed:
            scores[(owner, post_id)] += weights.get(segment, {}).get(key, 0.0)
    best: dict[str, tuple[float, str]] = {}
    for (owner, post_id), score in scores.items():
        if score > 0 and (owner not in best or (-score, post_id) < (-best[owner][0], best[owner][1])):
            best[owner] = (score, post_id)
    chosen: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for owner, (score, post_id) in best.items():
        chosen[members[owner]].append((score, post_id))
    return {
        segment: [post_id for _, post_id in sorted(posts, key=lambda p: (-p[0], p[1]))[: settings.examples]]
        for segment, posts in chosen.items()
    }


def _allowed_segments(population: str, members: dict[str, int], settings: DescribeSettings) -> set[int]:
    """Segments that may show examples: every customer segment; audience segments with enough authors."""
    sizes: dict[int, int] = defaultdict(int)
    for segment in members.values():
        sizes[segment] += 1
    if population == "customers":
        return set(sizes)
    return {segment for segment, size in sizes.items() if size >= settings.audience_example_authors}
