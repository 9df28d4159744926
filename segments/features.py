"""What micro-segments are found from: CRM fields of customers and the social signals of their consented
posts, and the same social signals for the audience (authors linked to no customer).

:func:`load_customers` returns a :class:`FeatureTable` with one row per customer of the CRM:

- **CRM** (everyone): ``plan`` and ``contract`` (categorical), ``tenure_months``, ``monthly_charge`` and
  ``total_charges`` (numbers), and the keys of the ``attributes`` JSON present in at least
  :attr:`FeatureSettings.min_present` of the customers: numbers stay numbers (``data_gb``, ``lines``),
  booleans and yes/no strings become ``yes``/``no``, other strings are categories when they have at most
  :attr:`FeatureSettings.max_levels` distinct values (``age_band``) and are left out otherwise. Keys that name
  churn are left out: a segment is not described by the label it is measured against.
- **Social** (only customers with posts through ``customer_links``, the table consented linking fills; nobody
  else's posts are read): per customer, how many of their posts fall in each topic of the active topic model,
  each need theme of the active theme model, each intent, each brand mentioned and each sentiment label
  (:class:`CountBlock`), their number of posts and their mean post sentiment.

:func:`load_audience` returns the social part alone for authors that no customer link names and that wrote at
least ``min_posts`` posts: the audience, segmented in aggregate only.

Annotations are read at their current version (``annotation_runs``: the family and version that last ran), so
rows left by an older annotator version are not mixed in (rows of a family ``annotation_runs`` does not know
are read as they are); topics and need themes from the active topic and theme models (any version when there
is none). :func:`source_versions` names those versions and models for the run's provenance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import sqlite_utils

from store.customers import parse_attributes

__all__ = [
    "BLOCKS",
    "CountBlock",
    "FeatureSettings",
    "FeatureTable",
    "active_models",
    "load_audience",
    "load_customers",
    "owned_posts_sql",
    "source_versions",
]

#: The social count blocks, in order: topics, need themes, intents, brands mentioned, sentiment labels.
BLOCKS = ("topic", "need", "intent", "brand", "sentiment")
CRM_CATEGORIES = ("plan", "contract")
CRM_NUMBERS = ("tenure_months", "monthly_charge", "total_charges")
#: Tables whose rows carry a versioned annotator name.
_ANNOTATED = ("post_intents", "post_mentions", "post_sentiment")
_YES = frozenset({"yes", "y", "true", "t"})
_NO = frozenset({"no", "n", "false", "f"})

#: Who owns which posts: consented customers, or authors no customer link names.
_CUSTOMER_POSTS = """
SELECT l.customer_id AS owner, p.id AS post_id
FROM customer_links AS l CROSS JOIN authors AS a ON a.id = l.author_id
CROSS JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id"""
_AUDIENCE_POSTS = """
SELECT a.id AS owner, p.id AS post_id
FROM authors AS a CROSS JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id
WHERE NOT EXISTS (SELECT 1 FROM customer_links AS l WHERE l.author_id = a.id)"""

#: Per block: (owner, key, label, posts) from the owner's posts; ``:topics`` and ``:themes`` are the active
#: model versions ('' without one: any version), ``:current`` the annotator names read (JSON list).
_BLOCK_SQL = {
    "topic": """SELECT o.owner, t.topic_id, COALESCE(k.label, ''), COUNT(*) FROM owned AS o
        CROSS JOIN post_topics AS t
        ON t.post_id = o.post_id AND t.topic_id >= 0 AND (t.model_version = :topics OR :topics = '')
        LEFT JOIN topics AS k ON k.topic_id = t.topic_id GROUP BY 1, 2""",
    "need": """SELECT o.owner, n.theme_id, COALESCE(k.label, ''), COUNT(DISTINCT o.post_id) FROM owned AS o
        CROSS JOIN post_need_themes AS n
        ON n.post_id = o.post_id AND n.theme_id >= 0 AND (n.model_version = :themes OR :themes = '')
        LEFT JOIN need_themes AS k ON k.theme_id = n.theme_id GROUP BY 1, 2""",
    "intent": """SELECT o.owner, i.intent, i.intent, COUNT(DISTINCT o.post_id) FROM owned AS o
        CROSS JOIN post_intents AS i ON i.post_id = o.post_id
        AND i.annotator IN (SELECT value FROM json_each(:current)) GROUP BY 1, 2""",
    "brand": """SELECT o.owner, m.brand, m.brand, COUNT(DISTINCT o.post_id) FROM owned AS o
        CROSS JOIN post_mentions AS m ON m.post_id = o.post_id
        AND m.annotator IN (SELECT value FROM json_each(:current)) GROUP BY 1, 2""",
    "sentiment": """SELECT o.owner, s.label, s.label, COUNT(*) FROM owned AS o
        CROSS JOIN post_sentiment AS s ON s.post_id = o.post_id
        AND s.annotator IN (SELECT value FROM json_each(:current)) GROUP BY 1, 2""",
}
_POSTS_SQL = """SELECT o.owner, COUNT(*), AVG(s.score) FROM owned AS o
    LEFT JOIN post_sentiment AS s ON s.post_id = o.post_id
    AND s.annotator IN (SELECT value FROM json_each(:current)) GROUP BY 1"""


@dataclass(frozen=True)
class FeatureSettings:
    """Which CRM attributes are read: present in at least ``min_present`` of the customers, and strings with
    at most ``max_levels`` distinct values. ``audience_min_posts``: the fewest posts an audience author
    needs."""

    min_present: float = 0.5
    max_levels: int = 12
    audience_min_posts: int = 3

    def __post_init__(self) -> None:
        if not 0 < self.min_present <= 1:
            raise ValueError(f"FeatureSettings.min_present must be in (0, 1], got {self.min_present}")
        if self.max_levels < 2 or self.audience_min_posts < 1:
            raise ValueError("FeatureSettings: max_levels must be >= 2 and audience_min_posts >= 1")


@dataclass(frozen=True)
class CountBlock:
    """Posts per owner and key of one social signal: ``keys`` like ``topic:12``, ``labels`` readable
    (``ping, gaming, mobile``), ``counts`` of shape ``(rows, len(keys))``."""

    name: str
    keys: tuple[str, ...]
    labels: tuple[str, ...]
    counts: np.ndarray

    def take(self, rows: np.ndarray) -> CountBlock:
        """The block restricted to ``rows`` (an index or boolean array)."""
        return replace(self, counts=self.counts[rows])


@dataclass(frozen=True)
class FeatureTable:
    """Features of one population (``customers`` or ``audience``), one row per id.

    ``groups``: the broad segment of each row (``audience`` for the audience). ``categorical``: object arrays,
    ``None`` where missing; ``numeric``: floats, NaN where missing; ``blocks``: the social counts (zeros for a
    row without posts); ``posts``: linked posts per row; ``sentiment``: mean post sentiment (NaN without
    scored posts); ``churned``: 1.0, 0.0 or NaN where the CRM does not say.
    """

    population: str
    ids: tuple[str, ...]
    groups: np.ndarray
    categorical: dict[str, np.ndarray] = field(default_factory=dict)
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    blocks: dict[str, CountBlock] = field(default_factory=dict)
    posts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sentiment: np.ndarray = field(default_factory=lambda: np.zeros(0))
    churned: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_social(self) -> np.ndarray:
        """True for rows with at least one post read."""
        return self.posts > 0

    def take(self, rows: np.ndarray) -> FeatureTable:
        """The table restricted to ``rows`` (an index or boolean array), in that order."""
        index = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows, dtype=np.int64)
        return FeatureTable(
            population=self.population,
            ids=tuple(self.ids[i] for i in index),
            groups=self.groups[index],
            categorical={name: values[index] for name, values in self.categorical.items()},
            numeric={name: values[index] for name, values in self.numeric.items()},
            blocks={name: block.take(index) for name, block in self.blocks.items()},
            posts=self.posts[index],
            sentiment=self.sentiment[index],
            churned=self.churned[index],
        )


# --- versions --------------------------------------------------------------------------------------------


def current_annotators(db: sqlite_utils.Database) -> list[str]:
    """The versioned annotator names that last ran (``mentions.phrase.v2``), from ``annotation_runs``."""
    rows = db.conn.execute("SELECT DISTINCT annotator, version FROM annotation_runs ORDER BY 1, 2")
    return [f"{family}.v{version}" for family, version in rows]


def readable_annotators(db: sqlite_utils.Database) -> list[str]:
    """The annotator names whose rows are read: the current version of each family that ``annotation_runs``
    knows, and every name of a family it does not know (rows written without the annotation runner)."""
    current = current_annotators(db)
    families = {name.rsplit(".v", 1)[0] for name in current}
    names = set(current)
    for table in _ANNOTATED:
        for (name,) in db.conn.execute(f"SELECT DISTINCT annotator FROM {table}"):
            if name.rsplit(".v", 1)[0] not in families:
                names.add(name)
    return sorted(names)


def _active_model(db: sqlite_utils.Database, kind: str) -> str | None:
    row = db.conn.execute(
        "SELECT version FROM cluster_models WHERE kind = ? AND active = 1", [kind]
    ).fetchone()
    return row[0] if row else None


def active_models(db: sqlite_utils.Database) -> dict[str, str]:
    """The active topic and theme model versions as query parameters ``topics``, ``themes`` ('' if none)."""
    return {"topics": _active_model(db, "topic") or "", "themes": _active_model(db, "theme") or ""}


def owned_posts_sql(population: str) -> str:
    """The query of ``(owner, post_id)``: a customer's posts through consented links, or an audience author's
    posts (authors no customer link names)."""
    if population not in ("customers", "audience"):
        raise ValueError(f"population must be 'customers' or 'audience', got {population!r}")
    return _CUSTOMER_POSTS if population == "customers" else _AUDIENCE_POSTS


def source_versions(db: sqlite_utils.Database) -> dict[str, str]:
    """The provenance of the social features: each annotator family at its current version and the active
    topic and theme models (``{"sentiment.seedlr": "sentiment.seedlr.v2", "topics": "...@...", ...}``)."""
    versions = {name.rsplit(".v", 1)[0]: name for name in current_annotators(db)}
    for kind, key in (("topic", "topic_model"), ("theme", "theme_model")):
        model = _active_model(db, kind)
        if model:
            versions[key] = model
    return versions


# --- CRM -------------------------------------------------------------------------------------------------


def _attribute_value(value):
    """A JSON attribute value as a number, ``yes``/``no``, a string, or None."""
    if value is None or isinstance(value, list | dict):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    if text.lower() in _YES:
        return "yes"
    if text.lower() in _NO:
        return "no"
    return text or None


def _attribute_columns(
    raw: Sequence[dict], settings: FeatureSettings
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The usable attribute keys as (categorical, numeric) columns."""
    values: dict[str, list] = {}
    for row, attributes in enumerate(raw):
        for key, value in attributes.items():
            if "churn" in key.lower():
                continue
            values.setdefault(key, [None] * len(raw))[row] = _attribute_value(value)
    categorical: dict[str, np.ndarray] = {}
    numeric: dict[str, np.ndarray] = {}
    for key in sorted(values):
        column = values[key]
        present = [value for value in column if value is not None]
        if len(present) < settings.min_present * len(raw):
            continue
        if all(isinstance(value, float) for value in present):
            numeric[key] = np.array([np.nan if v is None else v for v in column], dtype=np.float64)
        elif len(set(map(str, present))) <= settings.max_levels:
            categorical[key] = np.array([None if v is None else str(v) for v in column], dtype=object)
    return categorical, numeric


def load_customers(db: sqlite_utils.Database, settings: FeatureSettings = FeatureSettings()) -> FeatureTable:
    """Every customer with a broad segment: CRM fields, and social counts from their consented posts."""
    rows = db.conn.execute(
        "SELECT customer_id, broad_segment, plan, contract, tenure_months, monthly_charge, total_charges,"
        " churned, attributes FROM customers WHERE broad_segment IS NOT NULL AND trim(broad_segment) != ''"
        " ORDER BY customer_id"
    ).fetchall()
    ids = tuple(row[0] for row in rows)
    categorical = {
        name: np.array([row[2 + i] for row in rows], dtype=object) for i, name in enumerate(CRM_CATEGORIES)
    }
    numeric = {
        name: np.array([np.nan if row[4 + i] is None else row[4 + i] for row in rows], dtype=np.float64)
        for i, name in enumerate(CRM_NUMBERS)
    }
    more_categorical, more_numeric = _attribute_columns([parse_attributes(row[8]) for row in rows], settings)
    categorical.update({key: value for key, value in more_categorical.items() if key not in categorical})
    numeric.update({key: value for key, value in more_numeric.items() if key not in numeric})
    churned = np.array([np.nan if row[7] is None else float(row[7]) for row in rows], dtype=np.float64)
    social = _social(db, owned_posts_sql("customers"), ids)
    groups = np.array([row[1].strip() for row in rows], dtype=object)
    return FeatureTable("customers", ids, groups, categorical, numeric, churned=churned, **social)


def load_audience(db: sqlite_utils.Database, settings: FeatureSettings = FeatureSettings()) -> FeatureTable:
    """Authors linked to no customer with at least ``settings.audience_min_posts`` posts: social counts."""
    owners = [
        owner
        for owner, count in db.conn.execute(
            f"SELECT owner, COUNT(*) FROM ({_AUDIENCE_POSTS}) GROUP BY owner ORDER BY owner"
        )
        if count >= settings.audience_min_posts
    ]
    ids = tuple(owners)
    social = _social(db, owned_posts_sql("audience"), ids)
    groups = np.array(["audience"] * len(ids), dtype=object)
    return FeatureTable("audience", ids, groups, churned=np.full(len(ids), np.nan), **social)


# --- social ----------------------------------------------------------------------------------------------


def _social(db: sqlite_utils.Database, owned_sql: str, ids: Sequence[str]) -> dict:
    """``blocks``, ``posts`` and ``sentiment`` of ``ids`` from the posts ``owned_sql`` gives them."""
    index = {owner: row for row, owner in enumerate(ids)}
    params = {**active_models(db), "current": json.dumps(readable_annotators(db))}
    blocks = {name: _count_block(db, name, owned_sql, index, params) for name in BLOCKS}
    posts = np.zeros(len(ids), dtype=np.int64)
    sentiment = np.full(len(ids), np.nan)
    for owner, count, mean in db.conn.execute(
        f"WITH owned AS MATERIALIZED ({owned_sql}) {_POSTS_SQL}", params
    ):
        row = index.get(owner)
        if row is not None:
            posts[row] = count
            sentiment[row] = np.nan if mean is None else mean
    return {"blocks": blocks, "posts": posts, "sentiment": sentiment}


def _count_block(db, name: str, owned_sql: str, index: dict[str, int], params: dict) -> CountBlock:
    """One :class:`CountBlock` over the rows of ``index``, keys in sorted order."""
    found = [
        (owner, str(key), label, count)
        for owner, key, label, count in db.conn.execute(
            f"WITH owned AS MATERIALIZED ({owned_sql}) {_BLOCK_SQL[name]}", params
        )
        if owner in index
    ]
    labels = {key: label for _, key, label, _ in found}
    keys = sorted(labels, key=lambda key: (0, int(key)) if key.lstrip("-").isdigit() else (1, key))
    column = {key: col for col, key in enumerate(keys)}
    counts = np.zeros((len(index), len(keys)), dtype=np.float64)
    for owner, key, _, count in found:
        counts[index[owner], column[key]] += count
    return CountBlock(
        name, tuple(f"{name}:{key}" for key in keys), tuple(labels[key] for key in keys), counts
    )
