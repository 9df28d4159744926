"""The collection run log, collector checkpoints and the quarantine of records that could not be stored."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from store.records import to_iso, utc_now
from store.text import repair_optional, repair_text, to_json
from store.transactions import transaction

RUN_STATUSES = ("running", "ok", "partial", "failed")
FINAL_STATUSES = ("ok", "partial", "failed")

QUARANTINE_SQL = "INSERT INTO quarantine (source, reason, raw, run_id, created_at) VALUES (?, ?, ?, ?, ?)"


def quarantine_text(raw: Any) -> str | None:
    """Return the text stored for a quarantined payload: str and bytes as they are (repaired), else JSON."""
    if raw is None:
        return None
    if isinstance(raw, str | bytes | bytearray | memoryview):
        return repair_text(raw)
    return to_json(raw)


def quarantine_row(source: str, raw: Any, reason: str, run_id: int | None, created_at: str) -> tuple:
    """Return the ``quarantine`` row for one record, in the column order of :data:`QUARANTINE_SQL`."""
    return (
        repair_text(str(source) or "unknown"),
        repair_text(str(reason)),
        quarantine_text(raw),
        run_id,
        created_at,
    )


def quarantine(
    db: sqlite_utils.Database, *, source: str, raw: Any, reason: str, run_id: int | None = None
) -> None:
    """Store a record that could not be used, with the ``reason`` and the payload as received.

    ``raw`` may be a string, bytes (invalid UTF-8 becomes U+FFFD) or anything JSON can represent. Joins an
    open transaction (so a collector can quarantine inside ``on_batch``), else commits on its own.
    """
    row = quarantine_row(source, raw, reason, run_id, to_iso(utc_now()))
    with transaction(db) as conn:
        conn.execute(QUARANTINE_SQL, row)


def _check_count(name: str, value: int) -> int:
    """Return ``value`` if it is a non-negative int, else raise ``ValueError`` naming the argument."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"finish_run: {name} must be a non-negative integer, got {value!r}")
    return value


def start_run(db: sqlite_utils.Database, source: str, query: str | None = None) -> int:
    """Record the start of a collection run (status ``running``) and return its id."""
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"start_run: source must be a non-empty string, got {source!r}")
    with transaction(db) as conn:
        cursor = conn.execute(
            "INSERT INTO collection_runs (source, query, started_at, status) VALUES (?, ?, ?, 'running')",
            [repair_text(source), repair_optional(query), to_iso(utc_now())],
        )
    return int(cursor.lastrowid)


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    status: str,
    fetched: int = 0,
    new: int = 0,
    duplicates: int = 0,
    quarantined: int = 0,
    error: str | None = None,
    deleted: int = 0,
) -> None:
    """Close run ``run_id`` with its final ``status`` (``ok``, ``partial`` or ``failed``) and counts.

    ``deleted`` counts the posts a prune run removed (``tasteradar collect --prune-deleted``).

    Raises ``ValueError`` for another status, a negative count or an unknown run id.
    """
    if status not in FINAL_STATUSES:
        raise ValueError(f"finish_run: status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
    counts = [
        _check_count(name, value)
        for name, value in (("fetched", fetched), ("new", new), ("duplicates", duplicates))
    ]
    counts.append(_check_count("quarantined", quarantined))
    counts.append(_check_count("deleted", deleted))
    with transaction(db) as conn:
        cursor = conn.execute(
            "UPDATE collection_runs SET finished_at = ?, status = ?, fetched = ?, new = ?, duplicates = ?, "
            "quarantined = ?, deleted = ?, error = ? WHERE id = ?",
            [to_iso(utc_now()), status, *counts, repair_optional(error), run_id],
        )
        if cursor.rowcount != 1:
            raise ValueError(f"finish_run: no collection run with id {run_id!r}")


def get_checkpoint(db: sqlite_utils.Database, source: str, query: str | None = None) -> dict | None:
    """Return the checkpoint stored for ``(source, query)``, or ``None`` when there is none."""
    row = db.conn.execute(
        "SELECT value FROM checkpoints WHERE source = ? AND query = ?", [source, query or ""]
    ).fetchone()
    return None if row is None else json.loads(row[0])


def set_checkpoint(db: sqlite_utils.Database, source: str, query: str | None, value: dict) -> None:
    """Store ``value`` (a JSON-able dict) as the checkpoint of ``(source, query)``, replacing the old one.

    Call it inside ``upsert_posts(..., on_batch=...)`` so the checkpoint commits with the posts it covers.
    """
    if not isinstance(value, dict):
        raise TypeError(f"set_checkpoint: value must be a dict, got {type(value).__name__}")
    with transaction(db) as conn:
        conn.execute(
            "INSERT INTO checkpoints (source, query, value, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (source, query) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            [repair_text(source), repair_text(query or ""), to_json(value), to_iso(utc_now())],
        )
