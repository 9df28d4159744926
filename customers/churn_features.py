"""Per-customer churn features: CRM fields for everyone, social signals only through consented links.

:func:`build_features` returns a :class:`ChurnFeatures`: a float matrix with one row per customer and named
columns, the churn label where the CRM knows it, which customers opted in, and the display context (brand
names) the churn model phrases its factors from.

**CRM columns.** ``tenure_months``, ``monthly_charge`` and ``total_charges``, each with a missing value
imputed by the median and flagged in ``<name>_missing`` (the IBM telco table leaves ``TotalCharges`` blank
for new customers); ``contract=<value>`` and ``plan=<value>`` one-hot; and the ``attributes`` JSON keys
present in at least half of the customers: numbers as they are (``attr:support_calls_90d``), booleans and
yes/no strings as 0/1 (``attr:autopay``), other strings with at most :data:`MAX_LEVELS` distinct values
one-hot (``attr:InternetService=DSL``). Keys that name churn are skipped: they would be the label itself.

**Social columns** (:data:`SOCIAL_COLUMNS`) come only from posts of authors in ``customer_links``, the table
that consented linking fills; nobody else's posts are read. They count posts created up to ``now``:

- ``has_social`` 1 when the customer has a linked post, ``posts`` how many;
- ``intent_switching`` (switching or considering), ``intent_cancel`` (cancel or port out), ``intent_leaving``,
  ``intent_switched``: posts with that intent away from the own brand (intents toward it are left out);
- ``sentiment_mean`` the mean post sentiment (``post_sentiment`` score in [-1, 1]) and
  ``sentiment_change_30d`` the mean of the last 30 days minus the mean before (0 unless both have posts);
- ``competitor_praise`` positive mentions of any brand but the own one (``brand_sentiment``) and
  ``own_brand_negative`` negative mentions of the own brand.

Customers without linked posts get 0 in every social column. Three queries read the social signals of all
customers at once (each goes from ``customer_links`` through ``authors`` to ``posts`` by the ``author_id``
index), so the cost grows with the number of linked posts, not of customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import sqlite_utils

from store import from_iso, to_iso, utc_now
from store.customers import parse_attributes

__all__ = [
    "CRM_NUMBERS",
    "MAX_LEVELS",
    "RECENT_DAYS",
    "SOCIAL_COLUMNS",
    "ChurnFeatures",
    "build_features",
    "opted_in_ids",
]

#: CRM number columns of ``customers``, imputed by the median when missing.
CRM_NUMBERS = ("tenure_months", "monthly_charge", "total_charges")
#: Social columns, all 0 for a customer without linked posts.
SOCIAL_COLUMNS = (
    "has_social",
    "posts",
    "intent_switching",
    "intent_cancel",
    "intent_leaving",
    "intent_switched",
    "sentiment_mean",
    "sentiment_change_30d",
    "competitor_praise",
    "own_brand_negative",
)
#: The window of "recent" sentiment, in days before ``now``.
RECENT_DAYS = 30
#: A string attribute (or contract, plan) with more distinct values than this is not used.
MAX_LEVELS = 12
#: An attribute key must be present (not null) in at least this share of customers.
MIN_PRESENT = 0.5
#: Intent kinds per intent column.
INTENT_GROUPS = {
    "switching": "intent_switching",
    "considering": "intent_switching",
    "cancel": "intent_cancel",
    "port_out": "intent_cancel",
    "leaving": "intent_leaving",
    "switched": "intent_switched",
}
_YES = frozenset({"yes", "y", "true", "t"})
_NO = frozenset({"no", "n", "false", "f"})


@dataclass(slots=True)
class ChurnFeatures:
    """Churn features of every customer, indexed by ``customer_id``.

    ``matrix`` holds floats only (no missing values); ``groups`` maps each column to the factor it belongs to
    (``contract=12-month`` -> ``contract``), so a one-hot field is explained as one factor, and ``kinds``
    says what each factor is (``number``, ``flag``, ``category`` or ``social``); ``labels`` is 1.0
    (churned), 0.0 (stayed) or NaN (unknown); ``opted_in`` is True for customers with a link or a consented
    handle; ``context`` holds brand names for the phrases: ``switch_to``, ``switched_to``, ``praised``.
    """

    matrix: pd.DataFrame
    groups: dict[str, str]
    kinds: dict[str, str]
    labels: pd.Series
    opted_in: pd.Series
    context: pd.DataFrame
    own_brand: str
    now: datetime
    crm_columns: list[str] = field(default_factory=list)

    def crm_only(self) -> ChurnFeatures:
        """These features without the social columns (the CRM-only model's input)."""
        return ChurnFeatures(
            matrix=self.matrix[self.crm_columns].copy(),
            groups={column: self.groups[column] for column in self.crm_columns},
            kinds={group: kind for group, kind in self.kinds.items() if kind != "social"},
            labels=self.labels,
            opted_in=self.opted_in,
            context=self.context,
            own_brand=self.own_brand,
            now=self.now,
            crm_columns=list(self.crm_columns),
        )


def build_features(
    db: sqlite_utils.Database, *, own_brand: str, now: datetime | None = None
) -> ChurnFeatures:
    """Churn features of every customer in ``db`` (see the module docstring).

    ``own_brand`` is the configured brand name (``[brand] name``), as the annotators store it. ``now`` ends
    the window of posts read and of the recent-sentiment period; by default the newest post's time, so an
    imported history is judged on its own clock. Raises ``ValueError`` when ``db`` has no customers.
    """
    if not own_brand or not own_brand.strip():
        raise ValueError(
            "own_brand is empty: pass the configured brand name ([brand] name in tasteradar.toml)"
        )
    now = now or _newest_post(db) or utc_now()
    crm = pd.read_sql_query(
        "SELECT customer_id, plan, contract, tenure_months, monthly_charge, total_charges, churned, "
        "attributes FROM customers ORDER BY customer_id",
        db.conn,
    ).set_index("customer_id")
    if crm.empty:
        raise ValueError(
            "no customers in the database: import a CRM file first (tasteradar customers import)"
        )
    crm_part, groups, kinds = _crm_matrix(crm)
    social, context = _social_matrix(db, crm.index, own_brand=own_brand, now=now)
    groups.update({column: column for column in SOCIAL_COLUMNS})
    kinds.update({column: "social" for column in SOCIAL_COLUMNS})
    opted = pd.Series(crm.index.isin(opted_in_ids(db)), index=crm.index, name="opted_in")
    return ChurnFeatures(
        matrix=pd.concat([crm_part, social], axis=1).astype(float),
        groups=groups,
        kinds=kinds,
        labels=crm["churned"].astype(float),
        opted_in=opted,
        context=context,
        own_brand=own_brand,
        now=now,
        crm_columns=list(crm_part.columns),
    )


def opted_in_ids(db: sqlite_utils.Database) -> set[str]:
    """Ids of the customers who opted in: linked through ``customer_links`` or holding a consented handle."""
    rows = db.conn.execute(
        "SELECT customer_id FROM customer_links "
        "UNION SELECT customer_id FROM customer_handles WHERE consent = 1"
    )
    return {row[0] for row in rows}


def _newest_post(db: sqlite_utils.Database) -> datetime | None:
    """The ``created_at`` of the newest post (None without posts)."""
    row = db.conn.execute("SELECT MAX(created_at) FROM posts").fetchone()
    return from_iso(row[0]) if row and row[0] else None


# --- CRM ---------------------------------------------------------------------------------------------------


def _crm_matrix(crm: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The CRM columns, their factor groups (column -> group) and the kind of each group."""
    parts: dict[str, pd.DataFrame] = {}
    kinds: dict[str, str] = {}
    for name in CRM_NUMBERS:
        parts[name] = _imputed(pd.to_numeric(crm[name], errors="coerce"), name)
        kinds[name] = "number"
    for name in ("contract", "plan"):
        parts[name] = _one_hot(crm[name], name)
        kinds[name] = "category"
    attributes = _attribute_frame(crm["attributes"])
    for key in _usable_keys(attributes):
        parts[f"attr:{key}"], kinds[f"attr:{key}"] = _attribute_columns(attributes[key], f"attr:{key}")
    groups = {column: group for group, part in parts.items() for column in part.columns}
    used = set(groups.values())
    return pd.concat(parts.values(), axis=1), groups, {g: k for g, k in kinds.items() if g in used}


def _imputed(values: pd.Series, name: str) -> pd.DataFrame:
    """``values`` with missing ones set to the median, plus ``<name>_missing`` when any is missing."""
    frame = pd.DataFrame(index=values.index)
    missing = values.isna()
    median = values.median() if not missing.all() else 0.0
    frame[name] = values.fillna(median)
    if missing.any():
        frame[f"{name}_missing"] = missing.astype(float)
    return frame


def _one_hot(values: pd.Series, name: str) -> pd.DataFrame:
    """``<name>=<value>`` columns (no column for a missing value); none when there are too many values."""
    text = values.astype("string").str.strip()
    levels = sorted(level for level in text.dropna().unique() if level)
    if not levels or len(levels) > MAX_LEVELS:
        return pd.DataFrame(index=values.index)
    return pd.DataFrame(
        {f"{name}={level}": (text == level).fillna(False).astype(float) for level in levels},
        index=values.index,
    )


def _attribute_frame(raw: pd.Series) -> pd.DataFrame:
    """The ``attributes`` JSON of every customer as a frame (one column per key)."""
    records = [parse_attributes(text) for text in raw]
    return pd.DataFrame.from_records(records, index=raw.index)


def _usable_keys(attributes: pd.DataFrame) -> list[str]:
    """Attribute keys present in most rows, excluding ones that name churn."""
    if attributes.empty:
        return []
    present = attributes.notna().mean()
    keys = [str(key) for key in attributes.columns if present[key] >= MIN_PRESENT]
    return sorted(key for key in keys if "churn" not in key.lower())


def _attribute_columns(values: pd.Series, name: str) -> tuple[pd.DataFrame, str]:
    """One attribute as a 0/1 flag, a number or one-hot columns (missing: median and a flag), and its kind."""
    present = values.dropna()
    if len(present) and present.map(_flag).notna().all():
        return _imputed(values.map(_flag).astype(float), name), "flag"
    if len(present) and present.map(_number).notna().all():
        return _imputed(values.map(_number).astype(float), name), "number"
    return _one_hot(values.map(lambda value: None if _missing(value) else str(value)), name), "category"


def _missing(value) -> bool:
    """Whether an attribute value is missing (None or NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _flag(value) -> float | None:
    """1.0 / 0.0 for a boolean or a yes/no/true/false string; None for anything else."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        word = value.strip().lower()
        return 1.0 if word in _YES else 0.0 if word in _NO else None
    return None


def _number(value) -> float | None:
    """A finite number (int, float or numeric string) as a float; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# --- social ------------------------------------------------------------------------------------------------

#: The posts of linked authors up to ``now`` (``posts.author_id`` is the native id of ``authors``), as a
#: materialised CTE that each query joins by ``post_id``. Left to itself, SQLite's planner starts from the
#: annotation tables or the (platform, created_at) index and scans a whole platform per row (100x slower on
#: the demo world); the unary ``+`` keeps it on the ``author_id`` index.
_LINKED = """
WITH linked AS MATERIALIZED (
    SELECT l.customer_id, p.id AS post_id, +p.created_at >= :cutoff AS recent
    FROM customer_links AS l JOIN authors AS a ON a.id = l.author_id
    JOIN posts AS p ON p.author_id = a.native_id AND +p.platform = a.platform AND +p.created_at <= :now
)"""

_POSTS_SQL = f"""{_LINKED}, scored AS MATERIALIZED (
    SELECT customer_id, recent,
           (SELECT AVG(s.score) FROM post_sentiment AS s WHERE s.post_id = linked.post_id) AS score
    FROM linked
)
SELECT customer_id, COUNT(*) AS posts, COUNT(score) AS scored, TOTAL(score) AS total,
       COUNT(CASE WHEN recent THEN score END) AS recent,
       TOTAL(CASE WHEN recent THEN score END) AS recent_total
FROM scored GROUP BY customer_id"""

_INTENTS_SQL = f"""{_LINKED}
SELECT linked.customer_id, i.intent, i.to_brand, COUNT(DISTINCT i.post_id) AS posts
FROM linked JOIN post_intents AS i ON i.post_id = linked.post_id
WHERE (i.from_brand IS NULL OR lower(i.from_brand) = :own)
  AND (i.to_brand IS NULL OR lower(i.to_brand) != :own)
GROUP BY 1, 2, 3"""

_BRANDS_SQL = f"""{_LINKED}
SELECT linked.customer_id, b.brand, b.label, COUNT(DISTINCT b.post_id) AS posts
FROM linked JOIN brand_sentiment AS b ON b.post_id = linked.post_id AND b.label != 'neutral'
GROUP BY 1, 2, 3"""


def _social_matrix(
    db: sqlite_utils.Database, index: pd.Index, *, own_brand: str, now: datetime
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The social columns (zeros for customers without linked posts) and the brand-name context."""
    params = {
        "now": to_iso(now),
        "cutoff": to_iso(now - timedelta(days=RECENT_DAYS)),
        "own": own_brand.strip().lower(),
    }
    posts = _posts_columns(pd.read_sql_query(_POSTS_SQL, db.conn, params=params))
    intents = pd.read_sql_query(_INTENTS_SQL, db.conn, params=params)
    brands = pd.read_sql_query(_BRANDS_SQL, db.conn, params=params)
    brands["own"] = brands["brand"].str.strip().str.lower() == params["own"]
    praise = brands[(brands["label"] == "positive") & ~brands["own"]]
    negative = brands[(brands["label"] == "negative") & brands["own"]]
    intents["column"] = intents["intent"].map(INTENT_GROUPS)
    intents = intents.dropna(subset=["column"])
    social = pd.concat(
        [
            posts,
            intents.pivot_table(index="customer_id", columns="column", values="posts", aggfunc="sum"),
            praise.groupby("customer_id")["posts"].sum().rename("competitor_praise"),
            negative.groupby("customer_id")["posts"].sum().rename("own_brand_negative"),
        ],
        axis=1,
    )
    social = social.reindex(index=index, columns=list(SOCIAL_COLUMNS)).fillna(0.0).astype(float)
    intents["slot"] = np.where(intents["intent"] == "switched", "switched_to", "switch_to")
    context = pd.concat(
        [
            _most_named(intents[intents["slot"] == "switch_to"], "to_brand", "switch_to"),
            _most_named(intents[intents["slot"] == "switched_to"], "to_brand", "switched_to"),
            _most_named(praise, "brand", "praised"),
        ],
        axis=1,
    )
    context = context.reindex(index=index, columns=["switch_to", "switched_to", "praised"])
    return social, context.astype(object).where(context.notna(), None)


def _posts_columns(rows: pd.DataFrame) -> pd.DataFrame:
    """``has_social``, ``posts``, ``sentiment_mean``, ``sentiment_change_30d`` from the per-customer sums."""
    before = rows["scored"] - rows["recent"]
    recent_mean = rows["recent_total"] / rows["recent"].where(rows["recent"] > 0)
    before_mean = (rows["total"] - rows["recent_total"]) / before.where(before > 0)
    frame = pd.DataFrame(
        {
            "has_social": (rows["posts"] > 0).astype(float),
            "posts": rows["posts"].astype(float),
            "sentiment_mean": (rows["total"] / rows["scored"].where(rows["scored"] > 0)).fillna(0.0),
            "sentiment_change_30d": (recent_mean - before_mean).fillna(0.0),
        }
    )
    frame.index = rows["customer_id"]
    return frame


def _most_named(rows: pd.DataFrame, column: str, name: str) -> pd.Series:
    """Per customer, the value of ``column`` with the most posts (ties: alphabetical), named ``name``."""
    named = rows.dropna(subset=[column])
    if named.empty:
        return pd.Series(dtype=object, name=name)
    totals = named.groupby(["customer_id", column], as_index=False)["posts"].sum()
    totals = totals.sort_values(["customer_id", "posts", column], ascending=[True, False, True])
    return totals.drop_duplicates("customer_id").set_index("customer_id")[column].rename(name)
