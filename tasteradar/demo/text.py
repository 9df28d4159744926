"""Post composition: phrase banks + slots + the noise of real feeds, with the truth each post plants.

``Composer.compose(spec)`` returns a ``Draft``: the text and its labels (sentiment overall and per brand,
mentions, need and the exact need phrase, intent, language, spam). Marker characters travel through the
composition so the need phrase and every brand mention are recovered exactly after typos, abbreviations and
lower-casing have been applied; they never reach the final text.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field

from tasteradar.demo import phrases_common as pc
from tasteradar.demo.grammar import expand
from tasteradar.demo.phrases import SEGMENT_BANKS, Tpl
from tasteradar.demo.phrases_i18n import COPYPASTA, I18N, I18N_EXTRAS, SPAM
from tasteradar.demo.world import (
    BRAND_BY_KEY,
    BRANDS,
    NEED_BY_ID,
    PRICE_NEW,
    PRICE_OLD,
    SEGMENT_BY_ID,
    TREND_NEED,
)

NEED_OPEN, NEED_CLOSE, MENTION_OPEN, MENTION_CLOSE = "\x01", "\x02", "\x03", "\x04"
_BRAND_INDEX = {brand.key: str(index) for index, brand in enumerate(BRANDS)}
_MENTION_RE = re.compile("(\x03.*?\x04)", re.S)
_WORD_RE = re.compile(r"[A-Za-z]{4,}")
_ABBREV_RE = re.compile(r"\b(" + "|".join(re.escape(k) for k in pc.ABBREVIATIONS) + r")\b")
_BASE62 = string.digits + string.ascii_letters
_SPACES = re.compile(r"[ \t]+")
_MARKERS = re.compile("([\x01-\x04])")


@dataclass(slots=True)
class Spec:
    """What to write: the kind of post, about which brand(s), in which voice.

    ``kind`` is one of taste, need, generic, switch, churn, switched, welcome, price, price_switch, trend,
    spam, copypasta. ``brand`` is the key of ``{B}``, ``other`` the key of ``{C}``. ``segment`` picks the
    vocabulary (taste and need posts), ``flavour`` the author's own segment for an optional context sentence.
    """

    kind: str
    brand: str
    other: str | None = None
    segment: str | None = None
    flavour: str | None = None
    sentiment: str = "neu"
    need: str | None = None
    gap: bool = False
    acquisition: bool = False
    lang: str = "en"
    layout: str = "flat"
    platform: str = "x"
    copypasta: int = 0


@dataclass(slots=True)
class Draft:
    """A composed post and the truth it plants (brands by key; ``truth.json`` uses their names)."""

    text: str
    sentiment: str
    brand_sentiment: dict[str, str] = field(default_factory=dict)
    mentions: list[tuple[str, str]] = field(default_factory=list)
    need: str | None = None
    need_phrase: str | None = None
    intent: str = "none"
    from_brand: str | None = None
    to_brand: str | None = None
    trend: bool = False
    lang: str = "en"
    is_spam: bool = False
    sarcasm: bool = False
    negation: bool = False
    topic: str | None = None

    @property
    def brands(self) -> list[str]:
        """Keys of the brands mentioned, in order of first mention."""
        return list(dict.fromkeys(key for key, _ in self.mentions))


class _Slots(dict):
    """Slot fillers; ``=key:Surface`` resolves to a fixed brand mention."""

    def __missing__(self, name: str):
        if name.startswith("="):
            key, surface = name[1:].split(":", 1)
            return lambda rng: mention(key, surface)
        raise KeyError(f"no filler for slot {{{name}}}")


def mention(key: str, surface: str) -> str:
    """A brand mention wrapped in markers, so it survives the noise and is found again exactly."""
    return f"{MENTION_OPEN}{_BRAND_INDEX[key]}{surface}{MENTION_CLOSE}"


def short_url(rng: random.Random, platform: str) -> str:
    """A link as it appears in posts: t.co on X, imgur or i.redd.it on Reddit."""
    token = "".join(rng.choice(_BASE62) for _ in range(10))
    if platform == "x":
        return f"https://t.co/{token}"
    return rng.choice([f"https://imgur.com/a/{token[:7]}", f"https://i.redd.it/{token.lower()}.jpg"])


class Composer:
    """Writes posts from ``Spec`` objects with one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._mention_weights = {
            brand.key: ([form for form, _ in brand.mentions], [w for _, w in brand.mentions])
            for brand in BRANDS
        }

    # ---- slots ---------------------------------------------------------------------------------------

    def _brand_filler(self, key: str):
        forms, weights = self._mention_weights[key]

        def filler(rng: random.Random) -> str:
            return mention(key, rng.choices(forms, weights)[0])

        return filler

    def slots(self, spec: Spec, need: str | None = None) -> _Slots:
        """The fillers for one post: global, segment vocabulary, brands, need objects, prices, links."""
        slots = _Slots(pc.GLOBAL_SLOTS)
        for seg in (spec.flavour, spec.segment):
            if seg:
                slots.update(SEGMENT_BANKS[seg]["slots"])
        slots["B"] = self._brand_filler(spec.brand)
        if spec.other:
            slots["C"] = self._brand_filler(spec.other)
        if need:
            slots["obj"] = list(NEED_BY_ID[need].objects)
        slots["old"] = f"{PRICE_OLD:.0f}"
        slots["new"] = f"{PRICE_NEW:.0f}"
        slots["amount"] = lambda rng: str(rng.choice([50, 100, 250, 500, 1000, 2500]) + rng.randrange(0, 50))
        slots["n"] = lambda rng: str(rng.randrange(2, 120))
        slots["url"] = lambda rng: short_url(rng, spec.platform)
        return slots

    def context_sentences(self, segment: str) -> list[str]:
        """Every context sentence of a segment (no brand), in random order, for lengthening a post."""
        rng = self.rng
        slots = self.slots(Spec("taste", "nimbus", segment=segment, flavour=segment))
        templates = SEGMENT_BANKS[segment]["context"]
        sentences = [expand(t, rng, slots) for t in rng.sample(templates, len(templates))]
        return [s[0].upper() + s[1:] + rng.choice([".", ".", "!", ""]) for s in sentences]

    # ---- the main sentence of each kind ------------------------------------------------------------------

    def compose(self, spec: Spec) -> Draft:
        """Compose one post for ``spec``; the draft's text has no markers left in it."""
        if spec.kind == "spam":
            return self._spam(spec)
        if spec.kind == "copypasta":
            return self._copypasta(spec)
        if spec.lang != "en":
            return self._foreign(spec)
        sentences, tpl, need = self._sentences(spec)
        draft = Draft(text="", sentiment=tpl.sentiment, need=need, lang="en", topic=spec.kind)
        draft.sarcasm, draft.negation = tpl.sarcasm, tpl.negation
        text = self._decorate(sentences, tpl, spec)
        self._finish(draft, text, spec, tpl)
        return draft

    def _sentences(self, spec: Spec) -> tuple[list[str], Tpl, str | None]:
        rng = self.rng
        need = spec.need if spec.kind in ("need", "trend") else None
        if spec.kind == "trend" and need is None and rng.random() < 0.5:
            need = TREND_NEED
        slots = self.slots(spec, need)
        if need:
            main, tpl = self._need_sentences(spec, need, slots)
        else:
            tpl = rng.choice(self._bank(spec))
            main = [expand(tpl.text, rng, slots)]
        if spec.flavour and spec.kind in ("taste", "need") and rng.random() < 0.45:
            context = expand(rng.choice(SEGMENT_BANKS[spec.flavour]["context"]), rng, slots)
            main = [context, *main] if rng.random() < 0.6 else [*main, context]
        return main, tpl, need

    def _bank(self, spec: Spec) -> list[Tpl]:
        kind, rng = spec.kind, self.rng
        if kind == "taste":
            return SEGMENT_BANKS[spec.segment][spec.sentiment]
        if kind == "generic":
            topic = rng.choice([t for t in pc.GENERIC if t != "host"])
            return pc.GENERIC[topic][spec.sentiment]
        if kind == "host":
            return pc.GENERIC["host"][spec.sentiment]
        banks = {"switch": pc.SWITCH, "churn": pc.CHURN, "switched": pc.SWITCHED, "welcome": pc.WELCOME,
                 "price": pc.PRICE_COMPLAINT, "price_switch": pc.PRICE_SWITCH, "trend": pc.TREND}  # fmt: skip
        return banks[kind]

    def _need_sentences(self, spec: Spec, need: str, slots: _Slots) -> tuple[list[str], Tpl]:
        rng = self.rng
        gap = NEED_BY_ID[need].gap if spec.gap else None
        if gap and gap != spec.brand:
            slots["C"] = self._brand_filler(gap)
            spec.other = gap
            praise = expand(rng.choice(NEED_BY_ID[need].gap_praise), rng, slots)
            if rng.random() < 0.5:
                cue = rng.choice(pc.GAP_CUES)
                joined = f"{praise}{rng.choice([',', '.', ' -', ' and'])} {expand(cue.text, rng, slots)}"
                return [NEED_OPEN + joined + NEED_CLOSE], Tpl(cue.text, "neg", c="pos")
            cue = rng.choice(pc.NEED_CUES)
            sentence = NEED_OPEN + expand(cue.text, rng, slots) + NEED_CLOSE
            order = [praise, sentence] if rng.random() < 0.5 else [sentence, praise]
            return order, Tpl(cue.text, "neg", c="pos")
        cues = pc.ACQUISITION_CUES if spec.acquisition else pc.NEED_CUES
        cue = rng.choice(cues)
        return [NEED_OPEN + expand(cue.text, rng, slots) + NEED_CLOSE], cue

    # ---- other languages, spam, copypasta --------------------------------------------------------------

    def _foreign(self, spec: Spec) -> Draft:
        rng = self.rng
        kinds = {"need": ("need",), "switch": ("switch",), "price": ("price", "price_switch")}
        wanted = kinds.get(spec.kind, ("general",))
        entries = [e for e in I18N[spec.lang] if e[1] in wanted] or [
            e for e in I18N[spec.lang] if e[1] == "general"
        ]
        tpl, kind, need = rng.choice(entries)
        slots = self.slots(spec)
        sentence = expand(tpl.text, rng, slots)
        if need:
            sentence = NEED_OPEN + sentence + NEED_CLOSE
        parts = [sentence]
        if rng.random() < 0.5:
            extras = I18N_EXTRAS[spec.lang]
            parts.append(rng.choice(extras["any"] + (extras["neg"] if tpl.sentiment == "neg" else [])))
        if rng.random() < 0.4:
            parts.append(rng.choice(pc.EMOJI["sarcasm" if tpl.sarcasm else tpl.sentiment]))
        if rng.random() < 0.15:
            parts.append("#" + rng.choice(BRAND_BY_KEY[spec.brand].hashtags))
        text = " ".join(parts)
        if rng.random() < 0.3:
            text = text.lower()
        draft = Draft(text="", sentiment=tpl.sentiment, need=need, lang=spec.lang, topic=f"{kind}")
        draft.sarcasm, draft.negation = tpl.sarcasm, tpl.negation
        if kind in ("switch", "price_switch"):
            draft.intent, draft.from_brand, draft.to_brand = "switch", spec.brand, spec.other
        self._finish(draft, text, spec, tpl)
        return draft

    def _spam(self, spec: Spec) -> Draft:
        text = expand(self.rng.choice(SPAM), self.rng, self.slots(spec))
        draft = Draft(text="", sentiment="neu", is_spam=True, topic="spam")
        self._extract(draft, text)
        draft.brand_sentiment = {key: "neu" for key in draft.brands}
        return draft

    def _copypasta(self, spec: Spec) -> Draft:
        paste = COPYPASTA[spec.copypasta % len(COPYPASTA)]
        draft = Draft(text="", sentiment=paste["sentiment"], sarcasm=paste["sarcasm"], topic="copypasta")
        self._extract(draft, expand(paste["text"], self.rng, self.slots(spec)))
        draft.brand_sentiment = {key: paste["brands"].get(key, "neu") for key in draft.brands}
        return draft

    # ---- decoration and noise ------------------------------------------------------------------------

    def _decorate(self, sentences: list[str], tpl: Tpl, spec: Spec) -> str:
        """Join sentences with punctuation and add openers, closers, emoji, hashtags, links and noise."""
        rng, label = self.rng, tpl.sentiment
        reddit = spec.platform == "reddit"
        last = len(sentences) - 1
        sentences = [self._punctuate(s, label, inner=i < last) for i, s in enumerate(sentences)]
        if rng.random() < 0.22:
            pool = pc.OPENERS["any"] + pc.OPENERS[label]
            sentences[0] = f"{rng.choice(pool)} {sentences[0]}"
        if rng.random() < 0.18:
            sentences.append(rng.choice(pc.CLOSERS["any"] + pc.CLOSERS[label]))
        if rng.random() < (0.15 if reddit else 0.4):
            emoji = pc.EMOJI["sarcasm"] if tpl.sarcasm and rng.random() < 0.7 else pc.EMOJI[label]
            sentences.append(rng.choice(emoji) * rng.choice([1, 1, 1, 2, 3]))
        if spec.layout == "submission":
            return self._submission(sentences)
        tags = self._hashtags(spec, 0.3 if reddit else 1.0)
        text = " ".join(sentences + tags)
        if rng.random() < (0.03 if reddit else 0.07):
            text += " " + short_url(rng, spec.platform)
        return self._noise(text)

    def _punctuate(self, sentence: str, label: str, *, inner: bool = False) -> str:
        rng = self.rng
        if rng.random() < 0.55:
            first = 1 if sentence[:1] == NEED_OPEN else 0
            if sentence[first : first + 1].isalpha():
                sentence = sentence[:first] + sentence[first].upper() + sentence[first + 1 :]
        stripped = sentence.rstrip(NEED_CLOSE + MENTION_CLOSE)
        if stripped.endswith(("?", "!", ".")):
            return sentence
        roll = rng.random()
        if inner and roll < 0.25:
            return sentence + rng.choice([",", " -", ";"])
        if roll < (0.7 if inner else 0.45):
            return sentence + "."
        if roll < 0.55 and label != "neu":
            return sentence + rng.choice(["!", "!!", "!!!"])
        if roll < 0.6:
            return sentence + "..."
        return sentence

    def _hashtags(self, spec: Spec, scale: float) -> list[str]:
        rng, tags = self.rng, []
        if rng.random() < 0.18 * scale:
            brand = BRAND_BY_KEY[spec.brand]
            tags.append(mention(brand.key, "#" + rng.choice(brand.hashtags)))
        if spec.flavour and rng.random() < 0.2 * scale:
            tags.append("#" + rng.choice(SEGMENT_BY_ID[spec.flavour].hashtags))
        if rng.random() < 0.08 * scale:
            tags.append("#" + rng.choice(pc.GENERIC_HASHTAGS))
        return tags

    def _submission(self, sentences: list[str]) -> str:
        """A Reddit self-post: the first sentence is the title, the rest the body (never empty)."""
        rng = self.rng
        title, body = sentences[0].rstrip("."), sentences[1:]
        if not any(ch.isalpha() for part in body for ch in part) or rng.random() < 0.3:
            body.append(rng.choice(pc.REDDIT_EXTRAS))
        return self._noise(title) + "\n\n" + self._noise(" ".join(body))

    def _noise(self, text: str) -> str:
        """Abbreviations, typos and lower-casing, never inside a brand mention."""
        rng = self.rng
        if rng.random() < 0.15:
            text = _outside_mentions(text, lambda piece: _abbreviate(piece, rng))
        if rng.random() < 0.22:
            text = _typos(text, rng, rng.choice([1, 1, 2]))
        if rng.random() < 0.25:
            text = _outside_mentions(text, str.lower)
        elif rng.random() < 0.04:
            text = text.lower()
        return text

    # ---- truth -----------------------------------------------------------------------------------------

    def _finish(self, draft: Draft, text: str, spec: Spec, tpl: Tpl) -> None:
        self._extract(draft, text)
        roles = {spec.brand: tpl.b or tpl.sentiment}
        if spec.other and spec.other != spec.brand:
            roles[spec.other] = tpl.c or "neu"
        draft.brand_sentiment = {key: roles.get(key, "neu") for key in draft.brands}
        kind = spec.kind
        if kind in ("switch", "switched", "price_switch"):
            draft.intent, draft.from_brand, draft.to_brand = "switch", spec.brand, spec.other
        elif kind == "welcome":
            draft.intent, draft.from_brand, draft.to_brand = "switch", spec.other, spec.brand
        elif kind == "churn":
            draft.intent, draft.from_brand = "churn", spec.brand
        draft.trend = kind == "trend"

    @staticmethod
    def _extract(draft: Draft, marked: str) -> None:
        """Strip the markers: set the text, the need phrase and the brand mentions (key, surface)."""
        out: list[str] = []
        length = need_start = mention_start = 0
        need_span = None
        spans: list[tuple[str, int, int]] = []
        brand_key, expect_brand = "", False
        for part in _MARKERS.split(_SPACES.sub(" ", marked).strip()):
            if part == NEED_OPEN:
                need_start = length
            elif part == NEED_CLOSE:
                need_span = (need_start, length)
            elif part == MENTION_OPEN:
                mention_start, expect_brand = length, True
            elif part == MENTION_CLOSE:
                spans.append((brand_key, mention_start, length))
            elif part:
                if expect_brand:
                    brand_key, part, expect_brand = BRANDS[int(part[0])].key, part[1:], False
                out.append(part)
                length += len(part)
        text = "".join(out)
        draft.text = text.strip()
        if need_span:
            draft.need_phrase = _SPACES.sub(" ", text[need_span[0] : need_span[1]]).strip(" ,.")
        draft.mentions = [(key, text[a:b]) for key, a, b in spans]


def _outside_mentions(text: str, fn) -> str:
    """Apply ``fn`` to the parts of ``text`` that are not brand mentions."""
    parts = _MENTION_RE.split(text)
    return "".join(part if index % 2 else fn(part) for index, part in enumerate(parts))


def _abbreviate(piece: str, rng: random.Random) -> str:
    return _ABBREV_RE.sub(lambda m: pc.ABBREVIATIONS[m.group(1)] if rng.random() < 0.6 else m.group(1), piece)


def _typos(text: str, rng: random.Random, count: int) -> str:
    """Swap, drop or double a letter in ``count`` words of four letters or more outside mentions."""
    parts = _MENTION_RE.split(text)
    spots = [
        (i, m.start(), m.end()) for i, part in enumerate(parts) if i % 2 == 0 for m in _WORD_RE.finditer(part)
    ]
    for i, start, end in sorted(rng.sample(spots, min(count, len(spots))), reverse=True):
        word = parts[i][start:end]
        pos = rng.randrange(1, len(word) - 1)
        op = rng.random()
        if op < 0.4:
            word = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]
        elif op < 0.75:
            word = word[:pos] + word[pos + 1 :]
        else:
            word = word[:pos] + word[pos] + word[pos:]
        parts[i] = parts[i][:start] + word + parts[i][end:]
    return "".join(parts)
