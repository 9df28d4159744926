"""Crash safety of file import: killed mid-file (SIGKILL) several times, a rerun lands every record once."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectors.files import import_file
from store import get_checkpoint, open_db

REPO = Path(__file__).resolve().parents[2]
RUN_IMPORT = (
    "import sys; from tasteradar.cmd_import import import_command; "
    "import_command.main(sys.argv[1:], prog_name='tasteradar import')"
)
LINES = 200_000
PAGE_EVERY = 7  # every 7th line is a page of 3 posts, so batches end inside pages
BAD_EVERY = 20_000  # and every 20,000th line is truncated JSON


def tweet(number: int) -> dict:
    native_id = str(1_800_000_000_000_000_000 + number)
    return {"id": native_id, "text": f"post {number} about Nimbus", "author_id": str(number % 977),
            "created_at": "2026-05-01T12:00:00Z"}  # fmt: skip


def write_jsonl(path: Path, lines: int) -> tuple[set[str], int]:
    """Write the test file; return the native ids it holds and the number of malformed lines."""
    ids: set[str] = set()
    bad = 0
    number = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in range(1, lines + 1):
            if line % BAD_EVERY == 0:
                handle.write('{"data": {"id": "1", "text": "cut off\n')
                bad += 1
                continue
            count = 3 if line % PAGE_EVERY == 0 else 1
            tweets = [tweet(number + k) for k in range(count)]
            number += count
            ids.update(item["id"] for item in tweets)
            record = {"data": tweets} if count > 1 else {"data": tweets[0]}
            handle.write(json.dumps(record) + "\n")
    return ids, bad


def records_committed(db_path: Path, key: str) -> int:
    """Records committed so far according to the checkpoint (0 before the first batch)."""
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT value FROM checkpoints WHERE source = 'import' AND query = ?", [key])
            found = row.fetchone()
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    return json.loads(found[0])["records"] if found else 0


def start(path: Path, db_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", RUN_IMPORT, str(path), "--db", str(db_path), "--batch-size", "1000"]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


@pytest.mark.slow
def test_import_killed_several_times_resumes_with_every_post_exactly_once(tmp_path):
    path = tmp_path / "posts.jsonl"
    ids, bad = write_jsonl(path, LINES)
    db_path = tmp_path / "killed.db"
    key = str(path.resolve())
    rng = random.Random(3)
    kills, seen = [], 0
    for _attempt in range(4):
        process = start(path, db_path)
        deadline = time.monotonic() + 60
        while records_committed(db_path, key) <= seen and process.poll() is None:
            assert time.monotonic() < deadline, "the import never committed a batch"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.4))  # a random moment after it started writing
        process.send_signal(signal.SIGKILL)
        process.wait()
        if process.returncode == 0:
            break
        seen = records_committed(db_path, key)
        kills.append(seen)
    final = start(path, db_path)
    output, _ = final.communicate(timeout=120)
    assert final.returncode == 0, output
    assert len(kills) >= 3 and all(0 < done < LINES for done in kills), kills
    assert "Resumed after" in output
    db = open_db(db_path)
    try:
        stored = {row[0] for row in db.execute("SELECT native_id FROM posts")}
        assert len(stored) == len(ids) and stored == ids
        assert db.execute("SELECT count(*) FROM quarantine").fetchone()[0] == bad
        statuses = [row[0] for row in db.execute("SELECT status FROM collection_runs ORDER BY id")]
        assert statuses[-1] == "ok" and statuses.count("running") == len(kills)
        assert get_checkpoint(db, "import", key)["done"] is True
    finally:
        db.close()


def test_a_crash_inside_an_x_page_resumes_after_the_last_committed_post(tmp_path):
    path = tmp_path / "pages.jsonl"
    ids, _bad = write_jsonl(path, 40)  # pages every 7th line: 52 posts in 40 lines
    db = open_db(tmp_path / "pages.db")
    calls = []

    def crash_after_two_batches(step: str, done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_file(db, path, batch_size=4, progress=crash_after_two_batches)
    checkpoint = get_checkpoint(db, "import", str(path.resolve()))
    # 8 posts committed: lines 1-6 and 2 of the 3 posts of the page on line 7
    line_7 = sum(len(line) for line in path.read_bytes().splitlines(keepends=True)[:6])
    assert (checkpoint["records"], checkpoint["skip"], checkpoint["offset"]) == (6, 2, line_7)
    first_run = db.execute("SELECT status, new FROM collection_runs").fetchone()
    assert first_run == ("partial", 8)
    result = import_file(db, path, batch_size=4)
    assert (result.resumed_records, result.inserted, result.duplicates) == (6, len(ids) - 8, 0)
    assert {row[0] for row in db.execute("SELECT native_id FROM posts")} == ids
    db.close()


def test_a_changed_file_starts_over_and_stdin_never_resumes(tmp_path):
    path = tmp_path / "changing.jsonl"
    write_jsonl(path, 30)
    db = open_db(tmp_path / "c.db")

    def crash(step: str, done: int, total: int) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        import_file(db, path, batch_size=5, progress=crash)
    assert db.execute("SELECT status, error FROM collection_runs").fetchone() == (
        "failed", "RuntimeError: disk on fire"
    )  # fmt: skip
    with path.open("a", encoding="utf-8") as handle:  # the file changes: size and mtime differ
        handle.write(json.dumps({"data": tweet(10_000)}) + "\n")
    result = import_file(db, path, batch_size=5)
    assert (result.resumed_records, result.records, result.inserted, result.duplicates) == (
        0,
        31,
        34,
        5,
    )  # 39 posts: 5 from the crashed run
    with path.open("rb") as stream:
        again = import_file(db, stream)
    assert (again.name, again.resumed_records, again.duplicates) == ("<stdin>", 0, 39)
    db.close()
