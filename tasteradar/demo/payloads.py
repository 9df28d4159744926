"""Raw payloads in the shapes the real APIs return, and the native ids that go in them.

X: one post as ``{"data": tweet, "includes": {"users": [author]}}``, the tweet as X API v2
``GET /2/tweets/search/recent`` returns it with ``expansions=author_id`` (text HTML-escaped, long posts in
``note_tweet``, retweets as ``RT @user: ...`` with ``referenced_tweets``). Reddit: a ``t3`` submission or
``t1`` comment thing, ``{"kind": ..., "data": {...}}``, as the Reddit JSON API (and praw) give it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tasteradar.demo.people import Person, base36
from tasteradar.demo.text import Draft

#: X ids are snowflakes: milliseconds since this epoch, shifted left by 22 bits.
X_EPOCH_MS = 1288834974657
X_TEXT_LIMIT = 280
RT_TEXT_LIMIT = 140
_SUBMISSION_START = int("1mz0000", 36)
_COMMENT_START = int("n3a0000", 36)


@dataclass(slots=True, eq=False)
class Item:
    """A written post with its place in the conversation, ready to become a payload."""

    person: Person
    epoch_ms: int
    draft: Draft
    text: str
    native_id: str = ""
    query: str | None = None
    reply_to: Item | None = None
    root: Item | None = None
    retweet_of: Item | None = None
    duplicate_of: Item | None = None
    subreddit: str | None = None
    submission: Item | None = None
    is_submission: bool = False
    metrics: dict = field(default_factory=dict)
    children: int = 0
    retweets: int = 0

    @property
    def platform(self) -> str:
        """The platform of the author (and so of the post)."""
        return self.person.platform

    @property
    def key(self) -> str:
        """The store key, ``platform:native_id``; on Reddit the fullname (``t3_``/``t1_`` + base36 id)."""
        if self.platform == "reddit":
            return f"reddit:{'t3' if self.is_submission else 't1'}_{self.native_id}"
        return f"{self.platform}:{self.native_id}"


class IdMaker:
    """Native post ids: X snowflakes from the post time, Reddit base36 counters that grow with time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._x: set[str] = set()
        self._submission = _SUBMISSION_START
        self._comment = _COMMENT_START

    def x(self, epoch_ms: int) -> str:
        """A 19-digit X snowflake id for a post created at ``epoch_ms``."""
        while True:
            value = (
                ((epoch_ms - X_EPOCH_MS) << 22) | (self.rng.randrange(1024) << 12) | self.rng.randrange(4096)
            )
            native = str(value)
            if native not in self._x:
                self._x.add(native)
                return native

    def reddit(self, *, submission: bool) -> str:
        """The next base36 id for a submission or a comment."""
        if submission:
            self._submission += self.rng.randint(1, 900)
            return base36(self._submission)
        self._comment += self.rng.randint(1, 4000)
        return base36(self._comment)


def iso_ms(epoch_ms: int) -> str:
    """``2026-09-21T18:04:11.000Z``: how X writes times."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def html_escape(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` as X does in tweet text (quotes stay as they are)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def x_user(person: Person) -> dict:
    """The ``includes.users`` entry for an author."""
    meta = person.metadata
    return {
        "id": person.native_id,
        "username": person.handle,
        "name": person.name,
        "created_at": meta.get("created_at"),
        "description": meta.get("description", ""),
        "public_metrics": {
            "followers_count": meta.get("followers_count", 0),
            "following_count": meta.get("following_count", 0),
            "tweet_count": meta.get("tweet_count", 0),
        },
    }


def x_payload(item: Item, *, lang: str) -> dict:
    """The X API v2 shape of ``item``: ``{"data": tweet, "includes": {"users": [author]}}``."""
    text = item.text
    tweet: dict = {
        "id": item.native_id,
        "author_id": item.person.native_id,
        "created_at": iso_ms(item.epoch_ms),
    }
    if len(text) > X_TEXT_LIMIT:
        tweet["text"] = html_escape(text[: X_TEXT_LIMIT - 3].rstrip() + "…")
        tweet["note_tweet"] = {"text": html_escape(text)}
    else:
        tweet["text"] = html_escape(text)
    tweet["conversation_id"] = (item.root or item).native_id
    tweet["edit_history_tweet_ids"] = [item.native_id]
    tweet["lang"] = lang
    if item.retweet_of is not None:
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": item.retweet_of.native_id}]
    elif item.reply_to is not None:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": item.reply_to.native_id}]
        tweet["in_reply_to_user_id"] = item.reply_to.person.native_id
    tweet["public_metrics"] = item.metrics
    tweet["possibly_sensitive"] = False
    return {"data": tweet, "includes": {"users": [x_user(item.person)]}}


def slug(title: str) -> str:
    """Reddit's permalink slug: lower-case words joined by underscores, at most 50 characters."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "_".join(words)[:50].rstrip("_") or "post"


def reddit_payload(item: Item) -> dict:
    """The Reddit JSON shape of ``item``: a ``t3`` submission or a ``t1`` comment."""
    person, sub = item.person, item.subreddit
    common = {
        "id": item.native_id,
        "author": person.handle,
        "author_fullname": f"t2_{person.native_id}",
        "subreddit": sub,
        "subreddit_name_prefixed": f"r/{sub}",
        "created_utc": item.epoch_ms // 1000 * 1.0,
        "score": item.metrics.get("score", 1),
    }
    if item.is_submission:
        title, _, body = item.text.partition("\n\n")
        permalink = f"/r/{sub}/comments/{item.native_id}/{slug(title)}/"
        data = {**common, "name": f"t3_{item.native_id}", "title": title, "selftext": body,
                "permalink": permalink, "url": f"https://www.reddit.com{permalink}", "is_self": True,
                "num_comments": item.children, "upvote_ratio": item.metrics.get("upvote_ratio", 1.0),
                "over_18": False}  # fmt: skip
        return {"kind": "t3", "data": data}
    link = item.submission
    title = link.text.partition("\n\n")[0]
    parent = item.reply_to or link
    parent_prefix = "t3" if parent is link else "t1"
    data = {**common, "name": f"t1_{item.native_id}", "body": item.text,
            "permalink": f"/r/{sub}/comments/{link.native_id}/{slug(title)}/{item.native_id}/",
            "link_id": f"t3_{link.native_id}", "parent_id": f"{parent_prefix}_{parent.native_id}",
            "is_submitter": person is link.person, "controversiality": 0}  # fmt: skip
    return {"kind": "t1", "data": data}
