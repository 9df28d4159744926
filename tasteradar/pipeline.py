"""The stages of tasteradar in data-flow order, and which of them are built.

``make demo`` and ``tasteradar demo`` run every built stage after the demo world is written; later issues
register their stage here and it joins that run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from tasteradar.config import Config
from tasteradar.progress import ProgressFn

log = logging.getLogger("tasteradar")


@dataclass(frozen=True)
class Stage:
    """One stage: its command name, the issue that builds it, and its runner (``None`` until built)."""

    name: str
    summary: str
    planned_in: str
    run: Callable[[Config, ProgressFn], str] | None = None

    @property
    def built(self) -> bool:
        """True once the stage has a runner."""
        return self.run is not None


def _run_analyze(config: Config, progress: ProgressFn) -> str:
    """Run the NLP annotators (imported on use: the CLI starts without spaCy)."""
    from tasteradar.analyze import run_stage

    return run_stage(config, progress)


def _run_customers(config: Config, progress: ProgressFn) -> str:
    """Link authors to customers through consented handles, then score churn risk for opted-in customers."""
    from customers.stage import run_customers, summary
    from store import open_db

    db = open_db(config.database.path)
    try:
        return summary(run_customers(db, own_brand=config.brand.name))
    finally:
        db.close()


def _run_segments(config: Config, progress: ProgressFn) -> str:
    """Discover micro-segments in every broad CRM segment and in the audience, keeping segment ids stable."""
    from segments.stage import run_segments
    from store import open_db
    from tasteradar.cmd_segments import summary

    db = open_db(config.database.path)
    try:
        return summary(run_segments(db))
    finally:
        db.close()


STAGES: tuple[Stage, ...] = (
    Stage("import", "import posts from CSV/JSONL files", "the collectors issue"),
    Stage("collect", "collect posts from X, Reddit, Bluesky and Mastodon", "the collectors issue"),
    Stage(
        "analyze",
        "annotate posts: mentions, sentiment, needs, intents, topics",
        "the NLP signals issue",
        run=_run_analyze,
    ),
    Stage(
        "customers",
        "import the CRM and link consented handles",
        "the customers and segments issue",
        run=_run_customers,
    ),
    Stage(
        "segments",
        "find micro-segments inside broad CRM segments",
        "the customers and segments issue",
        run=_run_segments,
    ),
    Stage("export", "export posts, topics and segments for campaign tools", "the NLP and segments issues"),
    Stage("forget", "erase a person and everything derived from them", "the customers and segments issue"),
)

#: Stages that run over the demo world after it is generated, in this order.
DEMO_STAGES = ("analyze", "customers", "segments")


def stage(name: str) -> Stage:
    """Return the registered stage called ``name``."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def run_built_stages(config: Config, progress: ProgressFn, names: tuple[str, ...] = DEMO_STAGES) -> list[str]:
    """Run every built stage among ``names`` in order; return one line per stage saying what happened."""
    lines = []
    for name in names:
        current = stage(name)
        if current.built:
            lines.append(f"{name}: {current.run(config, progress)}")
        else:
            lines.append(f"{name}: not built yet ({current.planned_in})")
    return lines
