"""``tasteradar export segment``: members for campaigns from the command line, summary and clear errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from store import (
    Customer,
    CustomerHandle,
    Post,
    open_db,
    to_iso,
    upsert_customers,
    upsert_handles,
    upsert_posts,
    utc_now,
)
from tasteradar.cli import cli

# customer -> (x handle, consent)
PEOPLE = {"C1": ("alice", True), "C2": ("bob", True), "C3": ("carol", False), "C4": ("dave", True)}


@pytest.fixture
def db_path(tmp_path):
    """A database with customer segment 7 (C1-C4), audience segment 8, a run and C1's two X posts."""
    path = tmp_path / "tasteradar.db"
    db = open_db(path)
    upsert_customers(db, [Customer(customer_id=c, broad_segment="Family") for c in PEOPLE])
    upsert_handles(db, [CustomerHandle(c, "x", h, consent=ok) for c, (h, ok) in PEOPLE.items()])
    upsert_posts(db, [
        Post(platform="x", native_id=n, text=t, created_at=datetime(2026, 9, d, tzinfo=UTC), author_id="a1",
             author_handle="alice", query="nimbus")
        for n, t, d in (("1", "@Nimbus roaming is =great", 1), ("2", "+1 for eSIM", 2))
    ])  # fmt: skip
    db["customer_links"].insert(
        {"author_id": "x:a1", "customer_id": "C1", "platform": "x", "linked_at": "2026-10-01T00:00:00Z"}
    )
    db["segment_runs"].insert({"id": 3, "started_at": to_iso(utc_now()), "versions": '{"topics": "t@1"}'})
    common = {"broad_segment": "Family", "born_run": 3, "last_run": 3, "updated_at": "2026-10-01T00:00:00Z"}
    lift = [{"feature": "topic:4", "label": "roaming", "lift": 2.0}]
    db["segments"].insert({**common, "id": 7, "population": "customers", "name": "@Roamers", "size": 4,
                           "profile": json.dumps({"lift": lift})})  # fmt: skip
    db["segments"].insert({**common, "id": 8, "population": "audience", "name": "Lurkers", "size": 9})
    for customer in PEOPLE:
        db["segment_members"].insert({"customer_id": customer, "segment_id": 7, "run_id": 3})
    db.close()
    return path


def _run(path, *args):
    result = CliRunner().invoke(cli, ["export", "segment", "--db", str(path), *args])
    return result.exit_code, result.stderr, result.stdout_bytes


def _export_rows(path) -> list[tuple]:
    db = open_db(path)
    try:
        return db.execute(
            "SELECT target, format, path, rows, suppressed, content_hash FROM export_records"
        ).fetchall()
    finally:
        db.close()


def test_csv_to_a_file_with_suppression_summary_and_record(db_path, tmp_path) -> None:
    dnc = tmp_path / "dnc.txt"
    dnc.write_text("x:@Dave\nsomeone@example.com\n", encoding="utf-8")
    target = tmp_path / "roamers.csv"
    code, err, out = _run(db_path, "7", "--suppress", str(dnc), "-o", str(target))
    assert code == 0, err
    assert out == b""
    assert "exported 2 members of segment 7 as csv" in err
    assert "1 without consent, 1 suppressed (do-not-contact)" in err
    assert "warning: 1 do-not-contact entries match no customer" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row["customer_id"] for row in rows] == ["C1", "C2"]
    assert rows[0]["segment_name"] == "'@Roamers" and json.loads(rows[0]["reason"]) == ["roaming (2.0x)"]
    assert [post["text"] for post in json.loads(rows[0]["posts"])] == [
        "+1 for eSIM",
        "@Nimbus roaming is =great",
    ]
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    [(target_id, fmt, path, count, suppressed, digest)] = _export_rows(db_path)
    assert (target_id, fmt, path, count, suppressed) == ("7", "csv", str(target.resolve()), 2, 1)
    assert digest == rows[0]["content_hash"] and digest in err


def test_json_to_standard_output_keeps_values(db_path) -> None:
    code, err, out = _run(db_path, "7", "--format", "json", "--posts", "1")
    assert code == 0, err
    records = json.loads(out)
    assert records[0]["segment_name"] == "@Roamers" and records[0]["posts"][0]["text"] == "+1 for eSIM"
    assert records[0]["versions"] == {"topics": "t@1"} and records[0]["queries"] == ["nimbus"]
    assert _export_rows(db_path)[0][2] is None  # written to standard output: no path


def test_all_to_parquet(db_path, tmp_path) -> None:
    target = tmp_path / "all.parquet"
    code, err, _ = _run(db_path, "--all", "--format", "parquet", "-o", str(target))
    assert code == 0, err
    assert "exported 3 members of 1 segment as parquet" in err
    assert pq.read_table(target).column("customer_id").to_pylist() == ["C1", "C2", "C4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["99"], "no segment 99; valid ids: 7"),
        (["8"], "aggregate-only"),
        ([], "give one segment ID or --all"),
        (["7", "--all"], "give one segment ID or --all"),
        (["seven"], "'seven' is not a valid integer"),
        (["7", "--posts", "-1"], "--posts"),
    ],
)
def test_errors_say_what_to_fix_and_write_nothing(db_path, tmp_path, args, message) -> None:
    target = tmp_path / "out.csv"
    code, err, out = _run(db_path, *args, "-o", str(target))
    assert code == 2 and message in err, err
    assert out == b"" and not target.exists() and _export_rows(db_path) == []


def test_bad_suppression_files_are_refused_before_anything_is_written(db_path, tmp_path) -> None:
    bad = tmp_path / "dnc.csv"
    bad.write_text("C1,C2\n", encoding="utf-8")
    code, err, out = _run(db_path, "7", "--suppress", str(bad))
    assert code == 2 and "has 2 values" in err and out == b""
    code, err, out = _run(db_path, "7", "--suppress", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err and out == b""
    assert _export_rows(db_path) == []


def test_missing_database_is_a_clear_error(tmp_path) -> None:
    code, err, _ = _run(tmp_path / "nope.db", "7")
    assert code == 1 and "nope.db" in err


def test_help_describes_the_command() -> None:
    result = CliRunner().invoke(cli, ["export", "segment", "--help"])
    assert result.exit_code == 0 and "--suppress" in result.output and "not built yet" not in result.output
