"""The planted truth of a demo world, as written to ``truth.json`` (the pipeline never reads it).

Brands appear by name. Phrases (``need_phrase``, mention surfaces) are substrings of the post text with
HTML entities decoded (X sends ``&amp;``); keys are post ids ``platform:native_id``, author ids likewise.
"""

from __future__ import annotations

from tasteradar.demo.crm import CustomerSpec
from tasteradar.demo.payloads import Item
from tasteradar.demo.people import Person
from tasteradar.demo.world import (
    BRAND_BY_KEY,
    COMPETITORS,
    DAYS,
    END_DATE,
    GENERATOR_VERSION,
    HOST,
    OWN,
    PRICE_CHANGE_DAY,
    PRICE_NEW,
    PRICE_OLD,
    PRICE_PLAN,
    START_DATE,
    SWITCH_TARGET,
    TREND_DAYS,
    TREND_NEED,
    TREND_START_DAY,
    day_start,
    definitions,
)


def _name(key: str | None) -> str | None:
    return BRAND_BY_KEY[key].name if key else None


def post_truth(item: Item) -> dict:
    """The labels planted in one post."""
    draft, person = item.draft, item.person
    customer = person.customer
    return {
        "author": person.key,
        "customer_id": customer.record.customer_id if customer else None,
        "micro_segment": person.segment,
        "topic": draft.topic,
        "need": draft.need,
        "need_phrase": draft.need_phrase,
        "trend": draft.trend,
        "intent": draft.intent,
        "from_brand": _name(draft.from_brand),
        "to_brand": _name(draft.to_brand),
        "sentiment": draft.sentiment,
        "brand_sentiment": {_name(key): label for key, label in draft.brand_sentiment.items()},
        "brands": [_name(key) for key in draft.brands],
        "mentions": [[_name(key), surface] for key, surface in draft.mentions],
        "lang": draft.lang,
        "is_spam": draft.is_spam,
        "sarcasm": draft.sarcasm,
        "negation": draft.negation,
        "duplicate_of": item.duplicate_of.key if item.duplicate_of else None,
        "retweet_of": item.retweet_of.key if item.retweet_of else None,
        "day": (item.epoch_ms - int(day_start(0).timestamp() * 1000)) // 86_400_000,
    }


def customer_truth(spec: CustomerSpec, person: Person | None) -> dict:
    """The planted facts about one customer."""
    churn_date = day_start(spec.churn_day).date().isoformat() if spec.churn_day is not None else None
    return {
        "broad_segment": spec.record.broad_segment,
        "micro_segment": spec.segment,
        "churn": spec.churn,
        "churn_date": churn_date,
        "to_brand": _name(spec.to_brand),
        "has_handle": spec.handle_state != "none",
        "consent": spec.handle_state == "opted_in",
        "platform": person.platform if person else None,
        "handle": person.handle if person else None,
        "author": person.key if person else None,
    }


def author_truth(person: Person) -> dict:
    """Who an author is in the planted world."""
    return {
        "handle": person.handle,
        "role": person.role,
        "micro_segment": person.segment,
        "carrier": _name(person.carrier),
        "lang": person.lang,
        "customer_id": person.customer.record.customer_id if person.customer else None,
    }


def build_truth(
    seed: int, posts: int, items: list[Item], people: list[Person], specs: list[CustomerSpec]
) -> dict:
    """Everything planted in the world: meta, definitions, and labels per post, customer and author."""
    by_customer = {p.customer.record.customer_id: p for p in people if p.customer is not None}
    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "posts": len(items),
        "requested_posts": posts,
        "x_posts": sum(item.platform == "x" for item in items),
        "reddit_posts": sum(item.platform == "reddit" for item in items),
        "authors": len(people),
        "customers": len(specs),
        "opted_in": sum(spec.handle_state == "opted_in" for spec in specs),
        "no_consent_handles": sum(spec.handle_state == "no_consent" for spec in specs),
        "churned": sum(spec.churn for spec in specs),
        "start_date": START_DATE.isoformat(),
        "end_date": END_DATE.isoformat(),
        "days": DAYS,
        "own_brand": OWN.name,
        "competitors": [brand.name for brand in COMPETITORS],
        "host_network": HOST.name,
        "trend": {
            "name": "satellite texting / SOS via satellite",
            "need": TREND_NEED,
            "start_day": TREND_START_DAY,
            "start_date": day_start(TREND_START_DAY).date().isoformat(),
            "end_date": END_DATE.isoformat(),
            "days": TREND_DAYS,
        },
        "price_change": {
            "day": PRICE_CHANGE_DAY,
            "date": day_start(PRICE_CHANGE_DAY).date().isoformat(),
            "brand": OWN.name,
            "plan": PRICE_PLAN,
            "old_price": PRICE_OLD,
            "new_price": PRICE_NEW,
            "switch_target": SWITCH_TARGET.name,
        },
        "notes": "need_phrase and mention texts are substrings of html.unescape(post text); "
        "retweets copy the labels of the original except intent; post micro_segment is the author's.",
    }
    return {
        "meta": meta,
        "definitions": definitions(),
        "posts": {item.key: post_truth(item) for item in items},
        "customers": {
            spec.record.customer_id: customer_truth(spec, by_customer.get(spec.record.customer_id))
            for spec in specs
        },
        "authors": {person.key: author_truth(person) for person in people},
    }
