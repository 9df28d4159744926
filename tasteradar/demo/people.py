"""Authors of the demo world: customers who post under their recorded handle, the wider audience, spam bots.

Every author gets a platform, a native id in that platform's form (X: a numeric string, Reddit: base36), a
unique handle, a display name and account metadata. A customer's handle is the one recorded in the CRM.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tasteradar.demo.crm import CustomerSpec
from tasteradar.demo.phrases_i18n import LANG_WEIGHTS
from tasteradar.demo.world import AUDIENCE_CARRIERS, BRANDS, MICRO_SEGMENTS, audience_weight

FIRST = (
    "maya", "jon", "priya", "leo", "aisha", "tom", "sofia", "kwame", "lena", "ravi", "emma", "diego",
    "nora", "sam", "yuki", "omar", "grace", "luca", "zara", "ben", "chloe", "ade", "mia", "ivan", "hana",
    "max", "ines", "tariq", "ruth", "felix", "amara", "josh", "li", "noah", "ella", "dev", "sara", "kofi",
    "olga", "marco", "fatima", "jack", "anya", "theo", "rosa", "finn", "nia", "alex", "jade", "karim",
)  # fmt: skip
LAST = (
    "smith", "khan", "patel", "nguyen", "garcia", "okafor", "muller", "rossi", "silva", "kim", "brown",
    "mensah", "novak", "ali", "lopez", "chen", "walsh", "haddad", "jones", "sato", "ivanova", "reyes",
    "baker", "osei", "fischer", "moreau", "cohen", "ward", "dubois", "mehta",
)  # fmt: skip
WORDS = (
    "pixel", "wolf", "coffee", "night", "byte", "sunny", "ghost", "lofi", "mango", "rider", "storm",
    "quiet", "cloud", "ember", "frost", "noodle", "rocket", "velvet", "maple", "echo", "turbo", "lucky",
    "crimson", "tiny", "urban", "retro", "salty", "cosmic", "paper", "neon", "honey", "atlas", "kettle",
    "brave",
)  # fmt: skip
BIOS = {
    "mobile_gamers": ("ranked grinder 🎮", "CODM | PUBG | vibes", "mobile esports wannabe"),
    "international_students": ("MSc student 📚 far from home", "intl student | coffee | deadlines"),
    "content_creators": ("creator 🎥 new vid every Friday", "TikTok + YT | collabs in DMs"),
    "budget_switchers": ("deal hunter 💸", "will switch for a fiver"),
    "parents": ("mum of 3 | tired", "dad, coach, chauffeur"),
    "smart_home_tinkerers": ("home automation nerd 🏠", "Home Assistant | ESP32 | solder burns"),
    "frequent_travellers": ("✈️ 40 countries and counting", "carry-on only | lounge reviews"),
    "shop_owners": ("owner @ a tiny bakery 🥐", "small business, big dreams"),
    "remote_workers": ("remote PM | laptop nomad", "freelance dev, wherever the wifi is"),
    "simple_seniors": ("retired teacher", "grandmother of five"),
    "home_phone_seniors": ("retired, gardening, crosswords", "grandad | allotment"),
}
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36(number: int) -> str:
    """``number`` in base 36 with lower-case letters, as Reddit writes ids."""
    digits = []
    while True:
        number, rest = divmod(number, 36)
        digits.append(_B36[rest])
        if number == 0:
            return "".join(reversed(digits))


@dataclass(slots=True, eq=False)
class Person:
    """One author: who they are in the planted world and how they appear on their platform."""

    role: str  # customer, audience, generic, spam
    platform: str
    segment: str | None
    carrier: str
    mood: float
    lang: str = "en"
    customer: CustomerSpec | None = None
    second_lang: str | None = None
    native_id: str = ""
    handle: str = ""
    name: str | None = None
    metadata: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The author's store key, ``platform:native_id``."""
        return f"{self.platform}:{self.native_id}"


def make_people(
    rng: random.Random, customers: list[CustomerSpec], total: int, spam_bots: int
) -> list[Person]:
    """Customers with a handle, ``spam_bots`` bots and the audience, ``total`` authors in all (at least)."""
    people = [_customer_person(rng, spec) for spec in customers if spec.handle_state != "none"]
    people += [
        Person("spam", "x" if rng.random() < 0.85 else "reddit", None, "nimbus", 0.0)
        for _ in range(spam_bots)
    ]
    segments = [(s.id, audience_weight(s)) for s in MICRO_SEGMENTS]
    for _ in range(max(0, total - len(people))):
        segment = _weighted(rng, segments) if rng.random() < 0.75 else None
        lang = _weighted(rng, LANG_WEIGHTS) if rng.random() < 0.065 else "en"
        role = "audience" if segment else "generic"
        platform = "x" if rng.random() < 0.6 else "reddit"
        people.append(
            Person(role, platform, segment, _weighted(rng, AUDIENCE_CARRIERS), rng.gauss(0, 1), lang)
        )
    taken = {handle.lower() for brand in BRANDS for handle in brand.handles}
    ids: set[str] = set()
    for person in people:
        _identity(rng, person, taken, ids)
    return people


def _weighted(rng: random.Random, pairs) -> str:
    names, weights = zip(*pairs, strict=True)
    return rng.choices(names, weights)[0]


def _customer_person(rng: random.Random, spec: CustomerSpec) -> Person:
    person = Person("customer", spec.platform or "x", spec.segment, "nimbus", spec.mood, customer=spec)
    if spec.segment == "international_students" and rng.random() < 0.3:
        person.second_lang = rng.choice(["es", "pt", "fr"])
    return person


def _identity(rng: random.Random, person: Person, taken: set[str], ids: set[str]) -> None:
    while True:
        handle = _handle(rng, person.platform, person.role)
        if handle.lower() not in taken:
            taken.add(handle.lower())
            break
    person.handle = handle
    while True:
        native = _native_user_id(rng, person.platform)
        if native not in ids:
            ids.add(native)
            break
    person.native_id = native
    person.name = _display_name(rng, person) if person.platform == "x" else None
    person.metadata = _metadata(rng, person)


def _handle(rng: random.Random, platform: str, role: str) -> str:
    first, last, word, word2 = rng.choice(FIRST), rng.choice(LAST), rng.choice(WORDS), rng.choice(WORDS)
    number = str(rng.randrange(1, 9999))
    if role == "spam":
        options = [
            f"{word}_airdrop{number}",
            f"free{word}{number}",
            f"crypto_{first}{number}",
            f"Giveaway{word.title()}{number}",
        ]
    elif platform == "x":
        options = [
            f"{first}{last}",
            f"{first}_{last}",
            f"{first}{last[0]}{number[:2]}",
            f"{word}{word2}",
            f"{word}_{first}",
            f"the{word}{number[:2]}",
            f"{first.title()}{last.title()}",
            f"{first}{number}",
        ]
    else:
        options = [
            f"{word.title()}{word2.title()}{number}",
            f"{word}_{word2}_{number}",
            f"Throwaway_{number}",
            f"{first}-{word}{number[:2]}",
            f"{last}{word}",
            f"{first.title()}_{last.title()}{number[:3]}",
        ]
    handle = rng.choice(options)
    return handle[:15] if platform == "x" else handle[:20]


def _native_user_id(rng: random.Random, platform: str) -> str:
    if platform == "reddit":
        return base36(rng.randrange(36**6, 36**8))
    if rng.random() < 0.4:
        return str(rng.randrange(10**7, 4 * 10**9))
    return str(rng.randrange(7 * 10**17, 19 * 10**17))


def _display_name(rng: random.Random, person: Person) -> str:
    if person.role == "spam":
        return rng.choice(["Crypto Gains 🚀", "FREE Giveaways", "Airdrop Alerts", "Deals Bot"])
    first, last = rng.choice(FIRST).title(), rng.choice(LAST).title()
    return rng.choice([f"{first} {last}", first, f"{first} {last[0]}.", f"{first} ✨", f"{first} {last} 🌍"])


def _metadata(rng: random.Random, person: Person) -> dict:
    year = rng.randint(2009, 2025) if person.role != "spam" else 2026
    created = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
    if person.platform == "reddit":
        return {
            "link_karma": int(rng.lognormvariate(4, 1.5)),
            "comment_karma": int(rng.lognormvariate(6, 1.5)),
            "created_at": created,
        }
    followers = int(rng.lognormvariate(5, 1.6)) if person.role != "spam" else rng.randint(0, 40)
    bio = rng.choice(BIOS[person.segment]) if person.segment and rng.random() < 0.5 else ""
    return {
        "followers_count": followers,
        "following_count": int(rng.lognormvariate(5.5, 1.0)),
        "tweet_count": int(rng.lognormvariate(7, 1.5)),
        "created_at": created,
        "description": bio,
    }
