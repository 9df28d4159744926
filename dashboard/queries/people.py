"""The people queries: micro-segments, opted-in customers, full-text search over posts, analysts' corrections.

Every function is cached for ``TTL_SECONDS`` and reads through the shared read-only connection of
:mod:`dashboard.queries.core`. Consent is enforced here, in SQL, not on the pages: a customer is shown one by
one (as a segment member, in the customer finder, with a timeline, churn reasons or example posts) only when
they have a handle with ``consent = 1``, and their posts only through a link on a platform they opted in;
audience segments (authors who are not linked customers) come out in aggregate only (sizes, lift, needs),
never as people. Post sentiment is read from the current sentiment annotator (the one that wrote the newest
row), so a database holding two annotator versions side by side never counts a post twice.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard.queries.core import TTL_SECONDS, _frame, connection, database_path
from segments.export import build_segment_export, parse_suppression, read_suppression
from store.exports import write_records
from store.text import to_json

__all__ = [
    "EXPORT_FORMATS",
    "SENTIMENTS",
    "SUPPRESS_ENV",
    "ExportFiles",
    "SearchFilters",
    "broad_segments",
    "churn_factors",
    "customer",
    "customer_posts",
    "find_customers",
    "fts_query",
    "micro_segments",
    "post_corrections",
    "post_for_review",
    "recent_corrections",
    "review_queue",
    "search_posts",
    "segment_examples",
    "segment_export",
    "segment_lift",
    "segment_members",
    "segment_needs",
    "sentiment_annotator",
    "suppression_files",
]

SENTIMENTS = ("positive", "neutral", "negative")
SUPPRESS_ENV = "TASTERADAR_SUPPRESS"

# A customer who opted in: at least one handle recorded with consent.
_OPTED_IN = (
    "EXISTS (SELECT 1 FROM customer_handles AS h WHERE h.customer_id = {alias}.customer_id AND h.consent = 1)"
)
# The posts of linked accounts ``l`` (alias ``p``), only on a platform where the customer opted a handle in.
_LINKED_POSTS = """JOIN authors AS a ON a.id = l.author_id
    JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id
    AND EXISTS (SELECT 1 FROM customer_handles AS h
                WHERE h.customer_id = l.customer_id AND h.platform = l.platform AND h.consent = 1)"""


@st.cache_data(ttl=TTL_SECONDS)
def sentiment_annotator() -> str:
    """The annotator of the newest ``post_sentiment`` row ('' when there is no sentiment yet)."""
    frame = _frame("SELECT annotator FROM post_sentiment ORDER BY rowid DESC LIMIT 1")
    return "" if frame.empty else str(frame.iloc[0, 0])


# --- segments ------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def broad_segments() -> list[str]:
    """The broad segments that hold an active micro-segment: the CRM's alphabetically, the audience last."""
    frame = _frame(
        "SELECT broad_segment FROM segments WHERE status = 'active' GROUP BY broad_segment"
        " ORDER BY min(population = 'audience'), broad_segment"
    )
    return frame["broad_segment"].tolist()


@st.cache_data(ttl=TTL_SECONDS)
def micro_segments(broad_segment: str) -> pd.DataFrame:
    """The active micro-segments of ``broad_segment``, largest first.

    Columns: id, population (customers|audience), name, size, churn_rate, sentiment, opted_in (members with a
    consented handle; 0 for audience segments, which have no named members).
    """
    return _frame(
        f"""SELECT s.id, s.population, s.name, s.size, s.churn_rate, s.sentiment,
                  (SELECT COUNT(*) FROM segment_members AS m
                   WHERE m.segment_id = s.id AND {_OPTED_IN.format(alias="m")}) AS opted_in
           FROM segments AS s
           WHERE s.broad_segment = ? AND s.status = 'active'
           ORDER BY s.population, s.size DESC, s.id""",
        (broad_segment,),
    )


def _lift_rows(profile: object) -> list[dict]:
    """The usable lift entries of a segment profile as ``{feature, lift}`` dicts.

    ``profile['lift']`` is a list of ``{"feature", "label", "lift"}`` objects (see ``segments.export``); the
    label is shown when present, else the feature name; entries without a numeric lift are skipped.
    """
    items = profile.get("lift") if isinstance(profile, dict) else None
    rows = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        name, lift = item.get("label") or item.get("feature"), item.get("lift")
        if name and isinstance(lift, int | float) and not isinstance(lift, bool):
            rows.append({"feature": str(name), "lift": float(lift)})
    return rows


@st.cache_data(ttl=TTL_SECONDS)
def segment_lift(segment_id: int, top: int = 12) -> pd.DataFrame:
    """The ``top`` features that set segment ``segment_id`` apart most, highest lift first (feature, lift)."""
    frame = _frame("SELECT profile FROM segments WHERE id = ?", (int(segment_id),))
    try:
        profile = json.loads(frame.iloc[0, 0] or "{}") if not frame.empty else {}
    except json.JSONDecodeError:
        profile = {}
    rows = sorted(_lift_rows(profile), key=lambda row: row["lift"], reverse=True)[:top]
    return pd.DataFrame(rows, columns=["feature", "lift"])


# The posts written by a segment's people: linked authors of customer members, or audience authors.
_SEGMENT_POSTS = f"""
    SELECT p.id AS post_id FROM segment_members AS m
    JOIN customer_links AS l ON l.customer_id = m.customer_id {_LINKED_POSTS}
    WHERE m.segment_id = :segment
    UNION ALL
    SELECT p.id FROM audience_members AS am JOIN authors AS a ON a.id = am.author_id
    JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id
    WHERE am.segment_id = :segment"""


@st.cache_data(ttl=TTL_SECONDS)
def segment_needs(segment_id: int, limit: int = 8) -> pd.DataFrame:
    """The needs a segment's people raise most: need theme label (else the phrase), posts raising it, and the
    kinds it came as (wish, request, complaint, question; most frequent first)."""
    return _frame(
        f"""WITH seg AS ({_SEGMENT_POSTS}),
           raised AS (
               SELECT COALESCE(t.label, n.phrase) AS need, n.kind, n.post_id
               FROM seg JOIN post_needs AS n ON n.post_id = seg.post_id
               LEFT JOIN post_need_themes AS pt ON pt.post_id = n.post_id AND pt.start_char = n.start_char
               LEFT JOIN need_themes AS t ON t.theme_id = pt.theme_id AND pt.theme_id >= 0),
           kinds AS (SELECT need, kind, COUNT(DISTINCT post_id) AS n FROM raised GROUP BY need, kind)
           SELECT r.need, COUNT(DISTINCT r.post_id) AS posts,
                  (SELECT group_concat(kind, ', ') FROM (SELECT kind FROM kinds AS k WHERE k.need = r.need
                                                         ORDER BY n DESC, kind)) AS kinds
           FROM raised AS r GROUP BY r.need ORDER BY posts DESC, r.need LIMIT :limit""",
        {"segment": int(segment_id), "limit": int(limit)},
    )


@st.cache_data(ttl=TTL_SECONDS)
def segment_members(segment_id: int, limit: int = 500) -> pd.DataFrame:
    """Opted-in members of a customer segment, highest churn risk first (never anyone without consent).

    Columns: customer_id, plan, contract, tenure_months, churn_risk, membership score, linked_posts.
    """
    return _frame(
        f"""SELECT c.customer_id, c.plan, c.contract, c.tenure_months, r.risk AS churn_risk,
                  m.score AS membership,
                  (SELECT COUNT(*) FROM customer_links AS l {_LINKED_POSTS}
                   WHERE l.customer_id = c.customer_id) AS linked_posts
           FROM segment_members AS m
           JOIN customers AS c ON c.customer_id = m.customer_id
           LEFT JOIN churn_scores AS r ON r.customer_id = c.customer_id
           WHERE m.segment_id = ? AND {_OPTED_IN.format(alias="c")}
           ORDER BY churn_risk IS NULL, churn_risk DESC, c.customer_id LIMIT ?""",
        (int(segment_id), int(limit)),
    )


@st.cache_data(ttl=TTL_SECONDS)
def segment_examples(segment_id: int, limit: int = 5) -> pd.DataFrame:
    """A customer segment's example posts by their opted-in members (created_at, platform, text)."""
    frame = _frame(
        """SELECT p.created_at, p.platform, p.text
           FROM segment_examples AS e JOIN posts AS p ON p.id = e.post_id
           JOIN customer_links AS l ON l.author_id = p.platform || ':' || p.author_id
           WHERE e.segment_id = ? AND EXISTS (
               SELECT 1 FROM customer_handles AS h
               WHERE h.customer_id = l.customer_id AND h.platform = l.platform AND h.consent = 1)
           ORDER BY e.rank LIMIT ?""",
        (int(segment_id), int(limit)),
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


#: The download formats of a segment export, with their MIME types.
EXPORT_FORMATS = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json"}


@dataclass(frozen=True)
class ExportFiles:
    """A segment export rendered in every download format, with what was left out and why."""

    files: dict[str, bytes]
    rows: int
    no_consent: int
    suppressed: int
    unmatched_suppression: int


def suppression_files() -> tuple[str, ...]:
    """The standing do-not-contact files: ``TASTERADAR_SUPPRESS`` (paths separated by ``os.pathsep``)."""
    return tuple(path for path in os.environ.get(SUPPRESS_ENV, "").split(os.pathsep) if path.strip())


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Preparing the export...")
def segment_export(segment_id: int, extra_suppression: str = "") -> ExportFiles:
    """Segment ``segment_id``'s campaign export (``segments.export``: opted-in members only, the standing
    do-not-contact files and ``extra_suppression`` (an uploaded list) applied) as CSV, Parquet and JSON.

    Raises ``segments.export.SegmentExportError`` for an audience or inactive segment.
    """
    suppression = read_suppression(suppression_files()) | parse_suppression(extra_suppression, name="upload")
    export = build_segment_export(connection(str(database_path())), int(segment_id), suppression=suppression)
    files = {}
    for fmt in EXPORT_FORMATS:
        records = export.records
        if fmt == "parquet":  # Parquet has no list-of-objects column here: each post goes as JSON text
            records = [{**record, "posts": [to_json(post) for post in record["posts"]]} for record in records]
        buffer = io.BytesIO()
        write_records(records, export.columns, fmt, buffer)
        files[fmt] = buffer.getvalue()
    return ExportFiles(
        files, len(export.records), export.no_consent, export.suppressed, export.unmatched_suppression
    )


# --- customers -----------------------------------------------------------------------------------------


def _like_pattern(text: str) -> str:
    """``text`` as a LIKE substring pattern with ``%``, ``_`` and ``\\`` escaped (use ``ESCAPE '\\'``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@st.cache_data(ttl=TTL_SECONDS)
def find_customers(text: str = "", limit: int = 50) -> pd.DataFrame:
    """Opted-in customers whose id contains ``text`` (case-insensitive), highest churn risk first."""
    return _frame(
        f"""SELECT c.customer_id, c.broad_segment, c.plan, r.risk AS churn_risk
           FROM customers AS c LEFT JOIN churn_scores AS r ON r.customer_id = c.customer_id
           WHERE {_OPTED_IN.format(alias="c")} AND c.customer_id LIKE ? ESCAPE '\\'
           ORDER BY churn_risk IS NULL, churn_risk DESC, c.customer_id LIMIT ?""",
        (_like_pattern(text.strip()), int(limit)),
    )


@st.cache_data(ttl=TTL_SECONDS)
def customer(customer_id: str) -> dict | None:
    """One opted-in customer's CRM fields, micro-segment and churn score; None if unknown or not opted in."""
    frame = _frame(
        f"""SELECT c.customer_id, c.broad_segment, c.plan, c.contract, c.tenure_months, c.monthly_charge,
                  c.churned, s.name AS micro_segment, r.risk AS churn_risk, r.scored_at,
                  (SELECT group_concat(DISTINCT h.platform) FROM customer_handles AS h
                   WHERE h.customer_id = c.customer_id AND h.consent = 1) AS platforms
           FROM customers AS c
           LEFT JOIN segment_members AS m ON m.customer_id = c.customer_id
           LEFT JOIN segments AS s ON s.id = m.segment_id
           LEFT JOIN churn_scores AS r ON r.customer_id = c.customer_id
           WHERE c.customer_id = ? AND {_OPTED_IN.format(alias="c")}""",
        (customer_id,),
    )
    return None if frame.empty else frame.iloc[0].to_dict()


def _factor_row(entry: object) -> dict | None:
    """One churn factor (``{feature, phrase, contribution}``, see ``customers.churn.factors``) as
    ``{reason, contribution}``; None when it has neither a phrase nor a feature name."""
    if not isinstance(entry, dict) or not (entry.get("phrase") or entry.get("feature")):
        return None
    contribution = entry.get("contribution")
    number = isinstance(contribution, int | float) and not isinstance(contribution, bool)
    return {
        "reason": str(entry.get("phrase") or entry["feature"]),
        "contribution": contribution if number else None,
    }


@st.cache_data(ttl=TTL_SECONDS)
def churn_factors(customer_id: str) -> pd.DataFrame:
    """The reasons behind an opted-in customer's churn risk, largest first (columns: reason, contribution in
    log-odds, positive raising the risk)."""
    frame = _frame(
        f"""SELECT r.factors FROM churn_scores AS r JOIN customers AS c ON c.customer_id = r.customer_id
           WHERE r.customer_id = ? AND {_OPTED_IN.format(alias="c")}""",
        (customer_id,),
    )
    try:
        entries = json.loads(frame.iloc[0, 0]) if not frame.empty else []
    except json.JSONDecodeError:
        entries = []
    rows = [row for row in map(_factor_row, entries if isinstance(entries, list) else []) if row]
    return pd.DataFrame(rows, columns=["reason", "contribution"])


@st.cache_data(ttl=TTL_SECONDS)
def customer_posts(customer_id: str) -> pd.DataFrame:
    """An opted-in customer's linked posts, oldest first (created_at, platform, sentiment, score, text)."""
    frame = _frame(
        f"""SELECT p.created_at, p.platform, s.label AS sentiment, s.score, p.text
           FROM customer_links AS l {_LINKED_POSTS}
           LEFT JOIN post_sentiment AS s ON s.post_id = p.id AND s.annotator = ?
           WHERE l.customer_id = ?
           ORDER BY p.created_at""",
        (sentiment_annotator(), customer_id),
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


# --- search --------------------------------------------------------------------------------------------

_TERM = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w")


def fts_query(text: str) -> str:
    """The user's search text as a safe FTS5 query: every word (or ``"quoted phrase"``) becomes an FTS5
    string, so operators and punctuation are searched for, never parsed; terms are ANDed. A trailing ``*``
    on a word keeps prefix search (``stream*``). Terms without a letter or digit are dropped (the index holds
    none); returns '' when nothing searchable is left.
    """
    terms = []
    for phrase, word in _TERM.findall(text):
        core = phrase.strip() if phrase else word.rstrip("*")
        prefix = not phrase and core != word
        if _WORD.search(core):  # only letters and digits are indexed: a term of punctuation finds nothing
            terms.append('"' + core.replace('"', '""') + '"' + ("*" if prefix else ""))
    return " ".join(terms)


@dataclass(frozen=True)
class SearchFilters:
    """What the search page filters on; empty tuples and None mean "any"."""

    brands: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None  # inclusive: the whole day


def _filter_sql(filters: SearchFilters) -> tuple[str, dict]:
    """SQL conditions on posts ``p`` and sentiment ``s`` for ``filters``, and their named parameters."""
    clauses, params = [], {}
    if filters.platforms:
        clauses.append("p.platform IN (SELECT value FROM json_each(:platforms))")
        params["platforms"] = json.dumps(list(filters.platforms))
    if filters.brands:
        clauses.append(
            "EXISTS (SELECT 1 FROM post_mentions AS pm WHERE pm.post_id = p.id "
            "AND pm.brand IN (SELECT value FROM json_each(:brands)))"
        )
        params["brands"] = json.dumps(list(filters.brands))
    if filters.sentiments:
        clauses.append("s.label IN (SELECT value FROM json_each(:sentiments))")
        params["sentiments"] = json.dumps(list(filters.sentiments))
    if filters.since is not None:
        clauses.append("p.created_at >= :since")
        params["since"] = filters.since.isoformat()
    if filters.until is not None:
        clauses.append("p.created_at < :until")
        params["until"] = (filters.until + timedelta(days=1)).isoformat()
    return "".join(f" AND {clause}" for clause in clauses), params


@st.cache_data(ttl=TTL_SECONDS)
def search_posts(
    text: str, filters: SearchFilters, page: int = 1, page_size: int = 25, order: str = "relevance"
) -> tuple[int, pd.DataFrame]:
    """Posts matching ``text`` (see :func:`fts_query`) and ``filters``: the total and one page of rows.

    Rows: post_id, created_at, platform, brands, sentiment, text; ``order`` is ``relevance`` (BM25) or
    ``newest``. Raises ``ValueError`` when the text holds nothing searchable.
    """
    query = fts_query(text)
    if not query:
        raise ValueError("type at least one word or number to search for")
    where, params = _filter_sql(filters)
    params.update(query=query, annotator=sentiment_annotator())
    base = f"""FROM posts_fts JOIN posts AS p ON p.rowid = posts_fts.rowid
               LEFT JOIN post_sentiment AS s ON s.post_id = p.id AND s.annotator = :annotator
               WHERE posts_fts MATCH :query{where}"""
    total = int(_frame(f"SELECT COUNT(*) AS n {base}", params).iloc[0, 0])
    ordering = "posts_fts.rank" if order == "relevance" else "p.created_at DESC"
    params.update(limit=int(page_size), offset=(max(1, int(page)) - 1) * int(page_size))
    rows = _frame(
        f"""SELECT p.id AS post_id, p.created_at, p.platform,
                  (SELECT group_concat(DISTINCT pm.brand) FROM post_mentions AS pm WHERE pm.post_id = p.id)
                      AS brands,
                  s.label AS sentiment, p.text
           {base} ORDER BY {ordering} LIMIT :limit OFFSET :offset""",
        params,
    )
    rows["created_at"] = pd.to_datetime(rows["created_at"], utc=True, format="ISO8601")
    rows["brands"] = rows["brands"].fillna("").str.replace(",", ", ")
    return total, rows


# --- review --------------------------------------------------------------------------------------------


@st.cache_data(ttl=TTL_SECONDS)
def review_queue(text: str = "", unreviewed_only: bool = True, limit: int = 30) -> pd.DataFrame:
    """Posts to review, most recently collected first (by insertion order, which needs no index): matching
    ``text`` when given, without a correction when asked.

    Columns: post_id, created_at, platform, sentiment (the model's label), text.
    """
    clauses, params = [], {"annotator": sentiment_annotator(), "limit": int(limit)}
    source = "posts AS p"
    if text.strip():
        query = fts_query(text)
        if not query:
            raise ValueError("type at least one word or number to search for")
        source = "posts_fts JOIN posts AS p ON p.rowid = posts_fts.rowid"
        clauses.append("posts_fts MATCH :query")
        params["query"] = query
    if unreviewed_only:
        clauses.append("NOT EXISTS (SELECT 1 FROM corrections AS c WHERE c.post_id = p.id)")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    frame = _frame(
        f"""SELECT p.id AS post_id, p.created_at, p.platform, s.label AS sentiment, p.text
           FROM {source} LEFT JOIN post_sentiment AS s ON s.post_id = p.id AND s.annotator = :annotator
           {where} ORDER BY p.rowid DESC LIMIT :limit""",
        params,
    )
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True, format="ISO8601")
    return frame


@st.cache_data(ttl=TTL_SECONDS)
def post_for_review(post_id: str) -> dict | None:
    """One post with the model's sentiment and the need phrases found in it; None if there is no such post."""
    frame = _frame(
        """SELECT p.id AS post_id, p.created_at, p.platform, p.text, s.label AS sentiment, s.score,
                  s.annotator,
                  (SELECT json_group_array(n.kind || ': ' || n.phrase) FROM post_needs AS n
                   WHERE n.post_id = p.id) AS needs
           FROM posts AS p LEFT JOIN post_sentiment AS s ON s.post_id = p.id AND s.annotator = ?
           WHERE p.id = ?""",
        (sentiment_annotator(), post_id),
    )
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    row["needs"] = json.loads(row["needs"] or "[]")
    return row


@st.cache_data(ttl=TTL_SECONDS)
def post_corrections(post_id: str) -> pd.DataFrame:
    """The corrections stored for one post, newest first (created_at, kind, value, analyst)."""
    return _frame(
        """SELECT created_at, kind, value, analyst FROM corrections WHERE post_id = ?
           ORDER BY id DESC""",
        (post_id,),
    )


@st.cache_data(ttl=TTL_SECONDS)
def recent_corrections(limit: int = 20) -> pd.DataFrame:
    """The latest corrections over all posts (created_at, post_id, kind, value, analyst, text)."""
    return _frame(
        """SELECT c.created_at, c.post_id, c.kind, c.value, c.analyst, p.text
           FROM corrections AS c JOIN posts AS p ON p.id = c.post_id ORDER BY c.id DESC LIMIT ?""",
        (int(limit),),
    )
