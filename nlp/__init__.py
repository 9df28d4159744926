"""tasteradar's NLP stage: annotators that read stored posts and write versioned annotation rows.

Typical use::

    from nlp import build_annotators, run_annotators

    counts = run_annotators(db, build_annotators(config.brands), batch_size=1000, progress=progress)

See ``nlp/annotate.py`` for the contract and the incremental runner, ``nlp/normalize.py`` for the text form
every annotator reads, ``nlp/mentions.py`` for brand mentions. ``nlp`` imports ``store`` only.
"""

from nlp.annotate import Annotator, PostText, maybe_english, parse_name, pending_count, run_annotators
from nlp.mentions import MentionAnnotator, find_mentions, term_variants
from nlp.normalize import blank_english, canonical, normalize
from nlp.registry import ANNOTATORS, AnnotatorContext, build_annotators

__all__ = [
    "ANNOTATORS",
    "Annotator",
    "AnnotatorContext",
    "MentionAnnotator",
    "PostText",
    "blank_english",
    "build_annotators",
    "canonical",
    "find_mentions",
    "maybe_english",
    "normalize",
    "parse_name",
    "pending_count",
    "run_annotators",
    "term_variants",
]
