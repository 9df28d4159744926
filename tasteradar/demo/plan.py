"""The schedule of the demo world: who posts what kind of post, when.

``plan_posts`` returns exactly ``total`` planned posts. Regular posts follow each author's micro-segment,
carrier and mood; churners drift negative and voice switching or cancelling before their churn day and
praise their new carrier after it; the price change and the emerging trend add their own planned posts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tasteradar.demo.crm import _poisson
from tasteradar.demo.people import Person
from tasteradar.demo.world import (
    AUDIENCE_CARRIERS,
    COMPETITORS,
    DAYS,
    MICRO_SEGMENTS,
    PRICE_CHANGE_DAY,
    SEGMENT_BY_ID,
    SWITCH_TARGET,
    TREND_START_DAY,
)

#: Share of all posts of each special kind.
SHARES = {"spam": 0.015, "copypasta": 0.008, "retweet": 0.04, "trend": 0.02, "price": 0.03}
#: Relative activity by hour of the day (UTC), a rough evening-heavy curve.
HOURS = [2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 8, 8, 7, 7, 7, 8, 9, 10, 10, 9, 7, 4]
INTENT_KINDS = ("switch", "churn", "price_switch")


@dataclass(slots=True, eq=False)
class Planned:
    """One post to write: author, time (milliseconds since the window start) and what it says."""

    person: Person
    ms: int
    kind: str
    brand: str = "nimbus"
    other: str | None = None
    segment: str | None = None
    need: str | None = None
    sentiment: str = "neu"
    gap: bool = False
    acquisition: bool = False
    lang: str = "en"
    copypasta: int = 0

    @property
    def day(self) -> int:
        """The window day (0-based) the post falls on."""
        return self.ms // 86_400_000


def moment(rng: random.Random, day: int) -> int:
    """Milliseconds since the window start for a random time of ``day`` (evening-heavy)."""
    hour = rng.choices(range(24), HOURS)[0]
    return ((day * 24 + hour) * 3600 + rng.randrange(3600)) * 1000 + rng.randrange(1000)


def plan_posts(rng: random.Random, people: list[Person], total: int) -> list[Planned]:
    """Exactly ``total`` planned posts for ``people``, sorted by time."""
    specials = {kind: round(share * total) for kind, share in SHARES.items()}
    spam_bots = [p for p in people if p.role == "spam"]
    specials["spam"] = max(specials["spam"], len(spam_bots))
    counts = _regular_counts(rng, people, total - sum(specials.values()))
    english = [p for p in people if p.lang == "en" and p.role != "spam"]
    planned: list[Planned] = []
    for person, count in counts:
        planned += _person_posts(rng, person, count)
    planned += _spam(rng, spam_bots, specials["spam"])
    planned += _copypasta(rng, english, specials["copypasta"])
    planned += _retweets(rng, [p for p in english if p.platform == "x"], specials["retweet"])
    planned += _trend(rng, english, specials["trend"])
    planned += _price(
        rng, [p for p in english if p.carrier == "nimbus" and not _churns(p)], specials["price"]
    )
    planned.sort(key=lambda item: item.ms)
    return planned


def _churns(person: Person) -> bool:
    return bool(person.customer and person.customer.churn)


def _regular_counts(rng: random.Random, people: list[Person], budget: int) -> list[tuple[Person, int]]:
    customers = [p for p in people if p.role == "customer"]
    others = [p for p in people if p.role in ("audience", "generic")]
    wanted = {
        id(p): (3 + _poisson(rng, 3.5)) if p.customer.handle_state == "opted_in" else 2 + _poisson(rng, 2.0)
        for p in customers
    }
    room = budget - len(others)
    if sum(wanted.values()) > room:
        scale = room / sum(wanted.values())
        wanted = {key: max(2, int(value * scale)) for key, value in wanted.items()}
    extra = budget - sum(wanted.values()) - len(others)
    if extra < 0:
        raise ValueError(f"too few posts ({budget}) for {len(people)} authors: ask for more posts")
    weights = [rng.paretovariate(1.3) for _ in others]
    counts = {id(p): 1 for p in others}
    if others:
        for person in rng.choices(others, weights, k=extra):
            counts[id(person)] += 1
    counts.update(wanted)
    return [(p, counts[id(p)]) for p in customers + others]


def _person_posts(rng: random.Random, person: Person, count: int) -> list[Planned]:
    posts = [_decide(rng, person, rng.randrange(DAYS)) for _ in range(count)]
    spec = person.customer
    if spec and spec.churn and not any(p.kind in INTENT_KINDS for p in posts) and rng.random() < 0.85:
        day = rng.randint(max(0, spec.churn_day - 30), max(0, spec.churn_day - 1))
        posts[rng.randrange(len(posts))] = _intent(rng, person, day, spec.to_brand)
    return posts


def _decide(rng: random.Random, person: Person, day: int) -> Planned:
    """What ``person`` posts on ``day``: intent around churn, else their segment, else everyday talk."""
    spec = person.customer
    if person.lang != "en" or (person.second_lang and rng.random() < 0.2):
        return _foreign(rng, person, day)
    if spec and spec.churn:
        if day >= spec.churn_day:
            if rng.random() < 0.45:
                return Planned(person, moment(rng, day), "switched", "nimbus", spec.to_brand, sentiment="pos")
            return _regular(rng, person, day, carrier=spec.to_brand, closeness=-0.2)
        closeness = max(0.0, 1.0 - (spec.churn_day - day) / 60)
        if spec.churn_day - day <= 40 and rng.random() < 0.4:
            return _intent(rng, person, day, spec.to_brand)
        return _regular(rng, person, day, closeness=0.45 * closeness)
    if spec and rng.random() < 0.04:
        return _intent(rng, person, day, _target(rng, day, "nimbus"), switch_only=True)
    if not spec and rng.random() < 0.03:
        if person.carrier == "nimbus":
            return _intent(rng, person, day, _target(rng, day, "nimbus"), switch_only=True)
        return Planned(person, moment(rng, day), "welcome", "nimbus", person.carrier, sentiment="pos")
    return _regular(rng, person, day)


def _target(rng: random.Random, day: int, carrier: str) -> str:
    if day >= PRICE_CHANGE_DAY and carrier == "nimbus" and rng.random() < 0.75:
        return SWITCH_TARGET.key
    return rng.choice([b.key for b in COMPETITORS if b.key != carrier])


def _intent(
    rng: random.Random, person: Person, day: int, target: str, *, switch_only: bool = False
) -> Planned:
    when = moment(rng, day)
    if not switch_only and rng.random() < 0.4:
        return Planned(person, when, "churn", "nimbus", sentiment="neg")
    if day >= PRICE_CHANGE_DAY and target == SWITCH_TARGET.key and rng.random() < 0.5:
        return Planned(person, when, "price_switch", "nimbus", target, sentiment="neg")
    return Planned(person, when, "switch", "nimbus", target, sentiment="neg")


def _sentiment(rng: random.Random, mood: float, closeness: float) -> str:
    neg = min(0.9, max(0.05, 0.28 + 0.13 * mood + closeness))
    pos = min(0.8, max(0.03, 0.34 - 0.1 * mood - closeness / 2))
    roll = rng.random()
    return "neg" if roll < neg else "pos" if roll < neg + pos else "neu"


def _regular(
    rng: random.Random, person: Person, day: int, *, carrier: str | None = None, closeness: float = 0.0
):
    carrier = carrier or person.carrier
    brand = carrier if rng.random() < 0.82 else rng.choice([k for k, _ in AUDIENCE_CARRIERS if k != carrier])
    sentiment = _sentiment(rng, person.mood, closeness)
    post = Planned(person, moment(rng, day), "generic", brand, sentiment=sentiment)
    roll, own = rng.random(), person.segment
    if own and roll < 0.70:
        post.segment = own
    elif (own and roll < 0.80) or (not own and roll < 0.15):
        post.segment = rng.choice(MICRO_SEGMENTS).id
    if post.segment:
        needy = 0.42 if post.segment == own else 0.3
        if rng.random() < needy + 0.15 * closeness:
            post.kind = "need"
            post.need = rng.choice(SEGMENT_BY_ID[post.segment].needs)
            post.gap = rng.random() < 0.3
            post.acquisition = brand == "nimbus" and carrier != "nimbus" and rng.random() < 0.5
        else:
            post.kind = "taste"
    elif brand == "nimbus" and rng.random() < 0.1:
        post.kind, post.other = "host", "titan"
    return post


def _foreign(rng: random.Random, person: Person, day: int) -> Planned:
    lang = person.second_lang or person.lang
    carrier = person.carrier
    roll = rng.random()
    kind = "generic" if roll < 0.7 else "need" if roll < 0.85 else "switch"
    if day >= PRICE_CHANGE_DAY and carrier == "nimbus" and rng.random() < 0.15:
        kind = "price"
    other = _target(rng, day, carrier)
    return Planned(person, moment(rng, day), kind, carrier, other, segment=person.segment, lang=lang)


def _spam(rng: random.Random, bots: list[Person], count: int) -> list[Planned]:
    authors = bots + [rng.choice(bots) for _ in range(count - len(bots))] if bots else []
    return [Planned(bot, moment(rng, rng.randrange(DAYS)), "spam") for bot in authors]


def _copypasta(rng: random.Random, people: list[Person], count: int) -> list[Planned]:
    return [
        Planned(rng.choice(people), moment(rng, rng.randrange(DAYS)), "copypasta", copypasta=index % 4)
        for index in range(count)
    ]


def _retweets(rng: random.Random, people: list[Person], count: int) -> list[Planned]:
    return [Planned(rng.choice(people), moment(rng, rng.randrange(1, DAYS)), "retweet") for _ in range(count)]


def _trend(rng: random.Random, people: list[Person], count: int) -> list[Planned]:
    """Near zero before the trend window, then growing by about 16% a day over the last three weeks."""
    before = max(1, round(0.04 * count)) if count else 0
    window = list(range(TREND_START_DAY, DAYS))
    weights = [math.exp(0.16 * (day - TREND_START_DAY)) for day in window]
    days = [rng.randrange(TREND_START_DAY) for _ in range(before)]
    days += rng.choices(window, weights, k=count - before)
    boost = {
        "frequent_travellers": 3.0,
        "simple_seniors": 2.0,
        "home_phone_seniors": 2.0,
        "remote_workers": 1.5,
    }
    author_weights = [boost.get(p.segment, 1.0) for p in people]
    posts = []
    for day, person in zip(days, rng.choices(people, author_weights, k=len(days)), strict=True):
        brand = "nimbus" if rng.random() < 0.7 or person.carrier == "titan" else person.carrier
        other = "titan" if rng.random() < 0.7 and brand != "titan" else "volt" if brand != "volt" else "orbit"
        posts.append(Planned(person, moment(rng, day), "trend", brand, other, gap=rng.random() < 0.35))
    return posts


def _price(rng: random.Random, people: list[Person], count: int) -> list[Planned]:
    """Reactions to the price change: a burst that decays; half of the audience threaten to leave."""
    window = list(range(PRICE_CHANGE_DAY, DAYS))
    weights = [math.exp(-(day - PRICE_CHANGE_DAY) / 14) + 0.15 for day in window]
    posts = []
    for day in rng.choices(window, weights, k=count):
        person = rng.choice(people)
        leave = 0.5 if person.role != "customer" else 0.15
        kind = "price_switch" if rng.random() < leave else "price"
        other = SWITCH_TARGET.key if kind == "price_switch" else None
        posts.append(Planned(person, moment(rng, day), kind, "nimbus", other, sentiment="neg"))
    return posts
