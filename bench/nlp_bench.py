"""NLP stage benchmark: throughput of every annotator inside ``run_annotators``, and the quality figures that
need no training: brand attribution on the airline tweets; language, needs and intents on the demo world.

Cases (each in a fresh database under a temporary folder):

- **airline**: the airline tweets (``../shared/data``, skipped when absent) imported with ``import_file`` and
  annotated with ``examples/airlines.toml``. Brand attribution = the first configured brand a tweet mentions
  against the ``airline`` column (``Delta`` read as ``JetBlue``, the dataset's known quirk).
- **demo**: a generated demo world (20,000 posts; 3,000 with ``--quick``) with its planted truth.

Throughput is posts/s of each annotator family run alone over all posts (reading posts, annotating, writing
rows and run records, one transaction per batch of 1,000), in registry order so later annotators find what
earlier ones stored. The row "all but embeddings" divides the posts by the summed seconds of every other
annotator: the issue's target is >= 1,000 posts/s. Run with ``python -m bench nlp`` (``--quick``).
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from bench.run import Section, markdown_table

REPO = Path(__file__).resolve().parents[1]
AIRLINE = REPO.parent / "shared" / "data" / "twitter-airline-sentiment" / "Tweets.csv"
AIRLINE_CONFIG = REPO / "examples" / "airlines.toml"
EMBEDDINGS = "embeddings.minilm"


def time_annotators(db, brands, model_dir: Path) -> list[tuple[str, int, float]]:
    """Run each registered annotator family alone, in registry order; ``(name, posts, seconds)`` each."""
    from nlp import ANNOTATORS, build_annotators, run_annotators

    timings = []
    for family in ANNOTATORS:
        (annotator,) = build_annotators(brands, [family], db=db, model_dir=model_dir)
        try:
            started = time.perf_counter()
            counts = run_annotators(db, [annotator], batch_size=1000)
            seconds = time.perf_counter() - started
        finally:
            close = getattr(annotator, "close", None)
            if close is not None:
                close()
        timings.append((annotator.name, counts[annotator.name], seconds))
    return timings


def throughput_table(timings: list[tuple[str, int, float]]) -> str:
    """A Markdown table of posts/s per annotator plus the "all but embeddings" row."""
    rows = [
        (name, posts, round(seconds, 2), round(posts / seconds) if seconds else 0)
        for name, posts, seconds in timings
    ]
    others = [(posts, seconds) for name, posts, seconds in timings if not name.startswith(EMBEDDINGS)]
    if others:
        posts = others[0][0]
        seconds = sum(s for _, s in others)
        rows.append(
            ("all but embeddings (sum of the above)", posts, round(seconds, 2), round(posts / seconds))
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
        timings = time_annotators(db, config.brands, folder / "models")
        posts, correct, missing, confusions = attribution(db.conn)
    finally:
        db.close()
    worst = ", ".join(f"{t} as {p}: {n}" for (t, p), n in confusions.most_common(4))
    body = (
        throughput_table(timings)
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
        timings = time_annotators(db, config.brands, folder / "demo" / "models")
        quality = demo_quality(db.conn, json.loads((built.db_path.parent / "truth.json").read_text()))
    finally:
        db.close()
    body = throughput_table(timings)
    if quality:
        body += "\n\n" + quality
    return [Section(f"Demo world ({posts:,} posts): annotator throughput and planted-truth agreement", body)]


#: Quality checks against the demo world's truth, added as annotators land: name -> fn(conn, truth) -> text.
DEMO_CHECKS: dict[str, Callable] = {}


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
