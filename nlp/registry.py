"""The registry of annotators: an explicit table from family name to factory, like a plugin would register.

A factory takes the configured brands (objects with ``name``, ``aliases``, ``handles``, ``hashtags``) and
returns an :class:`nlp.annotate.Annotator`; a factory that lacks what it needs raises ``ValueError`` saying
what to configure. Later annotators (language, sentiment, needs, intents, embeddings) add one line each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from nlp.annotate import Annotator
from nlp.mentions import BrandTerms, MentionAnnotator

__all__ = ["ANNOTATORS", "build_annotators"]

Factory = Callable[[Sequence[BrandTerms]], Annotator]

#: Family name -> factory, in the order ``analyze`` runs them.
ANNOTATORS: dict[str, Factory] = {
    "mentions.phrase": MentionAnnotator,
}


def build_annotators(brands: Iterable[BrandTerms], names: Iterable[str] | None = None) -> list[Annotator]:
    """Instantiate the registered annotators ``names`` (default: all, in registry order) for ``brands``."""
    brands = tuple(brands)
    chosen = list(ANNOTATORS) if names is None else list(names)
    unknown = [name for name in chosen if name not in ANNOTATORS]
    if unknown:
        raise KeyError(f"unknown annotator {unknown[0]!r}; registered: {', '.join(ANNOTATORS)}")
    return [ANNOTATORS[name](brands) for name in chosen]
