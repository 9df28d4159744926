"""The "analyze" stage: run the annotators over the stored posts, then topics, need themes and trends."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from store import open_db
from tasteradar.config import Config, ConfigError
from tasteradar.progress import ProgressFn

DEFAULT_BATCH_SIZE = 1000
#: The topic fit's clustering: ``umap`` (UMAP + HDBSCAN, BERTopic's) or ``fast`` (PCA + HDBSCAN, for tests).
TOPIC_BACKEND = "umap"


@dataclass
class AnalyzeResult:
    """What a run did: posts per annotator, and the report of the topics, themes and trends steps."""

    annotated: dict[str, int]
    clusters: dict = field(default_factory=dict)


def cluster_settings(config: Config):
    """The topics, themes and trends settings of ``config``."""
    from nlp.topics.fit import FitSettings
    from nlp.topics.pipeline import ClusterSettings
    from nlp.topics.stage import TopicSettings

    fit = FitSettings(max_posts=config.models.topic_sample_size, backend=TOPIC_BACKEND)
    return ClusterSettings(topics=TopicSettings(fit=fit))


def analyze(
    config: Config,
    progress: ProgressFn | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    refit: bool = False,
) -> AnalyzeResult:
    """Run every registered annotator over the posts of ``config``'s database, then the topics, need
    themes and trends steps (``refit``: fit new models and match their ids to the old ones), then bring the
    dashboard's daily brand rollup up to date (the days and platforms written since the last run; whole on
    ``refit``).

    Raises ``ConfigError`` when no brand is configured (the mentions annotator has nothing to look for).
    """
    from nlp import build_annotators, run_annotators
    from nlp.brand_daily import rebuild_brand_daily
    from nlp.embeddings import EmbeddingAnnotator
    from nlp.topics.pipeline import run_clusters

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
        annotated = run_annotators(db, annotators, batch_size=batch_size, progress=progress)
        encoder = next((a.encoder for a in annotators if isinstance(a, EmbeddingAnnotator)), None)
        clusters = run_clusters(
            db, model_dir(config), brands=config.brands, settings=cluster_settings(config), refit=refit,
            encoder=encoder, progress=progress,
        )  # fmt: skip
        rebuild_brand_daily(db, full=refit)
        return AnalyzeResult(annotated, clusters)
    finally:
        for annotator in annotators:
            close = getattr(annotator, "close", None)
            if close is not None:
                close()
        db.close()


def model_dir(config: Config) -> Path:
    """Where trained models of this database live: ``models/`` beside the database file."""
    return Path(config.database.path).parent / "models"


def summary(result: AnalyzeResult, seconds: float) -> str:
    """What a run did: posts per annotator (or that there was nothing new), then the topics, need themes and
    trend steps."""
    counts = result.annotated
    if not any(counts.values()):
        line = "nothing new to annotate (" + ", ".join(f"{name} up to date" for name in counts) + ")."
    else:
        parts = [f"{name}: {count:,} posts" for name, count in counts.items()]
        line = f"annotated in {seconds:.1f}s: " + ", ".join(parts) + "."
    topics, themes = result.clusters.get("topics"), result.clusters.get("themes")
    lines = (
        [line] + ([topics_summary(topics)] if topics else []) + ([themes_summary(themes)] if themes else [])
    )
    emerging = result.clusters.get("emerging")
    if emerging is not None:
        lines.append(emerging_summary(emerging))
    return "\n".join(lines)


def emerging_summary(report: dict) -> str:
    """One line about the trend step: flags per kind, or that nothing it reads changed since its last run."""
    if report.get("up_to_date"):
        return "emerging: up to date."
    flags = ", ".join(f"{count} {kind} flags" for kind, count in report.items())
    return f"emerging (last 28 days): {flags or 'no posts'}."


def topics_summary(report: dict) -> str:
    """One line about the topics step: a fit (how many topics, how much left unassigned) and assignments."""
    if "skipped" in report:
        return f"topics: not fitted yet ({report['skipped']})."
    fit = ""
    if report["fitted"]:
        fit = (
            f"fitted {report['topics']} topics on {report['fitted']:,} posts "
            f"({report['unassigned_share']:.0%} unassigned), "
        )
    return f"topics: {fit}{report['assigned']:,} posts assigned ({report['topics']} topics)."


def themes_summary(report: dict) -> str:
    """One line about the need-themes step."""
    if "skipped" in report:
        return f"need themes: not fitted yet ({report['skipped']})."
    fit = f"fitted {report['themes']} themes on {report['fitted']:,} need rows, " if report["fitted"] else ""
    return (
        f"need themes: {report['embedded']:,} phrases embedded, {fit}"
        f"{report['assigned']:,} need rows assigned ({report['themes']} themes)."
    )


def run_stage(config: Config, progress: ProgressFn) -> str:
    """The pipeline runner of the stage (``tasteradar demo`` calls it): run and summarise."""
    started = time.monotonic()
    result = analyze(config, progress)
    return summary(result, time.monotonic() - started)
