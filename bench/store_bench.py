"""Store benchmark: upsert rate against raw ``executemany``, and peak memory of streaming upserts.

(a) ``upsert_posts`` of N synthetic posts into a fresh database file, against a raw ``executemany`` of the
very rows it writes (pre-serialised, same schema with its indexes and FTS triggers, same batches, one
transaction each) into another fresh file; median and best of 3 interleaved repetitions. ``upsert_posts``
also validates, repairs text, serialises JSON, hashes, looks up existing ids and upserts author rows, all
inside the timing. (b) the peak resident memory of a fresh process upserting 100,000 and then 1,000,000
posts from a generator.

Run with ``python -m bench store`` (``--quick`` for small sizes); ``python -m bench.store_bench --rss N
PATH`` is the child process of (b).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.run import Section, markdown_table
from store import Post, open_db, to_iso, transaction, upsert_posts, utc_now

# Internals of upsert_posts, imported only to time its Python half and its SQL half apart.
from store.posts import INSERT_POSTS_SQL, POST_COLUMNS, _prepare, _split, _write_posts, post_to_row

REPO = Path(__file__).resolve().parents[1]
BATCH_SIZE = 5000

_VOCABULARY = (
    "nimbus mobile signal coverage roaming data plan bill charge support outage network 5g fiber router "
    "upgrade contract cancel switch titan telecom price unlimited speed slow fast dropped calls customer "
    "service app refund store phone sim esim hotspot travel abroad family discount promo tariff latency "
    "wifi tower rural city commute train stadium festival weekend morning again still finally thanks "
    "terrible great love hate waiting hours chat agent fixed broken today yesterday week month year "
    "café señal rápido naïve über jalapeño"
)
_WORDS = _VOCABULARY.split()
_EXTRAS = (
    "\U0001f621",
    "\U0001f44d",
    "\U0001f4f6",
    "\u2764\ufe0f",
    "#nimbusmobile",
    "@NimbusHelp",
    "!!",
    "?",
)


def synthetic_posts(count: int, *, seed: int = 7) -> Iterator[Post]:
    """Yield ``count`` realistic X-like posts: 19-digit string ids, tweet-length text, v2-shaped raw JSON."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    first_id = 1_700_000_000_000_000_000
    collected = utc_now()
    for number in range(count):
        words = rng.choices(_WORDS, k=rng.randint(8, 40))
        if rng.random() < 0.5:
            words.insert(rng.randrange(len(words)), rng.choice(_EXTRAS))
        text = " ".join(words)[:280]
        native_id = str(first_id + number * 7919)
        author_id = str(10_000_000 + rng.randrange(50_000))
        created_at = start + timedelta(seconds=number * 3)
        metrics = {
            "like_count": rng.randrange(500),
            "retweet_count": rng.randrange(50),
            "reply_count": rng.randrange(20),
            "quote_count": rng.randrange(5),
        }
        raw = {
            "id": native_id,
            "text": text,
            "author_id": author_id,
            "created_at": created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "conversation_id": native_id,
            "lang": "en",
            "public_metrics": metrics,
            "edit_history_tweet_ids": [native_id],
        }
        yield Post(
            platform="x",
            native_id=native_id,
            text=text,
            created_at=created_at,
            author_id=author_id,
            author_handle=f"user{author_id[-5:]}",
            url=f"https://x.com/i/web/status/{native_id}",
            lang="en",
            conversation_id=f"x:{native_id}",
            metrics=metrics,
            raw=raw,
            query="nimbus mobile",
            collected_at=collected,
        )


def _fresh(folder: str, name: str) -> Path:
    """Return the path of a database file that does not exist yet in ``folder``."""
    return Path(folder, f"{name}.db")


def _time_upsert(path: Path, posts: list[Post], *, expect: str) -> float:
    """Return the seconds ``upsert_posts`` takes for ``posts`` into the database at ``path``.

    ``expect`` names the count that must equal ``len(posts)`` (``inserted`` or ``unchanged``).
    """
    db = open_db(path)
    started = time.perf_counter()
    result = upsert_posts(db, posts, batch_size=BATCH_SIZE, source="bench")
    seconds = time.perf_counter() - started
    db.close()
    if getattr(result, expect) != len(posts):
        raise RuntimeError(f"upsert_posts: expected {len(posts)} {expect}, got {result}")
    return seconds


def _time_raw(path: Path, rows: list[tuple], *, fts_trigger: bool = True) -> float:
    """Return the seconds of a plain ``executemany`` INSERT of ``rows``, batch by batch, into a fresh file."""
    db = open_db(path)
    if not fts_trigger:
        db.conn.execute("DROP TRIGGER posts_ai")
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_SIZE):
        with transaction(db) as conn:
            conn.executemany(INSERT_POSTS_SQL, rows[start : start + BATCH_SIZE])
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def _time_write_only(path: Path, rows: list[tuple]) -> float:
    """Return the seconds of ``upsert_posts``' SQL part alone (id lookup + staged write) on pre-built rows."""
    db = open_db(path)
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH_SIZE):
        with transaction(db) as conn:
            _write_posts(conn, _split(conn, rows[start : start + BATCH_SIZE]).to_write)
    seconds = time.perf_counter() - started
    db.close()
    return seconds


def _time_prepare(posts: list[Post]) -> float:
    """Return the seconds of ``upsert_posts``' Python part alone: validation, repair, JSON, hashing."""
    now = to_iso(utc_now())
    started = time.perf_counter()
    for start in range(0, len(posts), BATCH_SIZE):
        _prepare(posts[start : start + BATCH_SIZE], "bench", None, now)
    return time.perf_counter() - started


def _time_sqlite_utils(path: Path, rows: list[tuple]) -> float:
    """Return the seconds of sqlite-utils ``upsert_all`` of the same rows (as dicts), for reference."""
    records = [dict(zip(POST_COLUMNS, row, strict=True)) for row in rows]
    db = open_db(path)
    started = time.perf_counter()
    db["posts"].upsert_all(records, pk="id", batch_size=BATCH_SIZE)
    seconds = time.perf_counter() - started
    db.close()
    return seconds


_RATE_ROWS = (
    ("raw", "raw `executemany` INSERT of the pre-built rows (same schema, FTS trigger per row)"),
    ("upsert", "**`upsert_posts`**, new posts"),
    ("resend", "`upsert_posts`, the same posts re-sent (all unchanged)"),
    ("prepare", "its Python part alone: validate, repair, JSON, hash"),
    ("write", "its SQL part alone: id lookup + one staged INSERT ... SELECT per batch"),
    ("raw_nofts", "raw `executemany`, FTS trigger dropped (a ceiling; not the same schema)"),
)


def upsert_rate(count: int, repeats: int = 3) -> Section:
    """Measure (a): posts/s of ``upsert_posts`` and of raw ``executemany``, and their ratio."""
    posts = list(synthetic_posts(count))
    now = to_iso(utc_now())
    rows = [post_to_row(post, now) for post in posts]
    timings: dict[str, list[float]] = {key: [] for key, _ in _RATE_ROWS}
    with tempfile.TemporaryDirectory(prefix="tasteradar-bench-") as folder:
        for repeat in range(repeats):
            timings["raw"].append(_time_raw(_fresh(folder, f"raw{repeat}"), rows))
            upserted = _fresh(folder, f"upsert{repeat}")
            timings["upsert"].append(_time_upsert(upserted, posts, expect="inserted"))
            timings["resend"].append(_time_upsert(upserted, posts, expect="unchanged"))
            timings["prepare"].append(_time_prepare(posts))
            timings["write"].append(_time_write_only(_fresh(folder, f"write{repeat}"), rows))
            timings["raw_nofts"].append(_time_raw(_fresh(folder, f"nofts{repeat}"), rows, fts_trigger=False))
            for leftover in Path(folder).glob("*.db*"):
                leftover.unlink()
        reference = count / _time_sqlite_utils(_fresh(folder, "sqlite_utils"), rows)
    median = {key: count / statistics.median(values) for key, values in timings.items()}
    best = {key: count / min(values) for key, values in timings.items()}
    table_rows = [[label, f"{median[key]:,.0f}", f"{best[key]:,.0f}", repeats] for key, label in _RATE_ROWS]
    table_rows.append(["sqlite-utils `upsert_all` of the same rows (reference)", f"{reference:,.0f}", "", 1])
    table = markdown_table(["write path", "median posts/s", "best posts/s", "runs"], table_rows)
    ratio = median["upsert"] / median["raw"]
    ceiling_ratio = median["upsert"] / median["raw_nofts"]
    target = "met" if median["upsert"] >= 50_000 else "**not met** on this machine"
    body = (
        f"{count:,} synthetic posts (tweet-length text, 19-digit string ids, X v2-shaped raw JSON of about "
        f"450 characters), batches of {BATCH_SIZE:,}, one transaction per batch, a fresh database file per "
        "run (WAL, synchronous=NORMAL, indexes and FTS5 triggers in place), repetitions interleaved.\n\n"
        f"{table}\n\n"
        f"Ratio `upsert_posts` / raw `executemany` (medians): **{ratio:.2f}x** (target >= 0.5x); against "
        f"the no-FTS ceiling, which skips the full-text index altogether: {ceiling_ratio:.2f}x. "
        f"Absolute target >= 50,000 posts/s: {target} ({median['upsert']:,.0f} posts/s). "
        "The raw path writes pre-serialised `posts` rows only, one statement per row, so FTS5 flushes its "
        "index at every row; `upsert_posts` writes each batch with one statement from a staging table (one "
        "flush per batch) and also validates, repairs UTF-8, dumps JSON, hashes, looks up existing ids and "
        "upserts author rows inside its timing. The Python and SQL rows show where its time goes; they "
        "run one after the other (a batch is prepared only once the previous one is committed, so that "
        "`on_batch` sees the input exactly as far as its batch)."
    )
    return Section("Upsert rate", body)


def _child_rss(count: int, folder: str) -> dict:
    """Run the streaming upsert of ``count`` posts in a fresh process and return its report."""
    path = _fresh(folder, f"rss{count}")
    command = [sys.executable, "-m", "bench.store_bench", "--rss", str(count), str(path)]
    output = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def peak_rss(sizes: tuple[int, ...]) -> Section:
    """Measure (b): peak RSS of upserting each size of posts from a generator, each in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="tasteradar-bench-") as folder:
        reports = [_child_rss(size, folder) for size in sizes]
    mib = 1024
    rows = [
        [
            f"{report['count']:,}",
            f"{report['rss_before_kib'] / mib:,.1f}",
            f"{report['hwm_kib'] / mib:,.1f}",
            f"{(report['hwm_kib'] - report['rss_before_kib']) / mib:,.1f}",
            f"{report['maxrss_kib'] / mib:,.1f}",
            f"{report['count'] / report['seconds']:,.0f}",
            f"{report['db_mib']:,.0f}",
        ]
        for report in reports
    ]
    headers = ["posts", "RSS before (MiB)", "peak RSS (MiB)", "growth (MiB)", "ru_maxrss (MiB)", "posts/s",
               "db file (MiB)"]  # fmt: skip
    table = markdown_table(headers, rows)
    growth = reports[-1]["hwm_kib"] / reports[0]["hwm_kib"]
    body = (
        "Each size runs in a fresh process (`python -m bench.store_bench --rss N PATH`); posts come from a "
        f"generator (made on the fly, included in posts/s) and are never materialised; batch size "
        f"{BATCH_SIZE:,}. 'RSS before' is the resident set after imports and `open_db` (importing "
        "sqlite-utils alone loads pandas and numpy when installed: about 100 MiB); 'peak RSS' is the "
        "process's high-water mark (`VmHWM`). `ru_maxrss` (`getrusage(RUSAGE_SELF)`) is shown too, but "
        "Linux carries the parent's high-water mark over `exec`, so it can show the harness's size rather "
        "than the child's.\n\n"
        f"{table}\n\n"
        f"Peak RSS for {sizes[-1]:,} posts is {growth:.2f}x the peak for {sizes[0]:,} "
        f"({sizes[-1] // sizes[0]}x the posts): memory is bounded by the batch, not by the input."
    )
    return Section("Peak memory of a streaming upsert", body)


def run(quick: bool = False) -> list[Section]:
    """Run the store benchmarks; ``quick`` uses small sizes (a smoke test, figures not meaningful)."""
    if quick:
        memory = peak_rss((10_000, 100_000))
        return [upsert_rate(20_000, repeats=1), memory]
    memory = peak_rss((100_000, 1_000_000))  # first, while this process is still small
    return [upsert_rate(200_000), memory]


def _proc_status_kib(field: str) -> int:
    """Return a ``VmRSS``/``VmHWM``-style field of /proc/self/status in KiB (0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_child(count: int, path: Path) -> None:
    """Child of :func:`peak_rss`: upsert ``count`` generated posts into ``path``, print a JSON report."""
    db = open_db(path)
    rss_before = _proc_status_kib("VmRSS")
    started = time.perf_counter()
    result = upsert_posts(db, synthetic_posts(count), batch_size=BATCH_SIZE, source="bench")
    seconds = time.perf_counter() - started
    db.close()
    report = {
        "count": count,
        "inserted": result.inserted,
        "seconds": seconds,
        "rss_before_kib": rss_before,
        "hwm_kib": _proc_status_kib("VmHWM"),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "db_mib": path.stat().st_size / 2**20,
    }
    print(json.dumps(report))


def _main() -> None:
    """Entry point of the child process of :func:`peak_rss`."""
    parser = argparse.ArgumentParser(prog="python -m bench.store_bench")
    parser.add_argument("--rss", type=int, required=True, metavar="N", help="posts to upsert")
    parser.add_argument("path", type=Path, help="database file to create")
    args = parser.parse_args()
    _rss_child(args.rss, args.path)


if __name__ == "__main__":
    _main()
