"""Segment exports for campaigns: consent, suppression, formula-safe CSV, X terms, provenance, records."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest

from segments.export import (
    X_TEXT_LIMIT,
    SegmentExportError,
    build_segment_export,
    export_segments,
    parse_suppression,
    read_suppression,
    reason_of,
    resolve_suppression,
)
from store import (
    Customer,
    CustomerHandle,
    Post,
    to_iso,
    upsert_customers,
    upsert_handles,
    upsert_posts,
    utc_now,
)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
VERSIONS = {"sentiment": "sentiment.xlmr.v1", "topics": "topics@2026-10-01", "features": ["a", "b"]}
LIFT = [
    {"feature": "plan:prepaid", "label": "prepaid plans", "lift": 1.8},
    {"feature": "topic:12", "label": "=eSIM setup", "lift": 2.4},
    {"feature": "need:3", "label": "cheaper roaming", "lift": 1.2},
    {"feature": "brand:Volt", "label": "Volt", "lift": 1.1},
]
# customer -> (handle platform, handle, consent, posts as (native id, text, days before 2026-10-01))
PEOPLE = {
    "C1": ("x", "@Alice", True, [("101", '=HYPERLINK("http://evil")', 1), ("102", "love @Nimbus", 5)]),
    "C2": ("reddit", "bob", True, [("b1", "-5 bars everywhere &amp; no 5G", 2), ("b2", "\tindented", 30)]),
    "C3": ("x", "carol", False, [("301", "no consent here", 3)]),  # a handle, but not opted in
    "C4": ("x", "dave", True, []),
    "C5": ("x", "erin", True, []),
}


def _insert(db, table: str, rows: list[dict]) -> None:
    """Insert ``rows`` one at a time, so each leaves the columns it does not name to their defaults."""
    for row in rows:
        db[table].insert(row)


def _add_people(db, people: dict) -> None:
    """Customers, their handles, their posts and (for consented handles only) their links."""
    start = datetime(2026, 10, 1, tzinfo=UTC)
    upsert_customers(db, [Customer(customer_id=c, broad_segment="Family") for c in people])
    upsert_handles(db, [CustomerHandle(c, p, h, consent=ok) for c, (p, h, ok, _) in people.items()])
    posts = [
        Post(platform=p, native_id=n, text=t, created_at=start - timedelta(days=d), author_id=f"a{c}",
             author_handle=h.lstrip("@"), query=f"{p} query")
        for c, (p, h, _, items) in people.items() for n, t, d in items
    ]  # fmt: skip
    upsert_posts(db, posts)
    _insert(db, "customer_links", [
        {"author_id": f"{p}:a{c}", "customer_id": c, "platform": p, "linked_at": "2026-10-01T00:00:00Z"}
        for c, (p, _, ok, items) in people.items() if ok and items
    ])  # fmt: skip


@pytest.fixture
def world(db):
    """Three segments (customers, audience, retired customers) of the people above, a run and churn scores."""
    _add_people(db, PEOPLE)
    _insert(db, "segment_runs", [{
        "id": 1, "started_at": "2026-10-01T00:00:00Z", "finished_at": to_iso(utc_now()),
        "versions": json.dumps(VERSIONS),
    }])  # fmt: skip
    segment = {"broad_segment": "Family", "born_run": 1, "last_run": 1, "updated_at": "2026-10-01T00:00:00Z"}
    _insert(db, "segments", [
        {**segment, "id": 7, "population": "customers", "name": "=Deal hunters", "size": 5,
         "profile": json.dumps({"lift": LIFT})},
        {**segment, "id": 8, "population": "audience", "name": "Roamers", "size": 40},
        {**segment, "id": 9, "population": "customers", "name": "Old", "status": "retired"},
    ])  # fmt: skip
    _insert(db, "segment_members", [{"customer_id": c, "segment_id": 7, "run_id": 1} for c in PEOPLE])
    _insert(db, "churn_scores", [
        {"customer_id": "C1", "model_version": 1, "risk": 0.8, "scored_at": "2026-10-01T00:00:00Z"},
    ])  # fmt: skip
    return db


def _by_customer(export) -> dict[str, dict]:
    return {record["customer_id"]: record for record in export.records}


def test_only_opted_in_members_are_exported_and_the_others_counted(world) -> None:
    export = build_segment_export(world.conn, 7)
    assert sorted(_by_customer(export)) == ["C1", "C2", "C4", "C5"]
    assert export.members == 5 and export.no_consent == 1 and export.suppressed == 0


def test_record_fields_reason_risk_posts_and_provenance(world) -> None:
    records = _by_customer(build_segment_export(world.conn, 7, now="2026-11-01T00:00:00Z"))
    first = records["C1"]
    assert first["segment_id"] == 7 and first["segment_name"] == "=Deal hunters"
    assert first["broad_segment"] == "Family"
    assert first["reason"] == ["=eSIM setup (2.4x)", "prepaid plans (1.8x)", "cheaper roaming (1.2x)"]
    assert first["churn_risk"] == 0.8 and records["C2"]["churn_risk"] is None
    assert [post["id"] for post in first["posts"]] == ["x:101", "x:102"]  # newest first
    assert first["posts"][0]["text"] == '=HYPERLINK("http://evil")'
    assert first["sources"] == ["x"] and first["queries"] == ["x query"]
    assert (first["window_start"], first["window_end"]) == ("2026-09-26T00:00:00Z", "2026-09-30T00:00:00Z")
    assert first["versions"]["sentiment"] == "sentiment.xlmr.v1" and first["run_id"] == 1
    assert json.loads(first["versions"]["features"]) == ["a", "b"]
    assert first["exported_at"] == "2026-11-01T00:00:00Z" and first["content_hash"].startswith("sha256:")
    assert records["C4"]["posts"] == [] and records["C4"]["window_start"] is None


def test_posts_after_the_segment_run_are_not_in_its_window(world) -> None:
    world.conn.execute("UPDATE segment_runs SET finished_at = '2000-01-01T00:00:00Z'")
    first = _by_customer(build_segment_export(world.conn, 7))["C1"]
    assert first["window_start"] is None and first["sources"] == []
    assert len(first["posts"]) == 2  # the latest posts are still shown


def test_posts_per_member_limits_and_zero_disables(world) -> None:
    assert [len(r["posts"]) for r in build_segment_export(world.conn, 7, posts_per_member=1).records] == [
        1, 1, 0, 0,
    ]  # fmt: skip
    assert all(r["posts"] == [] for r in build_segment_export(world.conn, 7, posts_per_member=0).records)


def test_withdrawn_consent_on_a_platform_hides_its_linked_posts(world) -> None:
    world.conn.execute("UPDATE customer_handles SET consent = 0 WHERE customer_id = 'C1'")
    upsert_handles(world, [CustomerHandle("C1", "reddit", "alice_r", consent=True)])
    records = _by_customer(build_segment_export(world.conn, 7))
    assert records["C1"]["posts"] == [] and records["C1"]["sources"] == []


def test_suppression_by_id_and_handle_is_applied_and_counted(world, tmp_path) -> None:
    suppression = parse_suppression("# do not contact\nC5\nX:@Dave\nnobody@example.com\n")
    export = build_segment_export(world.conn, 7, suppression=suppression)
    assert sorted(_by_customer(export)) == ["C1", "C2"]
    assert export.suppressed == 2 and export.unmatched_suppression == 1
    assert export.provenance["suppressed"] == 2 and export.provenance["no_consent"] == 1


def test_suppression_csv_forms(world, tmp_path) -> None:
    first = tmp_path / "dnc.csv"
    first.write_text("\ufeffCustomer_ID,platform,handle\nC2,,\n,x,@dave\n", encoding="utf-8")
    second = tmp_path / "handles.csv"
    second.write_text("handle\nx:erin\n", encoding="utf-8")
    suppression = read_suppression([first, second])
    assert suppression.customer_ids == {"C2"} and suppression.handles == {("x", "dave"), ("x", "erin")}
    blocked, unmatched = resolve_suppression(world.conn, suppression)
    assert blocked == {"C2", "C4", "C5"} and unmatched == 0


def test_a_suppressed_customer_without_consent_counts_once_as_no_consent(world) -> None:
    export = build_segment_export(world.conn, 7, suppression=parse_suppression("C3\n"))
    assert export.no_consent == 1 and export.suppressed == 0 and len(export.records) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("C1,C2\n", "has 2 values"),
        ("customer_id,handle\nC1,dave\n", "needs a platform"),
        ("platform,email\nx,a@b\n", "must name a customer_id and/or a handle"),
    ],
)
def test_bad_suppression_files_say_what_to_fix(text, message) -> None:
    with pytest.raises(ValueError, match=message):
        parse_suppression(text)


def test_csv_neutralises_formula_cells_and_json_keeps_values(world, tmp_path) -> None:
    csv_path, json_path = tmp_path / "out.csv", tmp_path / "out.json"
    export_segments(world, 7, fmt="csv", out=csv_path)
    export_segments(world, 7, fmt="json", out=json_path)
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.lstrip(" ").startswith(FORMULA_START)]  # XLSX-safe
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert first["segment_name"] == "'=Deal hunters"
    assert json.loads(first["reason"])[0] == "=eSIM setup (2.4x)"  # a list cell: JSON text, safe as a whole
    records = json.loads(json_path.read_text(encoding="utf-8"))
    assert records[0]["segment_name"] == "=Deal hunters"  # exact in JSON
    assert records[1]["posts"][0]["text"] == "-5 bars everywhere & no 5G"  # entities decoded once


def test_x_posts_past_the_limit_go_out_as_ids_only(db) -> None:
    per_person = 300
    people = {
        c: ("x", f"user{c}", True, [(f"{c}{n:04d}", f"post {n}", n) for n in range(per_person)])
        for c in ("C1", "C2")
    }
    people["C3"] = ("reddit", "red", True, [("r1", "reddit text", 1)])
    _add_people(db, people)
    _insert(db, "segment_runs", [{"id": 1, "started_at": to_iso(utc_now())}])
    _insert(db, "segments", [{
        "id": 1, "population": "customers", "broad_segment": "B", "name": "All", "born_run": 1, "last_run": 1,
        "updated_at": "2026-10-01T00:00:00Z",
    }])  # fmt: skip
    _insert(db, "segment_members", [{"customer_id": c, "segment_id": 1, "run_id": 1} for c in people])
    export = build_segment_export(db.conn, 1, posts_per_member=per_person)
    posts = [post for record in export.records for post in record["posts"]]
    x_posts = [post for post in posts if post["platform"] == "x"]
    assert len(x_posts) == 2 * per_person and export.x_ids_only == 2 * per_person - X_TEXT_LIMIT
    assert all(post["text"] for post in x_posts[:X_TEXT_LIMIT])
    assert all(post["text"] is None and post["id"] for post in x_posts[X_TEXT_LIMIT:])
    assert [post["text"] for post in posts if post["platform"] == "reddit"] == ["reddit text"]
    assert export.provenance["x_ids_only"] == 100


def test_content_hash_is_stable_verifiable_and_follows_the_data(world, tmp_path) -> None:
    first = build_segment_export(world.conn, 7, now="2026-11-01T00:00:00Z")
    again = build_segment_export(world.conn, 7, now="2026-12-24T10:00:00Z")
    assert first.content_hash == again.content_hash  # same data, another time: same hash
    path = tmp_path / "out.json"
    export_segments(world, 7, fmt="json", out=path)
    digest = hashlib.sha256()
    for record in json.loads(path.read_text(encoding="utf-8")):  # what a receiver can recompute
        row = {k: v for k, v in record.items() if k not in ("content_hash", "exported_at")}
        digest.update(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        digest.update(b"\n")
    assert "sha256:" + digest.hexdigest() == first.content_hash
    world.conn.execute("UPDATE churn_scores SET risk = 0.7")
    assert build_segment_export(world.conn, 7).content_hash != first.content_hash


def test_each_export_is_recorded_with_its_members(world, tmp_path) -> None:
    path = tmp_path / "seg.parquet"
    export, export_id = export_segments(
        world, 7, fmt="parquet", out=path, suppression=parse_suppression("C5")
    )
    record = world["export_records"].get(export_id)
    assert (record["kind"], record["target"], record["format"]) == ("segment", "7", "parquet")
    assert record["path"] == str(path.resolve()) and record["rows"] == 3 and record["suppressed"] == 1
    assert record["content_hash"] == export.content_hash
    provenance = json.loads(record["provenance"])
    assert provenance["runs"]["1"]["topics"] == "topics@2026-10-01"
    assert provenance["sources"] == ["reddit", "x"] and provenance["segments"][0]["id"] == 7
    assert provenance["window"] == {"start": "2026-09-01T00:00:00Z", "end": "2026-09-30T00:00:00Z"}
    members = world.execute("SELECT customer_id FROM export_members WHERE export_id = ?", [export_id])
    assert sorted(row[0] for row in members) == ["C1", "C2", "C4"]
    table = pq.read_table(path)
    assert table.num_rows == 3 and json.loads(table.column("posts").to_pylist()[0][0])["id"] == "x:101"
    world.conn.execute("PRAGMA foreign_keys = ON")
    world.conn.execute("DELETE FROM customers WHERE customer_id = 'C1'")  # erasure reaches export records
    assert world.execute("SELECT count(*) FROM export_members WHERE customer_id = 'C1'").fetchone()[0] == 0


def test_all_exports_every_active_customer_segment(world) -> None:
    export = build_segment_export(world.conn, None)
    assert export.target == "all" and export.segment_ids == [7]


@pytest.mark.parametrize(
    ("segment_id", "message"),
    [
        (99, "no segment 99; valid ids: 7"),
        (8, "audience segment"),
        (9, "segment 9 is retired"),
    ],
)
def test_segments_that_cannot_be_exported(world, segment_id, message) -> None:
    with pytest.raises(SegmentExportError, match=message):
        build_segment_export(world.conn, segment_id)
    assert world["export_records"].count == 0


def test_no_segments_yet_says_what_to_run(db) -> None:
    with pytest.raises(SegmentExportError, match="run `tasteradar segments` first"):
        build_segment_export(db.conn, None)


def test_reason_reads_lift_items_and_skips_malformed_ones() -> None:
    profile = {
        "lift": [{"feature": "f", "lift": 3}, {"label": "no lift"}, "junk", {"label": "b", "lift": True}]
    }
    assert reason_of(profile) == ["f (3.0x)"]
    assert reason_of("not json") == [] and reason_of(None) == [] and reason_of("{}") == []
