"""``tasteradar sentiment train``: cross-validated figures, versioned models, replace if better, errors."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from nlp.sentiment import ModelStore, SentimentAnnotator, SentimentScorer, seeds_digest
from nlp.sentiment_features import tokens
from nlp.sentiment_model import load_seeds
from nlp.vectors import pack
from store import Post, open_db, upsert_posts
from tasteradar.cmd_sentiment import sentiment_group

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DIM = 32
WORDS = {
    "positive": ["lovely", "brilliant", "thanks", "superb", "kind"],
    "negative": ["broken", "awful", "refund", "cancelled", "rude"],
    "neutral": ["schedule", "address", "gate", "timetable", "policy"],
}


def fake_embed(texts):
    """Hashed bag of words, unit length: enough signal for the labelled words to be learnt."""
    matrix = np.zeros((len(texts), DIM), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in tokens(text):
            matrix[row, zlib.crc32(word.encode()) % DIM] += 1.0
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def world(tmp_path: Path):
    """A database of 45 posts with stored (fake) embeddings and a seed cache, so no model is loaded."""
    db_path = tmp_path / "tasteradar.db"
    db = open_db(db_path)
    texts, labels = [], {}
    for label, words in WORDS.items():
        for i in range(15):
            texts.append(f"{words[i % 5]} {words[(i + 2) % 5]} service number {i}")
            labels[f"x:{len(texts)}"] = label
    upsert_posts(db, [Post("x", str(i + 1), text, WHEN, lang="en") for i, text in enumerate(texts)])
    rows = [
        (f"x:{i + 1}", "fake", DIM, pack(v), "embeddings.fake.v1") for i, v in enumerate(fake_embed(texts))
    ]
    with db.conn:
        db.conn.executemany("INSERT INTO post_embeddings VALUES (?, ?, ?, ?, ?)", rows)
    db.close()
    folder = tmp_path / "models" / "sentiment"
    folder.mkdir(parents=True)
    np.save(folder / f"seeds-{seeds_digest()}.npy", fake_embed([text for _, text in load_seeds()]))
    return db_path, labels


def write_csv(path: Path, labels: dict[str, str]) -> Path:
    path.write_text("post_id,label\n" + "".join(f"{pid},{label}\n" for pid, label in labels.items()))
    return path


def train(db_path: Path, labels_path: Path, *extra: str):
    return CliRunner().invoke(
        sentiment_group, ["train", "--labels", str(labels_path), "--db", str(db_path), *extra]
    )


def test_train_reports_cv_f1_replaces_only_when_better_and_keeps_versions(world, tmp_path):
    db_path, labels = world
    labels_path = write_csv(tmp_path / "labels.csv", labels)
    first = train(db_path, labels_path)
    assert first.exit_code == 0, first.output
    assert "45 labels (15 negative, 15 neutral, 15 positive); 5-fold cross-validated macro-F1" in first.output
    assert "Saved" in first.output and "model-0002.npz" in first.output  # 0001: the seed model it beat
    new_f1 = float(first.output.split("new model")[1].split()[0])
    assert new_f1 >= 0.9
    store = ModelStore(tmp_path / "models")
    assert [p.name for p in store.versions()] == ["model-0001.npz", "model-0002.npz"]
    assert store.load_current().meta["method"] == "labelled"

    again = train(db_path, labels_path, "--folds", "2")  # the current model knows these labels: not beaten
    assert again.exit_code == 0 and "Kept the current model" in again.output
    assert len(store.versions()) == 2
    forced = train(db_path, labels_path, "--force", "--folds", "2")
    assert forced.exit_code == 0 and "model-0003.npz" in forced.output
    assert len(store.versions()) == 3


def test_a_new_model_makes_the_next_analyze_recompute_sentiment(world, tmp_path):
    from nlp.annotate import pending_count, run_annotators

    db_path, labels = world
    db = open_db(db_path)
    try:
        run_annotators(db, [SentimentAnnotator(SentimentScorer(db, tmp_path / "models"))])
        assert pending_count(db, SentimentAnnotator(SentimentScorer(db, tmp_path / "models"))) == 0
        assert train(db_path, write_csv(tmp_path / "l.csv", labels), "--folds", "2").exit_code == 0
        assert pending_count(db, SentimentAnnotator(SentimentScorer(db, tmp_path / "models"))) == 45
    finally:
        db.close()


def test_jsonl_with_short_labels(world, tmp_path):
    db_path, labels = world
    path = tmp_path / "labels.jsonl"
    lines = [{"post_id": pid, "label": label[:3].upper()} for pid, label in labels.items()]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = train(db_path, path, "--folds", "2")
    assert result.exit_code == 0, result.output
    assert "45 labels" in result.output and "2-fold" in result.output


def test_rows_with_text_are_embedded(world, tmp_path):
    from nlp.sentiment_train import train as train_api

    db_path, labels = world
    path = tmp_path / "labels.jsonl"
    rows = [{"text": f"{WORDS[label][i % 5]} {WORDS[label][(i + 1) % 5]} thing", "label": label}
            for label in WORDS for i in range(6)]  # fmt: skip
    path.write_text("\n".join(json.dumps(row) for row in rows))
    db = open_db(db_path)
    try:
        result = train_api(path, db, tmp_path / "models", embed=fake_embed, folds=3)
    finally:
        db.close()
    assert result.labels == 18 and result.folds == 3 and result.new_f1 > 0.8


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("post_id,label\nx:1,positive\nx:2,great\n", ".csv", "line 3: label 'great' is not one of"),
        ("post_id,mood\nx:1,positive\n", ".csv", "line 1: the header needs a label column"),
        ('{"post_id": "x:1", "label": "positive"}\n{oops\n', ".jsonl", "line 2: not valid JSON"),
        ('{"label": "positive"}\n', ".jsonl", "line 1: needs a post_id or a text"),
        ("post_id,label\n" + "x:1,positive\n" * 12, ".csv", "at least two classes"),
        ("post_id,label\nx:1,positive\nx:2,negative\n", ".csv", "2 labels; at least 10"),
    ],
)
def test_bad_label_files_name_the_line(world, tmp_path, content, suffix, message):
    db_path, _ = world
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    result = train(db_path, path)
    assert result.exit_code == 2 and message in result.output


def test_unknown_post_id_names_its_line(world, tmp_path):
    db_path, labels = world
    labels = dict(labels)
    labels["x:999"] = "positive"
    result = train(db_path, write_csv(tmp_path / "labels.csv", labels))
    assert result.exit_code == 2 and "line 47: post_id 'x:999' is not in the database" in result.output


def test_train_from_dashboard_corrections(world):
    from dashboard.writes import add_correction

    db_path, labels = world
    for post_id, label in labels.items():
        add_correction(db_path, post_id, "sentiment", "neutral")  # superseded by the later correction
        add_correction(db_path, post_id, "sentiment", label)
    result = CliRunner().invoke(sentiment_group, ["train", "--from-corrections", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert f"{len(labels)} sentiment corrections" in result.output and "macro-F1" in result.output


def test_train_wants_exactly_one_label_source(world, tmp_path):
    db_path, labels = world
    both = ["train", "--from-corrections", "--labels", str(write_csv(tmp_path / "l.csv", labels))]
    for args in (["train"], both):
        result = CliRunner().invoke(sentiment_group, [*args, "--db", str(db_path)])
        assert result.exit_code == 2 and "exactly one of --labels FILE or --from-corrections" in result.output
