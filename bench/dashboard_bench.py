"""Dashboard benchmark (issue 7): how long the overview takes to paint in a browser over 1,000,000 posts, read
from the daily rollups and, beside it, computed from the raw tables.

**World.** A synthetic database of N posts (1,000,000; 100,000 with ``--quick``) over the 365 days to
2026-10-31 on three platforms, written straight into ``posts`` (one ``INSERT ... SELECT`` over a recursive
sequence, the full-text index rebuilt once afterwards), with brand mentions (10% none, 28% a competitor,
12% two brands), post and brand sentiment, 40 topics, 25 need themes on 6% of posts, emerging flags and
collection runs; then the real writers rebuild ``topic_daily``, ``theme_daily`` and ``brand_daily``
(:func:`nlp.brand_daily.rebuild_brand_daily`, timed). It is kept under ``$TMPDIR/tasteradar-bench/`` and
reused while its size and :data:`WORLD_VERSION` match.

**Measure.** For each mode (``rollups``: ``brand_daily``; ``raw``: ``TASTERADAR_DASHBOARD_ROLLUPS=off``, the
same queries over posts, mentions and sentiment), a fresh dashboard (:func:`tasteradar.serve.start_dashboard`,
production settings) is started and, once it answers its health check, Debian's Chromium (headless, via
Playwright) opens the overview: **cold** is the first load of the fresh server (imports, connection, every
query a cache miss), **warm** the median of 7 reloads (new sessions, cached queries). Painted = the four
Vega charts drawn (a canvas or SVG taller than 50 px in each) and the four metrics shown, polled every
animation frame. Targets: 2 s warm, 5 s cold.

Run with ``python -m bench dashboard`` (``--quick``), or ``python -m bench.dashboard_bench [--posts N]`` to
print the figures without touching BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.run import Section, markdown_table

CACHE = Path(tempfile.gettempdir()) / "tasteradar-bench"
WORLD_VERSION = 2
LAST_DAY = "2026-10-31"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WARM_RUNS = 7
TARGETS = {"warm": 2.0, "cold": 5.0}
BRANDS = ("Nimbus Mobile", "Titan Telecom", "Volt Mobile", "Orbit Wireless", "Pebble Mobile")
WORDS = (
    "signal", "coverage", "roaming", "data", "plan", "bill", "charge", "support", "outage", "network",
    "5g", "esim", "hotspot", "travel", "price", "speed", "slow", "fast", "dropped", "calls", "refund",
    "store", "phone", "sim", "upgrade", "contract", "cancel", "switch", "unlimited", "family", "discount",
    "promo", "latency", "wifi", "tower", "rural", "city", "train", "stadium", "weekend", "again", "still",
    "finally", "thanks", "terrible", "great", "love", "hate", "waiting", "hours", "chat", "agent", "fixed",
    "broken", "today", "week", "month", "satellite", "gaming", "stream",
)  # fmt: skip

# Post i: platform by i % 10, a day of the year and a second of the day from multiplicative hashes of i, and
# twelve words; the brand it names (see _MENTIONS_SQL) is written into the text too.
_POSTS_SQL = """
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :count)
INSERT INTO posts (id, platform, native_id, author_id, author_handle, text, created_at, lang, metrics,
                   content_hash, first_seen_at, updated_at)
SELECT platform || ':b' || i, platform, 'b' || i, platform || ':u' || (i * 7919 % 60000),
       'user' || (i * 7919 % 60000),
       brand || ' ' || json_extract(:words, '$[' || (i * 31 % :n_words) || ']') || ' '
           || json_extract(:words, '$[' || (i * 53 % :n_words) || ']') || ' '
           || json_extract(:words, '$[' || (i * 97 % :n_words) || ']') || ' is '
           || json_extract(:words, '$[' || (i * 193 % :n_words) || ']') || ' again, '
           || json_extract(:words, '$[' || (i * 389 % :n_words) || ']') || ' '
           || json_extract(:words, '$[' || (i * 769 % :n_words) || ']') || ' #' || i,
       strftime('%Y-%m-%dT%H:%M:%SZ', :last, '-' || (i * 2654435761 % 365) || ' days',
                '+' || (i * 40503 % 86400) || ' seconds'),
       'en', '{}', hex(i), :now, :now
FROM (SELECT i, CASE WHEN i % 10 < 6 THEN 'x' WHEN i % 10 < 9 THEN 'reddit' ELSE 'bluesky' END AS platform,
             CASE WHEN i * 48271 % 100 < 10 THEN 'someone'
                  WHEN i * 48271 % 100 < 60 THEN 'Nimbus'
                  ELSE json_extract(:brands, '$[' || (1 + i * 13 % 4) || ']') END AS brand
      FROM seq)"""

_MENTIONS_SQL = """
INSERT INTO post_mentions (post_id, brand, surface, start_char, end_char, annotator)
SELECT id, json_extract(:brands, '$[0]'), 'Nimbus', 0, 6, 'mentions.bench.v1' FROM posts
WHERE rowid * 48271 % 100 BETWEEN 10 AND 59 OR rowid * 48271 % 100 >= 88
UNION ALL
SELECT id, json_extract(:brands, '$[' || (1 + rowid * 13 % 4) || ']'), 'brand', 1, 2, 'mentions.bench.v1'
FROM posts WHERE rowid * 48271 % 100 >= 60"""

_SENTIMENT_SQL = """
INSERT INTO post_sentiment (post_id, label, score, annotator)
SELECT id, label, CASE label WHEN 'positive' THEN 0.7 WHEN 'negative' THEN -0.7 ELSE 0.0 END,
       'sentiment.bench.v1'
FROM (SELECT id, CASE WHEN rowid * 16807 % 10 < 3 THEN 'positive' WHEN rowid * 16807 % 10 < 7 THEN 'neutral'
                      ELSE 'negative' END AS label, rowid FROM posts)
WHERE rowid % 33 != 0"""

_BRAND_SENTIMENT_SQL = """
INSERT INTO brand_sentiment (post_id, brand, label, score, annotator)
SELECT m.post_id, m.brand, s.label, s.score, 'brand_sentiment.bench.v1'
FROM post_mentions AS m JOIN post_sentiment AS s ON s.post_id = m.post_id"""

_TOPICS_SQL = """
INSERT INTO post_topics (post_id, topic_id, score, model_version)
SELECT id, rowid * 69621 % 40, 0.4 + (rowid * 31 % 60) / 100.0, 'topics.bench.v1@1' FROM posts"""

_NEEDS_SQL = (
    """INSERT INTO post_needs (post_id, kind, phrase, start_char, end_char, brand, annotator)
       SELECT p.id, 'request', 'need ' || (p.rowid % 25), 0, 10, m.brand, 'needs.bench.v1'
       FROM posts AS p LEFT JOIN post_mentions AS m ON m.post_id = p.id AND m.start_char = 0
       WHERE p.rowid % 50 < 3""",
    """INSERT INTO post_need_themes (post_id, start_char, theme_id, score, model_version)
       SELECT p.id, 0, p.rowid % 25, 0.8, 'themes.bench.v1@1' FROM posts AS p WHERE p.rowid % 50 < 3""",
)


def _clusters_and_signals(conn) -> None:
    """Topic and theme rows with labels, emerging flags of the last 10 days, three sources' runs."""
    now = f"{LAST_DAY}T23:59:59Z"
    for table, column, count, name in (
        ("topics", "topic_id", 40, "topic"),
        ("need_themes", "theme_id", 25, "need"),
    ):
        conn.executemany(
            f"INSERT INTO {table} ({column}, label, terms, size, status, born_model, last_model, updated_at)"
            " VALUES (?, ?, '[]', 0, 'active', 'bench', 'bench', ?)",
            [(key, f"{name} {WORDS[key]} {WORDS[key + 7]}", now) for key in range(count)],
        )
    flags = [("topic", str(key)) for key in (3, 17, 29)] + [("theme", str(key)) for key in (4, 11)]
    flags += [("term", word) for word in ("satellite", "esim", "gaming stream", "refund", "tower")]
    explanation = json.dumps(
        {"drivers": [["satellite sos", 40, 9.5]], "brands": {BRANDS[0]: 30, BRANDS[2]: 12}}
    )
    conn.executemany(
        "INSERT INTO emerging VALUES (?, ?, date(?, '-' || ? || ' days'), 60, 20.0, 3.0, 1e-6, 1e-4, ?, ?)",
        [(kind, key, LAST_DAY, back, explanation, now) for kind, key in flags for back in range(10)],
    )
    conn.executemany(
        "INSERT INTO collection_runs (source, query, started_at, finished_at, status, error)"
        " VALUES (?, 'brands', ?, ?, ?, ?)",
        [
            ("x", now, now, "ok", None),
            ("reddit", now, now, "ok", None),
            ("bluesky", now, now, "failed", "HTTP 502"),
        ],
    )


@contextmanager
def _fts_suspended(conn):
    """Drop the posts full-text triggers for a bulk insert, then rebuild the index once and restore them."""
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'posts'"
    ).fetchall()
    for name, _ in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    yield
    conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('rebuild')")
    for _, sql in triggers:
        conn.execute(sql)


def build_world(path: Path, posts: int) -> dict:
    """Write the synthetic world to a new database at ``path``; return its figures (rows, seconds)."""
    from nlp.brand_daily import rebuild_brand_daily
    from nlp.topics.daily import rebuild_daily
    from store import open_db, transaction

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    db = open_db(path)
    params = {"count": posts, "words": json.dumps(WORDS), "n_words": len(WORDS), "brands": json.dumps(BRANDS),
              "last": LAST_DAY, "now": f"{LAST_DAY}T23:59:59Z"}  # fmt: skip
    try:
        with transaction(db) as conn, _fts_suspended(conn):
            conn.execute(_POSTS_SQL, params)
        with transaction(db) as conn:
            conn.execute(_MENTIONS_SQL, params)
            for sql in (_SENTIMENT_SQL, _BRAND_SENTIMENT_SQL, _TOPICS_SQL, *_NEEDS_SQL):
                conn.execute(sql)
            _clusters_and_signals(conn)
        written = time.perf_counter() - started
        rollups_started = time.perf_counter()
        rebuild_daily(db, full=True)
        topic_seconds = time.perf_counter() - rollups_started
        brand_started = time.perf_counter()
        brand_rows = rebuild_brand_daily(db, full=True)
        brand_seconds = time.perf_counter() - brand_started
        counts = {
            table: db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("posts", "post_mentions", "post_topics", "post_needs", "topic_daily", "theme_daily")
        }
    finally:
        db.close()
    return {"version": WORLD_VERSION, "posts": posts, "counts": counts, "brand_daily_rows": brand_rows,
            "write_seconds": round(written, 1), "topic_theme_daily_seconds": round(topic_seconds, 1),
            "brand_daily_seconds": round(brand_seconds, 1), "bytes": path.stat().st_size}  # fmt: skip


def world(posts: int) -> tuple[Path, dict]:
    """The cached world of ``posts`` posts (built when missing or stale) and its figures."""
    path = CACHE / f"dashboard-{posts}" / "tasteradar.db"
    meta_path = path.with_name("world.json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("version") == WORLD_VERSION and meta.get("posts") == posts:
            return path, meta | {"reused": True}
    meta = build_world(path, posts)
    meta_path.write_text(json.dumps(meta))
    return path, meta | {"reused": False}


# Painted: four Vega charts drawn and four metrics shown.
_PAINTED_JS = """() => {
  const charts = [...document.querySelectorAll("[data-testid='stVegaLiteChart']")];
  const drawn = charts.filter(c => {
    const marks = c.querySelector("canvas, svg");
    return marks && marks.getBoundingClientRect().height > 50;
  });
  return drawn.length >= 4 && document.querySelectorAll("[data-testid='stMetric']").length >= 4;
}"""


def _paint_seconds(page, url: str, *, reload: bool) -> float:
    """Seconds from asking for the overview to its charts painted."""
    started = time.perf_counter()
    page.reload(wait_until="commit") if reload else page.goto(url, wait_until="commit")
    page.wait_for_function(_PAINTED_JS, polling="raf", timeout=600_000)
    seconds = time.perf_counter() - started
    if page.locator("[data-testid='stException']").count():
        raise RuntimeError(f"the overview shows an exception at {url}")
    return seconds


# The reference: a page shaped like the overview (title, four metrics, four charts of 520 points, a table)
# with no database, so its paint time is what Streamlit and the browser cost on this machine.
_STATIC_PAGE = """
import altair as alt
import pandas as pd
import streamlit as st

st.set_page_config(page_title="reference", layout="wide")
st.title("Overview")
for column, value in zip(st.columns(4), (1000000, 620000, 0.41, -0.2)):
    column.metric("metric", value)
days = pd.date_range("2025-11-01", periods=52, freq="W").repeat(10)
frame = pd.DataFrame({"day": days, "brand": list("abcdefghij") * 52, "posts": range(520)})
left, right = st.columns(2)
for index in range(4):
    chart = alt.Chart(frame, title=f"chart {index}").mark_line()
    chart = chart.encode(x="day:T", y="posts:Q", color="brand:N")
    (left if index % 2 == 0 else right).altair_chart(chart, width="stretch")
st.dataframe(frame.head(20))
"""


def _start_static(script: Path, port: int):
    """Start the reference page with the dashboard's production settings."""
    import subprocess

    from tasteradar.serve import APP, streamlit_command

    script.write_text(_STATIC_PAGE, encoding="utf-8")
    command = streamlit_command("127.0.0.1", port)
    command[command.index(str(APP))] = str(script)
    return subprocess.Popen(command, stdout=subprocess.DEVNULL), f"http://127.0.0.1:{port}"


def measure(db_path: Path, mode: str) -> dict:
    """Start a fresh dashboard in ``mode`` (rollups, raw, or the static reference page); time the cold load
    and the warm reloads."""
    from playwright.sync_api import sync_playwright

    from dashboard.queries.market import ROLLUPS_ENV
    from tasteradar.serve import free_port, start_dashboard, wait_until_up

    os.environ[ROLLUPS_ENV] = "off" if mode == "raw" else "on"
    load = os.getloadavg()[0]
    booted = time.perf_counter()
    if mode == "static":
        process, url = _start_static(db_path.with_name("static_reference.py"), free_port())
    else:
        process, url = start_dashboard(db_path, "127.0.0.1", free_port())
    try:
        if not wait_until_up(url, process):
            raise RuntimeError(f"the dashboard did not start at {url}")
        boot = time.perf_counter() - booted
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            cold = _paint_seconds(page, url, reload=False)
            warm = [_paint_seconds(page, url, reload=True) for _ in range(WARM_RUNS)]
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        os.environ.pop(ROLLUPS_ENV, None)
    median = statistics.median(warm)
    return {"mode": mode, "load": load, "boot": boot, "cold": cold, "warm": median, "warm_runs": warm}


def _paint_row(result: dict) -> tuple:
    """One row of the paint table."""
    static = result["mode"] == "static"
    meets = result["cold"] <= TARGETS["cold"] and result["warm"] <= TARGETS["warm"]
    return (
        "static reference page (no data)" if static else result["mode"],
        round(result["cold"], 2),
        round(result["warm"], 2),
        " / ".join(f"{seconds:.2f}" for seconds in result["warm_runs"]),
        round(result["boot"], 1),
        f"{result['load']:.2f}",
        "" if static else ("yes" if meets else "no"),
    )


def sections(meta: dict, results: list[dict]) -> list[Section]:
    """The report: the world, then the paint times against the targets."""
    counts = meta["counts"]
    world_rows = [
        ("posts", f"{counts['posts']:,}"), ("brand mentions", f"{counts['post_mentions']:,}"),
        ("need rows", f"{counts['post_needs']:,}"), ("brand_daily rows", f"{meta['brand_daily_rows']:,}"),
        ("topic_daily rows", f"{counts['topic_daily']:,}"), ("database", f"{meta['bytes'] / 2**30:.2f} GiB"),
        ("rebuild_brand_daily, whole", f"{meta['rollups_seconds']['whole']:.1f} s"),
        ("all three rollups, last day marked stale", f"{meta['rollups_seconds']['day']:.2f} s"),
        ("all three rollups, nothing marked", f"{meta['rollups_seconds']['nothing'] * 1000:.1f} ms"),
        ("rebuild topic_daily + theme_daily", f"{meta['topic_theme_daily_seconds']} s"),
        ("world written (posts, annotations)", f"{meta['write_seconds']} s" + " (reused)" * meta["reused"]),
    ]  # fmt: skip
    rows = [_paint_row(result) for result in results]
    paint = markdown_table(
        ["overview from", "cold paint (s)", "warm paint, median (s)", "warm runs (s)", "server boot (s)",
         "load average before", "meets 5 s cold / 2 s warm"],
        rows,
    )  # fmt: skip
    note = (
        "Cold: the first browser load of a freshly started server (after its health check answers; boot is "
        "listed apart). Warm: a reload, a new session over cached queries. Painted: four charts drawn and "
        "four metrics shown. `raw` runs the same page with `TASTERADAR_DASHBOARD_ROLLUPS=off`: every "
        "overview query over posts, post_mentions, post_sentiment and brand_sentiment, not brand_daily. "
        "The static reference page has the overview's shape (title, four metrics, four charts, a table) and "
        "no database: its times are what Streamlit and Chromium alone cost on this machine at that moment. "
        "Load average: the machine's 1-minute load when the mode started (2 cores: above 1, other work "
        "shared them)."
    )
    return [
        Section("World", markdown_table(["", ""], world_rows)),
        Section("Overview paint in headless Chromium", paint + "\n\n" + note),
    ]


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def rebuild_seconds(db_path: Path) -> dict[str, float]:
    """Seconds the rollups take to catch up on the world, timed with the current code: whole (``--refit``,
    or the first run), the last day marked stale on every platform (what a daily run's new posts cost), and
    nothing marked (a run with nothing new)."""
    from nlp.brand_daily import rebuild_brand_daily
    from nlp.topics.daily import rebuild_daily
    from store import open_db
    from store.rollup_marks import ROLLUP_BITS

    def both(**kwargs) -> None:
        rebuild_brand_daily(db, **kwargs)
        rebuild_daily(db, **kwargs)

    db = open_db(db_path)
    try:
        whole = _timed(lambda: rebuild_brand_daily(db, full=True))
        rebuild_daily(db, full=True)
        with db.conn:
            db.conn.execute(
                "INSERT INTO rollup_dirty (day, platform, rollups) SELECT DISTINCT day, platform, ? "
                "FROM brand_daily WHERE day = (SELECT max(day) FROM brand_daily)",
                [sum(ROLLUP_BITS.values())],
            )
        return {"whole": whole, "day": _timed(both), "nothing": _timed(both)}
    finally:
        db.close()


def run(quick: bool = False, posts: int | None = None) -> list[Section]:
    """Build or reuse the world, time the rollup's rebuild, then measure the overview in both modes and the
    static reference page."""
    db_path, meta = world(posts or (100_000 if quick else 1_000_000))
    meta["rollups_seconds"] = rebuild_seconds(db_path)
    results = [measure(db_path, mode) for mode in ("rollups", "raw", "static")]
    return sections(meta, results)


def main() -> None:
    """``python -m bench.dashboard_bench [--posts N]``: print the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    args = parser.parse_args()
    for section in run(posts=args.posts):
        print(f"### {section.title}\n\n{section.body}\n")


if __name__ == "__main__":
    main()
