"""The cue patterns and word lists of the unmet-needs annotator (``nlp.needs``), as plain data.

A cue is ``(kind, strength, pattern)`` plus flags. ``pattern`` is a space-separated list of token specs
matched on spaCy's ``NORM`` (lowercase, contractions expanded: ``can't`` -> ``can`` ``not``, ``I'd`` -> ``i``
``'d``):

- ``a|b|c``: one token whose norm is one of the words; a trailing ``?`` makes it optional;
- ``WHO+`` / ``WHO*``: one or more / any number of tokens naming whom the need is addressed to (a configured
  brand's mention, an ``@handle``, or you / they; see ``nlp.needs``).

``strength`` 2 is a cue that states a need by itself ("please add", "no option to"); a weak cue (1) counts
only when its phrase holds a product or service word (:data:`PRODUCT_WORDS`). Flags:

- ``negatable``: dropped after a negation or in a question or condition ("I don't need a new phone", "do I
  need ...", "if you need to ...");
- ``after_if``: the need is the ``if`` clause that follows, which must name whom it is about ("would switch
  if *they* had ...");
- ``personal``: a wish about oneself, kept only with a product or service word;
- ``requires``: counts only when one of these words (``a|b``) follows in the sentence ("does Nimbus support
  eSIM *yet*?" is a need, "does Nimbus have a student discount?" a question);
- ``points_back``: names no object; the need is the clause before ("Orbit does eSIM in two minutes,
  *@Nimbus take notes*"), which must hold a product or service word;
- ``addressed``: strong only when the lead-in names whom it addresses ("I wish *Nimbus* had", "if only
  *there* was"); otherwise weak ("I wish the lady had told me", "if only practice was later");
- ``imperative``: counts only as a command, not reported speech ("give us ...", not "they'd give me ...").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ADDRESSEES",
    "ANAPHORA",
    "CLAUSE_BREAKS",
    "CUES",
    "Cue",
    "GREETINGS",
    "LEAD_SKIP",
    "NEGATIONS",
    "NOT_A_SERVICE",
    "PRODUCT_WORDS",
    "SARCASM_MARKERS",
    "STOP_AFTER_CONNECTIVE",
    "TRAILING",
    "VAGUE",
    "word_set",
    "INFO",
    "GRATITUDE",
]


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``."""
    return frozenset(text.split())


@dataclass(frozen=True)
class Cue:
    """One need cue: its kind, how much it says alone, its token pattern and how its object is found."""

    kind: str
    strength: int
    pattern: str
    negatable: bool = False
    after_if: bool = False
    personal: bool = False
    requires: str = ""
    points_back: bool = False
    addressed: bool = False
    imperative: bool = False


_VERBS = "add|bring|give|get|offer|introduce|enable|support|launch|roll|make|do|fix|include|allow|let|have"
_COMMANDS = _VERBS.removesuffix("|have")
_REALLY = "really|rly|realy|seriously|desperately"
_ADDING = (
    "add|adding|get|getting|offer|offering|launch|launching|roll|rolling|bring|bringing|introduce|introducing|"
    "support|supporting|fix|fixing|have|do|doing|release|releasing|start|starting|allow|allowing"
)

CUES: tuple[Cue, ...] = (
    # --- wishes
    Cue("wish", 2, "i|we really|just|so|truly|honestly? wish", negatable=True, addressed=True),
    Cue("wish", 1, "i|we really|just|so? wish i", negatable=True, personal=True),
    Cue("wish", 2, "wish WHO+ had|would|could|did|offered|'d|gave|made|were|was|added|supported|has|have"),
    Cue("wish", 2, "if only WHO*", addressed=True),
    Cue("wish", 2, "if only there was|were|is|'s"),
    Cue("wish", 2, "would|'d|will be so|really|very|super? nice|great|good|awesome|cool|helpful|amazing|"
                   "lovely|better|ideal if|to", addressed=True),
    Cue("wish", 2, "would|'d really|so|absolutely? love to see|have|get"),
    Cue("wish", 2, "would|'d really|so|absolutely? love it? if WHO+"),
    Cue("wish", 2, "would|'d happily|gladly|definitely? pay WHO* extra|more for"),
    Cue("wish", 2, "would|'d|will happily|gladly|definitely|immediately? switch|stay|move|come|return|port|"
                   "sign|upgrade|go|change|consider", after_if=True),
    Cue("wish", 2, "is it too much to ask"),
    Cue("wish", 2, "the one|only thing missing|lacking"),
    # --- requests
    Cue("request", 2, f"please|pls|plz|pleaseee|plese|pleas|kindly {_COMMANDS}|consider|put|start"),
    Cue("request", 2, "can|could|will WHO+ please|pls|plz|just? add|bring|give|get|offer|introduce|enable|"
                      "launch|roll|make|include|allow"),
    Cue("request", 2, "bring back"),
    Cue("request", 2, "hey|dear|yo|hi WHO+ ,?", requires="please|pls|plz"),
    Cue("request", 2, "asking|begging|asked|begged|ask|beg WHO+ for"),
    Cue("wish", 2, "the day WHO+ gets|launches|adds|offers|has|introduces|brings|gives"),
    Cue("request", 2, "give us|me an|a|some|the|more|better|back", imperative=True),
    Cue("request", 2, f"WHO+ {_REALLY}|still? need|needs|should|must to? {_VERBS}"),
    Cue("request", 2, f"WHO+ {_REALLY}? needs"),
    Cue("request", 1, "need|needs|want|wants an|a|some|better|more|proper|real|decent|cheaper|faster",
        negatable=True),
    # --- complaints
    Cue("complaint", 2, "no|zero option|options|way|ability|setting|button|choice|feature to"),
    Cue("complaint", 1, "still waiting|wait for|on", negatable=True),
    Cue("complaint", 2, "why|how is|'s|s there still? no|not"),
    Cue("complaint", 2, "can not believe there|it is|'s|s still? no"),
    Cue("complaint", 2, "still does|do|did not " + _ADDING),
    Cue("complaint", 2, "still not " + _ADDING),
    Cue("complaint", 2, "still has|have no"),
    Cue("complaint", 1, "lack|lacking of"),
    Cue("complaint", 1, "WHO+ take|taking notes", points_back=True),
    Cue("complaint", 1, "WHO+ your move", points_back=True),
    Cue("complaint", 1, "WHO+ please|pls|plz copy this|that", points_back=True),
    Cue("complaint", 1, "come on WHO+", points_back=True),
    Cue("complaint", 1, "meanwhile WHO+", points_back=True),
    Cue("complaint", 1, "WHO+ still|just has|have nothing", points_back=True),
    Cue("complaint", 1, "WHO+ still|just shrugs", points_back=True),
    # --- questions
    Cue("question", 2, "why can|could|will|do|does|did|wo not WHO+"),
    Cue("question", 1, "why can|could not i"),
    Cue("question", 2, "when will|are|is|do|does|can WHO+ going|gon? to? " + _ADDING),
    Cue("question", 2, "will|does|do|would|is WHO+ ever " + _ADDING),
    Cue("question", 2, "any|what plans|news for|on|about|to"),
    Cue("question", 1, "is there a|any way|option|plan|chance to|of"),
    Cue("question", 2, "does|do|will|is WHO+ " + _ADDING, requires="yet"),
)  # fmt: skip

#: Tokens a phrase may skip at its start, between the cue and the wanted thing ("I wish Nimbus *had* eSIM").
LEAD_SKIP = word_set(
    """to if that they you u ya we i it there he she guys y'all would 'd could can will wo should had has
    have 've was were is 's are 're be been did does do just please pls plz really finally already actually
    even ever still also extra for me us offer offered offering offers add added adding adds provide provided
    providing give gave giving gives get got getting gets bring bringing brought launch launched launching
    roll rolled rolling out introduce introduced introducing see seeing consider considering make made making
    let allow start started put enable include ask asking at on forever happily gladly going gon na back
    seriously desperately"""
)
#: Tokens that end a need phrase (it is the object of the wish, not the rest of the post).
CLAUSE_BREAKS = word_set(
    """but because cause cuz coz since so lol lmao lmfao haha hahaha smh tbh ngl imo imho idk though tho
    anyway pls please plz thanks thank thx ty sigh ugh fr istg rn unlike instead otherwise whereas while
    unless"""
)
#: ``and`` / ``or`` / ``like`` end the phrase when one of these (or an addressee) follows: a new clause.
STOP_AFTER_CONNECTIVE = word_set(
    """i it they we you he she now then still why that this also yet meanwhile so my our do does did is are
    should can will would"""
)
#: Words trimmed from the end of a phrase.
TRAILING = word_set(
    """already yet again pls please plz now too lol tbh ngl anymore asap ok okay a an the and or of for to on
    at with in from by that which who so just like really even any some guys folks tho though i me my"""
)
#: An object made only of these words refers back ("why can't Nimbus do the same"): the clause before says it.
ANAPHORA = word_set("the same this that it thing things too one likewise as well them those these so")
#: Negations that cancel a negatable cue when they come just before it.
NEGATIONS = word_set("not n't never no dont don't nobody nothing neither nor hardly")
#: A wish whose object starts with these is a greeting ("I wish you a happy new year").
GREETINGS = word_set(
    """happy merry best luck congratulations congrats birthday safe well good great wonderful nice lovely
    speedy prosperous blessed everyone everybody all"""
)
#: Objects that are not something a brand provides ("still waiting for my friend").
NOT_A_SERVICE = word_set(
    """friend friends mom mum dad mother father bf gf boyfriend girlfriend wife husband brother sister bro sis
    son daughter baby bus uber lyft taxi cab ride pizza coffee beer drink drinks weekend summer winter
    vacation holiday holidays payday season episode album movie game sequel christmas rain snow sun someone
    somebody him her them sleep nap"""
)
#: Objects too vague to be a need on their own ("please do something", "please let me know").
VAGUE = word_set(
    """something anything everything nothing stuff know more better worse it this that case quick asap than
    sense sure"""
)
#: A phrase holding one of these thanks or reports, it does not ask ("please give special thanks to ...").
GRATITUDE = word_set("thanks thank kudos shoutout feedback props")
#: A phrase opening with one of these asks for information, not for something missing ("any updates on ...").
INFO = word_set("info information details detail update updates status eta confirmation know")
#: Addressee pronouns (with brand mentions and ``@handles``, what ``WHO`` matches).
ADDRESSEES = word_set("you u ya y' y'all they guys yall")
#: Markers of sarcasm: a sarcastic wish is not a wish.
SARCASM_MARKERS = ("/s", "#sarcasm", "yeah right", "said no one", "said nobody", "just what i needed",
                   "thanks a lot", "gotta love", "love how", "oh great")  # fmt: skip
#: Product and service words: a weak cue counts when its phrase holds one (compared without a plural ``s``).
#: Telco and airline vocabulary; extend it for other markets.
PRODUCT_WORDS = word_set(
    """plan data signal coverage option feature app support sim esim wifi wi-fi roaming hotspot tethering
    refund seat flight bag luggage baggage upgrade price pricing service network 5g 4g lte internet broadband
    speed modem vpn ipv4 ipv6 dns upload download calling text texting messaging message bundle deal discount
    contract invoice account line phone device update setting control notification agent rep representative
    chat email website site checkin check-in boarding legroom outlet snack food meal entertainment tv miles
    lounge route nonstop credit voucher fee charge bill billing port transfer tracker sos satellite pass
    allowance minute international store shop callback ticket booking reservation voicemail number login
    password router gateway fiber fibre latency ping connection reception tower battery insurance trade-in
    promo offer perk rewards autopay payment"""
)
