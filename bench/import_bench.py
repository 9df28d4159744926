"""File import benchmark: ``import_file`` against a raw ``executemany`` of the same rows; posts/s, peak RSS.

Cases: the 14,640 airline tweets (``../shared/data``, skipped when absent) and a generated X API v2 JSONL
file of 1,000,000 lines (50,000 with ``--quick``). Each measurement runs in a fresh subprocess into a fresh
database and reports its peak resident memory (``VmHWM`` from ``/proc/self/status``):

- ``import_file``: the whole import (streaming reader, mapping, validation, hashing, upsert with duplicate
  split, quarantine, a checkpoint per batch, the run row), batches of 2,000.
- ``raw executemany``: the same file read with the standard library (``csv`` / ``json``), each record mapped
  to a ``posts`` row with the fewest steps, then per batch of 2,000 (one transaction each) ``executemany``
  into a temporary staging table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` into the same
  schema (indexes and full-text triggers included; one statement per batch, as the store writes, because
  FTS5 flushes once per statement). Parsing and SQL time are reported apart.

Run with ``python -m bench import`` (``--quick`` for small sizes); ``python -m bench.import_bench --child
MODE PATH DB`` is the child process.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.run import Section, markdown_table

REPO = Path(__file__).resolve().parents[1]
AIRLINE = REPO.parent / "shared" / "data" / "twitter-airline-sentiment" / "Tweets.csv"
BATCH = 2000
VOCABULARY = (
    "nimbus mobile signal coverage roaming data plan bill support outage network 5g fiber router upgrade "
    "contract cancel switch price unlimited speed slow dropped calls customer service refund esim hotspot "
    "café señal rápido great terrible waiting hours fixed broken today again \U0001f621 \U0001f4f6 #nimbus"
)
WORDS = VOCABULARY.split(" ")


def write_x_jsonl(path: Path, lines: int, seed: int = 7) -> None:
    """Write ``lines`` X API v2 posts (``{"data": tweet, "includes": {"users": [author]}}``), one per line."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as handle:
        for number in range(lines):
            native_id = str(1_700_000_000_000_000_000 + number * 7919)
            author = str(10_000_000 + rng.randrange(50_000))
            tweet = {
                "id": native_id,
                "text": " ".join(rng.choices(WORDS, k=rng.randint(8, 40)))[:280],
                "author_id": author,
                "created_at": (start + timedelta(seconds=3 * number)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "conversation_id": native_id,
                "lang": "en",
                "public_metrics": {"like_count": rng.randrange(500), "retweet_count": rng.randrange(50)},
                "edit_history_tweet_ids": [native_id],
            }
            user = {"id": author, "username": f"user{author[-5:]}"}
            handle.write(json.dumps({"data": tweet, "includes": {"users": [user]}}) + "\n")


def peak_rss_kib() -> int:
    """This process's peak resident memory in KiB (``VmHWM``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _raw_rows(path: Path) -> Iterator[tuple]:
    """The plainest mapping of the file to ``posts`` rows (no validation, no dedupe, no repair)."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if path.suffix == ".csv":
        csv.field_size_limit(1 << 24)
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                created = datetime.strptime(row["tweet_created"], "%Y-%m-%d %H:%M:%S %z").astimezone(UTC)
                yield _row("x", row["tweet_id"], row["name"], None, row["text"], created, row, now)
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            tweet = record["data"]
            created = datetime.fromisoformat(tweet["created_at"].replace("Z", "+00:00"))
            handle_name = record["includes"]["users"][0]["username"]
            yield _row("x", tweet["id"], handle_name, tweet["author_id"], tweet["text"], created, record, now)


def _row(platform, native_id, handle, author_id, text, created, raw, now) -> tuple:
    """One ``posts`` row in ``store.posts.POST_COLUMNS`` order."""
    return (
        f"{platform}:{native_id}", platform, native_id, author_id, handle, text,
        created.strftime("%Y-%m-%dT%H:%M:%SZ"), None, None, None, None, "{}",
        json.dumps(raw, ensure_ascii=False), None, now, "", now, now,
    )  # fmt: skip


def child_raw(path: Path, db_path: Path) -> dict:
    """Raw ``executemany`` of the file's rows into a fresh database; returns timings and peak RSS."""
    from store import open_db, transaction
    from store.posts import POST_COLUMNS

    db = open_db(db_path)
    columns = ", ".join(POST_COLUMNS)
    db.execute(f"CREATE TEMP TABLE bench_stage ({columns})")
    stage = f"INSERT INTO bench_stage VALUES ({', '.join('?' * len(POST_COLUMNS))})"
    move = f"INSERT INTO main.posts ({columns}) SELECT {columns} FROM bench_stage WHERE true "
    move += "ON CONFLICT DO NOTHING"
    parse = write = 0.0
    rows = _raw_rows(path)
    count = 0
    while True:
        started = time.perf_counter()
        batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
        parse += time.perf_counter() - started
        if not batch:
            break
        started = time.perf_counter()
        with transaction(db) as conn:
            conn.executemany(stage, batch)
            conn.execute(move)
            conn.execute("DELETE FROM bench_stage")
        write += time.perf_counter() - started
        count += len(batch)
    stored = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    db.close()
    return {"records": count, "posts": stored, "seconds": parse + write, "parse": parse, "sql": write,
            "rss_kib": peak_rss_kib()}  # fmt: skip


def child_import(path: Path, db_path: Path) -> dict:
    """``import_file`` of the file into a fresh database; returns timings and peak RSS."""
    from collectors.files import import_file
    from store import open_db

    db = open_db(db_path)
    started = time.perf_counter()
    result = import_file(db, path, batch_size=BATCH)
    seconds = time.perf_counter() - started
    stored = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    db.close()
    return {"records": result.records, "posts": stored, "seconds": seconds, "rss_kib": peak_rss_kib()}


def _measure(mode: str, path: Path, folder: str) -> dict:
    """Run one measurement in a fresh Python process and return its JSON report."""
    db_path = Path(folder, f"{mode}-{path.stem}.db")
    command = [sys.executable, "-m", "bench.import_bench", "--child", mode, str(path), str(db_path)]
    output = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run(quick: bool = False) -> list[Section]:
    """Measure both cases with both modes; return the report sections."""
    lines = 50_000 if quick else 1_000_000
    table = []
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        generated = Path(folder, f"x_{lines}.jsonl")
        write_x_jsonl(generated, lines)
        cases = (
            [(f"airline Tweets.csv ({AIRLINE.stat().st_size / 1e6:.1f} MB)", AIRLINE)]
            if AIRLINE.exists()
            else []
        )
        cases.append(
            (f"generated X JSONL, {lines:,} lines ({generated.stat().st_size / 1e6:.0f} MB)", generated)
        )
        for label, path in cases:
            for mode, name in (("import", "import_file"), ("raw", "raw executemany")):
                print(f"  {label}: {name} ...", file=sys.stderr, flush=True)
                report = _measure(mode, path, folder)
                split = (
                    f" (parse {report['parse']:.1f} s + SQL {report['sql']:.1f} s)" if mode == "raw" else ""
                )
                rate = round(report["records"] / report["seconds"])
                seconds = f"{report['seconds']:.1f}{split}"
                rss = round(report["rss_kib"] / 1024)
                table.append((label, name, report["records"], report["posts"], seconds, rate, rss))
    headers = ["case", "how", "records", "posts stored", "seconds", "records/s", "peak RSS MiB"]
    body = markdown_table(headers, table) + (
        "\n\nEach row is a fresh process writing a fresh database; peak RSS is its VmHWM (interpreter and "
        "imports included). The raw baseline skips everything the importer adds (validation, text repair, "
        "content hashes and the duplicate split, author rows, quarantine, per-batch checkpoints, the run "
        "row). Both read the file as a stream."
    )
    return [Section("Import of a file: import_file vs raw executemany", body)]


def main() -> None:
    """Child entry point: ``--child MODE PATH DB`` prints one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "DB"), required=True)
    mode, path, db_path = parser.parse_args().child
    child = child_import if mode == "import" else child_raw
    print(json.dumps(child(Path(path), Path(db_path))))


if __name__ == "__main__":
    main()
