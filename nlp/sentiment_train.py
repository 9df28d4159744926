"""Learning sentiment from analysts' labels: read a label file, cross-validate, publish only a better model.

A label file is CSV (a header row) or JSONL (one object per line) with a ``label`` (``positive``, ``neutral``,
``negative``; ``pos``/``neu``/``neg`` and any case accepted) and either ``post_id`` (a stored post: its text
and stored embedding are used) or ``text`` (embedded with MiniLM here). A bad row stops the run with an error
naming the file and line.

:func:`train` cross-validates (stratified k-fold, k = 5 or fewer when a class is rare, fixed seed) the new
model, labels plus the seed posts (:func:`nlp.sentiment_model.fit_labelled`), and scores the current model on
the same held-out folds. It publishes the new model (the next ``model-NNNN.npz`` in the model folder; older
files stay) when its cross-validated macro-F1 is higher, or when forced. The current model may have been
trained on some of these labels, which flatters its figure: the comparison is conservative.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp.normalize import normalize
from nlp.sentiment import ModelStore, SentimentScorer, seed_embeddings
from nlp.sentiment_features import LABELS, features_matrix
from nlp.sentiment_model import SEED_WEIGHT, SentimentModel, TrainingSet, fit_labelled, load_seeds, seed_set

__all__ = ["LabelFileError", "TrainResult", "read_labels", "train"]

_ALIASES = {"pos": "positive", "neu": "neutral", "neg": "negative", "positive": "positive",
            "neutral": "neutral", "negative": "negative"}  # fmt: skip
MIN_LABELS = 10
FOLDS = 5


class LabelFileError(ValueError):
    """A label file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class LabelRow:
    """One analyst label: ``post_id`` or ``text`` (one of them), the label, and the line it came from."""

    line: int
    post_id: str | None
    text: str | None
    label: str


def _row(path: Path, line: int, record: dict) -> LabelRow:
    """Validate one record of a label file."""
    if not isinstance(record, dict):
        raise LabelFileError(f"{path}, line {line}: expected an object with post_id or text, and label")
    raw = str(record.get("label") or "").strip().lower()
    if raw not in _ALIASES:
        raise LabelFileError(
            f"{path}, line {line}: label {record.get('label')!r} is not one of positive, neutral, negative"
        )
    post_id = str(record.get("post_id") or "").strip() or None
    text = record.get("text")
    text = str(text) if text is not None and str(text).strip() else None
    if post_id is None and text is None:
        raise LabelFileError(f"{path}, line {line}: needs a post_id or a text")
    return LabelRow(line, post_id, text, _ALIASES[raw])


def read_labels(path: Path) -> list[LabelRow]:
    """The rows of a CSV or JSONL label file (by extension: ``.csv``, else JSON lines)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no label file at {path}")
    rows: list[LabelRow] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "label" not in reader.fieldnames:
                raise LabelFileError(f"{path}, line 1: the header needs a label column and post_id or text")
            for record in reader:
                rows.append(_row(path, reader.line_num, record))
        else:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise LabelFileError(f"{path}, line {number}: not valid JSON ({error.msg})") from error
                rows.append(_row(path, number, record))
    if len(rows) < MIN_LABELS:
        raise LabelFileError(f"{path}: {len(rows)} labels; at least {MIN_LABELS} are needed")
    if len({row.label for row in rows}) < 2:
        raise LabelFileError(f"{path}: every label is {rows[0].label!r}; at least two classes are needed")
    return rows


def _resolve(rows: list[LabelRow], db, embedder: Callable, path: Path) -> TrainingSet:
    """Texts, features and embeddings of the labelled rows (stored ones for post ids, else embedded).

    ``embedder()`` returns the embedding function (or None when there is none: text features only); it is
    called only when some row has no stored embedding.
    """
    from nlp.vectors import load_embeddings

    texts: list[str] = []
    ids = [row.post_id for row in rows if row.post_id]
    stored = {}
    if ids and db is not None:
        query = "SELECT id, text FROM posts WHERE id IN (SELECT value FROM json_each(?))"
        stored = dict(db.conn.execute(query, [json.dumps(ids)]).fetchall())
    for row in rows:
        if row.text is not None:
            texts.append(normalize(row.text))
        elif row.post_id in stored:
            texts.append(normalize(stored[row.post_id] or ""))
        else:
            raise LabelFileError(f"{path}, line {row.line}: post_id {row.post_id!r} is not in the database")
    found, matrix = load_embeddings(db, ids) if ids and db is not None else ([], np.zeros((0, 0)))
    vectors: dict[str, np.ndarray] = dict(zip(found, matrix, strict=True))
    missing = [i for i, row in enumerate(rows) if row.text is not None or row.post_id not in vectors]
    embed = embedder() if missing else None
    computed = embed([texts[i] for i in missing]) if embed is not None else None
    embeddings = None
    if computed is not None or not missing:
        dim = matrix.shape[1] if len(found) else computed.shape[1]
        embeddings = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            if row.post_id in vectors and row.text is None:
                embeddings[i] = vectors[row.post_id]
        for position, i in enumerate(missing):
            embeddings[i] = computed[position]
    labels = np.array([LABELS.index(row.label) for row in rows], dtype=int)
    return TrainingSet(embeddings, features_matrix(texts), labels, np.ones(len(rows)))


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0))


def _predict(model: SentimentModel, rows: TrainingSet) -> np.ndarray:
    """Class indices ``model`` gives ``rows`` (the full head when the dimensions agree)."""
    if rows.embeddings is not None and rows.embeddings.shape[1] == model.dim:
        return model.proba_full(rows.embeddings, rows.feats).argmax(axis=1)
    return model.proba_text(rows.feats).argmax(axis=1)


@dataclass(frozen=True)
class TrainResult:
    """What a training run measured and did."""

    labels: int
    folds: int
    new_f1: float
    current_f1: float | None
    replaced: bool
    model_path: Path | None
    class_counts: dict[str, int]


def train(
    labels_path: Path,
    db,
    model_dir: Path | None,
    *,
    force: bool = False,
    embed: Callable | None = None,
    seed: int = 0,
    folds: int = FOLDS,
) -> TrainResult:
    """Cross-validate a model on ``labels_path``, compare it with the current one, publish it if better.

    ``folds`` is lowered to the size of the rarest class when that is smaller (2 at least).
    """
    from sklearn.model_selection import StratifiedKFold

    rows = read_labels(Path(labels_path))
    scorer = SentimentScorer(db, model_dir, embed=embed)
    labelled = _resolve(rows, db, scorer.embedder, labels_path)
    current = scorer.model
    store = ModelStore(model_dir)
    seed_vectors = None
    if labelled.embeddings is not None:
        seed_vectors = seed_embeddings(store, scorer.embedder, shipped=embed is None)
    seeds = seed_set(seed_vectors, load_seeds(), SEED_WEIGHT)
    counts = np.bincount(labelled.labels, minlength=3)
    folds = int(max(2, min(folds, counts[counts > 0].min())))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    truth, new_pred, old_pred = [], [], []
    for train_index, test_index in splitter.split(labelled.feats, labelled.labels):
        model = fit_labelled(labelled.subset(train_index), seeds)
        held_out = labelled.subset(test_index)
        truth.append(held_out.labels)
        new_pred.append(_predict(model, held_out))
        old_pred.append(_predict(current, held_out))
    truth_all = np.concatenate(truth)
    new_f1 = _macro_f1(truth_all, np.concatenate(new_pred))
    current_f1 = _macro_f1(truth_all, np.concatenate(old_pred))
    replaced, path = False, None
    if force or new_f1 > current_f1:
        final = fit_labelled(labelled, seeds)
        final.meta["cv_macro_f1"] = round(new_f1, 4)
        path = store.publish(final)
        replaced = path is not None
    return TrainResult(
        labels=len(rows), folds=folds, new_f1=new_f1, current_f1=current_f1, replaced=replaced,
        model_path=path, class_counts={LABELS[i]: int(counts[i]) for i in range(3)},
    )  # fmt: skip
