"""What ``tasteradar analyze`` runs after the annotators: topics, need themes, the daily rollups, trends.

Each step is incremental: a model is fitted when there is none (or on ``--refit``) and otherwise only new
posts and need phrases are assigned; the rollups recompute only the days and platforms whose assignments,
mentions or sentiment changed (whole on ``--refit``); the trend detector runs only when something it reads
changed since its last run (posts, languages, assignments, needs, mentions: the ``emerging`` bit of
``rollup_dirty``), and then evaluates its whole window (always on ``--refit``). It runs last, so it sees the
marks the topic and theme assignments of this run wrote. ``encoder`` is the run's post encoder (the
embeddings annotator's): it embeds label candidates and need phrases, in the same space as the stored post
vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import sqlite_utils

from nlp.mentions import BrandTerms
from nlp.topics.daily import rebuild_daily
from nlp.topics.stage import Progress, TopicSettings, run_topics
from nlp.topics.theme_stage import ThemeStageSettings, run_themes
from nlp.topics.trend_stage import TrendStageSettings, run_trends
from nlp.voice import brand_handles

__all__ = ["ClusterSettings", "brand_stop_terms", "run_clusters"]


@dataclass(frozen=True)
class ClusterSettings:
    """Settings of every step (defaults suit the demo world and real corpora alike)."""

    topics: TopicSettings = field(default_factory=TopicSettings)
    themes: ThemeStageSettings = field(default_factory=ThemeStageSettings)
    trends: TrendStageSettings = field(default_factory=TrendStageSettings)


def brand_stop_terms(brands: Sequence[BrandTerms]) -> tuple[str, ...]:
    """Every brand's name, aliases, handles and hashtags: kept out of topic and theme labels and terms."""
    terms: list[str] = []
    for brand in brands:
        terms += [brand.name, *brand.aliases]
        terms += [handle.lstrip("@") for handle in brand.handles]
        terms += [tag.lstrip("#") for tag in brand.hashtags]
    return tuple(dict.fromkeys(term for term in terms if term.strip()))


def run_clusters(
    db: sqlite_utils.Database,
    model_dir: Path,
    *,
    brands: Sequence[BrandTerms],
    settings: ClusterSettings | None = None,
    refit: bool = False,
    encoder=None,
    progress: Progress | None = None,
) -> dict:
    """Run the steps in order; return ``{"topics": report, "themes": report, "rollups": rows, "emerging":
    flags per kind}`` (``"emerging"``: ``{"up_to_date": True}`` when the trend step had nothing to do)."""
    settings = settings or ClusterSettings()
    stop = brand_stop_terms(brands)
    topic_settings = replace(  # brand account posts (care desks' replies) are out of the topic model's scope
        settings.topics,
        fit=replace(settings.topics.fit, stop_terms=stop),
        brand_handles=brand_handles(brands),
    )
    report = {
        # labels from c-TF-IDF alone: reranking terms with the encoder gave no clearer labels on the demo
        # world and cost half a minute
        "topics": run_topics(db, model_dir, settings=topic_settings, refit=refit, progress=progress)
    }
    report["themes"] = run_themes(
        db, model_dir, encoder=encoder, stop_terms=stop, settings=settings.themes, refit=refit
    )
    report["rollups"] = rebuild_daily(db, full=refit)
    report["emerging"] = run_trends(db, stop_terms=stop, settings=settings.trends, full=refit)
    return report
