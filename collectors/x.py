"""X (Twitter) source: the pure mapping of one X API v2 post payload to a ``Post``.

Fetching (``fetch(checkpoint)`` over ``GET /2/tweets/search/recent``) is added by the collectors issue; this
module only maps. One raw payload is one post as the API returns it with ``expansions=author_id``::

    {"data": {<tweet: id, text, author_id, created_at, conversation_id, lang, public_metrics,
              referenced_tweets?, note_tweet?, edit_history_tweet_ids>},
     "includes": {"users": [{<author: id, username, name, ...>}]}}

A bare tweet object (no ``data`` wrapper) is accepted too. The text is kept as X sends it (HTML entities such
as ``&amp;`` included: normalising text is the nlp stage's job); a long post's full text comes from
``note_tweet.text``. Ids stay strings: a 64-bit X id must never pass through a float.
"""

from __future__ import annotations

from typing import Any

from store import Post, from_iso

PLATFORM = "x"
#: X language codes that mean "no language" (undetermined, media only, hashtags only, ...).
NO_LANGUAGE = {"und", "qme", "qht", "qam", "qst", "zxx"}


def to_post(raw: dict, *, query: str | None = None) -> Post:
    """Map one X API v2 post payload to a ``Post``; ``raw`` is kept untouched in ``Post.raw``.

    Raises ``ValueError`` naming the problem when the payload is not a post: no tweet object, no ``id`` or
    one that is not a string of digits, no text, or a missing or unreadable ``created_at``.
    """
    tweet = _tweet(raw)
    native_id = tweet.get("id")
    if not isinstance(native_id, str) or not native_id.isdigit():
        raise ValueError(f"X post id must be a string of digits, got {native_id!r}")
    text = _text(tweet)
    created_at = _created_at(tweet)
    author_id = tweet.get("author_id")
    if author_id is not None and not isinstance(author_id, str):
        raise ValueError(f"X author_id must be a string, got {author_id!r}")
    handle = _username(raw, author_id)
    lang = tweet.get("lang")
    conversation = tweet.get("conversation_id")
    return Post(
        platform=PLATFORM,
        native_id=native_id,
        text=text,
        created_at=created_at,
        author_id=author_id,
        author_handle=handle,
        url=f"https://x.com/{handle or 'i/web'}/status/{native_id}",
        lang=None if not lang or lang in NO_LANGUAGE else lang,
        reply_to=_replied_to(tweet),
        conversation_id=f"{PLATFORM}:{conversation}" if conversation else None,
        metrics=dict(tweet.get("public_metrics") or {}),
        raw=raw,
        query=query,
    )


def _tweet(raw: Any) -> dict:
    if not isinstance(raw, dict):
        raise ValueError(f"X payload must be a JSON object, got {type(raw).__name__}")
    if "data" in raw:
        tweet = raw["data"]
        if not isinstance(tweet, dict):
            raise ValueError(
                "X payload 'data' must be one tweet object (map each tweet of a page separately)"
            )
        return tweet
    if "id" in raw and "text" in raw:
        return raw
    raise ValueError("X payload has no 'data' tweet object")


def _text(tweet: dict) -> str:
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"]:
        return note["text"]
    text = tweet.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError(f"X post {tweet.get('id')} has no text")
    return text


def _created_at(tweet: dict):
    value = tweet.get("created_at")
    if not value:
        raise ValueError(f"X post {tweet.get('id')} has no created_at (request tweet.fields=created_at)")
    try:
        return from_iso(value)
    except (TypeError, ValueError):
        raise ValueError(f"X post {tweet.get('id')} has an unreadable created_at {value!r}") from None


def _username(raw: dict, author_id: str | None) -> str | None:
    users = (raw.get("includes") or {}).get("users") or []
    for user in users:
        if isinstance(user, dict) and user.get("id") == author_id:
            return user.get("username")
    return None


def _replied_to(tweet: dict) -> str | None:
    for ref in tweet.get("referenced_tweets") or []:
        if isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id"):
            return f"{PLATFORM}:{ref['id']}"
    return None
