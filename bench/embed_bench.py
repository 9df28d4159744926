"""Embedding benchmark: the ``embeddings.minilm.v1`` stage inside ``run_annotators`` vs plain ``encode``.

The airline tweets (``../shared/data``; the benchmark is skipped when absent), the first 1,000
(``--quick``) or 5,000, are stored with ``store.upsert_posts`` in a fresh database. Every setup encodes the
same texts (``nlp.embeddings.prepare_text`` of each post, prepared outside the timing for the plain setups)
with the same model, already loaded (start-up is reported apart):

- plain ``SentenceTransformer.encode`` in this process, torch's default threads, batch 32 / 64 / 128;
- ``encode(pool=...)`` (sentence-transformers' multi-process pool), two processes started with
  ``OMP_NUM_THREADS=1`` (one thread each), batch 64;
- ``PoolEncoder.encode`` (this project's pool: two single-thread spawned workers), all texts in one call,
  sorted by length, chunks of 64;
- with ``onnxruntime`` and ``onnx`` installed, the stage with the ONNX Runtime backends (fp32 export: the
  default; int8 weights), two single-thread workers; the export (torch, once per model) is start-up;
- the **stage**: ``run_annotators(db, [EmbeddingAnnotator(...)], batch_size=1000)`` over the database, with
  the two-worker pool (started before the clock) and with ``workers=1`` (in-process). It includes reading
  the pending posts, preparing texts, encoding, packing and writing the vectors and the run rows.

Each setup runs ``ROUNDS`` times, interleaved (the machine is shared, so load from other jobs hits every
setup alike); the table gives each setup's best and median rate. The target ratio is the stage's best rate
over the best plain setup's best rate, both from this run.

A second section checks the URL placeholder: leave-one-out 10-nearest-neighbour agreement with the
``airline_sentiment`` label, with URLs replaced by ``URL`` and with URLs kept, on the same posts.

Run with ``python -m bench embed`` (``--quick``: 1,000 posts, 2 rounds).
"""

from __future__ import annotations

import csv
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.run import Section, markdown_table

REPO = Path(__file__).resolve().parents[1]
AIRLINE = REPO.parent / "shared" / "data" / "twitter-airline-sentiment" / "Tweets.csv"
ROUNDS = 2


def read_airline(limit: int) -> list[dict]:
    """The first ``limit`` rows of the airline tweets CSV."""
    with AIRLINE.open(encoding="utf-8", newline="") as handle:
        return [row for _, row in zip(range(limit), csv.DictReader(handle), strict=False)]


def build_db(path: Path, rows: list[dict]):
    """A fresh database holding ``rows`` as posts (``x:<tweet_id>``)."""
    from store import Post, open_db, upsert_posts

    db = open_db(path)
    posts = [
        Post(
            "x",
            row["tweet_id"],
            row["text"],
            datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z"),
            author_handle=row["name"],
        )
        for row in rows
    ]
    upsert_posts(db, posts)
    return db


def _timed(work: Callable[[], object]) -> float:
    """Seconds ``work()`` takes."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _reset(db) -> None:
    """Forget the stage's output so the next round embeds every post again."""
    with db.conn:
        db.conn.execute("DELETE FROM post_embeddings")
        db.conn.execute("DELETE FROM annotation_runs")


def _stage(db, annotator) -> Callable[[], object]:
    """One run of the embedding stage over the whole database (after a reset)."""
    from nlp.annotate import run_annotators

    def work():
        done = run_annotators(db, [annotator], batch_size=1000)
        assert done[annotator.name] == db.conn.execute("SELECT count(*) FROM posts").fetchone()[0]

    return work


def _setups(db, texts: list[str], folder: str):
    """Load every setup (timed apart); return ``{label: work}``, start-up seconds, the pool, closers."""
    from nlp import embeddings

    startup: dict[str, float] = {}
    started = time.perf_counter()
    model = embeddings._load_model(str(embeddings.model_path()))
    startup["import sentence-transformers + load model (this process)"] = time.perf_counter() - started

    previous = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the spawned workers: one torch thread each
    started = time.perf_counter()
    st_pool = model.start_multi_process_pool(["cpu", "cpu"])
    model.encode(texts[:8], pool=st_pool, batch_size=64, show_progress_bar=False)
    startup["sentence-transformers pool, 2 processes (first result)"] = time.perf_counter() - started
    if previous is None:
        os.environ.pop("OMP_NUM_THREADS")
    else:
        os.environ["OMP_NUM_THREADS"] = previous

    pool = embeddings.PoolEncoder(workers=2, chunk=64)
    startup["PoolEncoder, 2 workers (spawn, import, load)"] = _timed(pool.start)
    local = embeddings.LocalEncoder()
    local._model = model  # the same loaded model, in this process
    onnx_pools = {}
    for variant in embeddings.ONNX_VARIANTS if _have_onnx() else ():
        target = embeddings.onnx_file(Path(folder), variant)
        startup[f"ONNX {variant} export (once per model; torch)"] = _timed(
            lambda v=variant: embeddings.export_onnx(Path(folder), v)
        )
        onnx_pools[variant] = embeddings.PoolEncoder(workers=2, chunk=64, onnx=target)
        startup[f"ONNX {variant} pool, 2 workers"] = _timed(onnx_pools[variant].start)
    ordered = sorted(texts, key=len)

    def plain(batch_size: int) -> Callable[[], object]:
        return lambda: model.encode(texts, batch_size=batch_size, show_progress_bar=False)

    def st_multi() -> None:
        model.encode(texts, pool=st_pool, batch_size=64, chunk_size=64, show_progress_bar=False)

    work = {
        "plain encode, default threads, batch 32": plain(32),
        "plain encode, default threads, batch 64": plain(64),
        "plain encode, default threads, batch 128": plain(128),
        "plain encode(pool=...), 2 procs x 1 thread, batch 64": st_multi,
        "plain PoolEncoder.encode, 2 workers x 1 thread, chunk 64": lambda: pool.encode(ordered),
        "STAGE run_annotators, torch, 2 workers": _stage(db, embeddings.EmbeddingAnnotator(pool)),
        "STAGE run_annotators, workers=1 (in-process)": _stage(db, embeddings.EmbeddingAnnotator(local)),
    }
    for variant, onnx_pool in onnx_pools.items():
        default = " (default)" if f"onnx-{variant}" == embeddings.DEFAULT_BACKEND else ""
        work[f"STAGE run_annotators, ONNX {variant}, 2 workers{default}"] = _stage(
            db, embeddings.EmbeddingAnnotator(onnx_pool)
        )
    closers = [pool.close, lambda: model.stop_multi_process_pool(st_pool)]
    closers += [onnx_pool.close for onnx_pool in onnx_pools.values()]
    return work, startup, {"torch": pool, **onnx_pools}, closers


def _measure(db, work: dict[str, Callable[[], object]], posts: int, rounds: int) -> dict[str, list[float]]:
    """Rates (posts/s) of each setup over ``rounds`` interleaved rounds."""
    rates: dict[str, list[float]] = {label: [] for label in work}
    for round_number in range(rounds):
        for label, job in work.items():
            if label.startswith("STAGE"):
                _reset(db)
            print(f"  round {round_number + 1}: {label} ...", file=sys.stderr, flush=True)
            rates[label].append(posts / _timed(job))
    return rates


def _knn(vectors: np.ndarray, labels: list[str], k: int = 10) -> float:
    """Leave-one-out share of posts whose label is the majority label of their k nearest neighbours."""
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    neighbours = np.argpartition(-similarity, k, axis=1)[:, :k]
    names = np.asarray(labels)
    hits = 0
    for row, index in enumerate(neighbours):
        values, counts = np.unique(names[index], return_counts=True)
        hits += values[np.argmax(counts)] == names[row]
    return hits / len(labels)


def _url_check(rows: list[dict], encode: Callable[[list[str]], np.ndarray]) -> Section:
    """Nearest-neighbour sentiment agreement with and without the URL placeholder, same posts."""
    from nlp.embeddings import _URL, prepare_text
    from nlp.normalize import normalize

    labels = [row["airline_sentiment"] for row in rows]
    with_placeholder = [prepare_text(row["text"]) for row in rows]
    kept = [normalize(row["text"]) for row in rows]
    changed = [index for index, row in enumerate(rows) if _URL.search(row["text"])]
    base = encode(with_placeholder)
    other = base.copy()
    if changed:
        other[changed] = encode([kept[index] for index in changed])
    cosine = np.sum(base[changed] * other[changed], axis=1) if changed else np.ones(1)
    table = markdown_table(
        ["text fed to the model", "posts", "posts with a URL", "10-NN label agreement (all posts)"],
        [
            ("normalize + URL -> 'URL' (shipped)", len(rows), len(changed), round(_knn(base, labels), 4)),
            ("normalize only (URLs kept)", len(rows), len(changed), round(_knn(other, labels), 4)),
        ],
    )  # fmt: skip
    body = table + (
        f"\n\nCosine between the two vectors of a post with a URL: mean {float(np.mean(cosine)):.3f}, "
        f"min {float(np.min(cosine)):.3f}. Agreement is leave-one-out: the majority `airline_sentiment` of "
        "each post's 10 nearest neighbours (dot product of unit vectors) against its own label."
    )
    return Section("Embeddings: URL placeholder check (airline tweets)", body)


def run(quick: bool = False) -> list[Section]:
    """Measure every setup and the stage; return the report sections."""
    if not AIRLINE.exists():
        return [Section("Embeddings", f"Skipped: {AIRLINE} is absent.")]
    posts = 1000 if quick else 5000
    rounds = ROUNDS if quick else ROUNDS + 1
    rows = read_airline(posts)
    from nlp.embeddings import prepare_text

    with tempfile.TemporaryDirectory(prefix="embed-bench-") as folder:
        db = build_db(Path(folder, "bench.db"), rows)
        texts = [prepare_text(text) for (text,) in db.conn.execute("SELECT text FROM posts ORDER BY id")]
        work, startup, pools, closers = _setups(db, texts, folder)
        try:
            rates = _measure(db, work, len(texts), rounds)
            url_section = _url_check(rows, pools["torch"].encode)
            onnx_section = _onnx_check(texts, pools) if len(pools) > 1 else None
        finally:
            for close in closers:
                close()
            db.close()
    sections = [_speed_section(rates, startup, len(texts), rounds), onnx_section, url_section]
    return [section for section in sections if section is not None]


def _have_onnx() -> bool:
    """Whether the optional ONNX packages (``onnxruntime``, and ``onnx`` for the export) are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def _onnx_check(texts: list[str], pools: dict) -> Section:
    """Cosine of each ONNX variant's vectors to the fp32 torch vectors, and pairwise similarity error."""
    reference = pools["torch"].encode(texts)
    similarity = reference @ reference.T
    table = []
    for variant in ("fp32", "int8"):
        vectors = pools[variant].encode(texts)
        cosine = np.sum(reference * vectors, axis=1)
        error = np.abs(vectors @ vectors.T - similarity)
        table.append((
            f"ONNX {variant}", len(texts), round(float(cosine.mean()), 4), round(float(cosine.min()), 4),
            round(float(error.mean()), 4), round(float(np.quantile(error, 0.99)), 4),
        ))  # fmt: skip
    headers = [
        "vectors",
        "posts",
        "cosine to torch fp32: mean",
        "min",
        "pairwise similarity error: mean",
        "p99",
    ]
    body = markdown_table(headers, table) + (
        "\n\nPairwise error: |cos(a, b) - cos_fp32(a, b)| over every pair of posts. int8 is onnxruntime's "
        "dynamic quantisation of the fp32 export (QInt8 MatMul weights, per channel)."
    )
    return Section("Embeddings: ONNX Runtime vectors vs sentence-transformers fp32", body)


def _speed_section(
    rates: dict[str, list[float]], startup: dict[str, float], posts: int, rounds: int
) -> Section:
    """The throughput table, the ratio to the best plain setup, and start-up times."""
    plain = {label: max(values) for label, values in rates.items() if label.startswith("plain")}
    best_label = max(plain, key=plain.get)
    best = plain[best_label]
    table = [
        (label, round(max(values)), round(statistics.median(values)), round(max(values) / best, 3))
        for label, values in rates.items()
    ]
    body = markdown_table(["setup", "best posts/s", "median posts/s", "best / best plain"], table)
    medians = {label: statistics.median(values) for label, values in rates.items()}
    best_median = max(value for label, value in medians.items() if label.startswith("plain"))
    default = next(
        (label for label in rates if label.endswith("(default)")), "STAGE run_annotators, torch, 2 workers"
    )
    body += (
        f"\n\n{posts:,} airline tweets, {rounds} interleaved rounds per setup, model already loaded. "
        f"Best plain setup: **{best_label}**, {best:.0f} posts/s. The default embedding stage inside "
        f"`run_annotators` ({default.removeprefix('STAGE run_annotators, ')}) runs at "
        f"**{max(rates[default]) / best:.2f}x** of it (target >= 0.85x); by medians, "
        f"{medians[default] / best_median:.2f}x of the best plain median ({best_median:.0f} posts/s). "
        f"The torch stage: {max(rates['STAGE run_annotators, torch, 2 workers']) / best:.2f}x (best), "
        f"{medians['STAGE run_annotators, torch, 2 workers'] / best_median:.2f}x (medians)."
        "\n\nStart-up, paid once per run: "
        + "; ".join(f"{label} {seconds:.1f} s" for label, seconds in startup.items())
        + "."
    )
    return Section("Embeddings: analyze stage vs plain SentenceTransformer.encode", body)


if __name__ == "__main__":
    for section in run(quick="--quick" in sys.argv):
        print(f"## {section.title}\n\n{section.body}\n")
