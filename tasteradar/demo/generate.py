"""``generate_world``: the whole demo world in memory, deterministic for a seed.

Plans the posts (:mod:`~tasteradar.demo.plan`), writes them in time order so replies, comments, retweets and
copies point at earlier posts, turns each into its platform's raw payload and maps every payload through the
same ``to_post`` the real collectors use. Nothing here touches the disk.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from collectors import reddit as reddit_mapping
from collectors import x as x_mapping
from store import Author, Customer, CustomerHandle, Post
from tasteradar.demo.configtext import X_QUERIES, reddit_query, render_config
from tasteradar.demo.crm import CustomerSpec, make_customers
from tasteradar.demo.payloads import RT_TEXT_LIMIT, IdMaker, Item, reddit_payload, x_payload
from tasteradar.demo.people import Person, make_people
from tasteradar.demo.phrases_common import REDDIT_EXTRAS
from tasteradar.demo.plan import Planned, plan_posts
from tasteradar.demo.text import Composer, Draft, Spec, short_url
from tasteradar.demo.truth import build_truth
from tasteradar.demo.world import BRAND_BY_KEY, SEGMENT_BY_ID, day_start

ProgressFn = Callable[[str, int, int], None]
_WINDOW_START_MS = int(day_start(0).timestamp() * 1000)
_DAY_MS = 86_400_000


@dataclass
class World:
    """The demo world in memory: what the database, ``truth.json``, the CSVs and the config will hold."""

    seed: int
    config_text: str
    payloads: list[tuple[str, dict]]
    posts: list[Post]
    authors: list[Author]
    customers: list[Customer]
    handles: list[CustomerHandle]
    handle_rows: list[dict] = field(default_factory=list)
    truth: dict = field(default_factory=dict)


def sizes(posts: int) -> dict[str, int]:
    """How many customers, authors and spam bots a world of ``posts`` posts has (20,000 -> 3,000 / 6,000)."""
    if posts < 300:
        raise ValueError(f"a demo world needs at least 300 posts, got {posts}")
    return {
        "customers": round(posts * 0.15),
        "authors": round(posts * 0.3),
        "spam_bots": max(2, round(posts * 0.0015)),
    }


def generate_world(
    seed: int = 7, posts: int = 20_000, *, db_name: str = "tasteradar.db", progress: ProgressFn | None = None
) -> World:
    """Build the demo world for ``seed`` in memory: same seed and size, same world, byte for byte."""

    def stream(name: str) -> random.Random:
        return random.Random(f"tasteradar-demo:{seed}:{name}")

    size = sizes(posts)
    customer_specs = make_customers(stream("crm"), size["customers"])
    people = make_people(stream("people"), customer_specs, size["authors"], size["spam_bots"])
    planned = plan_posts(stream("plan"), people, posts)
    writer = _Writer(stream("text"), Composer(stream("compose")), progress, len(planned))
    items = [writer.write(p) for p in planned]
    _fill_metrics(stream("metrics"), items)
    payloads, mapped = _map(stream("map"), items, progress)
    world = World(
        seed=seed,
        config_text=render_config(db_name, seed=seed, posts=posts),
        payloads=payloads,
        posts=mapped,
        authors=[_author(p) for p in people],
        customers=[spec.record for spec in customer_specs],
        handles=_handles(customer_specs, people),
        handle_rows=_handle_rows(stream("csv"), customer_specs, people),
    )
    world.truth = build_truth(seed, posts, items, people, customer_specs)
    return world


class _Writer:
    """Writes planned posts in time order, keeping what later posts may point at."""

    def __init__(
        self, rng: random.Random, composer: Composer, progress: ProgressFn | None, total: int
    ) -> None:
        self.rng, self.composer, self.progress, self.total = rng, composer, progress, total
        self.ids = IdMaker(rng)
        self.seen: set[str] = set()
        self.x_originals: list[Item] = []
        self.submissions: list[Item] = []
        self.comments: dict[int, list[Item]] = {}
        self.spam: list[Item] = []
        self.pastes: dict[int, Item] = {}
        self.count = 0

    def write(self, planned: Planned) -> Item:
        """Write one planned post (its time must not be earlier than the previous one's)."""
        self.count += 1
        if self.progress and (self.count % 1000 == 0 or self.count == self.total):
            self.progress("composing posts", self.count, self.total)
        epoch_ms = _WINDOW_START_MS + planned.ms
        kind = planned.kind
        item = None
        if kind == "retweet":
            item = self._retweet(planned, epoch_ms)
        elif kind == "spam" and self.spam and self.rng.random() < 0.3:
            item = self._copy(planned, epoch_ms, self.rng.choice(self.spam))
        elif kind == "copypasta" and planned.copypasta in self.pastes:
            item = self._copy(planned, epoch_ms, self.pastes[planned.copypasta])
        if item is None:
            if kind == "retweet":
                planned.kind, planned.sentiment = "generic", "neu"
            item = self._original(planned, epoch_ms)
        self._place(item, planned)
        return item

    # ---- kinds -------------------------------------------------------------------------------------------

    def _retweet(self, planned: Planned, epoch_ms: int) -> Item | None:
        original = self._recent(self.x_originals, epoch_ms, 4, planned.person)
        if original is None:
            return None
        text = f"RT @{original.person.handle}: {original.text}"
        if len(text) > RT_TEXT_LIMIT:
            text = text[: RT_TEXT_LIMIT - 1] + "…"
        source = original.draft
        mentions = [m for m in source.mentions if m[1] in text]
        kept = {key for key, _ in mentions}
        feelings = {key: label for key, label in source.brand_sentiment.items() if key in kept}
        phrase = source.need_phrase if source.need_phrase and source.need_phrase in text else None
        draft = Draft(
            text=text,
            sentiment=source.sentiment,
            brand_sentiment=feelings,
            mentions=mentions,
            need=source.need,
            need_phrase=phrase,
            trend=source.trend,
            lang=source.lang,
            is_spam=source.is_spam,
            sarcasm=source.sarcasm,
            negation=source.negation,
            topic="retweet",
        )
        original.retweets += 1
        return Item(planned.person, epoch_ms, draft, text, retweet_of=original)

    def _copy(self, planned: Planned, epoch_ms: int, first: Item) -> Item:
        return Item(planned.person, epoch_ms, first.draft, first.text, duplicate_of=first)

    def _original(self, planned: Planned, epoch_ms: int) -> Item:
        person = planned.person
        spec = Spec(kind=planned.kind, brand=planned.brand, other=planned.other, segment=planned.segment,
                    flavour=person.segment, sentiment=planned.sentiment, need=planned.need, gap=planned.gap,
                    acquisition=planned.acquisition, lang=planned.lang, platform=person.platform,
                    copypasta=planned.copypasta)  # fmt: skip
        item = Item(person, epoch_ms, None, "")  # type: ignore[arg-type]
        if person.platform == "reddit":
            self._thread(item, planned, spec)
        elif planned.kind not in ("spam", "copypasta") and self.rng.random() < 0.12:
            parent = self._recent(self.x_originals, epoch_ms, 3, person)
            if parent is not None:
                item.reply_to, item.root = parent, parent.root or parent
        prefix = f"@{item.reply_to.person.handle} " if item.reply_to and person.platform == "x" else ""
        for attempt in range(10):
            draft = self.composer.compose(_copy_spec(spec))
            text = prefix + draft.text
            if attempt == 9:
                text += " " + short_url(self.rng, person.platform)
            if text not in self.seen:
                break
        if (
            person.platform == "x"
            and spec.kind in ("taste", "need")
            and person.segment
            and self.rng.random() < 0.04
        ):
            text = self._lengthen(text, person.segment)
        item.draft, item.text = draft, text
        self.seen.add(text)
        return item

    def _lengthen(self, text: str, segment: str) -> str:
        """A long X post (over 280 characters): the post plus a few sentences about the author's life."""
        extra = self.composer.context_sentences(segment) + self.rng.sample(REDDIT_EXTRAS, len(REDDIT_EXTRAS))
        for sentence in extra:
            if len(text) > 300:
                break
            text += " " + sentence
        return text

    # ---- where a post sits ---------------------------------------------------------------------------------

    def _recent(self, pool: list[Item], epoch_ms: int, days: int, person: Person) -> Item | None:
        """A random earlier post of ``pool`` from the last ``days`` days by someone other than ``person``."""
        start = bisect_left(pool, epoch_ms - days * _DAY_MS, key=_epoch)
        if start == len(pool):
            return None
        for _ in range(3):
            item = pool[self.rng.randrange(start, len(pool))]
            if item.person is not person:
                return item
        return None

    def _thread(self, item: Item, planned: Planned, spec: Spec) -> None:
        """Make a Reddit post a submission in a fitting subreddit, or a comment in a recent thread."""
        rng = self.rng
        preferred = _subreddits(planned)
        if planned.kind != "spam" and rng.random() < 0.68:
            recent = self.submissions[
                bisect_left(self.submissions, item.epoch_ms - 10 * _DAY_MS, key=_epoch) :
            ]
            wanted = set(preferred)
            fitting = [s for s in recent if s.subreddit in wanted] or recent
            if fitting:
                link = rng.choice(fitting)
                item.submission, item.root, item.subreddit = link, link, link.subreddit
                earlier = self.comments.get(id(link), [])
                if earlier and rng.random() < 0.45:
                    item.reply_to = rng.choice(earlier)
                return
        item.is_submission = True
        item.subreddit = rng.choice(preferred)
        spec.layout = "submission"

    def _place(self, item: Item, planned: Planned) -> None:
        """Give the post its id and record it where later posts can find it."""
        if item.platform == "x":
            item.native_id = self.ids.x(item.epoch_ms)
            if item.retweet_of is None and not item.draft.is_spam:
                self.x_originals.append(item)
        else:
            if item.duplicate_of is not None or item.retweet_of is not None:
                self._thread(item, planned, Spec("copy", "nimbus"))
            item.native_id = self.ids.reddit(submission=item.is_submission)
            if item.is_submission:
                self.submissions.append(item)
            else:
                self.comments.setdefault(id(item.submission), []).append(item)
                (item.reply_to or item.submission).children += 1
        if item.platform == "x" and item.reply_to is not None:
            item.reply_to.children += 1
        if item.draft.is_spam and item.duplicate_of is None:
            self.spam.append(item)
        if planned.kind == "copypasta" and item.duplicate_of is None:
            self.pastes[planned.copypasta] = item


def _epoch(item: Item) -> int:
    return item.epoch_ms


def _copy_spec(spec: Spec) -> Spec:
    """A fresh copy of ``spec`` (composing may fill in the competitor of a need gap)."""
    return Spec(**{name: getattr(spec, name) for name in Spec.__slots__})


def _subreddits(planned: Planned) -> list[str]:
    """Subreddits where a post of this kind and topic would be posted."""
    brand_sub = BRAND_BY_KEY[planned.brand].subreddit or "mvno"
    segment = planned.segment or planned.person.segment
    if planned.kind in ("taste", "need") and segment:
        subs = list(SEGMENT_BY_ID[segment].subreddits)
        return subs + subs + [brand_sub, brand_sub, "mvno"]
    return [brand_sub, brand_sub, brand_sub, "mvno", "mvno"]


# ---- after writing: metrics, payloads, records ------------------------------------------------------------


def _fill_metrics(rng: random.Random, items: list[Item]) -> None:
    """Engagement numbers, consistent with the replies, comments and retweets the world holds."""
    for item in items:
        if item.platform == "reddit":
            score = max(0, int(rng.lognormvariate(1.5, 1.3)) - rng.randint(0, 2))
            item.metrics = {"score": score}
            if item.is_submission:
                item.metrics["upvote_ratio"] = round(rng.uniform(0.55, 1.0), 2)
            continue
        if item.retweet_of is not None:
            item.metrics = {"retweet_count": item.retweet_of.retweets, "reply_count": 0, "like_count": 0,
                            "quote_count": 0, "bookmark_count": 0, "impression_count": 0}  # fmt: skip
            continue
        followers = item.person.metadata.get("followers_count", 0)
        likes = 0 if item.draft.is_spam else int(rng.lognormvariate(0.45 * math.log1p(followers), 1.1))
        item.metrics = {
            "retweet_count": item.retweets + int(likes * rng.uniform(0, 0.1)),
            "reply_count": item.children,
            "like_count": likes,
            "quote_count": rng.randint(0, 2) if likes > 20 else 0,
            "bookmark_count": int(likes * rng.uniform(0, 0.05)),
            "impression_count": int(followers * rng.uniform(0.3, 2.5) + likes * rng.uniform(15, 40))
            + rng.randint(3, 40),
        }


def _map(rng: random.Random, items: list[Item], progress: ProgressFn | None) -> tuple[list, list[Post]]:
    """Each post as its raw payload, mapped to a ``Post`` by the collectors' own ``to_post``."""
    payloads: list[tuple[str, dict]] = []
    posts: list[Post] = []
    for number, item in enumerate(items, 1):
        brands = item.draft.brands
        first = brands[0] if brands else "nimbus"
        if item.platform == "x":
            lang = item.draft.lang
            if lang == "en" and rng.random() < 0.012:
                lang = "und"
            raw = x_payload(item, lang=lang)
            post = x_mapping.to_post(raw, query=X_QUERIES[first])
        else:
            raw = reddit_payload(item)
            post = reddit_mapping.to_post(raw, query=reddit_query(item.subreddit, first))
        post.collected_at = post.created_at.replace(microsecond=0) + timedelta(minutes=rng.randint(2, 90))
        payloads.append((item.platform, raw))
        posts.append(post)
        if progress and (number % 2000 == 0 or number == len(items)):
            progress("mapping payloads", number, len(items))
    return payloads, posts


def _author(person: Person) -> Author:
    return Author(platform=person.platform, native_id=person.native_id, handle=person.handle,
                  display_name=person.name, metadata={**person.metadata, "synthetic": True})  # fmt: skip


def _handles(specs: list[CustomerSpec], people: list[Person]) -> list[CustomerHandle]:
    """The CRM's recorded handles (normalised), opted in or not."""
    by_customer = {p.customer.record.customer_id: p for p in people if p.customer is not None}
    handles = []
    for spec in specs:
        if spec.handle_state == "none":
            continue
        person = by_customer[spec.record.customer_id]
        handles.append(CustomerHandle(
            customer_id=spec.record.customer_id, platform=person.platform, handle=person.handle.lower(),
            consent=spec.handle_state == "opted_in", consent_source=spec.consent_source,
            consent_date=spec.consent_date, synthetic=True,
        ))  # fmt: skip
    return handles


def _handle_rows(rng: random.Random, specs: list[CustomerSpec], people: list[Person]) -> list[dict]:
    """``handles.csv`` rows: handles as typed into the CRM (an "@" or "u/" here and there, any case)."""
    by_customer = {p.customer.record.customer_id: p for p in people if p.customer is not None}
    rows = []
    for spec in specs:
        if spec.handle_state == "none":
            continue
        person = by_customer[spec.record.customer_id]
        handle = person.handle
        roll = rng.random()
        if roll < 0.3:
            handle = ("@" if person.platform == "x" else "u/") + handle
        elif roll < 0.45:
            handle = handle.lower()
        rows.append({
            "customer_id": spec.record.customer_id, "platform": person.platform, "handle": handle,
            "consent": "yes" if spec.handle_state == "opted_in" else "no",
            "consent_source": spec.consent_source or "",
            "consent_date": spec.consent_date.isoformat() if spec.consent_date else "",
        })  # fmt: skip
    return rows
