"""The registry of annotators: an explicit table from family name to factory, like a plugin would register.

A factory takes an :class:`AnnotatorContext` (the configured brands, the database for annotators that read
more than the text: earlier annotations such as stored embeddings, or the posts' authors, by which the
needs and intents annotators skip brand accounts' posts (``nlp.voice``); the folder of trained models) and
returns an :class:`nlp.annotate.Annotator`; a factory that lacks what it needs raises ``ValueError`` saying
what to configure. ``analyze`` runs them in registry order, so an annotator comes after the ones it reads.

Building should stay cheap: the runner reads each annotator's name and fingerprint first and may find nothing
pending. The language, mentions, needs and intents annotators import spaCy and load py3langid's model on
their first batch, not at construction (``tests/nlp/test_lazy_annotators.py`` checks it); the needs and
intents annotators query the database per batch, never at construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from nlp.annotate import Annotator
from nlp.embeddings import from_context as embeddings_from_context
from nlp.intents import IntentAnnotator
from nlp.language import LanguageAnnotator
from nlp.mentions import BrandTerms, MentionAnnotator
from nlp.needs import NeedAnnotator
from nlp.sentiment import BrandSentimentAnnotator, SentimentAnnotator, SentimentScorer

__all__ = ["ANNOTATORS", "AnnotatorContext", "build_annotators"]


@dataclass(frozen=True)
class AnnotatorContext:
    """What a factory may use to build its annotator."""

    brands: tuple[BrandTerms, ...]
    #: The database the run writes to, for annotators that read what earlier ones stored; None in unit tests.
    db: sqlite_utils.Database | None = None
    #: The folder of trained models (beside the database); None: use the built-in defaults only.
    model_dir: Path | None = None
    #: Worker processes for the heavy annotators (embeddings); one single-thread worker per core is fastest.
    workers: int = 2
    #: Objects the factories of one build share (one sentiment model for the post and brand annotators).
    shared: dict = field(default_factory=dict, compare=False, hash=False)

    def sentiment_scorer(self) -> SentimentScorer:
        """The one sentiment scorer of this build (its model is loaded or fitted once, on first use)."""
        return self.shared.setdefault("sentiment_scorer", SentimentScorer(self.db, self.model_dir))


Factory = Callable[[AnnotatorContext], Annotator]

#: Family name -> factory, in the order ``analyze`` runs them.
ANNOTATORS: dict[str, Factory] = {
    "language.langid": lambda ctx: LanguageAnnotator(db=ctx.db),
    "embeddings.minilm": embeddings_from_context,
    "mentions.phrase": lambda ctx: MentionAnnotator(ctx.brands),
    "needs.cues": lambda ctx: NeedAnnotator(ctx.brands, db=ctx.db),
    "intents.rules": lambda ctx: IntentAnnotator(ctx.brands, db=ctx.db),
    "sentiment.seedlr": lambda ctx: SentimentAnnotator(ctx.sentiment_scorer()),
    "brand_sentiment.clause": lambda ctx: BrandSentimentAnnotator(ctx.sentiment_scorer(), ctx.brands),
}


def build_annotators(
    brands: Iterable[BrandTerms],
    names: Iterable[str] | None = None,
    *,
    db: sqlite_utils.Database | None = None,
    model_dir: Path | None = None,
    workers: int = 2,
) -> list[Annotator]:
    """Instantiate the registered annotators ``names`` (default: all, in registry order) for ``brands``."""
    context = AnnotatorContext(tuple(brands), db=db, model_dir=model_dir, workers=workers)
    chosen = list(ANNOTATORS) if names is None else list(names)
    unknown = [name for name in chosen if name not in ANNOTATORS]
    if unknown:
        raise KeyError(f"unknown annotator {unknown[0]!r}; registered: {', '.join(ANNOTATORS)}")
    return [ANNOTATORS[name](context) for name in chosen]
