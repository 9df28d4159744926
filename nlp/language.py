"""Language of each post: py3langid (offline naive Bayes over byte n-grams) on the post's words only.

Method (``language.langid.v1``, rows ``(post_id, lang, confidence)`` in ``post_language``):

1. The detector reads :func:`detection_text` of ``normalize(text)``: URLs, ``@handles``, ``#hashtags``,
   emoji, digits and punctuation removed (they carry no language and pull short tweets toward odd labels:
   handles such as ``@JetBlue`` made py3langid say Nigerian Pidgin), lowercased when mostly in capitals,
   capped at :data:`MAX_CHARS` characters.
2. Candidates are restricted to :data:`COMMON_LANGUAGES` (34 widely written languages). With all 140 labels
   py3langid calls short English tweets Pidgin, Norwegian, Latin or Afrikaans; the restriction removes most of
   those without hurting real French, Spanish, German or Portuguese posts.
3. Fewer than :data:`MIN_LETTERS` letters, or a top probability under :data:`MIN_CONFIDENCE` (py3langid's
   length-calibrated softmax): the detector abstains. The post keeps the source's own label when the source
   gave a definite one (X does, Reddit does not), else it gets ``und``. English-only annotators still read
   ``und`` posts (``nlp.annotate.maybe_english``).
4. When the source gave a definite label and the detector disagrees, the detector wins only at
   :data:`OVERRIDE_CONFIDENCE` or above (the source saw the whole payload; X's labels are good on long text).

``confidence`` is the detector's probability of the stored label (0.0 for a kept source label the detector
did not rank among the candidates, and for ``und`` from a text too short to judge).

The py3langid model (about a second to load) is loaded on the first batch to label: the fingerprint needs the
candidate labels only, which :func:`candidate_labels` reads from a list of the model's labels per py3langid
version, so a run with nothing new does not load it (with an unlisted version it is loaded at construction).

Measured (commands in the issue 4 report): on the 14,640 airline tweets (all English) 0 are labelled
non-English, 794 (5.4 %) ``und``, the rest ``en``; with all 140 labels and no threshold 118 were labelled
non-English. On a 20,000-post demo world (seed 7) 2 posts get a wrong language (a Portuguese and a German
post mixed with English sentences), 152 ``und``, all others their planted language (French, Spanish, German,
Portuguese recall 0.98-1.0, precision 1.0). Scoring is batched (one gather and sum over the batch's n-gram
counts, not one numpy call per post): 2,800-4,000 posts/s on the shared 2-core machine under load, about
0.9-1.9x the rate of ``normalize`` plus spaCy tokenization measured in the same run.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property
from hashlib import blake2b

import numpy as np

from nlp.annotate import PostText
from nlp.normalize import normalize

__all__ = [
    "COMMON_LANGUAGES",
    "LanguageAnnotator",
    "LanguageDetector",
    "candidate_labels",
    "detection_text",
    "source_label",
]

#: Candidate languages: widely written ones; labels outside this set are never produced by the detector.
COMMON_LANGUAGES: tuple[str, ...] = (
    "en", "es", "fr", "de", "pt", "it", "nl", "sv", "da", "no", "fi", "pl", "cs", "ro", "hu", "tr", "ru",
    "uk", "el", "ar", "he", "fa", "hi", "ur", "bn", "zh", "ja", "ko", "vi", "th", "id", "ms", "tl", "sw",
)  # fmt: skip
#: Fewer letters than this (after :func:`detection_text`) and the detector abstains.
MIN_LETTERS = 10
#: The detector's top probability must reach this to label a post.
MIN_CONFIDENCE = 0.8
#: ... and this to overrule a definite label the source gave.
OVERRIDE_CONFIDENCE = 0.9
#: Only the first characters of the detection text are read (language is settled long before).
MAX_CHARS = 300
#: Source labels that say "no language" (X: ``und``, ``zxx`` for media-only, ``qme``/``qht``... for emoji,
#: hashtags, mentions only).
_NO_LANGUAGE = frozenset({"", "und", "zxx", "qam", "qct", "qht", "qme", "qst", "art"})

#: The labels of the model shipped with each listed py3langid version, in the model's order (``sr`` and ``uz``
#: appear twice in 0.4.0). With them the annotator knows its candidate labels, and so its fingerprint,
#: without loading the model (about a second); with another version it loads the model at construction.
_PY3LANGID_LABELS: dict[str, tuple[str, ...]] = {
    "0.4.0": (
        "af", "am", "ar", "as", "az", "be", "bg", "bn", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
        "eo", "es", "et", "eu", "fa", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha", "he", "hi", "hr", "ht",
        "hu", "hy", "id", "ig", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko", "ku", "ky", "la", "lg",
        "ln", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl", "no", "om", "or", "pa",
        "pl", "ps", "pt", "qu", "ro", "ru", "sa", "si", "sk", "sl", "so", "sq", "sr", "sr", "sv", "sw", "ta",
        "te", "th", "tl", "tr", "ug", "uk", "ur", "uz", "vi", "xh", "yo", "zh", "zu", "zxx", "ace", "bcl",
        "dz", "ext", "gcf", "gom", "grc", "gug", "hbo", "kik", "nso", "pcm", "rw", "se", "sn", "st", "uz",
        "an", "ary", "crh", "fo", "fuv", "gcr", "guw", "kab", "lb", "lij", "ltg", "uzs", "wa", "sdh", "arz",
        "ba", "mt", "nn", "oc", "tg", "tk", "tt", "vec", "vo", "wuu", "yue",
    ),
}  # fmt: skip

_HANDLE_OR_TAG = re.compile(r"[@#][^\s@#]+")
_NOT_A_WORD = re.compile(r"[^\w\s'’-]|[\d_]")
_SPACES = re.compile(r"\s+")


def detection_text(normalized: str) -> str:
    """The words of a normalised post: URLs, handles, hashtags, emoji, digits and punctuation removed."""
    text = normalized
    if "://" in text or "www." in text.lower():
        text = " ".join(word for word in text.split() if "://" not in word and "www." not in word.lower())
    text = _HANDLE_OR_TAG.sub(" ", text)
    text = _NOT_A_WORD.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()[:MAX_CHARS]
    if sum(map(str.isupper, text)) * 2 > len(text):  # mostly shouted: py3langid knows lowercase text best
        text = text.lower()
    return text


def source_label(lang: str | None) -> str | None:
    """The source's label as a bare lowercase language code (``en-GB`` -> ``en``), None when indefinite."""
    if not lang:
        return None
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return None if code in _NO_LANGUAGE else code


def _letters(text: str) -> int:
    """How many letters a :func:`detection_text` holds (all it keeps besides spaces, apostrophes, hyphens)."""
    return len(text) - sum(text.count(char) for char in " '’-")


def candidate_labels(languages: Iterable[str]) -> list[str] | None:
    """The :attr:`LanguageDetector.labels` that ``languages`` give, without loading py3langid's model.

    None when the installed py3langid is not a version whose model labels are listed here (then only the
    model can tell). Raises ``ValueError`` for a language the model does not know, as the detector does.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        known = _PY3LANGID_LABELS.get(version("py3langid"))
    except PackageNotFoundError:
        return None
    if known is None:
        return None
    wanted = set(languages)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f"language: py3langid does not know {unknown}")
    return [label for label in known if label in wanted]  # py3langid's set_languages keeps the model order


class LanguageDetector:
    """py3langid restricted to ``languages``, scoring a batch of texts at once.

    :meth:`probabilities` returns one row of probabilities over :attr:`labels` per text (py3langid's
    length-calibrated softmax, as ``LanguageIdentifier(norm_probs=True)``), or None for a text with no
    n-gram py3langid knows. The fast path reads the model arrays of py3langid 0.4; other versions fall back to
    its public ``rank`` (slower, same figures).
    """

    def __init__(self, languages: Iterable[str] = COMMON_LANGUAGES) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        wanted = list(dict.fromkeys(languages))
        unknown = sorted(set(wanted) - set(identifier.nb_classes))
        if unknown:
            raise ValueError(f"language: py3langid does not know {unknown}")
        identifier.set_languages(wanted)
        self.identifier = identifier
        #: The candidate labels, in column order of :meth:`probabilities`.
        self.labels: list[str] = list(identifier.nb_classes)
        self._fast = all(
            hasattr(identifier, name) for name in ("nb_ptc", "nb_pc", "tk_nextmove", "tk_output", "tk_row")
        ) and len(set(self.labels)) == len(self.labels)
        if self._fast:
            self._table = np.asarray(identifier.nb_ptc, dtype=np.float32)
            self._prior = np.asarray(identifier.nb_pc, dtype=np.float32)
            self._rowbase = [row << 8 for row in identifier.tk_row]

    @staticmethod
    def _encode(text: str) -> bytes:
        """The bytes py3langid reads: all-caps text lowercased, NFC, UTF-8."""
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf-8", errors="surrogatepass")

    def _counts(self, data: bytes) -> dict[int, int]:
        """Feature id -> count, by walking py3langid's n-gram automaton over ``data``."""
        moves, rowbase, output = self.identifier.tk_nextmove, self._rowbase, self.identifier.tk_output
        state, counts = 0, {}
        for byte in data:
            state = moves[rowbase[state] + byte]
            feature = output[state]
            if feature >= 0:
                counts[feature] = counts.get(feature, 0) + 1
        return counts

    def probabilities(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """Probabilities over :attr:`labels` for each text (None: no known n-gram)."""
        if not self._fast:
            return [self._ranked(text) for text in texts]
        encoded = [self._encode(text) for text in texts]
        counts = [self._counts(data) for data in encoded]
        present = [index for index, found in enumerate(counts) if found]
        result: list[np.ndarray | None] = [None] * len(texts)
        if not present:
            return result
        features = np.fromiter((f for i in present for f in counts[i]), dtype=np.intp)
        weights = np.log1p(np.fromiter((c for i in present for c in counts[i].values()), dtype=np.float32))
        starts = np.cumsum([0] + [len(counts[i]) for i in present[:-1]])
        scores = np.add.reduceat(self._table[features] * weights[:, None], starts, axis=0) + self._prior
        scale = 1.0 / np.sqrt(np.array([max(len(encoded[i]), 1) for i in present], dtype=np.float32))
        scores *= scale[:, None]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        for row, index in enumerate(present):
            result[index] = scores[row]
        return result

    def _ranked(self, text: str) -> np.ndarray | None:
        """One text through py3langid's public ``rank`` (the fallback path)."""
        ranked = dict(self.identifier.rank(text))
        probs = np.array([ranked.get(label, 0.0) for label in self.labels], dtype=np.float32)
        if not probs.any() or np.allclose(probs, probs[0]):
            return None
        return probs


class LanguageAnnotator:
    """``language.langid.v1``: one ``(post_id, lang, confidence)`` row per post (see the module docstring)."""

    name = "language.langid.v1"
    table = "post_language"
    columns = ("post_id", "lang", "confidence")

    def __init__(
        self,
        languages: Iterable[str] = COMMON_LANGUAGES,
        *,
        min_letters: int = MIN_LETTERS,
        min_confidence: float = MIN_CONFIDENCE,
        override_confidence: float = OVERRIDE_CONFIDENCE,
        db=None,
    ) -> None:
        #: The candidate languages the detector is built for (on first use: loading the model takes ~1 s).
        self.languages = list(dict.fromkeys(languages))
        labels = candidate_labels(self.languages)
        if labels is None:  # a py3langid whose labels are not listed: only its model knows them
            self.detector = LanguageDetector(self.languages)
            labels = self.detector.labels
        #: The detector's labels, sorted, as the fingerprint has them (checked when the detector loads).
        self._labels = sorted(labels)
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        self.override_confidence = override_confidence
        #: Where the sources' own labels are read from (None: trust the ``lang`` the runner passes).
        self.db = db
        settings = [self._labels, min_letters, min_confidence, override_confidence, MAX_CHARS]
        #: Changes with the candidate languages or thresholds: every post is then labelled again.
        self.fingerprint = blake2b(json.dumps(settings).encode("utf-8"), digest_size=8).hexdigest()

    @cached_property
    def detector(self) -> LanguageDetector:
        """py3langid restricted to :attr:`languages`, loaded on first use (a run with nothing new: never)."""
        detector = LanguageDetector(self.languages)
        if sorted(detector.labels) != self._labels:
            raise RuntimeError(
                f"language: py3langid's model labels {sorted(detector.labels)} differ from those listed for "
                f"its version {self._labels}: update nlp.language._PY3LANGID_LABELS"
            )
        return detector

    @cached_property
    def _index(self) -> dict[str, int]:
        """Label -> column of the detector's probabilities."""
        return {label: column for column, label in enumerate(self.detector.labels)}

    def decide(self, probs: np.ndarray | None, letters: int, source: str | None) -> tuple[str, float]:
        """The stored ``(lang, confidence)`` from the detector's ``probs``, letter count and source label."""
        if probs is None or letters < self.min_letters:
            return (source, self._probability(probs, source)) if source else ("und", 0.0)
        best = int(probs.argmax())
        label, confidence = self.detector.labels[best], float(probs[best])
        if source is None:
            return (label, confidence) if confidence >= self.min_confidence else ("und", confidence)
        if source == label or confidence >= self.override_confidence:
            return label, confidence
        return source, self._probability(probs, source)

    def _probability(self, probs: np.ndarray | None, label: str | None) -> float:
        """The detector's probability of ``label`` (0.0 when it did not score it)."""
        column = self._index.get(label) if label else None
        return 0.0 if probs is None or column is None else float(probs[column])

    def detect(self, texts: Sequence[str], sources: Sequence[str | None] | None = None) -> list[tuple]:
        """``(lang, confidence)`` for raw ``texts`` with the sources' own labels (None: unknown)."""
        cleaned = [detection_text(normalize(text)) for text in texts]
        sources = sources if sources is not None else [None] * len(texts)
        probs = self.detector.probabilities(cleaned)
        return [
            self.decide(p, _letters(text), source_label(source))
            for p, text, source in zip(probs, cleaned, sources, strict=True)
        ]

    def _source_labels(self, batch: Sequence[PostText]) -> list[str | None]:
        """The sources' own labels of ``batch``: from ``posts.lang`` when a database is given.

        The runner passes this annotator's earlier verdict once it has run (``post_language`` before
        ``posts.lang``), which would make a re-run trust its own old labels as if the source gave them.
        """
        if self.db is None:
            return [lang for _, _, lang in batch]
        ids = json.dumps([post_id for post_id, _, _ in batch])
        query = "SELECT id, lang FROM posts WHERE id IN (SELECT value FROM json_each(?))"
        stored = dict(self.db.conn.execute(query, [ids]).fetchall())
        return [stored.get(post_id, lang) for post_id, _, lang in batch]

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """Rows ``(post_id, lang, confidence)``, one per post of ``batch``."""
        found = self.detect([text for _, text, _ in batch], self._source_labels(batch))
        return [
            (post_id, lang, round(conf, 4))
            for (post_id, _, _), (lang, conf) in zip(batch, found, strict=True)
        ]
