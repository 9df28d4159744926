"""Brand and competitor mentions: a spaCy PhraseMatcher on ``spacy.blank("en")`` built from the configuration.

For every brand (anything with ``name``, ``aliases``, ``handles`` and ``hashtags``, such as
``tasteradar.config.BrandConfig``) the matcher holds, compared case-insensitively on whole tokens:

- the name and each alias, with spacing and punctuation variants at every word boundary and at camel-case
  boundaries: ``T-Mobile`` also matches ``T Mobile``, ``TMobile``, ``tmobile``, ``t-mobile``;
- each handle as ``@handle`` and each hashtag as ``#tag``, one token each (``@TMobileHelp`` does not match the
  handle ``TMobile``), and the bare handle or tag as a word (``NimbusMobile``).

The annotator's ``fingerprint`` is a hash of the configured terms: adding an alias to the configuration
re-matches every post on the next ``analyze``, with no version bump. Overlapping matches keep the longest
(``Nimbus Mobile`` rather than ``Nimbus``). Rows are
``(post_id, brand, surface, start_char, end_char)`` with offsets into ``nlp.normalize.normalize(text)``.
Constructing the annotator and reading its fingerprint import no spaCy (a run with nothing new never needs
it): the tokenizer and the matcher are built on first use, once per annotator.

**Common-word aliases** (``Orbit``, ``Volt``, ``Pebble``, ``American``): a one-word alias written in lowercase
right after a number (``12 volt``, ``3 pebble``) is taken as the common word and dropped. A capitalised alias,
the name, handles and hashtags are always kept. This is a cheap first filter, not disambiguation:
``pebble beach`` and ``in orbit`` still count. Dropping lowercase aliases after ``a``/``an`` was tried and
removed: "get a nimbus phone", "a orbit sim" are brand uses (it cost 0.4 points of agreement on the demo
world). A later version may use context (other brand cues in the post, the telecom vocabulary around it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from hashlib import blake2b
from typing import Protocol

from nlp.annotate import PostText
from nlp.normalize import blank_english, parse_texts

__all__ = ["Brand", "BrandTerms", "MentionAnnotator", "find_mentions", "term_variants"]

_SPLIT = re.compile(r"[\s\-_.&/]+|(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_MAX_BOUNDARIES = 4  # 3 ** 4 = 81 variants at most per term


@dataclass(frozen=True)
class Brand:
    """A brand's terms without a configuration file (scripts, notebooks, tests): a :class:`BrandTerms`."""

    name: str
    aliases: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()


class BrandTerms(Protocol):
    """What the matcher needs of a configured brand (``tasteradar.config.BrandConfig`` has it)."""

    name: str
    aliases: tuple[str, ...]
    handles: tuple[str, ...]
    hashtags: tuple[str, ...]


def term_variants(term: str) -> set[str]:
    """The spellings of ``term`` that count as it: each word boundary as space, hyphen or nothing."""
    words = [word for word in _SPLIT.split(term.strip()) if word]
    if not words:
        return set()
    if len(words) - 1 > _MAX_BOUNDARIES:
        return {term.strip(), " ".join(words)}
    variants = {words[0]}
    for word in words[1:]:
        variants = {f"{prefix}{joint}{word}" for prefix in variants for joint in ("", " ", "-")}
    return variants | {term.strip()}


class MentionAnnotator:
    """``mentions.phrase.v2``: every configured brand mentioned in a post, one row per mention.

    v2: ``.@handle`` (a reply made public) is split into ``.`` and ``@handle``; v1 missed those mentions
    (0.6% of the airline tweets).
    """

    name = "mentions.phrase.v2"
    table = "post_mentions"
    columns = ("post_id", "brand", "surface", "start_char", "end_char")

    def __init__(self, brands: Iterable[BrandTerms]) -> None:
        self.brands: list[str] = []
        #: Lowercased one-word aliases that are also common words: filtered by context.
        self.loose: set[str] = set()
        #: ``(brand, sorted terms)`` per configured brand: what :attr:`matcher` is built from, on first use.
        self.terms: list[tuple[str, list[str]]] = []
        for brand in brands:
            if not brand.name:
                continue
            self.brands.append(brand.name)
            terms: set[str] = set()
            for term in (brand.name, *brand.aliases):
                terms |= term_variants(term)
            for alias in brand.aliases:
                if _SPLIT.split(alias.strip()) == [alias.strip()] and alias.strip().isalpha():
                    self.loose.add(alias.strip().lower())
            terms |= {f"@{handle.lstrip('@')}" for handle in brand.handles}
            terms |= {f"#{tag.lstrip('#')}" for tag in brand.hashtags}
            terms |= {handle.lstrip("@") for handle in brand.handles}
            terms |= {tag.lstrip("#") for tag in brand.hashtags}
            self.terms.append((brand.name, sorted(terms)))
        settings = json.dumps([self.terms, sorted(self.loose)], ensure_ascii=False).encode("utf-8")
        #: Changes when the configured brand terms change: every post is then matched again.
        self.fingerprint = blake2b(settings, digest_size=8).hexdigest()
        if not self.brands:
            raise ValueError(
                "mentions.phrase: no brand is configured: "
                "set [brand] name (and [[competitors]]) in tasteradar.toml"
            )

    @cached_property
    def nlp(self):
        """The shared tokenizer (``nlp.normalize.blank_english``; importing spaCy on first use)."""
        return blank_english()

    @cached_property
    def matcher(self):
        """The ``PhraseMatcher`` of the configured terms, built on first use (once per annotator)."""
        from spacy.matcher import PhraseMatcher

        matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name, terms in self.terms:
            matcher.add(name, [self.nlp.make_doc(term) for term in terms if term.strip()])
        return matcher

    def _keep(self, doc, start: int, end: int) -> bool:
        """False for a lowercase common-word alias used as the common word (see the module docstring)."""
        if end - start != 1:
            return True
        token = doc[start]
        if token.text != token.lower_ or token.lower_ not in self.loose or start == 0:
            return True
        before = doc[start - 1]
        return not before.like_num

    def mentions_in(self, doc) -> list[tuple[str, str, int, int]]:
        """``(brand, surface, start_char, end_char)`` of every mention in a tokenized ``doc``, in order.

        Kept in ``doc.user_data`` under this matcher's fingerprint: the shared Docs of a run
        (``nlp.normalize.parse_texts``) are read by mentions, needs, intents and brand sentiment, and each
        asks for the mentions; they are matched once.
        """
        key = ("mentions", self.fingerprint)
        found = doc.user_data.get(key)
        if found is None:
            found = doc.user_data[key] = tuple(self._match(doc))
        return list(found)

    def _match(self, doc) -> list[tuple[str, str, int, int]]:
        from spacy.util import filter_spans

        spans = [
            _labelled(doc, match_id, start, end)
            for match_id, start, end in self.matcher(doc)
            if self._keep(doc, start, end)
        ]
        return [
            (span.label_, span.text, span.start_char, span.end_char)
            for span in sorted(filter_spans(spans), key=lambda span: span.start)
        ]

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """Rows ``(post_id, brand, surface, start_char, end_char)`` for a batch of posts."""
        rows = []
        docs = parse_texts([text for _, text, _ in batch])
        for (post_id, _, _), doc in zip(batch, docs, strict=True):
            rows += [(post_id, *mention) for mention in self.mentions_in(doc)]
        return rows


def _labelled(doc, match_id: int, start: int, end: int):
    """The span ``doc[start:end]`` labelled with the brand of ``match_id``."""
    from spacy.tokens import Span

    return Span(doc, start, end, label=match_id)


def find_mentions(text: str, brands: Iterable[BrandTerms]) -> list[tuple[str, str]]:
    """``(brand, surface)`` of each mention in one raw ``text`` (builds a matcher: for tests and one-offs)."""
    annotator = MentionAnnotator(brands)
    return [(brand, surface) for _, brand, surface, _, _ in annotator.annotate([("", text, None)])]
