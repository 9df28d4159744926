"""Topic labels a brand manager reads at a glance: c-TF-IDF terms, an optional semantic rerank, no brands.

**Terms.** Each post is cut into phrases at every URL, ``@handle``, caller-given stop term (brand names,
aliases, handles, hashtags: case-insensitive, also written joined or hyphenated, with a possessive ``'s``),
English stop word (scikit-learn's list without content words such as "bill", "call" and "top", plus chat
filler such as "thanks", "pls", "lol", and the commonest Spanish, French, German and Portuguese function
words) and punctuation; words without a letter and contractions are dropped. Candidate terms are the 1- and
2-grams inside a phrase, so no term contains or spans a brand name or a stop word ("roaming pass", never
"nimbus roaming" nor "want cancel"). They are scored per topic with BERTopic's class-based TF-IDF: ``tf(term,
topic) * log(1 + mean words per topic / frequency of the term over all topics)``, tf L1-normalised per topic,
over terms seen in at least ``min_df`` posts.

**Labels.** The top :data:`CANDIDATES` terms of a topic are taken, a single word replaced by the commonest
2-gram holding at least :data:`PHRASE_SHARE` of its uses ("esim" -> "esim activation"), and kept when they
weigh at least :data:`SECOND_WEIGHT` of the topic's top weight. They are then picked: with a ``word_encoder``
(the :class:`nlp.embeddings.Encoder` of the post embeddings), KeyBERTInspired-style by the cosine of the
term's vector to the topic centroid times the term's share of the top weight, with maximal marginal relevance
(diversity :data:`DIVERSITY`); without one, in c-TF-IDF order. (On the demo world's 83 topics, labels with
MiniLM as encoder read about as well as without: a few better phrases, but generic words in broad complaint
topics ("app, great, outage"); the cosine alone was worse, e.g. "network right, move" for crypto spam. No
encoder is the cheaper default.) Near-duplicates are skipped in both cases: a term whose words (plural ``s``
cut) hold or are held by those of a term already picked ("esim" / "esim support"; "roaming pass" and "travel
pass" may share a label). The label joins 2 of them, and a third while it weighs at least :data:`THIRD_WEIGHT`
of the top weight and the label stays within :data:`LABEL_CHARS` characters ("roaming pass, travel abroad"); a
topic with a single weighty term is labelled by it alone. A label already given to a larger topic gets a
number ("esim activation (2)"). ``Topic.terms`` keeps the plain c-TF-IDF top terms and weights (what refits
compare).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CANDIDATES",
    "DIVERSITY",
    "LABEL_CHARS",
    "PHRASE_SHARE",
    "SECOND_WEIGHT",
    "THIRD_WEIGHT",
    "TopicTerms",
    "ctfidf_terms",
    "label_topics",
    "make_label",
    "near_duplicates",
    "phrase_analyzer",
    "pick_label_terms",
    "prefer_phrases",
    "representative_posts",
]

#: Candidate terms per topic that the label is picked from.
CANDIDATES = 30
#: MMR trade-off with a word encoder: 0 is pure relevance, 1 pure diversity.
DIVERSITY = 0.3
#: A single word gives way to a 2-gram that holds at least this share of its occurrences in the topic.
PHRASE_SHARE = 0.3
#: A label term weighs at least this share of the topic's top c-TF-IDF weight ...
SECOND_WEIGHT = 0.3
#: ... a third term at least this share, and only while the label stays within :data:`LABEL_CHARS`.
THIRD_WEIGHT = 0.5
LABEL_CHARS = 40
_BREAK = "\x00"
_URL = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE = re.compile(r"@\w+")
#: A word (with inner apostrophes or hyphens: "can't", "wi-fi"), or any other non-space character (a break).
_TOKEN = re.compile(r"\w+(?:['-]\w+)*|[^\w\s]")
#: Social-media noise and chat filler beside scikit-learn's English stop words.
_NOISE = frozenset({
    "rt", "amp", "gt", "lt", "via", "url", "http", "https", "www", "com", "im", "ive", "dont", "cant",
    "didnt", "doesnt", "isnt", "wont", "just", "really", "like", "got", "get", "gets", "getting",
    "thanks", "thank", "thx", "pls", "plz", "please", "lol", "lmao", "hey", "hi", "ok", "okay", "yes",
    "yeah", "ya", "yep", "nope", "oh", "hmm", "guys", "gonna", "wanna", "idk", "ngl", "tbh", "btw", "omg",
    "srsly", "tho", "ur", "literally", "actually", "honestly", "seriously", "basically", "today", "does",
    "did", "doing", "know", "went", "goes", "going", "says", "said", "think", "thinks", "make", "makes",
    "made", "let", "lets", "guess", "thing", "things", "stuff", "lot", "bit", "way", "maybe", "anymore",
    "instead",
})  # fmt: skip
#: The commonest function words of Spanish, French, German and Portuguese (none an English word a label could
#: need: not "plus", "ai", "mi"), so a topic of posts in those languages is labelled by its content words.
_FOREIGN = frozenset({
    "al", "ao", "as", "au", "auch", "auf", "aux", "avec", "bei", "bem", "bien", "ce", "cette", "chez",
    "com", "como", "con", "da", "dans", "das", "de", "del", "dem", "den", "der", "des", "do", "dos", "du",
    "echt", "ein", "eine", "el", "elle", "em", "en", "es", "est", "esta", "este", "esto", "está", "et",
    "hay", "ich", "il", "ils", "ist", "je", "la", "las", "le", "les", "lo", "los", "ma", "mais", "mas",
    "mein", "meine", "mes", "meu", "minha", "mit", "mon", "muito", "muy", "más", "nada", "nao", "nicht",
    "noch", "nous", "nur", "não", "os", "otra", "otro", "para", "pas", "pero", "por", "pour", "que",
    "qui", "schon", "se", "sem", "sich", "su", "suis", "sur", "todo", "tu", "um", "uma", "un", "una",
    "und", "une", "vez", "vou", "vous", "wie", "ya", "zu",
})  # fmt: skip
#: Words in scikit-learn's stop list that name things customers talk about ("bill", "call", "top up").
_CONTENT = frozenset({
    "bill", "call", "system", "interest", "fire", "amount", "full", "empty", "top", "bottom", "front",
    "back", "side", "show", "move", "part", "computer", "detail", "thick", "thin", "cry", "mill", "fill",
})  # fmt: skip


def _stop_words() -> frozenset[str]:
    """scikit-learn's English stop words less :data:`_CONTENT`, plus :data:`_NOISE` and :data:`_FOREIGN`."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return (frozenset(ENGLISH_STOP_WORDS) - _CONTENT) | _NOISE | _FOREIGN


def stop_term_pattern(stop_terms: Sequence[str], *, sigil: bool = False) -> re.Pattern | None:
    """One case-insensitive pattern matching any stop term as a whole word, joined, spaced or hyphenated
    (``sigil``: with a leading ``@`` or ``#`` taken into the match)."""
    patterns = set()
    for term in stop_terms:
        parts = [part for part in re.split(r"[\s\-_.]+", term.strip().lower().lstrip("@#")) if part]
        if parts:
            patterns.add(r"[\s\-_.]*".join(re.escape(part) for part in parts))
    if not patterns:
        return None
    alternatives = "|".join(sorted(patterns, key=len, reverse=True))
    prefix = "[@#]?" if sigil else ""
    return re.compile(rf"(?<!\w){prefix}(?:{alternatives})(?:'s)?(?!\w)", re.IGNORECASE)


def phrase_analyzer(
    stop_terms: Sequence[str] = (), ngrams: tuple[int, int] = (1, 2)
) -> Callable[[str], list[str]]:
    """A function from a post's text to its candidate terms (see the module docstring)."""
    stop_words = _stop_words()
    stop_pattern = stop_term_pattern(stop_terms)
    low, high = ngrams
    breaker = f" {_BREAK} "

    def analyze(text: str) -> list[str]:
        """The 1..n-grams of ``text`` inside its phrases."""
        text = _URL.sub(breaker, text.lower().replace("\u2019", "'"))
        text = _HANDLE.sub(breaker, text)
        if stop_pattern is not None:
            text = stop_pattern.sub(breaker, text)
        terms: list[str] = []
        phrase: list[str] = []
        for token in [*_TOKEN.findall(text), _BREAK]:
            token = token.removesuffix("'s")
            keep = len(token) > 1 and "'" not in token and token not in stop_words and not token.isdigit()
            if keep and any(char.isalpha() for char in token):
                phrase.append(token)
                continue
            for n in range(low, high + 1):
                terms.extend(" ".join(phrase[i : i + n]) for i in range(len(phrase) - n + 1))
            phrase = []
        return terms

    return analyze


@dataclass(frozen=True)
class TopicTerms:
    """A topic's label and its c-TF-IDF top terms with weights."""

    topic_id: int
    label: str
    terms: tuple[tuple[str, float], ...]


def ctfidf_terms(
    docs: Sequence[str],
    assignments: np.ndarray,
    topic_ids: Sequence[int],
    *,
    stop_terms: Sequence[str] = (),
    top_n: int = CANDIDATES,
    min_df: int = 2,
) -> dict[int, list[tuple[str, float]]]:
    """Each topic's ``top_n`` terms by c-TF-IDF (best first) over the docs assigned to it.

    ``assignments[i]`` is the topic of ``docs[i]`` (-1 and ids not in ``topic_ids`` are ignored). A term must
    occur in at least ``min_df`` of those docs (lowered to 1 when fewer than 50 docs are assigned).
    """
    table = _ctfidf_table(docs, assignments, topic_ids, stop_terms, top_n, min_df)
    return {topic_id: [(term, weight) for term, weight, _ in rows] for topic_id, rows in table.items()}


def _ctfidf_table(
    docs: Sequence[str],
    assignments: np.ndarray,
    topic_ids: Sequence[int],
    stop_terms: Sequence[str],
    top_n: int,
    min_df: int,
) -> dict[int, list[tuple[str, float, int]]]:
    """:func:`ctfidf_terms` with each term's count in the topic: ``(term, weight, count)``."""
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer

    assignments = np.asarray(assignments)
    ids = list(topic_ids)
    result: dict[int, list[tuple[str, float, int]]] = {topic_id: [] for topic_id in ids}
    rows = np.flatnonzero(np.isin(assignments, ids)) if ids else np.zeros(0, dtype=np.int64)
    if not len(rows):
        return result
    vectorizer = CountVectorizer(
        analyzer=phrase_analyzer(stop_terms), min_df=min_df if len(rows) >= 50 else 1, dtype=np.float64
    )
    try:
        counts = vectorizer.fit_transform([docs[i] for i in rows])
    except ValueError:  # no term left in any doc (or none frequent enough)
        return result
    position = {topic_id: index for index, topic_id in enumerate(ids)}
    owner = np.array([position[int(topic)] for topic in assignments[rows]])
    shape = (len(ids), len(rows))
    membership = sparse.csr_matrix((np.ones(len(rows)), (owner, np.arange(len(rows)))), shape=shape)
    per_topic = sparse.csr_matrix(
        membership @ counts
    )  # topics x terms, kept sparse (k x 300k for 100k posts)
    per_topic.sort_indices()
    frequency = np.asarray(per_topic.sum(axis=0)).ravel()
    words = np.asarray(per_topic.sum(axis=1)).ravel()
    idf = np.log1p(words[words > 0].mean() / np.maximum(frequency, 1e-12))
    vocabulary = vectorizer.get_feature_names_out()
    for topic_id, index in position.items():
        start, end = per_topic.indptr[index], per_topic.indptr[index + 1]
        terms, found = per_topic.indices[start:end], per_topic.data[start:end]
        scores = found / max(words[index], 1e-12) * idf[terms]
        best = np.lexsort((terms, -scores))[:top_n]  # highest score first, ties in vocabulary order
        result[topic_id] = [(str(vocabulary[terms[i]]), float(scores[i]), int(found[i])) for i in best]
    return result


def prefer_phrases(
    candidates: Sequence[tuple[str, float, int]], share: float = PHRASE_SHARE
) -> list[tuple[str, float]]:
    """Candidates as ``(term, weight)`` in order, a single word replaced by a 2-gram that holds its uses.

    The 2-gram is the commonest among the candidates that holds the word in at least ``share`` of its
    occurrences ("support" -> "esim support"); it takes the word's place with its own weight. Duplicates are
    dropped.
    """
    phrases = {term: (count, weight) for term, weight, count in candidates if " " in term}
    terms: dict[str, float] = {}
    for term, weight, count in candidates:
        if " " not in term:
            holders = [(n, phrase) for phrase, (n, _) in phrases.items() if term in phrase.split()]
            holders = [holder for holder in holders if holder[0] >= share * count]
            if holders:
                term = max(holders)[1]
                weight = phrases[term][1]
        terms.setdefault(term, weight)
    return list(terms.items())


def _stems(term: str) -> frozenset[str]:
    """The words of a term with a plural ``s`` cut."""
    return frozenset(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
                     for word in term.split())  # fmt: skip


def near_duplicates(first: str, second: str) -> bool:
    """Whether the words of one term (plural ``s`` cut) hold all those of the other ("esim" / "esim support",
    "plan" / "plans"); "roaming pass" and "travel pass" are not."""
    one, two = _stems(first), _stems(second)
    return one <= two or two <= one


def pick_label_terms(
    candidates: Sequence[str],
    relevance: np.ndarray | None = None,
    vectors: np.ndarray | None = None,
    *,
    count: int = 3,
    diversity: float = DIVERSITY,
) -> list[str]:
    """Up to ``count`` terms from ``candidates`` (best first), no two :func:`near_duplicates`.

    Without ``vectors`` the candidates are taken in their order. With ``vectors`` (unit rows, one per
    candidate) and ``relevance`` (cosine to the topic), the next term maximises
    ``(1 - diversity) * relevance - diversity * max cosine to the terms already picked`` (MMR).
    :func:`label_topics` passes ``relevance = cosine to the centroid * share of the topic's top weight``.
    """
    picked: list[int] = []
    remaining = list(range(len(candidates)))
    while remaining and len(picked) < count:
        if vectors is None or relevance is None:
            choice = remaining[0]
        else:
            redundancy = (vectors[remaining] @ vectors[picked].T).max(axis=1) if picked else 0.0
            score = (1 - diversity) * relevance[remaining] - diversity * redundancy
            choice = remaining[int(np.argmax(score))]
        picked.append(choice)
        term = candidates[choice]
        remaining = [index for index in remaining if not near_duplicates(term, candidates[index])]
    return [candidates[index] for index in picked]


def make_label(
    terms: Sequence[str], shares: Sequence[float] | None = None, max_chars: int = LABEL_CHARS
) -> str:
    """2-3 terms joined by commas: the first two, and the third while the label fits in ``max_chars`` and
    (given ``shares``: weights as shares of the topic's top weight) it has at least :data:`THIRD_WEIGHT`."""
    label = ", ".join(terms[:2])
    if len(terms) < 3 or len(label) + 2 + len(terms[2]) > max_chars:
        return label
    if shares is not None and shares[2] < THIRD_WEIGHT:
        return label
    return f"{label}, {terms[2]}"


def label_topics(
    docs: Sequence[str],
    assignments: np.ndarray,
    topic_ids: Sequence[int],
    centroids: np.ndarray,
    *,
    stop_terms: Sequence[str] = (),
    word_encoder=None,
    n_terms: int = 10,
) -> list[TopicTerms]:
    """Label and top terms of each topic in ``topic_ids`` (row i of ``centroids`` is topic i).

    Give topics in the order that should win a label clash (largest first): a later topic whose label is
    taken is told apart (see the module docstring). A topic with no term is labelled ``topic <id>``.
    """
    table = _ctfidf_table(docs, assignments, topic_ids, stop_terms, max(CANDIDATES, n_terms), min_df=2)
    vectors = _term_vectors(word_encoder, table)
    taken: set[str] = set()
    result = []
    for index, topic_id in enumerate(topic_ids):
        scored = prefer_phrases(table[topic_id])
        top = max((weight for _, weight in scored), default=0.0)
        share = {term: weight / top for term, weight in scored if weight >= SECOND_WEIGHT * top}
        terms = list(share)
        if vectors is not None and terms:
            matrix = np.vstack([vectors[term] for term in terms])
            cosine = matrix @ np.asarray(centroids[index], dtype=np.float32)
            relevance = cosine * np.array([share[term] for term in terms])
            chosen = pick_label_terms(terms, relevance, matrix)
        else:
            chosen = pick_label_terms(terms)
        label = _distinct(make_label(chosen, [share[term] for term in chosen]) or f"topic {topic_id}", taken)
        taken.add(label)
        top_terms = tuple((term, weight) for term, weight, _ in table[topic_id][:n_terms])
        result.append(TopicTerms(topic_id, label, top_terms))
    return result


def _distinct(label: str, taken: set[str]) -> str:
    """``label``, numbered ("(2)", "(3)", ...) when a larger topic already has it."""
    if label not in taken:
        return label
    copy = 2
    while f"{label} ({copy})" in taken:
        copy += 1
    return f"{label} ({copy})"


def _term_vectors(
    word_encoder, table: dict[int, list[tuple[str, float, int]]]
) -> dict[str, np.ndarray] | None:
    """Unit vectors of every candidate term from ``word_encoder`` in one call; None without an encoder."""
    if word_encoder is None:
        return None
    unique = sorted({term for rows in table.values() for term, _, _ in rows})
    if not unique:
        return {}
    matrix = np.asarray(word_encoder.encode(unique), dtype=np.float32)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return dict(zip(unique, matrix, strict=True))


def representative_posts(
    post_ids: Sequence[str], embeddings: np.ndarray, centroid: np.ndarray, n: int = 5, duplicate: float = 0.95
) -> tuple[str, ...]:
    """The ids of up to ``n`` posts nearest ``centroid`` by cosine.

    A post whose cosine to one already chosen exceeds ``duplicate`` is skipped (retweets and copies).
    """
    if not len(post_ids):
        return ()
    matrix = np.asarray(embeddings, dtype=np.float32)
    matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    order = np.argsort(-(matrix @ np.asarray(centroid, dtype=np.float32)), kind="stable")
    chosen: list[int] = []
    for row in order:
        if chosen and float((matrix[chosen] @ matrix[row]).max()) > duplicate:
            continue
        chosen.append(int(row))
        if len(chosen) == n:
            break
    return tuple(str(post_ids[row]) for row in chosen)
