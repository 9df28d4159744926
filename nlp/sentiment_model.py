"""The learned layer of sentiment: a three-class logistic regression on embeddings plus text features.

A :class:`SentimentModel` holds two linear heads over the classes ``negative, neutral, positive``:

- ``full``: on ``[L2-normalised sentence embedding, feature_weight * features]`` (384 + 18 values);
- ``text``: on the text features alone, the fallback for a post with no stored embedding.

Prediction is one matrix product and a softmax in numpy (no scikit-learn at analyze time); the score is
``P(positive) - P(negative)`` in [-1, 1]. A model is saved as one ``.npz`` file whose weights' hash is the
annotators' fingerprint, so a new model recomputes sentiment on the next ``analyze``.

Fitting (scikit-learn):

- :func:`fit_seeds`, the default with no labels: the hand-written seed posts of
  ``nlp/seeds/sentiment_seeds.tsv`` (475 customer-care posts across telecom, airline and retail, written for
  this project), embedded with MiniLM, C=16. Airline tweets: macro-F1 0.721 (0.701 with the first 367 seeds).
- :func:`fit_labelled`: analysts' labels (weight 1) plus the seed posts (weight :data:`SEED_WEIGHT`); on the
  airline tweets, 500 labels give macro-F1 0.752 (mean of 5 draws; 0.748 with the 367 seeds, 0.732 without
  any seeds, 0.745 with the seeds at weight 0.3). The target of 0.80 is not reached: this model family tops
  out at 0.78 with every label.

What was measured on the airline tweets (14,640; macro-F1; no label of that set used for fitting) and not
kept: weak supervision on the corpus itself (label functions over complaint / praise / emoji / question cues
labelling 67% of the posts at 0.76 accuracy, then a balanced LR and two rounds of self-training) scored
0.63-0.64; self-training from the seed model's confident predictions 0.64-0.69; k-NN label spreading over the
corpus 0.68-0.69; EM re-estimation of class priors 0.62-0.69, and a one-step prior correction by the seed
model's mean predicted distribution over the corpus 0.686 (0.696 with its square root); centring corpus and
seeds on their own means 0.70; averaging the seed model with the weak-label model 0.698; blending in a k-NN
vote over the seeds 0.703-0.707 and removing the corpus's top principal component 0.706 (gains no larger
than what choosing them on the test set buys). The seed model alone scored 0.70: adding weak labels taught
the model the cues' blind spots (questions without cues labelled neutral, thanks at the end of a complaint)
rather than anything new. What moved the figure was more seeds written by hand, without looking at the test
set's errors: 66 (information requests across the three domains, question-shaped complaints, short praise)
took it to 0.712, 42 longer forum-style posts to 0.721 (one measurement each). The seed file was grown
(163 -> 367 -> 475 posts) after measuring on the airline set, so the figure is optimistic for other domains
(80 hand-labelled Reddit comments: 0.411 with 367 seeds, 0.432 with 475).

On Reddit (280 hand-labelled comments and posts about a carrier, ``bench/labels/``) the seed model calls
most advice and explanations negative. Not kept: 85 more seeds, longer thread replies and posts (45 neutral
advice and questions, 20 negative, 20 positive). On the 80 posts of the draw labelled before the model ran on
it, macro-F1 went 0.606 -> 0.596 and accuracy 0.613 -> 0.675 (neutral recall 19 -> 33 of 44, negative recall
27 -> 18 of 30), while the airline tweets fell from 0.721 to 0.681, below the 0.72 target. The two draws read
before the seeds were written rose 0.432 -> 0.509 and 0.519 -> 0.658: seeds written after reading an
evaluation set echo it, so only the third draw counts.

With 500 labels (mean of the same 5 draws; seed file of 367 posts), not kept: TF-IDF word 1-2-grams and
character 2-5-grams fitted on the corpus text, concatenated with the embeddings (0.749) or stacked as
out-of-fold TF-IDF LR probabilities (0.751; the TF-IDF LR alone 0.655); C=2 (0.749) or C=0.5 (0.743);
balanced class weights (0.741); adding the labelled model's confident predictions on the corpus as
pseudo-labels (0.744-0.746); correcting the seeds' class prior to the labels' (0.734, 475 seeds). The ceiling
of this model family (5-fold, all ~11.7k training labels) is 0.78.

Fine-tuning MiniLM itself on the 500 labels plus the seeds (mean pooling, a linear head, 4 epochs, lr 5e-5;
the same 5 draws) scored 0.762 (sd 0.005), and averaging its probabilities with this model's 0.771 (sd
0.003): still short of 0.80, for about 140 s of training per fit, a 90 MB model and a second transformer pass
per post at about 120 posts/s on 2 cores (the annotators' budget is 1,000 posts/s given stored embeddings).
Not kept; ``python -m bench sentiment-study`` reruns it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.sentiment_features import FEATURE_NAMES, LABELS, features_matrix

__all__ = [
    "SentimentModel",
    "TrainingSet",
    "fit_labelled",
    "fit_seeds",
    "full_matrix",
    "label_index",
    "load_seeds",
    "seed_set",
]

SEEDS_PATH = Path(__file__).with_name("seeds") / "sentiment_seeds.tsv"
FEATURE_WEIGHT = 1.0
#: Inverse regularisation of the seed-only fit (seeds are few and clean) and of a labelled fit.
SEED_C = 16.0
LABELLED_C = 1.0
#: Sample weight of the seed posts beside analysts' labels in :func:`fit_labelled`.
SEED_WEIGHT = 1.0


def label_index(label: str) -> int:
    """The class index of a label name (``negative`` 0, ``neutral`` 1, ``positive`` 2)."""
    return LABELS.index(label)


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` with each row scaled to length 1 (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def full_matrix(embeddings: np.ndarray, feats: np.ndarray, weight: float = FEATURE_WEIGHT) -> np.ndarray:
    """The input of the full head: unit embeddings beside weighted text features."""
    return np.hstack([unit_rows(embeddings), feats * weight]).astype(np.float32)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass
class SentimentModel:
    """Two linear heads (full and text-only) and what they were trained on."""

    full_coef: np.ndarray
    full_intercept: np.ndarray
    text_coef: np.ndarray
    text_intercept: np.ndarray
    feature_weight: float = FEATURE_WEIGHT
    meta: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        """The embedding dimension the full head expects."""
        return self.full_coef.shape[1] - len(FEATURE_NAMES)

    def proba_full(self, embeddings: np.ndarray, feats: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, 3)`` from embeddings and features."""
        matrix = full_matrix(embeddings, feats, self.feature_weight)
        return _softmax(matrix @ self.full_coef.T + self.full_intercept)

    def proba_text(self, feats: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, 3)`` from the text features alone."""
        return _softmax(feats @ self.text_coef.T + self.text_intercept)

    def to_bytes(self) -> bytes:
        """The ``.npz`` bytes of the model (deterministic for equal content)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            full_coef=self.full_coef, full_intercept=self.full_intercept,
            text_coef=self.text_coef, text_intercept=self.text_intercept,
            feature_weight=np.float64(self.feature_weight),
            meta=np.frombuffer(json.dumps(self.meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )  # fmt: skip
        return buffer.getvalue()

    def digest(self) -> str:
        """A short hash of the weights (the annotator fingerprint)."""
        parts = (self.full_coef, self.full_intercept, self.text_coef, self.text_intercept)
        hasher = hashlib.blake2b(digest_size=8)
        for part in parts:
            hasher.update(np.ascontiguousarray(part, dtype=np.float32).tobytes())
        hasher.update(repr(self.feature_weight).encode())
        return hasher.hexdigest()

    def save(self, path: Path) -> Path:
        """Write the model to ``path`` (atomically: a temporary file renamed into place)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(self.to_bytes())
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        """Read a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode("utf-8"))
            return cls(
                data["full_coef"], data["full_intercept"], data["text_coef"], data["text_intercept"],
                float(data["feature_weight"]), meta,
            )  # fmt: skip


def load_seeds(path: Path = SEEDS_PATH) -> list[tuple[str, str]]:
    """The hand-written seed posts as ``(label, text)``; ``#`` lines are comments."""
    seeds = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        if label not in LABELS:
            raise ValueError(f"{path}: unknown label {label!r} in line {line!r}")
        seeds.append((label, text))
    return seeds


@dataclass
class TrainingSet:
    """Rows to fit on: embeddings (may be None for the text head only), features, labels, weights."""

    embeddings: np.ndarray | None
    feats: np.ndarray
    labels: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def without_embeddings(self) -> TrainingSet:
        """The same rows with no embeddings (for the text head alone)."""
        return TrainingSet(None, self.feats, self.labels, self.weights)

    def subset(self, index: np.ndarray) -> TrainingSet:
        """The rows at ``index`` (an index array or a boolean mask)."""
        embeddings = self.embeddings[index] if self.embeddings is not None else None
        return TrainingSet(embeddings, self.feats[index], self.labels[index], self.weights[index])

    @staticmethod
    def concat(parts: Sequence[TrainingSet]) -> TrainingSet:
        """The rows of ``parts`` one after another (embeddings kept only if every part has them)."""
        parts = [part for part in parts if len(part)]
        embeddings = None
        if parts and all(part.embeddings is not None for part in parts):
            embeddings = np.vstack([part.embeddings for part in parts])
        return TrainingSet(
            embeddings,
            np.vstack([part.feats for part in parts]),
            np.concatenate([part.labels for part in parts]),
            np.concatenate([part.weights for part in parts]),
        )


def _logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float):
    """``(coef (3, d), intercept (3,))`` of a multinomial logistic regression; absent classes never win."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, y, sample_weight=weights)
    coef = np.zeros((3, x.shape[1]), dtype=np.float32)
    intercept = np.full(3, -30.0, dtype=np.float32)
    classes = model.classes_
    if len(classes) == 2:  # a binary fit returns one row: spread it over the two classes
        coef[classes[1]], intercept[classes[1]] = model.coef_[0] / 2, model.intercept_[0] / 2
        coef[classes[0]], intercept[classes[0]] = -model.coef_[0] / 2, -model.intercept_[0] / 2
    else:
        coef[classes], intercept[classes] = model.coef_, model.intercept_
    return coef, intercept


def _fit_heads(train: TrainingSet, c: float, meta: dict) -> SentimentModel:
    """Fit both heads on ``train`` (the full head only when embeddings are present)."""
    text_coef, text_intercept = _logistic(train.feats, train.labels, train.weights, c)
    if train.embeddings is not None:
        x = full_matrix(train.embeddings, train.feats)
        full_coef, full_intercept = _logistic(x, train.labels, train.weights, c)
    else:  # no embeddings at all: the full head is the text head with zero embedding weights
        dim = int(meta.get("dim", 384))
        full_coef = np.hstack([np.zeros((3, dim), dtype=np.float32), text_coef / FEATURE_WEIGHT])
        full_intercept = text_intercept
    return SentimentModel(full_coef, full_intercept, text_coef, text_intercept, FEATURE_WEIGHT, meta)


def seed_set(
    seed_embeddings: np.ndarray | None, seeds: Sequence[tuple[str, str]], weight: float
) -> TrainingSet:
    """The seed posts (``(label, text)``) as training rows; texts are normalised like posts."""
    from nlp.normalize import normalize

    feats = features_matrix([normalize(text) for _, text in seeds])
    labels = np.array([label_index(label) for label, _ in seeds], dtype=int)
    return TrainingSet(seed_embeddings, feats, labels, np.full(len(labels), float(weight)))


def fit_seeds(
    seed_embeddings: np.ndarray | None, seeds: Sequence[tuple[str, str]] | None = None, *, c: float = SEED_C
) -> SentimentModel:
    """The default model: the seed posts alone (text head only when ``seed_embeddings`` is None)."""
    seeds = load_seeds() if seeds is None else seeds
    dim = seed_embeddings.shape[1] if seed_embeddings is not None else 384
    meta = {"method": "seeds", "seeds": len(seeds), "dim": int(dim)}
    return _fit_heads(seed_set(seed_embeddings, seeds, 1.0), c, meta)


def fit_labelled(
    labelled: TrainingSet, seeds: TrainingSet | None = None, *, c: float = LABELLED_C
) -> SentimentModel:
    """Analysts' labels (``labelled``, weight 1) plus the seed rows (:func:`seed_set`, :data:`SEED_WEIGHT`).

    Seed embeddings are dropped when the labelled rows have none (the model is then text-only).
    """
    parts = [labelled]
    if seeds is not None and len(seeds):
        parts.append(seeds if labelled.embeddings is not None else seeds.without_embeddings())
    dim = labelled.embeddings.shape[1] if labelled.embeddings is not None else 384
    meta = {
        "method": "labelled",
        "labels": len(labelled),
        "seeds": len(seeds) if seeds else 0,
        "dim": int(dim),
    }
    return _fit_heads(TrainingSet.concat(parts), c, meta)
