"""The "analyze" stage: build the annotators from the configuration and run them over the stored posts."""

from __future__ import annotations

import time
from pathlib import Path

from store import open_db
from tasteradar.config import Config, ConfigError
from tasteradar.progress import ProgressFn

DEFAULT_BATCH_SIZE = 1000


def analyze(
    config: Config, progress: ProgressFn | None = None, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict:
    """Run every registered annotator over the posts of ``config``'s database; return ``{name: posts}``.

    Raises ``ConfigError`` when no brand is configured (the mentions annotator has nothing to look for).
    """
    from nlp import build_annotators, run_annotators

    if not config.brands:
        file = str(config.path) if config.path else "(no configuration file)"
        raise ConfigError(
            file, "brand.name", "no brand", "at least the own brand's name",
            "run `tasteradar init` or pass --config",
        )  # fmt: skip
    db = open_db(config.database.path)
    annotators = []
    try:
        annotators = build_annotators(config.brands, db=db, model_dir=model_dir(config))
        return run_annotators(db, annotators, batch_size=batch_size, progress=progress)
    finally:
        for annotator in annotators:
            close = getattr(annotator, "close", None)
            if close is not None:
                close()
        db.close()


def model_dir(config: Config) -> Path:
    """Where trained models of this database live: ``models/`` beside the database file."""
    return Path(config.database.path).parent / "models"


def summary(counts: dict, seconds: float) -> str:
    """One line saying what a run did: posts per annotator, or that there was nothing new."""
    if not any(counts.values()):
        return "nothing new to annotate (" + ", ".join(f"{name} up to date" for name in counts) + ")."
    parts = [f"{name}: {count:,} posts" for name, count in counts.items()]
    return f"annotated in {seconds:.1f}s: " + ", ".join(parts) + "."


def run_stage(config: Config, progress: ProgressFn) -> str:
    """The pipeline runner of the stage (``tasteradar demo`` calls it): run and summarise."""
    started = time.monotonic()
    counts = analyze(config, progress)
    return summary(counts, time.monotonic() - started)
