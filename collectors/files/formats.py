"""The file formats ``tasteradar import`` knows, how each is detected, and how a record becomes posts.

Detection (``--format auto``) looks at the first bytes, then at the CSV header or the first JSON object:

- first non-blank byte ``{``: JSON Lines. ``x-jsonl`` when the first readable object is an X API v2 response
  (``{"data": tweet-or-[tweets], "includes": ...}``) or a bare tweet (a digit-string ``id``, ``text`` and one
  of ``author_id``, ``conversation_id``, ``edit_history_tweet_ids``, ``public_metrics``); else ``jsonl``.
- anything else: CSV. ``airline`` when the header has ``tweet_id, airline_sentiment, name, text,
  tweet_created``; ``twcs`` when it has the seven Customer Support on Twitter columns (an extra leading index
  column is fine); ``reddit-csv`` when it has ``subreddit, type, id, created_utc, text``; else ``csv``.
- ``csv`` and ``jsonl`` need ``--map`` (see :mod:`collectors.files.mapping`); giving ``--map`` with
  ``--format auto`` means "generic": the known formats are not tried.

A mapper turns one parsed record into a list of ``Post`` or ``Rejected`` (a page of X posts gives many).
Known formats keep the whole record (CSV row as a dict) in ``Post.raw``: labels such as the airline
sentiment stay there and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from collectors import reddit, x
from collectors.files.mapping import ColumnMapping, check_mapping, mapped_post, ref_id
from store import Post, Rejected

Mapper = Callable[[Any], list[Post | Rejected]]
MAP_ERRORS = (ValueError, TypeError, KeyError, OverflowError)

AIRLINE_COLUMNS = {"tweet_id", "airline_sentiment", "name", "text", "tweet_created"}
TWCS_COLUMNS = {
    "tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id",
}  # fmt: skip
REDDIT_COLUMNS = {"subreddit", "type", "id", "created_utc", "text"}
X_TWEET_KEYS = {"author_id", "conversation_id", "edit_history_tweet_ids", "public_metrics"}
REDDIT_KINDS = {"post": "t3", "submission": "t3", "comment": "t1"}


class FormatError(ValueError):
    """The file's format cannot be used as asked; the message says what to pass instead."""


@dataclass(frozen=True)
class FileFormat:
    """One importable format: ``kind`` is ``csv`` or ``jsonl``; ``post`` maps one CSV row (as a dict)."""

    name: str
    kind: str
    description: str
    post: Callable[[Any], Post] | None = None
    generic: bool = False


def _digits(name: str, value: str) -> str:
    """Return a tweet id that is a string of digits, else raise (``5.70306E+17`` went through a float)."""
    if not value.isdigit():
        raise ValueError(f"{name} {value!r} is not a string of digits (an id that went through a float?)")
    return value


def _need_text(value: str | None) -> str:
    """Return non-blank post text, else raise."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("no text")
    return value


def airline_post(row: dict[str, str]) -> Post:
    """Map a row of the airline tweets CSV: ``name`` is the handle, ``tweet_created`` has a -0800 offset."""
    native_id = _digits("tweet_id", row["tweet_id"])
    handle = row["name"] or None
    retweets = row.get("retweet_count", "")
    return Post(
        platform="x",
        native_id=native_id,
        text=_need_text(row["text"]),
        created_at=_strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z"),
        author_handle=handle,
        url=f"https://x.com/{handle or 'i/web'}/status/{native_id}",
        metrics={"retweet_count": int(retweets)} if retweets.isdigit() else {},
        raw=row,
    )


def twcs_post(row: dict[str, str]) -> Post:
    """Map a Customer Support on Twitter row; ``author_id`` is a brand handle or an anonymised number.

    The ids are the dataset's own (not X's), so no URL is made. ``in_response_to_tweet_id`` (``192625.0``,
    a pandas float) becomes ``reply_to``.
    """
    author = row["author_id"] or None
    reply = ref_id(row["in_response_to_tweet_id"])
    return Post(
        platform="x",
        native_id=_digits("tweet_id", row["tweet_id"]),
        text=_need_text(row["text"]),
        created_at=_strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y"),
        author_id=author,
        author_handle=author if author and not author.isdigit() else None,
        reply_to=f"x:{reply}" if reply else None,
        raw=row,
    )


def reddit_csv_post(row: dict[str, str]) -> Post:
    """Map a row of the Reddit CSV export through ``collectors.reddit.to_post``.

    ``type`` (post or comment) picks the kind, and the native id is Reddit's full name (``t3_1os1xi4``,
    ``t1_nnu64i1``), so a post and a comment with the same base36 id never collide; Reddit's own
    ``parent_id`` and ``link_id`` are full names too. ``created_utc`` is ``YYYY-MM-DD HH:MM:SS`` in UTC.
    """
    kind = REDDIT_KINDS.get(row["type"].strip().lower())
    if kind is None:
        raise ValueError(f"type must be post or comment, got {row['type']!r}")
    created = _strptime(row["created_utc"] + " +0000", "%Y-%m-%d %H:%M:%S %z")
    data = {"id": row["id"], "subreddit": row["subreddit"], "created_utc": created.timestamp()}
    data["title" if kind == "t3" else "body"] = row["text"]
    post = reddit.to_post({"kind": kind, "data": data})
    metrics = {
        key: int(row[key]) for key in ("score", "num_comments") if row.get(key, "").lstrip("-").isdigit()
    }
    url = f"{reddit.BASE}/r/{row['subreddit']}/comments/{row['id']}/" if kind == "t3" else None
    # A comment row carries no link_id, so its thread is unknown (to_post would name the comment itself).
    conversation = post.conversation_id if kind == "t3" else None
    return replace(post, conversation_id=conversation, url=url, metrics=metrics, raw=row)


def _strptime(value: str, form: str) -> datetime:
    """Parse ``value`` with ``form`` (which has an offset) into aware UTC; raise naming the value."""
    try:
        return datetime.strptime(value, form).astimezone(UTC)
    except ValueError:
        raise ValueError(f"unreadable time {value!r} (expected {form})") from None


def x_payloads(record: Any) -> list[Any]:
    """Split one X JSONL line into single-post payloads ``{"data": tweet, "includes": {"users": [author]}}``.

    A page (``data`` is a list) gives one payload per tweet with its own author; a page with only ``meta``
    (no results) gives none; anything else is one payload for ``x.to_post`` to accept or refuse.
    """
    if isinstance(record, dict) and isinstance(record.get("data"), list):
        users = (record.get("includes") or {}).get("users") or []
        by_id = {user.get("id"): user for user in users if isinstance(user, dict)}
        payloads = []
        for tweet in record["data"]:
            payload: dict[str, Any] = {"data": tweet}
            author = by_id.get(tweet.get("author_id")) if isinstance(tweet, dict) else None
            if author is not None:
                payload["includes"] = {"users": [author]}
            payloads.append(payload)
        return payloads
    if isinstance(record, dict) and "data" not in record and "id" not in record and "meta" in record:
        return []
    return [record]


FORMATS: dict[str, FileFormat] = {
    "x-jsonl": FileFormat("x-jsonl", "jsonl", "X API v2 responses, one per line (post, bare tweet or page)"),
    "airline": FileFormat("airline", "csv", "Twitter US Airline Sentiment (Tweets.csv)", airline_post),
    "twcs": FileFormat("twcs", "csv", "Customer Support on Twitter (twcs.csv and samples)", twcs_post),
    "reddit-csv": FileFormat("reddit-csv", "csv", "Reddit posts/comments CSV export", reddit_csv_post),
    "csv": FileFormat("csv", "csv", "any CSV, mapped with --map", generic=True),
    "jsonl": FileFormat("jsonl", "jsonl", "any JSON Lines, mapped with --map", generic=True),
}
CSV_SIGNATURES = {"airline": AIRLINE_COLUMNS, "twcs": TWCS_COLUMNS, "reddit-csv": REDDIT_COLUMNS}


def sniff_kind(head: bytes) -> str:
    """Return ``jsonl`` or ``csv`` from the first bytes of a file; raise :class:`FormatError` if neither."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise FormatError("the input is empty")
    if text.startswith(b"["):
        raise FormatError(
            "a JSON array is not JSON Lines: convert it first, e.g. jq -c '.[]' FILE > FILE.jsonl"
        )
    return "jsonl" if text.startswith(b"{") else "csv"


def detect_csv(header: list[str]) -> str:
    """Return the name of the known CSV format whose columns the header has, else ``csv``."""
    columns = set(header)
    for name, needed in CSV_SIGNATURES.items():
        if needed <= columns:
            return name
    return "csv"


def detect_jsonl(first: Any) -> str:
    """Return ``x-jsonl`` when the first JSON object looks like an X API v2 payload, else ``jsonl``."""
    if not isinstance(first, dict):
        return "jsonl"
    if isinstance(first.get("data"), dict | list):
        return "x-jsonl"
    tweet_id = first.get("id")
    if isinstance(tweet_id, str) and tweet_id.isdigit() and "text" in first and X_TWEET_KEYS & first.keys():
        return "x-jsonl"
    return "jsonl"


def choose(requested: str, kind: str, first: Any, mapping: ColumnMapping | None) -> FileFormat:
    """Pick the format: ``requested`` unless ``auto``; check it fits the file's ``kind`` and the mapping.

    ``first`` is the CSV header (a list) or the first readable JSON object (or None).
    """
    if requested == "auto":
        detected = detect_csv(first) if kind == "csv" else detect_jsonl(first)
        name = kind if mapping is not None else detected
    elif requested in FORMATS:
        name = requested
    else:
        raise FormatError(f"unknown format {requested!r}; choose from auto, {', '.join(FORMATS)}")
    chosen = FORMATS[name]
    if chosen.kind != kind:
        raise FormatError(
            f"--format {name} reads {chosen.kind.upper()}, but this input looks like {kind.upper()}"
        )
    if chosen.generic:
        if mapping is None:
            what = f"columns: {', '.join(first)}" if kind == "csv" else "keys of each JSON object"
            raise FormatError(
                f"not a known {kind.upper()} format: map it with --map COLUMN=native_id --map COLUMN=text "
                f"--map COLUMN=created_at ({what}), or pass --format with one of {', '.join(FORMATS)}"
            )
        check_mapping(mapping, first if kind == "csv" else None)
    elif kind == "csv" and not CSV_SIGNATURES[name] <= set(first):
        missing = ", ".join(sorted(CSV_SIGNATURES[name] - set(first)))
        raise FormatError(f"--format {name} needs the columns {missing}, which this header lacks")
    elif mapping is not None:
        raise FormatError(f"--map applies to generic files: pass --format {kind} to map this file's columns")
    return chosen


def build_mapper(
    chosen: FileFormat, header: list[str] | None, mapping: ColumnMapping | None, source: str
) -> Mapper:
    """Return the function that maps one parsed record of ``chosen`` to posts and rejections."""
    if chosen.kind == "csv":
        to_post = chosen.post or (lambda row: mapped_post(row, mapping))
        return _csv_mapper(header or [], to_post, source)
    if chosen.name == "x-jsonl":
        return _payload_mapper(x_payloads, x.to_post, source)
    return _payload_mapper(lambda record: [record], lambda record: mapped_post(record, mapping), source)


def _csv_mapper(header: list[str], to_post: Callable[[dict], Post], source: str) -> Mapper:
    """A mapper of CSV records: the field count must match the header's, then ``to_post`` on the row dict."""
    width = len(header)

    def mapper(fields: list[str]) -> list[Post | Rejected]:
        if len(fields) != width:
            reason = f"expected {width} fields (as the header), got {len(fields)}"
            return [Rejected(source, fields, reason)]
        row = dict(zip(header, fields, strict=True))
        try:
            return [to_post(row)]
        except MAP_ERRORS as error:
            return [Rejected(source, row, f"{type(error).__name__}: {error}")]

    return mapper


def _payload_mapper(split: Callable[[Any], list], to_post: Callable[[Any], Post], source: str) -> Mapper:
    """A mapper of JSON records: ``split`` into payloads, ``to_post`` each; a refused one is ``Rejected``."""

    def mapper(record: Any) -> list[Post | Rejected]:
        items: list[Post | Rejected] = []
        for payload in split(record):
            try:
                items.append(to_post(payload))
            except MAP_ERRORS as error:
                items.append(Rejected(source, payload, f"{type(error).__name__}: {error}"))
        return items

    return mapper
