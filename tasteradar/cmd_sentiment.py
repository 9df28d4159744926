"""``tasteradar sentiment train --labels FILE``: learn sentiment from analysts' labels.

A thin shell over :func:`nlp.sentiment_train.train`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options


def model_folder(db_path: Path) -> Path:
    """The model folder of a database: ``models/`` beside the database file."""
    return Path(db_path).parent / "models"


def report(result) -> str:
    """The lines a training run prints: counts, the cross-validated figures, and what was done."""
    counts = ", ".join(f"{count:,} {label}" for label, count in result.class_counts.items())
    current = "n/a" if result.current_f1 is None else f"{result.current_f1:.3f}"
    lines = [
        f"{result.labels:,} labels ({counts}); {result.folds}-fold cross-validated macro-F1:",
        f"  new model     {result.new_f1:.3f}",
        f"  current model {current} (on the same held-out folds)",
    ]
    if result.replaced:
        lines.append(f"Saved {result.model_path}; the next `tasteradar analyze` recomputes sentiment.")
    else:
        lines.append("Kept the current model (the new one is not better); use --force to replace it anyway.")
    return "\n".join(lines)


@click.group(name="sentiment")
@shared_options
def sentiment_group() -> None:
    """Sentiment models: train on analysts' labels."""


@sentiment_group.command(name="train")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV or JSONL with post_id or text, and label (positive, neutral, negative).",
)
@click.option(
    "--from-corrections",
    is_flag=True,
    help="Learn from the corrections analysts made on the dashboard's Review page (latest per post).",
)
@click.option("--force", is_flag=True, help="Replace the current model even if the new one scores lower.")
@click.option(
    "--folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Cross-validation folds."
)
@shared_options
@friendly_errors
def train_command(labels_path: Path | None, from_corrections: bool, force: bool, folds: int) -> None:
    """Train a sentiment model on analysts' labels and replace the current one only if it is better.

    The labels come from a file (--labels) or from the dashboard's Review page (--from-corrections). Reports
    the cross-validated macro-F1 of the new model and of the current one on the same folds. Models are
    versioned files in models/sentiment/ beside the database; the previous one is kept.
    """
    if (labels_path is None) == (not from_corrections):
        raise BadInput("give exactly one of --labels FILE or --from-corrections")
    db_path = runtime().existing_database_path()
    if labels_path is not None:
        click.echo(report(_train(labels_path, db_path, force, folds)))
        return
    from dashboard.writes import corrections_as_labels

    with tempfile.TemporaryDirectory() as folder:
        labels_path = Path(folder) / "corrections.csv"
        count = corrections_as_labels(db_path, labels_path)
        click.echo(f"{count:,} sentiment corrections from the dashboard")
        click.echo(report(_train(labels_path, db_path, force, folds)))


def _train(labels_path: Path, db_path: Path, force: bool, folds: int):
    """Train on ``labels_path`` over the database at ``db_path``; a bad label file is input to fix."""
    from nlp.sentiment_train import LabelFileError, train
    from store import open_db

    db = open_db(db_path)
    try:
        return train(labels_path, db, model_folder(db_path), force=force, folds=folds)
    except LabelFileError as error:
        raise BadInput(str(error)) from error
    finally:
        db.close()
