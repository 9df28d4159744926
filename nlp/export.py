"""Annotated posts as export records: one dict per post with its brands, sentiment, needs and intents.

:func:`post_records` streams the posts matching a :class:`PostFilter` in id order (keyset pages of
``page_size``; memory holds one page) and gathers each page's annotations with one query per table:

``id, platform, author_handle, created_at, text, lang, brands, sentiment, sentiment_score,
sentiment_by_brand, needs, intents``

- ``text`` is the normalised text (``nlp.normalize.normalize``: HTML entities decoded once), the form every
  offset of the annotations refers to;
- ``lang`` is the language annotator's label when it ran, else the source's;
- ``brands`` lists configured brand names in order of first mention; ``sentiment_by_brand`` maps each to
  ``positive|neutral|negative``; ``needs`` lists the need phrases; ``intents`` the intent kinds (``switching``
  ...), each once, in the order stored; ``topic_id`` and ``topic_label`` the post's topic under the active
  topic model (``-1`` and ``null`` when no topic fits it). Annotations not computed yet are ``null``
  (sentiment, topic) or empty.

:func:`parse_where` reads the command line's ``--where KEY=VALUE`` filters (see :data:`WHERE_KEYS`).
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime

from nlp.annotate import EFFECTIVE_LANG_SQL
from nlp.normalize import normalize
from store.exports import Column

__all__ = ["POST_COLUMNS", "WHERE_KEYS", "PostFilter", "parse_where", "post_records"]

POST_COLUMNS: tuple[Column, ...] = (
    Column("id"), Column("platform"), Column("author_handle"), Column("created_at"), Column("text"),
    Column("lang"), Column("brands", "list"), Column("sentiment"), Column("sentiment_score", "float"),
    Column("sentiment_by_brand", "map"), Column("needs", "list"), Column("intents", "list"),
    Column("topic_id", "int"), Column("topic_label"),
)  # fmt: skip

#: ``--where`` keys and what each filters on.
WHERE_KEYS: dict[str, str] = {
    "platform": "the platform (x, reddit, bluesky, mastodon, file)",
    "brand": "a configured brand the post mentions",
    "sentiment": "positive, neutral or negative",
    "lang": "the language label (en, fr, und ...)",
    "intent": "an intent kind (cancel, port_out, leaving, switching ...)",
    "topic": "a topic id (see `tasteradar export topics`; -1 for posts no topic fits)",
    "since": "created on or after this date (YYYY-MM-DD) or time (ISO)",
    "until": "created before this date or time",
    "query": "the configured query that found the post",
    "author": "the author's handle (without @)",
}
_SENTIMENTS = ("positive", "neutral", "negative")


@dataclass(frozen=True)
class PostFilter:
    """Which posts to export; every field set must hold (AND). None means no condition."""

    platform: str | None = None
    brand: str | None = None
    sentiment: str | None = None
    lang: str | None = None
    intent: str | None = None
    topic: str | None = None
    since: str | None = None
    until: str | None = None
    query: str | None = None
    author: str | None = None


def _iso_bound(key: str, value: str) -> str:
    """A date or ISO time as the ``...Z`` text ``posts.created_at`` is compared with."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat() + "T00:00:00Z"
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--where {key}={value}: expected a date YYYY-MM-DD or an ISO time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_where(items: Iterable[str]) -> PostFilter:
    """Read ``KEY=VALUE`` strings into a :class:`PostFilter`; raise ``ValueError`` saying what to fix."""
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"--where {item!r}: expected KEY=VALUE, e.g. --where brand=Volt")
        if key not in WHERE_KEYS:
            raise ValueError(f"--where {item!r}: unknown key {key!r}; known: {', '.join(WHERE_KEYS)}")
        if key in values:
            raise ValueError(f"--where {key} is given twice; give each key once")
        if key == "sentiment" and value not in _SENTIMENTS:
            raise ValueError(f"--where sentiment={value}: choose one of {', '.join(_SENTIMENTS)}")
        if key == "topic" and not value.lstrip("-").isdigit():
            raise ValueError(f"--where topic={value}: expected a topic id (a whole number)")
        if key in ("since", "until"):
            value = _iso_bound(key, value)
        values[key] = value.lstrip("@") if key == "author" else value
    return PostFilter(**values)


_LANG = EFFECTIVE_LANG_SQL
_CONDITIONS = {
    "platform": "p.platform = :platform",
    "brand": "EXISTS (SELECT 1 FROM post_mentions AS m WHERE m.post_id = p.id AND m.brand = :brand)",
    "sentiment": "EXISTS (SELECT 1 FROM post_sentiment AS s WHERE s.post_id = p.id AND s.label = :sentiment)",
    "lang": f"{_LANG} = :lang",
    "intent": "EXISTS (SELECT 1 FROM post_intents AS i WHERE i.post_id = p.id AND i.intent = :intent)",
    "topic": (
        "EXISTS (SELECT 1 FROM post_topics AS t"
        " WHERE t.post_id = p.id AND t.topic_id = CAST(:topic AS INTEGER))"
    ),
    "since": "p.created_at >= :since",
    "until": "p.created_at < :until",
    "query": "p.query = :query",
    "author": "lower(p.author_handle) = lower(:author)",
}


def _page_sql(where: PostFilter) -> tuple[str, dict]:
    """The keyset page query for ``where`` and its parameters (``after`` and ``limit`` added per page)."""
    params = {f.name: getattr(where, f.name) for f in fields(where) if getattr(where, f.name) is not None}
    clauses = ["p.id > :after", *(_CONDITIONS[key] for key in params)]
    sql = (
        f"SELECT p.id, p.platform, p.author_handle, p.created_at, p.text, {_LANG} FROM posts AS p "
        f"WHERE {' AND '.join(clauses)} ORDER BY p.id LIMIT :limit"
    )
    return sql, params


def _grouped(conn: sqlite3.Connection, sql: str, ids: str) -> dict[str, list[tuple]]:
    """Rows of ``sql`` (post_id first, filtered by the JSON list ``ids``) grouped by post id."""
    grouped: dict[str, list[tuple]] = defaultdict(list)
    for row in conn.execute(sql, [ids]):
        grouped[row[0]].append(row[1:])
    return grouped


_IN = "post_id IN (SELECT value FROM json_each(?))"
#: Per annotation: the query of a page's rows, post_id first.
_PAGE_QUERIES = {
    "mentions": f"SELECT post_id, brand FROM post_mentions WHERE {_IN} ORDER BY post_id, start_char",
    "sentiment": f"SELECT post_id, label, score FROM post_sentiment WHERE {_IN}",
    "by_brand": f"SELECT post_id, brand, label FROM brand_sentiment WHERE {_IN}",
    "needs": f"SELECT post_id, phrase FROM post_needs WHERE {_IN} ORDER BY post_id, start_char",
    "intents": f"SELECT post_id, intent FROM post_intents WHERE {_IN} ORDER BY post_id, rowid",
    "topic": (
        "SELECT t.post_id, t.topic_id, k.label FROM post_topics AS t LEFT JOIN topics AS k"
        f" ON k.topic_id = t.topic_id WHERE t.{_IN}"
    ),
}


def _annotations(conn: sqlite3.Connection, post_ids: Sequence[str]) -> dict[str, dict]:
    """Each annotation's rows for ``post_ids``: ``{name: {post_id: [rows]}}``."""
    ids = json.dumps(list(post_ids))
    return {name: _grouped(conn, sql, ids) for name, sql in _PAGE_QUERIES.items()}


def _record(row: tuple, found: dict[str, dict]) -> dict:
    """One export record from a posts row and the page's annotations."""
    post_id, platform, handle, created_at, text, lang = row
    sentiment = found["sentiment"].get(post_id)
    topic = found["topic"].get(post_id)
    return {
        "id": post_id,
        "platform": platform,
        "author_handle": handle,
        "created_at": created_at,
        "text": normalize(text),
        "lang": lang,
        "brands": list(dict.fromkeys(brand for (brand,) in found["mentions"].get(post_id, []))),
        "sentiment": sentiment[0][0] if sentiment else None,
        "sentiment_score": sentiment[0][1] if sentiment else None,
        "sentiment_by_brand": {brand: label for brand, label in found["by_brand"].get(post_id, [])},
        "needs": [phrase for (phrase,) in found["needs"].get(post_id, [])],
        "intents": list(dict.fromkeys(intent for (intent,) in found["intents"].get(post_id, []))),
        "topic_id": topic[0][0] if topic else None,
        "topic_label": topic[0][1] if topic else None,
    }


def post_records(
    conn: sqlite3.Connection, where: PostFilter | None = None, *, page_size: int = 1000
) -> Iterator[dict]:
    """The export record of every post matching ``where``, in id order (see the module docstring)."""
    sql, params = _page_sql(where or PostFilter())
    after = ""
    while True:
        rows = conn.execute(sql, {**params, "after": after, "limit": page_size}).fetchall()
        if not rows:
            return
        found = _annotations(conn, [row[0] for row in rows])
        yield from (_record(row, found) for row in rows)
        after = rows[-1][0]
