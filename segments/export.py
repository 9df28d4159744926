"""Micro-segment members for campaign tools (``tasteradar export segment``): consent, suppression, provenance.

One record per member of a customer segment, in segment then customer order::

    customer_id, segment_id, segment_name, broad_segment, reason, churn_risk, posts,
    sources, queries, window_start, window_end, versions, run_id, content_hash, exported_at

- **Opted-in customers only.** A member is exported only when the customer has a handle with
  ``customer_handles.consent = 1``; the others are left out and counted (``no_consent``). Audience segments
  (authors who are not linked customers) are aggregate-only and never exported per member.
- **Suppression before anything is written.** A do-not-contact list (:func:`read_suppression`: customer ids
  and/or ``platform:handle``) removes the opted-in members it names; they are counted (``suppressed``).
- ``reason``: the segment's top lift features, read from ``segments.profile['lift']`` (a list of
  ``{"feature", "label", "lift"}`` objects, highest lift first) as ``"label (2.4x)"``.
- ``churn_risk``: ``churn_scores.risk`` (empty when the customer was not scored).
- ``posts``: the member's latest linked posts as ``{"id", "platform", "text"}`` objects (``text`` normalised
  as in ``export posts``: HTML entities decoded once), read only through links on a platform where the
  customer opted in a handle. **Platform terms:** past the first :data:`X_TEXT_LIMIT` X posts
  of an export, X posts go out as ids only (``text`` null). Parquet has no list-of-objects column type in
  :mod:`store.exports`, so there each post is a JSON text in a list of strings.
- Provenance, per member: ``sources`` (platforms) and ``queries`` (the configured queries that found them),
  ``window_start`` / ``window_end`` of the linked posts behind the segment run's features (those first seen
  before the run ended), ``versions`` (annotator and model versions of ``segment_runs.versions``), ``run_id``,
  and for the whole export ``content_hash`` (sha256 over the canonical member rows, every column but
  ``content_hash`` and ``exported_at``: the same data gives the same hash) and ``exported_at``.

:func:`export_segments` writes the file through :func:`store.exports.write_records` (CSV cells a spreadsheet
would run as a formula are neutralised there), then one ``export_records`` row and its ``export_members`` in
one transaction, so erasing a customer removes them from the export records too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import sqlite_utils

from nlp.normalize import normalize
from store.customers import normalize_handle
from store.exports import Column, write_records
from store.records import to_iso, utc_now
from store.text import repair_text, to_json
from store.transactions import transaction

__all__ = [
    "DEFAULT_POSTS", "REASON_FEATURES", "SEGMENT_COLUMNS", "X_TEXT_LIMIT", "SegmentExport",
    "SegmentExportError", "Suppression", "build_segment_export", "content_hash", "export_segments",
    "parse_suppression", "read_suppression", "reason_of", "record_export", "select_segments",
]  # fmt: skip

#: X posts per export that may go out with their text; the later ones go out as ids only (X terms).
X_TEXT_LIMIT = 500
#: Lift features named in ``reason``.
REASON_FEATURES = 3
#: Latest linked posts per member, by default.
DEFAULT_POSTS = 3

SEGMENT_COLUMNS: tuple[Column, ...] = (
    Column("customer_id"), Column("segment_id", "int"), Column("segment_name"), Column("broad_segment"),
    Column("reason", "list"), Column("churn_risk", "float"), Column("posts", "list"),
    Column("sources", "list"), Column("queries", "list"), Column("window_start"), Column("window_end"),
    Column("versions", "map"), Column("run_id", "int"), Column("content_hash"), Column("exported_at"),
)  # fmt: skip
_UNHASHED = frozenset({"content_hash", "exported_at"})
_SUPPRESSION_HEADERS = frozenset({"customer_id", "handle", "platform"})
_CHUNK = 5_000  # ids per json_each query


class SegmentExportError(ValueError):
    """A segment export that cannot be done as asked (unknown id, audience segment, no segments)."""


# --- suppression --------------------------------------------------------------------------------------------


Entry = tuple[str | None, tuple[str, str] | None]


@dataclass(frozen=True)
class Suppression:
    """A do-not-contact list: one entry per line, each a candidate customer id and/or a candidate
    ``(platform, normalised handle)``.

    A plain-list entry ``a:b`` is both the customer id ``a:b`` and the handle ``b`` on platform ``a``
    (whichever exists matches), so ids that contain a colon are never misread.
    """

    entries: tuple[Entry, ...] = ()

    @property
    def customer_ids(self) -> set[str]:
        """Every customer id the list names."""
        return {customer for customer, _ in self.entries if customer}

    @property
    def handles(self) -> set[tuple[str, str]]:
        """Every ``(platform, handle)`` the list names."""
        return {handle for _, handle in self.entries if handle}

    def __or__(self, other: Suppression) -> Suppression:
        return Suppression(self.entries + other.entries)


def _handle_pair(value: str) -> tuple[str, str] | None:
    """``("x", "nimbusfan")`` for ``"X:@NimbusFan"``; None when ``value`` has no ``platform:handle`` form."""
    platform, sep, handle = value.partition(":")
    if not sep or not platform.strip() or not normalize_handle(handle):
        return None
    return platform.strip().lower(), normalize_handle(handle)


def _table_entry(cells: dict[str, str], where: str) -> Entry:
    """The entry of one row of a suppression CSV with a header."""
    customer = repair_text(cells["customer_id"]) if cells.get("customer_id") else None
    handle = cells.get("handle", "")
    pair = None
    if handle:
        pair = _handle_pair(f"{cells['platform']}:{handle}" if cells.get("platform") else handle)
        if pair is None:
            raise ValueError(f"{where}: handle {handle!r} needs a platform (a platform column, or x:handle)")
    return customer, pair


def _suppression_from_table(rows: list[list[str]], name: str) -> Suppression:
    """Read a CSV whose header names ``customer_id`` and/or ``handle`` (``platform:handle``, or with a
    ``platform`` column)."""
    header = [cell.strip().lower() for cell in rows[0]]
    if "customer_id" not in header and "handle" not in header:
        raise ValueError(f"{name}: the header must name a customer_id and/or a handle column, got {rows[0]}")
    entries = []
    for number, row in enumerate(rows[1:], start=2):
        cells = dict(zip(header, (cell.strip() for cell in row), strict=False))
        entry = _table_entry(cells, f"{name} row {number}")
        if entry != (None, None):
            entries.append(entry)
    return Suppression(tuple(entries))


def parse_suppression(text: str, *, name: str = "suppression file") -> Suppression:
    """Parse a do-not-contact list: a CSV whose header names ``customer_id`` and/or ``handle`` (and optionally
    ``platform``), or a plain list of customer ids and ``platform:handle`` entries, one a line.

    Blank lines and lines starting with ``#`` are skipped. Raises ``ValueError`` naming the entry for a plain
    line with several comma-separated values (a CSV needs its header) or a handle without a platform.
    """
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return Suppression()
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if {cell.strip().lower() for cell in rows[0]} & _SUPPRESSION_HEADERS:
        return _suppression_from_table(rows, name)
    entries = []
    for number, row in enumerate(rows, start=1):
        values = [cell.strip() for cell in row if cell.strip()]
        if len(values) != 1:
            raise ValueError(
                f"{name}: entry {number} ({','.join(row)!r}) has {len(values)} values; write one customer id "
                "or platform:handle a line, or give the CSV a header naming customer_id and/or handle"
            )
        entries.append((repair_text(values[0]), _handle_pair(values[0])))
    return Suppression(tuple(entries))


def read_suppression(paths: Iterable[str | Path]) -> Suppression:
    """The union of the do-not-contact files at ``paths`` (see :func:`parse_suppression`)."""
    result = Suppression()
    for path in paths:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
        result = result | parse_suppression(text, name=str(path))
    return result


def _json_chunks(values: Iterable[Any]) -> Iterable[str]:
    """``values`` as JSON arrays of at most :data:`_CHUNK` items (for ``json_each``)."""
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield json.dumps(items[start : start + _CHUNK])


def resolve_suppression(conn: sqlite3.Connection, suppression: Suppression) -> tuple[set[str], int]:
    """The customer ids ``suppression`` names (by id or by any of their handles), and how many of its
    entries match no known customer or handle (a sign of a list in another form, e.g. e-mail addresses)."""
    known: set[str] = set()
    for chunk in _json_chunks(sorted(suppression.customer_ids)):
        sql = "SELECT customer_id FROM customers WHERE customer_id IN (SELECT value FROM json_each(?))"
        known.update(row[0] for row in conn.execute(sql, [chunk]))
    by_handle: dict[tuple[str, str], set[str]] = defaultdict(set)
    for chunk in _json_chunks(sorted(f"{platform}:{handle}" for platform, handle in suppression.handles)):
        sql = (
            "SELECT platform, handle, customer_id FROM customer_handles "
            "WHERE platform || ':' || handle IN (SELECT value FROM json_each(?))"
        )
        for platform, handle, customer in conn.execute(sql, [chunk]):
            by_handle[(platform, handle)].add(customer)
    unmatched = sum(
        1 for customer, pair in suppression.entries if customer not in known and pair not in by_handle
    )
    return known.union(*by_handle.values()), unmatched


# --- segments and members -----------------------------------------------------------------------------------


def _valid_ids(conn: sqlite3.Connection) -> str:
    ids = [
        str(row[0])
        for row in conn.execute(
            "SELECT id FROM segments WHERE population = 'customers' AND status = 'active' ORDER BY id"
        )
    ]
    if not ids:
        return "there are none: run `tasteradar segments` first"
    return "valid ids: " + ", ".join(ids[:40]) + (f" and {len(ids) - 40} more" if len(ids) > 40 else "")


_SEGMENT_KEYS = ("id", "population", "broad_segment", "name", "status", "profile")
_SEGMENT_FIELDS = ", ".join(_SEGMENT_KEYS)


def select_segments(conn: sqlite3.Connection, segment_id: int | None) -> list[dict]:
    """The segments to export: ``segment_id`` alone, or every active customer segment when it is None.

    Raises :class:`SegmentExportError` for an unknown id, an audience segment (aggregate-only), a segment that
    is no longer active, or when there is no active customer segment; the message lists the valid ids.
    """
    if segment_id is None:
        rows = conn.execute(
            f"SELECT {_SEGMENT_FIELDS} FROM segments "
            "WHERE population = 'customers' AND status = 'active' ORDER BY id"
        ).fetchall()
        if not rows:
            raise SegmentExportError(f"no active customer segment to export; {_valid_ids(conn)}")
        return [dict(zip(_SEGMENT_KEYS, row, strict=True)) for row in rows]
    found = conn.execute(f"SELECT {_SEGMENT_FIELDS} FROM segments WHERE id = ?", [segment_id]).fetchone()
    row = None if found is None else dict(zip(_SEGMENT_KEYS, found, strict=True))
    if row is None:
        raise SegmentExportError(f"no segment {segment_id}; {_valid_ids(conn)}")
    if row["population"] != "customers":
        raise SegmentExportError(
            f"segment {segment_id} ({row['name']}) is an audience segment: audience segments describe "
            "authors who are not linked customers and are aggregate-only, never exported per member; "
            f"{_valid_ids(conn)}"
        )
    if row["status"] != "active":
        raise SegmentExportError(f"segment {segment_id} is {row['status']}, not active; {_valid_ids(conn)}")
    return [row]


def reason_of(profile: str | dict | None, limit: int = REASON_FEATURES) -> list[str]:
    """The top ``limit`` lift features of a segment profile (``profile['lift']``: ``{feature, label, lift}``
    objects) as ``"label (2.4x)"``, highest lift first; malformed items are skipped."""
    if isinstance(profile, str):
        try:
            profile = json.loads(profile or "{}")
        except ValueError:
            return []
    items = profile.get("lift") if isinstance(profile, dict) else None
    usable = [
        item
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict)
        and isinstance(item.get("lift"), int | float)
        and not isinstance(item.get("lift"), bool)
        and (item.get("label") or item.get("feature"))
    ]
    usable.sort(key=lambda item: -item["lift"])
    return [f"{item.get('label') or item['feature']} ({item['lift']:.1f}x)" for item in usable[:limit]]


_MEMBERS_SQL = """
SELECT m.customer_id, m.segment_id, m.run_id, r.risk,
       EXISTS (SELECT 1 FROM customer_handles h WHERE h.customer_id = m.customer_id AND h.consent = 1)
FROM segment_members m LEFT JOIN churn_scores r ON r.customer_id = m.customer_id
WHERE m.segment_id = ? ORDER BY m.customer_id
"""


def _members(conn: sqlite3.Connection, segments: Sequence[dict]) -> list[dict]:
    """Every member of ``segments`` (segment, then customer order), with its consent flag."""
    members = []
    for segment in segments:
        reason = reason_of(segment["profile"])
        for customer, segment_id, run_id, risk, consented in conn.execute(_MEMBERS_SQL, [segment["id"]]):
            members.append({
                "customer_id": customer, "segment_id": segment_id, "segment_name": segment["name"],
                "broad_segment": segment["broad_segment"], "reason": reason, "churn_risk": risk,
                "run_id": run_id, "consented": bool(consented),
            })  # fmt: skip
    return members


# --- posts behind the members -------------------------------------------------------------------------------

# Posts of a customer: through their links, on a platform where they opted in a handle.
_LINKED_POSTS = """
FROM json_each(?) AS j
JOIN customer_links AS l ON l.customer_id = j.value
JOIN authors AS a ON a.id = l.author_id
JOIN posts AS p ON p.platform = a.platform AND p.author_id = a.native_id
WHERE EXISTS (SELECT 1 FROM customer_handles AS h
              WHERE h.customer_id = l.customer_id AND h.platform = l.platform AND h.consent = 1)
"""
_FACTS_SQL = (
    "SELECT l.customer_id, p.platform, p.query, min(p.created_at), max(p.created_at)"
    + _LINKED_POSTS
    + " AND (? IS NULL OR p.first_seen_at <= ?) GROUP BY l.customer_id, p.platform, p.query"
)
_LATEST_SQL = (
    "SELECT customer_id, id, platform, text FROM (SELECT l.customer_id, p.id, p.platform, p.text, "
    "row_number() OVER (PARTITION BY l.customer_id ORDER BY p.created_at DESC, p.id) AS rank"
    + _LINKED_POSTS
    + ") WHERE rank <= ? ORDER BY customer_id, rank"
)


def _run_info(conn: sqlite3.Connection, run_ids: Iterable[int]) -> dict[int, dict]:
    """Per segment run: its versions (as strings) and when it ended (None when the run is not recorded)."""
    info = {}
    for run_id, versions, started, finished in conn.execute(
        "SELECT id, versions, started_at, finished_at FROM segment_runs "
        "WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted(set(run_ids)))],
    ):
        try:
            parsed = json.loads(versions or "{}")
        except ValueError:
            parsed = {}
        parsed = parsed if isinstance(parsed, dict) else {}
        flat = {
            str(key): value if isinstance(value, str) else to_json(value) for key, value in parsed.items()
        }
        info[run_id] = {"versions": dict(sorted(flat.items())), "until": finished or started}
    return info


def _post_facts(conn: sqlite3.Connection, members: Sequence[dict], runs: dict[int, dict]) -> dict[str, dict]:
    """Per customer: the platforms, queries and time window of the linked posts first seen before the end of
    the member's segment run (the posts its features could come from)."""
    by_run: dict[int, list[str]] = defaultdict(list)
    for member in members:
        by_run[member["run_id"]].append(member["customer_id"])
    facts: dict[str, dict] = defaultdict(lambda: {"sources": set(), "queries": set(), "window": []})
    for run_id, customers in by_run.items():
        until = runs.get(run_id, {}).get("until")
        for chunk in _json_chunks(customers):
            for customer, platform, query, first, last in conn.execute(_FACTS_SQL, [chunk, until, until]):
                fact = facts[customer]
                fact["sources"].add(platform)
                if query:
                    fact["queries"].add(query)
                fact["window"].extend([first, last])
    return facts


def _latest_posts(conn: sqlite3.Connection, customers: Sequence[str], per_member: int) -> dict[str, list]:
    """Per customer: their ``per_member`` latest linked posts as ``{id, platform, text}``, newest first."""
    posts: dict[str, list] = defaultdict(list)
    if per_member <= 0:
        return posts
    for chunk in _json_chunks(customers):
        for customer, post_id, platform, text in conn.execute(_LATEST_SQL, [chunk, per_member]):
            posts[customer].append({"id": post_id, "platform": platform, "text": normalize(text)})
    return posts


def _limit_x_text(records: Iterable[dict], limit: int = X_TEXT_LIMIT) -> int:
    """Drop the text of every X post past the first ``limit`` in ``records`` (in order); return how many."""
    seen = dropped = 0
    for record in records:
        for post in record["posts"]:
            if post["platform"] != "x":
                continue
            seen += 1
            if seen > limit:
                post["text"] = None
                dropped += 1
    return dropped


def content_hash(records: Iterable[dict]) -> str:
    """``sha256:<hex>`` over the canonical member rows: each record's columns but ``content_hash`` and
    ``exported_at``, as JSON with sorted keys, one a line, in the given order."""
    digest = hashlib.sha256()
    for record in records:
        row = {key: value for key, value in record.items() if key not in _UNHASHED}
        digest.update(to_json(row, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


# --- the export ---------------------------------------------------------------------------------------------


@dataclass
class SegmentExport:
    """The records of one export, their content hash and provenance, and what was left out."""

    target: str
    segment_ids: list[int]
    records: list[dict]
    content_hash: str
    provenance: dict
    members: int
    no_consent: int
    suppressed: int
    x_ids_only: int
    unmatched_suppression: int = 0
    exported_at: str = ""
    columns: tuple[Column, ...] = field(default=SEGMENT_COLUMNS)


def _record(member: dict, facts: dict, posts: list, versions: dict) -> dict:
    """The export record of one member (``content_hash`` and ``exported_at`` are added once all are built)."""
    window = sorted(facts["window"])
    return {
        "customer_id": member["customer_id"], "segment_id": member["segment_id"],
        "segment_name": member["segment_name"], "broad_segment": member["broad_segment"],
        "reason": member["reason"], "churn_risk": member["churn_risk"], "posts": posts,
        "sources": sorted(facts["sources"]), "queries": sorted(facts["queries"]),
        "window_start": window[0] if window else None, "window_end": window[-1] if window else None,
        "versions": versions, "run_id": member["run_id"],
    }  # fmt: skip


def _provenance(
    export_records: list[dict], segments: list[dict], runs: dict[int, dict], counts: dict
) -> dict:
    """The export-level provenance stored in ``export_records.provenance`` (no customer data)."""
    starts = [record["window_start"] for record in export_records if record["window_start"]]
    ends = [record["window_end"] for record in export_records if record["window_end"]]
    return {
        "segments": [
            {"id": s["id"], "name": s["name"], "broad_segment": s["broad_segment"]} for s in segments
        ],
        "runs": {str(run_id): info["versions"] for run_id, info in sorted(runs.items())},
        "sources": sorted({source for record in export_records for source in record["sources"]}),
        "queries": sorted({query for record in export_records for query in record["queries"]}),
        "window": {"start": min(starts, default=None), "end": max(ends, default=None)},
        **counts,
    }


def build_segment_export(
    conn: sqlite3.Connection,
    segment_id: int | None = None,
    *,
    suppression: Suppression | None = None,
    posts_per_member: int = DEFAULT_POSTS,
    now: str | None = None,
) -> SegmentExport:
    """The records of segment ``segment_id`` (every active customer segment when None), opted-in members only,
    ``suppression`` applied, X text limited, with their content hash; nothing is written.

    Raises :class:`SegmentExportError` as :func:`select_segments` does.
    """
    segments = select_segments(conn, segment_id)
    members = _members(conn, segments)
    consented = [member for member in members if member["consented"]]
    blocked, unmatched = resolve_suppression(conn, suppression) if suppression else (set(), 0)
    kept = [member for member in consented if member["customer_id"] not in blocked]
    runs = _run_info(conn, (member["run_id"] for member in kept))
    facts = _post_facts(conn, kept, runs)
    posts = _latest_posts(conn, [member["customer_id"] for member in kept], posts_per_member)
    records = []
    for member in kept:
        customer, run = member["customer_id"], runs.get(member["run_id"], {})
        records.append(_record(member, facts[customer], posts[customer], run.get("versions", {})))
    x_ids_only = _limit_x_text(records)
    digest = content_hash(records)
    exported_at = now or to_iso(utc_now())
    for record in records:
        record.update(content_hash=digest, exported_at=exported_at)
    counts = {
        "members": len(members), "no_consent": len(members) - len(consented),
        "suppressed": len(consented) - len(kept), "x_ids_only": x_ids_only,
        "posts_per_member": posts_per_member, "exported_at": exported_at,
    }  # fmt: skip
    return SegmentExport(
        target="all" if segment_id is None else str(segment_id),
        segment_ids=[segment["id"] for segment in segments], records=records, content_hash=digest,
        provenance=_provenance(records, segments, runs, counts), members=counts["members"],
        no_consent=counts["no_consent"], suppressed=counts["suppressed"], x_ids_only=x_ids_only,
        unmatched_suppression=unmatched, exported_at=exported_at,
    )  # fmt: skip


def _for_format(records: list[dict], fmt: str) -> Iterable[dict]:
    """The records as ``fmt`` takes them: Parquet gets each post as JSON text (a list of strings)."""
    if fmt != "parquet":
        return records
    return ({**record, "posts": [to_json(post) for post in record["posts"]]} for record in records)


def record_export(db: sqlite_utils.Database, export: SegmentExport, fmt: str, path: str | None) -> int:
    """Write the ``export_records`` row of ``export`` and its ``export_members``, in one transaction; return
    the export record's id."""
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO export_records (kind, target, format, path, rows, suppressed, content_hash, "
            "provenance, created_at) VALUES ('segment', ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                export.target, fmt, path, len(export.records), export.suppressed, export.content_hash,
                to_json(export.provenance, sort_keys=True), export.exported_at,
            ],
        )  # fmt: skip
        export_id = cursor.lastrowid
        conn.executemany(
            "INSERT INTO export_members (export_id, customer_id) VALUES (?, ?)",
            [(export_id, record["customer_id"]) for record in export.records],
        )
    return export_id


def export_segments(
    db: sqlite_utils.Database,
    segment_id: int | None,
    *,
    fmt: str,
    out: BinaryIO | str | Path,
    suppression: Suppression | None = None,
    posts_per_member: int = DEFAULT_POSTS,
) -> tuple[SegmentExport, int]:
    """Build the export (:func:`build_segment_export`), write it to ``out`` (a path or a binary stream) in
    ``fmt``, then record it (:func:`record_export`); return the export and its record id.

    A file written to a path is removed again when recording it fails, so no export exists unrecorded.
    """
    export = build_segment_export(
        db.conn, segment_id, suppression=suppression, posts_per_member=posts_per_member
    )
    write_records(_for_format(export.records, fmt), export.columns, fmt, out)
    path = str(Path(out).resolve()) if isinstance(out, str | Path) else None
    try:
        export_id = record_export(db, export, fmt, path)
    except BaseException:
        if path is not None:
            Path(path).unlink(missing_ok=True)
        raise
    return export, export_id
