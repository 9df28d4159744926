"""Every query the dashboard runs, cached; pages call these and never touch SQL.

The connection is read-only (``mode=ro``) and in autocommit mode: each query is its own short read
transaction that ends when its rows are fetched, so no read transaction stays open across a page render
(an open one would let the write-ahead log grow without bound while collectors write).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pandas as pd
import streamlit as st

TTL_SECONDS = 60


def database_path() -> Path:
    """The database the dashboard shows: ``TASTERADAR_DB`` (set by ``tasteradar dashboard``)."""
    value = os.environ.get("TASTERADAR_DB")
    if not value:
        raise RuntimeError("TASTERADAR_DB is not set: start the dashboard with `tasteradar dashboard`")
    return Path(value)


@st.cache_resource
def connection(path: str) -> sqlite3.Connection:
    """One read-only, autocommit connection per database path, shared by sessions (SQLite serialises)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA query_only = ON")
    return conn


def _frame(sql: str, params: tuple = ()) -> pd.DataFrame:
    """Run one read query to completion and return its rows."""
    return pd.read_sql_query(sql, connection(str(database_path())), params=params)


@st.cache_data(ttl=TTL_SECONDS)
def totals() -> dict[str, int]:
    """Headline counts: posts, authors, customers, opted-in handles."""
    frame = _frame(
        """SELECT (SELECT COUNT(*) FROM posts) AS posts,
                  (SELECT COUNT(*) FROM authors) AS authors,
                  (SELECT COUNT(*) FROM customers) AS customers,
                  (SELECT COUNT(*) FROM customer_handles WHERE consent = 1) AS opted_in"""
    )
    return {key: int(value) for key, value in frame.iloc[0].items()}


@st.cache_data(ttl=TTL_SECONDS)
def daily_volume() -> pd.DataFrame:
    """Posts per day and platform (columns: day, platform, posts)."""
    frame = _frame(
        """SELECT substr(created_at, 1, 10) AS day, platform, COUNT(*) AS posts
           FROM posts GROUP BY day, platform ORDER BY day"""
    )
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


@st.cache_data(ttl=TTL_SECONDS)
def source_freshness() -> pd.DataFrame:
    """Per platform: posts, newest post and last collection time."""
    return _frame(
        """SELECT platform, COUNT(*) AS posts, MAX(created_at) AS newest_post,
                  MAX(collected_at) AS last_collected
           FROM posts GROUP BY platform ORDER BY platform"""
    )


@st.cache_data(ttl=TTL_SECONDS)
def recent_runs(limit: int = 20) -> pd.DataFrame:
    """The latest collection runs, newest first."""
    return _frame(
        """SELECT source, query, status, started_at, finished_at, fetched, new, duplicates, quarantined
           FROM collection_runs ORDER BY id DESC LIMIT ?""",
        (limit,),
    )
