"""Text normalisation shared by the annotators: one canonical form of a post's text, and its tokenizer.

:func:`normalize` unescapes HTML entities exactly once (X and some exports send ``&amp;`` for ``&``, so
``&amp;amp;`` is a literal ``&amp;`` the author typed and stays so), then applies :func:`canonical`:

- Unicode **NFKC**, not NFC: social posts are full of compatibility look-alikes (fullwidth ``Ｎｉｍｂｕｓ``,
  "bold" ``𝐍𝐢𝐦𝐛𝐮𝐬`` from the mathematical alphanumerics, ligatures, non-breaking spaces) that NFKC folds to
  the plain letters the brand matcher and later models expect. NFKC would also fold a few emoji-like symbols
  (``™️`` to ``TM``, ``Ⓜ️`` to ``M``): symbols (category ``So``) and any character followed by the emoji
  presentation selector U+FE0F are shielded from the compatibility step and only NFC-composed, so emoji are
  kept as they are.
- invisible format characters dropped (zero-width space, BOM, directional marks), except the zero-width
  joiner and the variation selectors that emoji sequences need; other control characters become spaces;
- the Unicode hyphens U+2010 and U+2011 become ``-`` (``T‑Mobile`` is ``T-Mobile``);
- runs of whitespace collapse to one space, ends stripped.

URLs, ``@handles``, ``#hashtags`` and emoji are left in place; :func:`blank_english` returns a
``spacy.blank("en")`` whose tokenizer keeps each handle and hashtag one token (URLs and emoji already are).

:func:`canonical` is idempotent; :func:`normalize` is idempotent on every text whose normalised form holds no
HTML entity (so on every text without ``&`` or a look-alike that folds to it, such as fullwidth ``＆``). It
cannot be idempotent on ``&amp;amp;`` and also unescape it once: the second call would see ``&amp;`` again.
Store or annotate ``normalize(raw)``, never ``normalize`` of a normalised text; anything downstream that must
be re-cleaned uses :func:`canonical`.
Nothing is stored by this module: annotators call it and keep offsets into its result.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["HANDLE_OR_HASHTAG", "blank_english", "canonical", "normalize", "parse_texts"]

_DASHES = str.maketrans({"\u2010": "-", "\u2011": "-"})  # hyphen, non-breaking hyphen: ASCII "-"
_KEEP_FORMAT = {"\u200d", "\ufe0e", "\ufe0f"}  # zero-width joiner, text and emoji variation selectors
_WHITESPACE = re.compile(r"\s+")
_ASCII_CONTROLS = {code: " " for code in (*range(32), 127)}  # control characters become spaces
#: One ``@handle`` or ``#hashtag`` as a whole token (letters, digits, ``_``; ``.`` and ``-`` inside).
HANDLE_OR_HASHTAG = re.compile(r"^[@#][^\W_]\w*(?:[.\-]\w+)*$|^[@#]_\w+$")


def _shielded(text: str, index: int) -> bool:
    """True for a character the compatibility step must leave alone (a symbol or an emoji base)."""
    char = text[index]
    if unicodedata.category(char) == "So":
        return True
    return index + 1 < len(text) and text[index + 1] == "\ufe0f"


def _fold(text: str) -> str:
    """NFKC everywhere except shielded characters (NFC there), then NFC over the whole."""
    parts: list[str] = []
    start = 0
    for index in range(len(text)):
        if _shielded(text, index):
            parts.append(unicodedata.normalize("NFKC", text[start:index]))
            parts.append(text[index])
            start = index + 1
    parts.append(unicodedata.normalize("NFKC", text[start:]))
    return unicodedata.normalize("NFC", "".join(parts))


def _clean_char(char: str) -> str:
    """Drop invisible format characters (bar those emoji need); turn other control characters into spaces."""
    category = unicodedata.category(char)
    if category == "Cf":
        return char if char in _KEEP_FORMAT else ""
    if category == "Cc":
        return " "
    return char


def canonical(text: str) -> str:
    """The idempotent part of :func:`normalize`: Unicode folding, invisible characters, whitespace."""
    previous = None
    # Folding and cleaning can expose one another's work (a control character between a base and its
    # combining mark); repeat until nothing changes, which is one or two passes in practice.
    while previous != text:
        previous = text
        folded = text if text.isascii() else _fold(text)  # NFKC and NFC leave ASCII as it is
        if folded.isascii():
            cleaned = folded.translate(_ASCII_CONTROLS)
        else:
            cleaned = "".join(_clean_char(c) for c in folded)
        text = _WHITESPACE.sub(" ", cleaned).strip().translate(_DASHES)
    return text


@lru_cache(maxsize=16384)
def normalize(text: str) -> str:
    """Return the canonical form of a raw post text: HTML entities unescaped once, then :func:`canonical`.

    Several annotators read the same post in one run, so recent results are cached (a pure function).
    """
    if "&" in text:
        text = html.unescape(text)
    return canonical(text)


@lru_cache(maxsize=1)
def blank_english():
    """A ``spacy.blank("en")`` whose tokenizer keeps ``@handles`` and ``#hashtags`` whole (shared, cached).

    Changes to spaCy's English rules, all compiled regexes (a Python callback per token cost a third of
    the tokenizer's speed): a handle or hashtag is one token (``token_match``); ``#`` is split off as a
    prefix only when no letter or digit follows it; a ``.`` right before a handle (``.@united``, the old
    trick to make a reply public) is split off, at the start of a word or inside one (``thanks.@united``).
    """
    import spacy

    nlp = spacy.blank("en")
    prefixes = [p for p in nlp.Defaults.prefixes if p != "#"] + [r"#(?![^\W_])", r"\.(?=[@#])"]
    infixes = [*nlp.Defaults.infixes, r"(?<=\w)\.(?=[@#]\w)"]
    nlp.tokenizer.token_match = HANDLE_OR_HASHTAG.match
    nlp.tokenizer.prefix_search = spacy.util.compile_prefix_regex(prefixes).search
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    return nlp


#: Parsed texts of the current id range, shared by the annotators that run over it (raw text -> Doc).
_PARSED: OrderedDict = OrderedDict()
_PARSED_MAX = 8192


def parse_texts(texts: Sequence[str]) -> list:
    """The :func:`blank_english` Docs of ``normalize(text)`` for raw ``texts``, in order.

    The runner sends each id range through every annotator in turn, so the same texts come back several
    times in a row (mentions, needs, intents, brand sentiment): they are normalised and tokenized once and
    kept in a small cache of the most recent texts (8,192). Docs are shared: callers must not change them.
    """
    nlp = blank_english()
    missing = [text for text in dict.fromkeys(texts) if text not in _PARSED]
    for text, doc in zip(
        missing, nlp.pipe((normalize(text) for text in missing), batch_size=256), strict=True
    ):
        _PARSED[text] = doc
    for text in texts:
        _PARSED.move_to_end(text)
    while len(_PARSED) > max(_PARSED_MAX, len(texts)):
        _PARSED.popitem(last=False)
    return [_PARSED[text] for text in texts]
