"""Reddit source: the pure mapping of one Reddit submission or comment payload to a ``Post``.

Fetching (``fetch(checkpoint)`` over subreddit listings and searches with praw) is added by the collectors
issue; this module only maps. One raw payload is one "thing" as the Reddit JSON API gives it (praw objects
are turned into the same dict)::

    {"kind": "t3", "data": {id, name, author, author_fullname, subreddit, title, selftext, created_utc,
                            permalink, score, num_comments, ...}}
    {"kind": "t1", "data": {id, name, author, author_fullname, subreddit, body, created_utc, permalink,
                            score, link_id, parent_id, ...}}

A submission's text is its title, a blank line and its self text (when there is one); a comment's is its body.
Reddit gives no language, so ``lang`` is None. The author's native id is ``author_fullname`` without ``t2_``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from store import Post

PLATFORM = "reddit"
BASE = "https://www.reddit.com"
_BASE36 = re.compile(r"[0-9a-z]+")
#: Placeholders Reddit puts where removed or deleted text was.
GONE = {"[removed]", "[deleted]"}


def to_post(raw: dict, *, query: str | None = None) -> Post:
    """Map one Reddit ``t3`` (submission) or ``t1`` (comment) payload to a ``Post``; ``raw`` is kept as is.

    Raises ``ValueError`` naming the problem for anything else: another kind, no ``data``, an id that is not
    base36, no text, or a missing ``created_utc``.
    """
    kind, data = _thing(raw)
    native_id = data.get("id")
    if not isinstance(native_id, str) or not _BASE36.fullmatch(native_id):
        raise ValueError(f"Reddit {kind} id must be a base36 string, got {native_id!r}")
    text = _submission_text(data) if kind == "t3" else _comment_text(data)
    if not text:
        raise ValueError(f"Reddit {kind} {native_id} has no text")
    author = data.get("author")
    fullname = data.get("author_fullname")
    own = f"{PLATFORM}:{native_id}"
    metrics = {key: data[key] for key in ("score", "num_comments", "upvote_ratio") if key in data}
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        text=text,
        created_at=_created_at(kind, native_id, data),
        author_id=fullname[3:] if isinstance(fullname, str) and fullname.startswith("t2_") else None,
        author_handle=author if isinstance(author, str) and author not in GONE else None,
        url=BASE + data["permalink"] if isinstance(data.get("permalink"), str) else None,
        lang=None,
        reply_to=_ref(data.get("parent_id")) if kind == "t1" else None,
        conversation_id=(_ref(data.get("link_id")) or own) if kind == "t1" else own,
        metrics=metrics,
        raw=raw,
        query=query,
    )


def _thing(raw: Any) -> tuple[str, dict]:
    if not isinstance(raw, dict):
        raise ValueError(f"Reddit payload must be a JSON object, got {type(raw).__name__}")
    kind = raw.get("kind")
    if kind not in ("t3", "t1"):
        raise ValueError(f"Reddit payload kind must be 't3' (submission) or 't1' (comment), got {kind!r}")
    data = raw.get("data")
    if not isinstance(data, dict):
        raise ValueError(f"Reddit {kind} payload has no 'data' object")
    return kind, data


def _submission_text(data: dict) -> str:
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        return ""
    body = data.get("selftext")
    if isinstance(body, str) and body.strip() and body.strip() not in GONE:
        return f"{title}\n\n{body}"
    return title


def _comment_text(data: dict) -> str:
    body = data.get("body")
    if not isinstance(body, str) or body.strip() in GONE:
        return ""
    return body


def _created_at(kind: str, native_id: str, data: dict) -> datetime:
    value = data.get("created_utc")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"Reddit {kind} {native_id} has no numeric created_utc, got {value!r}")
    return datetime.fromtimestamp(value, tz=UTC)


def _ref(fullname: Any) -> str | None:
    """``t3_abc`` or ``t1_xyz`` to the store key ``reddit:abc``."""
    if isinstance(fullname, str) and "_" in fullname:
        return f"{PLATFORM}:{fullname.split('_', 1)[1]}"
    return None
