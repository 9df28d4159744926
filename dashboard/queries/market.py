"""The brand pages' queries (overview, topics, needs, competitors), cached; pages call these, never SQL.

Every function here reads through the read-only, autocommit connection of :mod:`dashboard.queries.core`
(each query is its own short read transaction) and is cached with ``st.cache_data(ttl=TTL_SECONDS)``; the
filtered ones take a :class:`dashboard.filters.Filters` (frozen, hashable) as their cache key.

**Where the numbers come from.**

- Brand volume, share of voice and sentiment per day read ``brand_daily`` (:mod:`nlp.brand_daily`), a few
  rows per day whatever the number of posts. ``TASTERADAR_DASHBOARD_ROLLUPS=off`` (or an empty
  ``brand_daily``: ``analyze`` has not rebuilt it yet) computes the same rows from the raw tables instead
  (:func:`nlp.brand_daily.rollup_select`): the benchmark's baseline.
- Posts per topic (volume, growth, post-level sentiment) count distinct posts in ``post_topics`` with every
  filter applied. Splits by brand and the brand x topic heatmap read ``topic_daily`` (a post naming two
  brands counts once for each brand), need themes and the sparklines of flagged series read ``theme_daily``
  (the brand a need is raised against) and ``topic_daily``; both have a platform column (migration 9), so the
  platform filter applies to them. The ``emerging`` flags and the switching matrix cover every platform.
- Growth follows :mod:`nlp.topics.export`: the daily rate of the last 7 days of the range against the 28 days
  before (``None`` without a baseline).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import sqlite_utils
import streamlit as st

from dashboard.queries.core import TTL_SECONDS, _frame, connection, database_path
from nlp import brand_daily
from nlp.rollups import PLATFORMS_SQL, switching_matrix
from nlp.topics.export import BASELINE_DAYS, WINDOW_DAYS

if TYPE_CHECKING:
    from dashboard.filters import Filters

__all__ = [
    "OWN_BRAND_ENV", "ROLLUPS_ENV", "brand_days", "brand_options", "brand_topic_sentiment", "data_days",
    "emerging_history", "emerging_items", "emerging_series", "failing_runs", "growth", "labels",
    "need_examples", "own_brand", "platform_options", "post_days", "rollups_used", "source_freshness",
    "switching", "theme_gaps", "theme_table", "topic_brands", "topic_map", "topic_posts", "topic_table",
    "topic_terms", "topic_trend",
]  # fmt: skip

#: ``off``: compute the overview from the raw tables instead of ``brand_daily`` (for the benchmark).
ROLLUPS_ENV = "TASTERADAR_DASHBOARD_ROLLUPS"
#: The own brand's name (``tasteradar dashboard`` may set it); else read from the configuration file.
OWN_BRAND_ENV = "TASTERADAR_BRAND"


# --- sources and options -----------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def rollups_used() -> bool:
    """Whether ``brand_daily`` is read: not switched off and rebuilt at least once (else raw tables)."""
    if os.environ.get(ROLLUPS_ENV, "on").lower() == "off":
        return False
    return bool(_frame("SELECT EXISTS (SELECT 1 FROM brand_daily) AS ready")["ready"].iloc[0])


@st.cache_data(ttl=TTL_SECONDS)
def data_days() -> tuple[date, date] | None:
    """The first and last UTC day with posts, or None when there are none."""
    if rollups_used():
        sql = "SELECT min(day) AS first, max(day) AS last FROM brand_daily WHERE brand = ''"
    else:
        sql = f"""SELECT substr(min(first), 1, 10) AS first, substr(max(last), 1, 10) AS last FROM (
                    SELECT (SELECT min(created_at) FROM posts WHERE platform = name) AS first,
                           (SELECT max(created_at) FROM posts WHERE platform = name) AS last
                    FROM ({PLATFORMS_SQL}))"""
    row = _frame(sql).iloc[0]
    if row["first"] is None or pd.isna(row["first"]):
        return None
    return date.fromisoformat(row["first"]), date.fromisoformat(row["last"])


@st.cache_data(ttl=TTL_SECONDS)
def platform_options() -> list[str]:
    """The platforms that have posts, in name order."""
    if rollups_used():
        return _frame("SELECT DISTINCT platform FROM brand_daily ORDER BY platform")["platform"].tolist()
    return _frame(PLATFORMS_SQL)["name"].tolist()


@st.cache_data(ttl=TTL_SECONDS)
def brand_options() -> list[str]:
    """The brands mentioned in posts: the own brand first, then the others by mentions, most first."""
    if rollups_used():
        sql = "SELECT brand FROM brand_daily WHERE brand != '' GROUP BY brand ORDER BY sum(posts) DESC, brand"
    else:
        sql = "SELECT brand FROM post_mentions GROUP BY brand ORDER BY count(DISTINCT post_id) DESC, brand"
    brands = _frame(sql)["brand"].tolist()
    own = own_brand()
    return ([own] if own in brands else []) + [brand for brand in brands if brand != own]


@st.cache_data(ttl=TTL_SECONDS)
def own_brand() -> str | None:
    """The own brand: ``$TASTERADAR_BRAND``, else ``[brand] name`` of ``$TASTERADAR_CONFIG`` or of the
    ``tasteradar.toml`` beside the database; None when none says."""
    if name := os.environ.get(OWN_BRAND_ENV, "").strip():
        return name
    for path in (os.environ.get("TASTERADAR_CONFIG"), database_path().with_name("tasteradar.toml")):
        if path and Path(path).is_file():
            try:
                name = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("brand", {}).get("name")
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if isinstance(name, str) and name.strip():
                return name.strip()
    return None


@st.cache_data(ttl=TTL_SECONDS)
def labels(kind: str) -> dict[int, str]:
    """Cluster id -> label, for ``topic`` or ``theme``."""
    table, column = {"topic": ("topics", "topic_id"), "theme": ("need_themes", "theme_id")}[kind]
    frame = _frame(f"SELECT {column} AS id, label FROM {table}")
    return dict(zip(frame["id"].astype(int), frame["label"], strict=True))


# --- filter conditions ---------------------------------------------------------------------------------


def _json(values) -> str:
    return json.dumps(list(values))


def _post_conditions(filters: Filters, params: dict, *, brands: bool = True) -> str:
    """SQL conditions on posts ``p`` for the date range, platforms and (``brands``) brands mentioned."""
    params["since"], params["until"] = filters.time_bounds()
    conditions = ["p.created_at >= :since", "p.created_at < :until"]
    if filters.platforms:
        params["platforms"] = _json(filters.platforms)
        conditions.append("p.platform IN (SELECT value FROM json_each(:platforms))")
    if brands and filters.brands:
        params["brands"] = _json(filters.brands)
        conditions.append(
            "EXISTS (SELECT 1 FROM post_mentions AS bm WHERE bm.post_id = p.id"
            " AND bm.brand IN (SELECT value FROM json_each(:brands)))"
        )
    return " AND ".join(conditions)


def _day_conditions(
    filters: Filters, params: dict, *, brand: str | None = "brand", platform: bool = False
) -> str:
    """SQL conditions on a rollup's ``day`` (and ``platform``, and the ``brand`` column when named)."""
    params["first"], params["last"] = filters.day_bounds()
    conditions = ["day >= :first", "day <= :last"]
    if platform and filters.platforms:
        params["platforms"] = _json(filters.platforms)
        conditions.append("platform IN (SELECT value FROM json_each(:platforms))")
    if brand and filters.brands:
        params["brands"] = _json(filters.brands)
        conditions.append(f"{brand} IN (SELECT value FROM json_each(:brands))")
    return " AND ".join(conditions)


def _days(frame: pd.DataFrame, column: str = "day") -> pd.DataFrame:
    frame[column] = pd.to_datetime(frame[column])
    return frame


def growth(window: float, baseline: float) -> float | None:
    """The daily rate of the last :data:`WINDOW_DAYS` against the :data:`BASELINE_DAYS` before (None
    without a baseline), as :func:`nlp.topics.export.topic_records` computes it."""
    rate = baseline / BASELINE_DAYS
    return round((window / WINDOW_DAYS) / rate, 4) if rate else None


def _trend_bounds(filters: Filters) -> tuple[str, str, str]:
    """``(baseline start, window start, last day)`` of the growth measured at the end of the range."""
    end = filters.until or (data_days() or (date.today(), date.today()))[1]
    window = end - timedelta(days=WINDOW_DAYS - 1)
    return (window - timedelta(days=BASELINE_DAYS)).isoformat(), window.isoformat(), end.isoformat()


# --- overview ------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def brand_days(filters: Filters) -> pd.DataFrame:
    """Per day and brand (every brand: shares need them all; ``filters.brands`` is ignored): posts naming the
    brand, sentiment counts toward it and the score sum, over the range and platforms of ``filters``."""
    params: dict = {}
    if rollups_used():
        where = _day_conditions(filters, params, brand=None, platform=True)
        source = f"SELECT * FROM brand_daily WHERE brand != '' AND {where}"
    else:
        source = brand_daily.brand_posts_select(_post_conditions(filters, params, brands=False))
    sql = f"""SELECT day, brand, sum(posts) AS posts, sum(positive) AS positive, sum(neutral) AS neutral,
                     sum(negative) AS negative, sum(sentiment_sum) AS sentiment_sum
              FROM ({source}) GROUP BY day, brand ORDER BY day, brand"""
    return _days(_frame(sql, params))


@st.cache_data(ttl=TTL_SECONDS)
def post_days(filters: Filters) -> pd.DataFrame:
    """Per day and platform: every post (brands ignored) and its post-level sentiment counts."""
    params: dict = {}
    if rollups_used():
        where = _day_conditions(filters, params, brand=None, platform=True)
        sql = f"""SELECT day, platform, posts, positive, neutral, negative, sentiment_sum FROM brand_daily
                  WHERE brand = '' AND {where} ORDER BY day, platform"""
    else:
        source = brand_daily.all_posts_select(_post_conditions(filters, params, brands=False))
        sql = f"""SELECT day, platform, posts, positive, neutral, negative, sentiment_sum FROM ({source})
                  ORDER BY day, platform"""
    return _days(_frame(sql, params))


@st.cache_data(ttl=TTL_SECONDS)
def source_freshness() -> pd.DataFrame:
    """Per source: posts stored, newest post, last successful collection, last run and failures in 7 days."""
    platforms = _frame(
        f"""SELECT name AS source, (SELECT max(created_at) FROM posts WHERE platform = name) AS newest_post
            FROM ({PLATFORMS_SQL})"""
    )
    runs = _frame(
        """SELECT source, max(CASE WHEN status = 'ok' THEN finished_at END) AS last_success,
                  (SELECT r.status FROM collection_runs AS r WHERE r.source = c.source ORDER BY r.id DESC
                   LIMIT 1) AS last_run_status,
                  sum(status = 'failed' AND started_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-7 days'))
                      AS failed_7d
           FROM collection_runs AS c GROUP BY source"""
    )
    merged = platforms.merge(runs, on="source", how="outer")
    merged["failed_7d"] = merged["failed_7d"].fillna(0).astype(int)
    return merged.sort_values("source").reset_index(drop=True)


@st.cache_data(ttl=TTL_SECONDS)
def failing_runs() -> pd.DataFrame:
    """The (source, query) pairs whose latest collection run failed or was partial, with its error."""
    return _frame(
        """SELECT source, query, status, started_at, error FROM collection_runs
           WHERE id IN (SELECT max(id) FROM collection_runs GROUP BY source, query)
             AND status IN ('failed', 'partial')
           ORDER BY started_at DESC"""
    )


@st.cache_data(ttl=TTL_SECONDS)
def emerging_items(filters: Filters) -> pd.DataFrame:
    """Series flagged emerging on days of the range, one row each (at its latest flag), newest first.

    Columns: kind, key, label, first_flagged, last_flagged, days_flagged, window_count, expected, ratio,
    q_value, drivers (the terms that grew most, as text), brands (brand: posts in its window). With brands
    selected, only series whose flagged window mentions one of them.
    """
    params: dict = {}
    flags = _frame(
        f"""SELECT kind, key, day, window_count, expected, ratio, q_value, explanation FROM emerging
            WHERE {_day_conditions(filters, params, brand=None)} ORDER BY day""",
        params,
    )
    if flags.empty:
        return flags.assign(
            label=[], first_flagged=[], last_flagged=[], days_flagged=[], drivers=[], brands=[]
        )
    grouped = flags.groupby(["kind", "key"], sort=False)
    latest = grouped.tail(1).set_index(["kind", "key"])
    latest["first_flagged"] = grouped["day"].min()
    latest["days_flagged"] = grouped["day"].count()
    latest = latest.reset_index().rename(columns={"day": "last_flagged"})
    explained = [json.loads(text) for text in latest.pop("explanation")]
    latest["drivers"] = [", ".join(term for term, *_ in item.get("drivers", [])) for item in explained]
    latest["brands"] = [
        ", ".join(f"{brand}: {count}" for brand, count in item.get("brands", {}).items())
        for item in explained
    ]
    if filters.brands:
        keep = [bool(set(item.get("brands", {})) & set(filters.brands)) for item in explained]
        latest = latest[keep]
    latest["label"] = [_label(kind, key) for kind, key in zip(latest["kind"], latest["key"], strict=True)]
    latest = latest.sort_values(["last_flagged", "ratio"], ascending=[False, False])
    columns = ["kind", "key", "label", "first_flagged", "last_flagged", "days_flagged", "window_count"]
    return latest[columns + ["expected", "ratio", "q_value", "drivers", "brands"]].reset_index(drop=True)


def _label(kind: str, key: str) -> str:
    """A series' readable name: the topic's or theme's label, or the term itself."""
    if kind == "term":
        return key
    return labels(kind).get(int(key), f"{kind} {key}")


@st.cache_data(ttl=TTL_SECONDS)
def emerging_series(
    kind: str, keys: tuple[str, ...], filters: Filters, days: int = 56
) -> dict[str, list[int]]:
    """Daily counts of the last ``days`` days of the range for topics (``topic_daily``, a post naming two
    brands counts for each) or themes (``theme_daily``, need rows), for sparklines; terms get none."""
    if kind not in ("topic", "theme") or not keys:
        return {}
    end = filters.until or (data_days() or (date.today(),) * 2)[1]
    start = max(end - timedelta(days=days - 1), filters.since or date.min)
    table, column, value = {
        "topic": ("topic_daily", "topic_id", "posts"),
        "theme": ("theme_daily", "theme_id", "needs"),
    }[kind]
    params: dict = {"ids": _json(int(key) for key in keys)}
    where = _day_conditions(replace(filters, since=start, until=end), params, platform=True)
    frame = _frame(
        f"""SELECT {column} AS id, day, sum({value}) AS n FROM {table}
            WHERE {column} IN (SELECT value FROM json_each(:ids)) AND {where} GROUP BY 1, 2""",
        params,
    )
    index = {(start + timedelta(days=i)).isoformat(): i for i in range((end - start).days + 1)}
    series = {key: [0] * len(index) for key in keys}
    for topic, day, count in frame.itertuples(index=False):
        series[str(topic)][index[day]] = int(count)
    return series


@st.cache_data(ttl=TTL_SECONDS)
def emerging_history(
    kind: str, key: str, filters: Filters
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """One flagged series: its flags in the range (day, window_count, expected, ratio, q_value), the terms
    that drove its latest flag (term, window_count, expected) and the brands of that flag's window."""
    params: dict = {"kind": kind, "key": str(key)}
    flags = _frame(
        f"""SELECT day, window_count, expected, ratio, q_value, explanation FROM emerging
            WHERE kind = :kind AND key = :key AND {_day_conditions(filters, params, brand=None)}
            ORDER BY day""",
        params,
    )
    explanation = json.loads(flags["explanation"].iloc[-1]) if not flags.empty else {}
    drivers = pd.DataFrame(explanation.get("drivers", []), columns=["term", "window_count", "expected"])
    return _days(flags.drop(columns=["explanation"])), drivers, explanation.get("brands", {})


# --- topics --------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def topic_table(filters: Filters) -> pd.DataFrame:
    """Per topic with posts in the range (distinct posts, every filter applied): label, posts, share of the
    range's topic posts, positive/negative counts, net sentiment, posts in the last 7 days of the range and
    growth (against the 28 days before, read even when they fall before the range), most first.

    Posts are read in table order and their topic and sentiment by primary key: 4.5 s for 1,000,000 posts,
    0.8 s for a month of them (through the topic index and a lookup per post: 12 s and 6.6 s)."""
    params: dict = {}
    params["baseline"], params["window"], _ = _trend_bounds(filters)
    params["start"] = filters.day_bounds()[0]
    reach = min(filters.since or date.min, date.fromisoformat(params["baseline"]))
    in_range = "p.created_at >= :start"
    frame = _frame(
        f"""SELECT t.topic_id,
                   total({in_range}) AS posts,
                   total({in_range} AND s.label = 'positive') AS positive,
                   total({in_range} AND s.label = 'negative') AS negative,
                   total({in_range} AND s.label IS NOT NULL) AS labelled,
                   total(p.created_at >= :window) AS posts_7d,
                   total(p.created_at >= :baseline AND p.created_at < :window) AS baseline_posts
            FROM posts AS p NOT INDEXED
            JOIN post_topics AS t ON t.post_id = p.id
            LEFT JOIN post_sentiment AS s
                ON s.rowid = (SELECT min(x.rowid) FROM post_sentiment AS x WHERE x.post_id = t.post_id)
            WHERE t.topic_id >= 0 AND {_post_conditions(replace(filters, since=reach), params)}
            GROUP BY t.topic_id""",
        params,
    )
    frame = frame[frame["posts"] > 0].astype({"posts": int, "posts_7d": int})
    names = labels("topic")
    frame.insert(1, "label", [names.get(int(topic), f"topic {topic}") for topic in frame["topic_id"]])
    frame["share"] = frame["posts"] / max(int(frame["posts"].sum()), 1)
    frame["net_sentiment"] = (frame["positive"] - frame["negative"]) / frame["labelled"].where(
        frame["labelled"] > 0
    )
    frame["growth"] = [growth(w, b) for w, b in zip(frame["posts_7d"], frame["baseline_posts"], strict=True)]
    return (
        frame.drop(columns=["labelled", "baseline_posts"])
        .sort_values("posts", ascending=False)
        .reset_index(drop=True)
    )


@st.cache_data(ttl=TTL_SECONDS)
def topic_brands(filters: Filters) -> pd.DataFrame:
    """Per topic and brand (``topic_daily``, range, platforms and brands of ``filters``): posts naming the
    brand, with the sentiment toward it."""
    params: dict = {}
    where = _day_conditions(filters, params, platform=True)
    return _frame(
        f"""SELECT topic_id, brand, sum(posts) AS posts, sum(positive) AS positive, sum(negative) AS negative,
                   sum(positive + neutral + negative) AS labelled
            FROM topic_daily WHERE brand != '' AND topic_id >= 0 AND {where}
            GROUP BY topic_id, brand""",
        params,
    )


@st.cache_data(ttl=TTL_SECONDS)
def topic_trend(filters: Filters, topic_id: int) -> pd.DataFrame:
    """Posts of one topic per day (distinct posts, every filter applied)."""
    params: dict = {"topic": int(topic_id)}
    sql = f"""SELECT substr(p.created_at, 1, 10) AS day, count(*) AS posts
              FROM post_topics AS t JOIN posts AS p ON p.id = t.post_id
              WHERE t.topic_id = :topic AND {_post_conditions(filters, params)}
              GROUP BY day ORDER BY day"""
    return _days(_frame(sql, params))


@st.cache_data(ttl=TTL_SECONDS)
def topic_terms(topic_id: int) -> pd.DataFrame:
    """The topic's top terms with their c-TF-IDF weights, strongest first."""
    frame = _frame("SELECT terms FROM topics WHERE topic_id = ?", (int(topic_id),))
    terms = json.loads(frame["terms"].iloc[0]) if not frame.empty else []
    return pd.DataFrame(terms, columns=["term", "weight"])


@st.cache_data(ttl=TTL_SECONDS)
def topic_posts(filters: Filters, topic_id: int, n: int = 8) -> pd.DataFrame:
    """The posts of the range nearest the topic's centroid (highest assignment score), one per distinct text
    (as :func:`nlp.topics.export.representative_posts`), with every filter applied."""
    params: dict = {"topic": int(topic_id), "limit": n * 10}
    frame = _frame(
        f"""SELECT p.created_at, p.platform, p.author_handle AS author, p.text, t.score
            FROM post_topics AS t JOIN posts AS p ON p.id = t.post_id
            WHERE t.topic_id = :topic AND {_post_conditions(filters, params)}
            ORDER BY t.score DESC LIMIT :limit""",
        params,
    )
    key = frame["text"].str.lower().str.split().str.join(" ")
    return frame[~key.duplicated()].head(n).reset_index(drop=True)


@st.cache_data(ttl=TTL_SECONDS)
def topic_map() -> pd.DataFrame:
    """The active topic model's centroids projected to 2D (PCA: the top two right singular vectors of the
    centred centroids), with each topic's id, label and size; empty before the first fit."""
    from nlp.topics.model import TopicModel  # scipy and safetensors: only this page needs them
    from nlp.topics.persist import active_model

    conn = connection(str(database_path()))
    active = active_model(
        sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False), "topic"
    )
    if active is None:
        return pd.DataFrame(columns=["topic_id", "label", "size", "x", "y"])
    model = TopicModel.load(database_path().parent / "models" / active.path)
    centred = model.centroids - model.centroids.mean(axis=0)
    _, _, components = np.linalg.svd(centred, full_matrices=False)
    points = centred @ components[:2].T if len(components) >= 2 else np.zeros((len(model.topics), 2))
    return pd.DataFrame(
        {
            "topic_id": [topic.topic_id for topic in model.topics],
            "label": [topic.label for topic in model.topics],
            "size": [topic.size for topic in model.topics],
            "x": points[:, 0],
            "y": points[:, 1],
        }
    )


# --- needs ---------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def theme_table(filters: Filters) -> pd.DataFrame:
    """Per need theme with need rows in the range (``theme_daily``, platforms of ``filters``; brands: the
    brand a need is raised against): label, needs, needs in the last 7 days of the range, growth, net
    sentiment, raised against (brand: rows), most first."""
    params: dict = {}
    params["baseline"], params["window"], params["end"] = _trend_bounds(filters)
    where = _day_conditions(filters, params, platform=True)
    frame = _frame(
        f"""SELECT theme_id, sum(needs) AS needs, sum(positive) AS positive, sum(negative) AS negative,
                   sum(positive + neutral + negative) AS labelled
            FROM theme_daily WHERE theme_id >= 0 AND {where} GROUP BY theme_id""",
        params,
    )
    recent = _frame(
        f"""SELECT theme_id, total(CASE WHEN day >= :window THEN needs END) AS needs_7d,
                   total(CASE WHEN day < :window THEN needs END) AS baseline_needs
            FROM theme_daily WHERE theme_id >= 0 AND day >= :baseline AND day <= :end
            {"AND platform IN (SELECT value FROM json_each(:platforms))" if filters.platforms else ""}
            {"AND brand IN (SELECT value FROM json_each(:brands))" if filters.brands else ""}
            GROUP BY theme_id""",
        params,
    )
    against = _frame(
        f"""SELECT theme_id, brand, sum(needs) AS needs FROM theme_daily
            WHERE theme_id >= 0 AND brand != '' AND {where} GROUP BY theme_id, brand ORDER BY needs DESC""",
        params,
    )
    columns = ["theme_id", "label", "needs", "needs_7d", "growth", "net_sentiment", "raised_against"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    frame = frame.merge(recent, on="theme_id", how="left").fillna({"needs_7d": 0, "baseline_needs": 0})
    names = labels("theme")
    frame.insert(1, "label", [names.get(int(theme), f"theme {theme}") for theme in frame["theme_id"]])
    frame["growth"] = [growth(w, b) for w, b in zip(frame["needs_7d"], frame["baseline_needs"], strict=True)]
    frame["net_sentiment"] = (frame["positive"] - frame["negative"]) / frame["labelled"].where(
        frame["labelled"] > 0
    )
    split = against.groupby("theme_id").apply(
        lambda rows: ", ".join(f"{b}: {n}" for b, n in zip(rows["brand"], rows["needs"], strict=True)),
        include_groups=False,
    )
    frame["raised_against"] = frame["theme_id"].map(split).fillna("") if len(split) else ""
    return frame[columns].sort_values("needs", ascending=False).reset_index(drop=True)


@st.cache_data(ttl=TTL_SECONDS * 10)
def theme_gaps(own: str) -> pd.DataFrame:
    """The competitor gap of every need theme (all time: :func:`nlp.topics.theme_export.theme_records`):
    theme_id, competitors praised for it (brand: posts) and whether it is a gap for ``own``."""
    from nlp.topics.theme_export import theme_records  # numpy-heavy: only this page needs it

    records = list(theme_records(connection(str(database_path())), own))
    return pd.DataFrame(
        {
            "theme_id": [record["theme_id"] for record in records],
            "competitors_praised": [
                ", ".join(f"{brand}: {n}" for brand, n in record["competitors_praised"].items())
                for record in records
            ],
            "competitor_gap": [record["competitor_gap"] for record in records],
        },
        columns=["theme_id", "competitors_praised", "competitor_gap"],
    ).astype({"theme_id": "int64", "competitor_gap": bool})


@st.cache_data(ttl=TTL_SECONDS)
def need_examples(filters: Filters, theme_id: int, n: int = 8) -> pd.DataFrame:
    """Recent need rows of one theme with their posts (every filter applied), newest first."""
    params: dict = {"theme": int(theme_id), "limit": n}
    return _frame(
        f"""SELECT p.created_at, p.platform, n.kind, n.phrase AS need, n.brand AS raised_against, p.text
            FROM post_need_themes AS t
            JOIN posts AS p ON p.id = t.post_id
            LEFT JOIN post_needs AS n ON n.post_id = t.post_id AND n.start_char = t.start_char
            WHERE t.theme_id = :theme AND {_post_conditions(filters, params)}
            ORDER BY p.created_at DESC LIMIT :limit""",
        params,
    )


# --- competitors ---------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def brand_topic_sentiment(filters: Filters) -> pd.DataFrame:
    """Per brand and topic (``topic_daily``, every filter): posts naming the brand and the net sentiment
    toward it ((positive - negative) / labelled), with the topic's label."""
    frame = topic_brands(filters)
    names = labels("topic")
    frame["label"] = [names.get(int(topic), f"topic {topic}") for topic in frame["topic_id"]]
    frame["net_sentiment"] = (frame["positive"] - frame["negative"]) / frame["labelled"].where(
        frame["labelled"] > 0
    )
    return frame


@st.cache_data(ttl=TTL_SECONDS)
def switching(filters: Filters) -> pd.DataFrame:
    """Posts per ISO week (its Monday) and from -> to brand (:func:`nlp.rollups.switching_matrix`) in the
    range; with brands selected, the moves from or to one of them. Every platform."""
    since, until = filters.time_bounds()
    span = data_days()
    if span and (filters.since or date.min) <= span[0] and (filters.until or date.max) >= span[1]:
        since = until = None  # all of it: scanning the intents beats reading every post through the index
    rows = switching_matrix(connection(str(database_path())), since=since, until=until)
    frame = pd.DataFrame(rows, columns=["week", "from_brand", "to_brand", "posts"])
    if filters.brands:
        chosen = set(filters.brands)
        frame = frame[frame["from_brand"].isin(chosen) | frame["to_brand"].isin(chosen)]
    return _days(frame.reset_index(drop=True), "week")
