"""NLP stage benchmark: throughput of every annotator inside ``run_annotators``, and the quality figures that
need no training: brand attribution on the airline tweets; language, needs and intents on the demo world.

Cases (each in a fresh database under a temporary folder):

- **airline**: the airline tweets (``../shared/data``, skipped when absent) imported with ``import_file`` and
  annotated with ``examples/airlines.toml``. Brand attribution = the first configured brand a tweet mentions
  against the ``airline`` column (``Delta`` read as ``JetBlue``, the dataset's known quirk).
- **demo**: a generated demo world (20,000 posts; 3,000 with ``--quick``) with its planted truth.

Throughput comes from one ``run_annotators`` call over every registered annotator, as ``analyze`` runs
them (interleaved over id ranges, batches of 1,000, one transaction each): per annotator, posts divided by
the seconds spent in its ``annotate``; for the run, posts divided by its wall time, and by its wall time
less the embeddings' seconds, which is the issue's ">= 1,000 posts/s for all annotators but embeddings".
The annotators build their spaCy matchers and load the language model on first use (so that a run with
nothing new loads neither); the benchmark builds them before the clock starts and reports that one-off load
beside the rates. Run with ``python -m bench nlp`` (``--quick``).
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench import nlp_quality
from bench.run import Section, markdown_table

REPO = Path(__file__).resolve().parents[1]
AIRLINE = REPO.parent / "shared" / "data" / "twitter-airline-sentiment" / "Tweets.csv"
AIRLINE_CONFIG = REPO / "examples" / "airlines.toml"
EMBEDDINGS = "embeddings.minilm"


#: The row of the one-off load before the clock (spaCy, matchers, language model).
LOADING = "load on first use (before the clock)"


class Timed:
    """An annotator wrapped to add up the seconds spent in its ``annotate``."""

    def __init__(self, annotator) -> None:
        self.inner = annotator
        self.seconds = 0.0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def annotate(self, batch):
        started = time.perf_counter()
        try:
            return self.inner.annotate(batch)
        finally:
            self.seconds += time.perf_counter() - started


#: The parts the annotators build on first use (``functools.cached_property``): touched before the clock.
LAZY_PARTS = ("nlp", "matcher", "triggers", "detector")


def warm_up(annotators) -> float:
    """Build the annotators' lazily built parts (spaCy, matchers, the language model); return the seconds."""
    started = time.perf_counter()
    for annotator in annotators:
        for part in LAZY_PARTS:
            getattr(annotator, part, None)
    return time.perf_counter() - started


def time_annotators(db, brands, model_dir: Path) -> tuple[list[tuple[str, int, float]], float]:
    """One ``run_annotators`` over every registered annotator, as ``analyze`` runs them.

    Returns ``(name, posts, seconds in annotate)`` per annotator and the run's wall seconds (which adds
    reading posts, writing rows and run records, and the model fits of a later pass). The first row is the
    one-off load of :func:`warm_up`, before the clock (0 posts).
    """
    from nlp import build_annotators, run_annotators

    timed = [Timed(annotator) for annotator in build_annotators(brands, db=db, model_dir=model_dir)]
    try:
        loading = warm_up(annotator.inner for annotator in timed)
        started = time.perf_counter()
        counts = run_annotators(db, timed, batch_size=1000)
        wall = time.perf_counter() - started
    finally:
        for annotator in timed:
            close = getattr(annotator.inner, "close", None)
            if close is not None:
                close()
    return [(LOADING, 0, loading)] + [(a.name, counts[a.name], a.seconds) for a in timed], wall


def throughput_table(timings: list[tuple[str, int, float]], wall: float) -> str:
    """Posts/s per annotator (time in ``annotate``) and of the whole run without the embeddings' time."""
    rows = [
        (name, posts if posts else "", round(seconds, 2), round(posts / seconds) if seconds and posts else "")
        for name, posts, seconds in timings
    ]
    posts = max((count for _, count, _ in timings), default=0)
    embedding = sum(seconds for name, _, seconds in timings if name.startswith(EMBEDDINGS))
    rest = wall - embedding
    rows.append(("whole run (wall)", posts, round(wall, 2), round(posts / wall) if wall else 0))
    rows.append(
        ("whole run without the embeddings' time", posts, round(rest, 2), round(posts / rest) if rest else 0)
    )
    return markdown_table(["annotator", "posts", "seconds", "posts/s"], rows)


def airline_truth() -> dict[str, str]:
    """Post id -> airline of the airline tweets (Delta read as JetBlue)."""
    with AIRLINE.open(newline="", encoding="utf-8") as handle:
        return {
            f"x:{row['tweet_id']}": "JetBlue" if row["airline"] == "Delta" else row["airline"]
            for row in csv.DictReader(handle)
        }


def first_brands(conn) -> dict[str, str]:
    """Post id -> the first brand it mentions."""
    first: dict[str, str] = {}
    for post_id, brand in conn.execute(
        "SELECT post_id, brand FROM post_mentions ORDER BY post_id, start_char"
    ):
        first.setdefault(post_id, brand)
    return first


def attribution(conn) -> tuple[int, int, int, Counter]:
    """``(posts, correct, with no brand, confusions)`` of first-mentioned brand against the airline column."""
    truth = airline_truth()
    first = first_brands(conn)
    ids = [post_id for (post_id,) in conn.execute("SELECT id FROM posts")]
    correct = sum(first.get(i) == truth[i] for i in ids)
    missing = sum(i not in first for i in ids)
    confusions = Counter((truth[i], first.get(i, "(none)")) for i in ids if first.get(i) != truth[i])
    return len(ids), correct, missing, confusions


def airline_case(folder: Path) -> list[Section]:
    """Import the airline tweets, time every annotator, score brand attribution."""
    from collectors.files import import_file
    from store import open_db
    from tasteradar.config import load_config

    config = load_config(AIRLINE_CONFIG)
    db = open_db(folder / "airline.db")
    try:
        import_file(db, AIRLINE)
        timings, wall = time_annotators(db, config.brands, folder / "models")
        posts, correct, missing, confusions = attribution(db.conn)
    finally:
        db.close()
    worst = ", ".join(f"{t} as {p}: {n}" for (t, p), n in confusions.most_common(4))
    body = (
        throughput_table(timings, wall)
        + "\n\n"
        + markdown_table(
            ["posts", "attributed correctly", "accuracy", "no brand found"],
            [(posts, correct, round(correct / posts, 4), missing)],
        )
        + "\n\nBrand attribution: first configured brand mentioned vs the `airline` column (target >= 0.99). "
        f"Most frequent misses (label as found): {worst or 'none'}."
    )
    return [Section("Airline tweets: annotator throughput and brand attribution", body)]


def demo_case(folder: Path, posts: int) -> list[Section]:
    """Build a demo world, time every annotator on it."""
    from store import open_db
    from tasteradar.config import load_config
    from tasteradar.demo import build_demo

    built = build_demo(folder / "demo" / "tasteradar.db", seed=7, posts=posts)
    config = load_config(built.db_path.parent / "tasteradar.toml")
    db = open_db(built.db_path)
    try:
        timings, wall = time_annotators(db, config.brands, folder / "demo" / "models")
        quality = demo_quality(db.conn, json.loads((built.db_path.parent / "truth.json").read_text()))
    finally:
        db.close()
    body = throughput_table(timings, wall)
    if quality:
        body += "\n\n" + quality
    return [Section(f"Demo world ({posts:,} posts): annotator throughput and planted-truth agreement", body)]


#: Quality checks against the demo world's truth: name -> fn(conn, truth) -> Markdown.
DEMO_CHECKS: dict[str, Callable] = {
    "language": nlp_quality.language_check,
    "needs": nlp_quality.needs_check,
    "intents": nlp_quality.intents_check,
}


def demo_quality(conn, truth: dict) -> str:
    """The Markdown of every registered demo-world quality check."""
    return "\n\n".join(check(conn, truth) for check in DEMO_CHECKS.values())


def run(quick: bool = False) -> list[Section]:
    """Run the cases (the airline one only where ``../shared/data`` is present)."""
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="tasteradar-nlp-bench-") as tmp:
        folder = Path(tmp)
        if AIRLINE.exists():
            sections += airline_case(folder)
        sections += demo_case(folder, 3_000 if quick else 20_000)
    return sections
