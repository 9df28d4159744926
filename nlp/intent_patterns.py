"""The cue rules of the churn and switching annotator (``nlp.intents``), in a small pattern language.

A rule is a :class:`Rule`: a ``kind`` (``cancel``, ``port_out``, ``leaving`` or ``move``; a ``move`` becomes
``switching`` or ``switched`` by the tense of its verb) and a ``pattern``, a space-separated list of items
matched by :class:`CueMatcher` against the tokens of the blank English tokenizer, where every brand mention
counts as one token (spaCy's ``Matcher`` ran the same patterns 13 times slower: see :class:`CueMatcher`):

- ``FROM`` / ``TO`` / ``BRAND``: one brand token; ``FROM`` and ``TO`` say which end of the move it names;
- ``$CLASS``: any word of the word class ``CLASS`` in :data:`LEXICON` (``$CANCEL``: cancel, cancelling, ...);
- ``a|b|c``: any of these words (compared lowercased);
- ``=PAC``: this exact spelling (case-sensitive);
- ``*N``: zero to N filler tokens that are neither punctuation nor a brand;
- a trailing ``?`` makes an item optional.

Words of four letters or more also match their one-typo variants (a letter after the first dropped, doubled
or swapped with its neighbour: ``canccel``, ``froom``, ``dtiched``), the three typos people (and the demo
world) make most; substitutions are left out, they would multiply the lists and collide with real words.
Variants that are themselves common words (``left``/``let``, ``from``/``form``, ``contract``/``contact``:
:data:`REAL_WORDS`, found by counting the variants in the real posts of ``../shared/data``) are excluded.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "LEXICON", "PAST", "REAL_WORDS", "RULES", "CueMatcher", "Item", "Rule", "Token", "compile_pattern",
    "trigger_words", "typo_variants",
]  # fmt: skip

#: Word classes used by the rules. Tense matters for ``move`` rules: see :data:`PAST`.
LEXICON: dict[str, tuple[str, ...]] = {
    "SWITCH": (
        "switch", "switching", "switches", "switched", "swap", "swapping", "swapped",
        "move", "moving", "moved", "going", "head", "heading", "headed",
        "change", "changing", "changed", "migrate", "migrating", "migrated", "transfer", "transferring",
        "transferred", "jump", "jumping", "jumped",
    ),
    "SWITCH_NOUN": ("switch", "move", "jump", "change"),
    "MAKE": ("make", "making", "made", "makes"),
    "LEAVE": (
        "leave", "leaving", "left", "ditch", "ditching", "ditched", "dump", "dumping", "dumped",
        "drop", "dropping", "dropped", "quit", "quitting", "abandon", "abandoning", "abandoned",
    ),
    "JOIN": ("join", "joining", "joined", "sign", "signing", "signed"),
    "CANCEL": (
        "cancel", "canceling", "cancelling", "canceled", "cancelled", "cancels",
        "terminate", "terminating", "terminated", "disconnect", "disconnecting", "disconnected",
    ),
    "CLOSE": ("close", "closing", "closed"),
    "END": ("ending", "end", "ended", "terminating", "breaking", "break"),
    "CANCEL_OBJ": (
        "plan", "plans", "service", "services", "line", "lines", "account", "accounts", "contract",
        "contracts", "subscription", "internet", "membership", "number", "numbers",
    ),
    "PORT": ("port", "porting", "ported", "ports", "portout", "porting-out"),
    "NUMBER": ("number", "numbers", "line", "lines", "#", "numbr", "num", "phone"),
    "DET": ("my", "our", "the", "this", "that", "both", "all", "a", "an", "his", "her", "their", "me"),
    "WHEN": ("today", "tomorrow", "tonight", "this", "next", "at", "when", "once", "asap", "now", "soon"),
    "BYE": ("bye", "goodbye", "byebye", "bye-bye", "farewell", "adios", "adieu", "cya", "👋", "peace"),
    "HELLO": ("hello", "hi", "welcome", "hey"),
    "CALL": ("call", "calling", "called", "phoned", "phoning", "ring", "ringing", "rang", "contacted",
             "chatting", "chatted", "messaged"),
    "TARGET_PRONOUN": ("you", "u", "them", "yall", "y'all"),
    "ARROW": ("→",),
}  # fmt: skip

#: Past forms: a ``move`` rule whose verb is one of these reports ``switched`` (a completed move).
PAST = frozenset(
    ("switched", "swapped", "moved", "went", "gone", "headed", "changed", "migrated", "transferred",
     "came", "jumped", "made", "left", "ditched", "dumped", "dropped", "abandoned", "joined", "signed")
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One cue: ``kind`` (cancel, port_out, leaving or move) and its ``pattern`` (see the module docstring).

    ``how_ok``: a question does not weaken this cue ("how do I cancel X?" states the intent).
    ``needs_from``: the row is kept only when a from-brand is found (stated, addressed or the post's only
    brand): the cue alone is too vague ("done with them", "never again").
    ``kind`` ``switched`` is fixed past ("after leaving X"); ``consider`` is always ``considering``.
    """

    name: str
    kind: str
    pattern: str
    question_ok: bool = False
    needs_from: bool = False
    #: The cue must end its clause (``Volt it is.``), or be a clause of its own (``never again.``).
    ends_clause: bool = False
    alone: bool = False
    #: The cue must open its clause and end it, bar an interjection (``Volt it is``, ``Volt it is tbh``).
    starts_clause: bool = False


RULES: tuple[Rule, ...] = (
    # --- switching (kind by the verb's tense) -------------------------------------------------------
    Rule("move_from_to", "move", "$SWITCH over|back? from FROM to|over|for TO"),
    Rule("move_to_from", "move", "$SWITCH over|back? to|into TO from FROM"),
    Rule("move_to", "move", "$SWITCH over|back|all? to|into|towards TO"),
    Rule("move_obj_to", "move", "$SWITCH $DET FROM? *2 to|into TO"),
    Rule("move_from", "move", "$SWITCH over|away? from FROM"),
    Rule("move_carriers", "move", "$SWITCH $DET? carriers|carrier|providers|provider|companies"),
    Rule("jump_ship", "move", "jump|jumping|jumped|jumps ship"),
    Rule("jump_ship_from", "move", "jump|jumping|jumped|jumps ship from FROM"),
    Rule("jump_ship_to", "move", "jump|jumping|jumped|jumps ship to|for TO"),
    Rule("jump_ship_from_to", "move", "jump|jumping|jumped|jumps ship from FROM to|for TO"),
    Rule("make_switch", "move", "$MAKE the $SWITCH_NOUN"),
    Rule("make_switch_to", "move", "$MAKE the $SWITCH_NOUN over? to TO"),
    Rule("make_switch_from", "move", "$MAKE the $SWITCH_NOUN from FROM"),
    Rule("make_switch_from_to", "move", "$MAKE the $SWITCH_NOUN from FROM to TO"),
    Rule("leave_for", "move", "$LEAVE FROM for TO"),
    Rule("after_leaving", "switched", "after|since $LEAVE FROM"),
    Rule("left", "move", "left|ditched|dumped|dropped|abandoned FROM"),
    Rule("arrow", "move", "FROM $ARROW TO"),
    Rule("bye_hello", "move", "$BYE|see ya|you? FROM ,? $HELLO TO"),
    Rule("here_i_come", "move", "TO here i come"),
    Rule("it_is", "move", "TO it is|'s", starts_clause=True),
    Rule("off_to", "move", "off|outta to TO"),
    Rule("join", "move", "$JOIN up? with|for? TO"),
    Rule("go_with", "move", "go|going|goes|went|gone with TO"),
    Rule("come_over_to", "move", "come|coming|came over to TO"),
    Rule("come_over_from", "move", "come|coming|came over from FROM"),
    Rule("considering", "consider", "considering|contemplating|eyeing|eying TO"),
    # --- leaving -----------------------------------------------------------------------------------
    Rule("leaving", "leaving", "leaving|leave|quitting|quit|ditching|dumping|dropping FROM", needs_from=True),
    Rule("done_with", "leaving", "done|finished|through with FROM", needs_from=True),
    Rule("done_with_you", "leaving", "done|finished|through with $TARGET_PRONOUN guys?", needs_from=True),
    Rule("bye", "leaving", "$BYE to? FROM", needs_from=True),
    Rule("see_ya", "leaving", "see ya|you FROM", needs_from=True),
    Rule("brand_bye", "leaving", "FROM ,? $BYE", needs_from=True, ends_clause=True),
    Rule("never_again", "leaving", "never again FROM?", needs_from=True, alone=True),
    Rule("rid_of", "leaving", "rid of FROM", needs_from=True),
    # --- cancel ------------------------------------------------------------------------------------
    Rule("cancel_obj", "cancel", "$CANCEL $DET? FROM? *2 $CANCEL_OBJ", question_ok=True),
    Rule("cancel_brand", "cancel", "$CANCEL with? FROM", question_ok=True),
    Rule("cancel_when", "cancel", "$CANCEL $WHEN", needs_from=True),
    Rule("call_to_cancel", "cancel", "$CALL? FROM to cancel", question_ok=True),
    Rule("not_renewing", "cancel", "not|n't|never renewing|renew $DET FROM? *2 $CANCEL_OBJ"),
    Rule("end_contract", "cancel", "$END $DET FROM? *2 contract|contracts"),
    Rule("out_of_contract", "cancel", "get|getting|want|wanting|break out of $DET FROM? contract"),
    Rule("close_account", "cancel", "$CLOSE $DET FROM? *1 account|accounts", question_ok=True),
    Rule("stac", "cancel", "=STAC"),
    # --- port out ----------------------------------------------------------------------------------
    Rule(
        "port_number_from_to",
        "port_out",
        "$PORT $DET? $NUMBER? over|out? from FROM to|over TO",
        question_ok=True,
    ),
    Rule("port_number_to", "port_out", "$PORT $DET? $NUMBER? over|out|in? to|into TO", question_ok=True),
    Rule("port_number_from", "port_out", "$PORT $DET? $NUMBER? over|out? from FROM", question_ok=True),
    Rule("port_out", "port_out", "$PORT $DET? $NUMBER? -? out|over", question_ok=True),
    Rule("port_my_number", "port_out", "$PORT my|our $NUMBER", question_ok=True),
    Rule(
        "port_out_pin", "port_out", "port -? out pin|pins|code|passcode|number from? FROM?", question_ok=True
    ),
    Rule("transfer_pin", "port_out", "transfer pin|pins|passcode", question_ok=True),
    Rule("pac", "port_out", "=PAC", question_ok=True),
    Rule("pac_code", "port_out", "pac code|number", question_ok=True),
)


#: One-typo variants of cue words that are common words themselves: never taken as the cue word.
REAL_WORDS = frozenset(
    ("one", "had", "let", "contact", "contacts", "message", "though", "don", "provide", "provides",
     "com", "form", "guy", "hell", "ran", "son", "lie", "lies", "mad", "cod", "wan", "net", "bot",
     "jon", "int", "wat", "cal", "carrie", "qui", "sing", "sin", "pan", "rag", "wet", "singing",
     "pace", "jin", "tat", "thi", "duped", "ever", "eave", "pin", "pins", "pans", "plas", "gong",
     "lave", "move", "moved", "gon", "cam", "pored", "pores")
)  # fmt: skip


def typo_variants(word: str) -> set[str]:
    """``word`` and, when it has four letters or more, its one-typo variants (drop, double, swap)."""
    variants = {word}
    if len(word) < 4 or not word.isalpha():
        return variants
    for i in range(len(word)):
        variants.add(word[:i] + word[i] + word[i:])
        if i == 0:
            continue
        variants.add(word[:i] + word[i + 1 :])
        if i + 1 < len(word):
            variants.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])
    return {variant for variant in variants if variant == word or variant not in REAL_WORDS}


def _words(words: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The lowercase words and their typo variants."""
    out: set[str] = set()
    for word in words:
        out |= typo_variants(word.lower())
    return frozenset(out)


@dataclass(frozen=True)
class Item:
    """One compiled pattern item: a brand slot (``role`` from/to/None), a word set, an exact spelling, or
    up to ``most`` filler tokens."""

    kind: str  # "brand", "words", "orth" or "filler"
    words: frozenset[str] = frozenset()
    role: str | None = None
    optional: bool = False
    most: int = 0


def _item(raw: str) -> Item:
    """Compile one pattern item (see the module docstring)."""
    optional = raw.endswith("?") and len(raw) > 1
    text = raw[:-1] if optional else raw
    if text in ("FROM", "TO", "BRAND"):
        return Item("brand", role=None if text == "BRAND" else text.lower(), optional=optional)
    if text.startswith("*"):
        return Item("filler", most=int(text[1:]))
    if text.startswith("="):
        return Item("orth", frozenset({text[1:]}), optional=optional)
    words: list[str] = []
    for part in text.split("|"):
        words += list(LEXICON[part[1:]]) if part.startswith("$") else [part]
    return Item("words", _words(words), optional=optional)


def compile_pattern(pattern: str) -> tuple[Item, ...]:
    """A rule's ``pattern`` as a tuple of :class:`Item`."""
    return tuple(_item(raw) for raw in pattern.split())


class Token:
    """What the matcher reads of one token: its text, lowercase form, punctuation flag and brand (or None)."""

    __slots__ = ("brand", "end", "is_break", "lower", "punct", "start", "text")

    def __init__(self, text: str, lower: str, punct: bool, brand: str | None, start: int, end: int) -> None:
        self.text, self.lower, self.punct, self.brand = text, lower, punct, brand
        self.start, self.end = start, end
        self.is_break = False


def _accepts(item: Item, token: Token) -> bool:
    """Whether one (non-filler) item accepts ``token``."""
    if item.kind == "brand":
        return token.brand is not None
    if token.brand is not None:
        return False
    return (token.text if item.kind == "orth" else token.lower) in item.words


def _walk(items: tuple[Item, ...], k: int, tokens: list[Token], i: int, slots: tuple):
    """Yield ``(end, slots)`` for each way ``items[k:]`` matches ``tokens`` from ``i``."""
    if k == len(items):
        yield i, slots
        return
    item = items[k]
    if item.kind == "filler":
        for n in range(item.most + 1):
            if n and (i + n > len(tokens) or tokens[i + n - 1].punct or tokens[i + n - 1].brand is not None):
                break
            yield from _walk(items, k + 1, tokens, i + n, slots)
        return
    if i < len(tokens) and _accepts(item, tokens[i]):
        found = (*slots, (item.role, i)) if item.role else slots
        yield from _walk(items, k + 1, tokens, i + 1, found)
    if item.optional:
        yield from _walk(items, k + 1, tokens, i, slots)


class CueMatcher:
    """Every match of :data:`RULES` in a token list: ``(rule, start, end, {role: token index})``.

    A pure-Python replacement for spaCy's ``Matcher`` here: rules are indexed by the words their first
    token can be, so a post is only tried against the few rules one of its words can start, and word sets
    are plain ``frozenset`` lookups. On the demo world's candidate posts spaCy's ``Matcher`` with the same
    patterns (``IN`` predicates, evaluated in Python per token) ran about 1,100 posts/s; this one
    14,000-16,000 (same machine, same load).
    """

    def __init__(self, rules: tuple[Rule, ...] = ()) -> None:
        self.rules = [(rule, compile_pattern(rule.pattern)) for rule in (rules or RULES)]
        self.by_word: dict[str, list[int]] = {}
        self.by_brand: list[int] = []
        for index, (_, items) in enumerate(self.rules):
            for item in items:
                if item.kind == "brand":
                    self.by_brand.append(index)
                elif item.kind == "filler":
                    raise ValueError("a pattern cannot start with a filler")
                else:
                    for word in item.words:
                        self.by_word.setdefault(word, []).append(index)
                if not item.optional:
                    break

    def __call__(self, tokens: list[Token]):
        """Yield each distinct match ``(rule, start, end, slots)`` (slots: role -> token index)."""
        seen = set()
        for start, token in enumerate(tokens):
            if token.brand is not None:
                candidates = self.by_brand
            else:
                candidates = self.by_word.get(token.lower, [])
                if token.text != token.lower:
                    candidates = candidates + self.by_word.get(token.text, [])
            for index in candidates:
                rule, items = self.rules[index]
                for end, slots in _walk(items, 0, tokens, start, ()):
                    if end > start and (index, start, end, slots) not in seen:
                        seen.add((index, start, end, slots))
                        yield rule, start, end, dict(slots)


#: Frequent words, weighted: a rule's trigger is the item whose words are the least frequent.
_VERY_COMMON = frozenset(
    ("to", "from", "for", "my", "our", "the", "of", "with", "i", "is", "'s", "it", "over", "a", "an",
     "out", "in", "into", "up", "this", "that", "all")
)  # fmt: skip
_COMMON = frozenset(
    ("you", "u", "not", "n't", "never", "go", "going", "here", "see", "hi", "hey", "them", "off", "done",
     "made", "make", "again", "come", "when", "at", "now", "next", "soon", "once", "today", "number", "line",
     "lines", "plan", "phone")
)  # fmt: skip


def _commonness(words: list[str]) -> tuple[int, int]:
    """How frequent an item's words are (very common words weigh 10, common ones 1), then its size."""
    return 10 * len(_VERY_COMMON.intersection(words)) + len(_COMMON.intersection(words)), len(words)


def trigger_words() -> frozenset[str]:
    """Words one of which every match needs: a post without any is not run through the Matcher.

    For each rule, the words of one required literal item (preferring an item with no common word), so the
    set stays small: most posts hold none of them and cost one set lookup per token.
    """
    words: set[str] = set()
    for rule in RULES:
        items = []
        for raw in rule.pattern.split():
            if raw.endswith("?") and len(raw) > 1 or raw in ("FROM", "TO", "BRAND") or raw[0] in "*":
                continue
            items.append(sorted(word.lower() for word in _item(raw).words))
        if not items:
            raise ValueError(f"rule {rule.name} has no required word")
        words.update(min(items, key=_commonness))
    return frozenset(words)
