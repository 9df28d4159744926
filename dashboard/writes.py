"""The dashboard's only write path: analysts' corrections from the review page, and reading them as labels.

Everything else in the dashboard reads through the shared read-only connection. A correction opens its own
short-lived read-write connection (``store.open_db``: WAL, busy timeout, foreign keys on), writes one row
in one transaction, and closes it, so no write lock or read transaction outlives the click.

``corrections`` rows: ``kind`` ``sentiment`` (value ``positive``, ``neutral`` or ``negative``) or ``need``
(value the need phrase, or '' for "not a need"). :func:`corrections_as_labels` writes the latest sentiment
correction of every post as the label file ``tasteradar sentiment train --labels FILE`` reads.
"""

from __future__ import annotations

from pathlib import Path

from store import open_db, to_iso, transaction, utc_now
from store.exports import Column, write_records

__all__ = ["KINDS", "MAX_ANALYST", "MAX_NEED", "SENTIMENT_VALUES", "add_correction", "corrections_as_labels"]

KINDS = ("sentiment", "need")
SENTIMENT_VALUES = ("positive", "neutral", "negative")
MAX_NEED = 200
MAX_ANALYST = 100


def _clean(kind: str, value: str, analyst: str | None) -> tuple[str, str | None]:
    """The value and analyst to store; ``ValueError`` saying what is accepted when they are not."""
    if kind not in KINDS:
        raise ValueError(f"correction kind {kind!r} is not one of {', '.join(KINDS)}")
    value = " ".join(str(value).split())
    if kind == "sentiment" and value not in SENTIMENT_VALUES:
        raise ValueError(f"sentiment {value!r} is not one of {', '.join(SENTIMENT_VALUES)}")
    if kind == "need" and len(value) > MAX_NEED:
        raise ValueError(f"a need is at most {MAX_NEED} characters; this one has {len(value)}")
    analyst = " ".join(str(analyst or "").split()) or None
    if analyst is not None and len(analyst) > MAX_ANALYST:
        raise ValueError(f"an analyst name is at most {MAX_ANALYST} characters")
    return value, analyst


def add_correction(
    db_path: str | Path, post_id: str, kind: str, value: str, analyst: str | None = None
) -> int:
    """Store one correction of post ``post_id`` in its own transaction; return the new row's id.

    Raises ``ValueError`` for a bad kind or value, or when the post does not exist (it may have been erased),
    and ``FileNotFoundError`` when there is no database at ``db_path`` (never creates one).
    """
    value, analyst = _clean(kind, value, analyst)
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    db = open_db(path)
    try:
        with transaction(db) as conn:
            if conn.execute("SELECT 1 FROM posts WHERE id = ?", (post_id,)).fetchone() is None:
                raise ValueError(f"post {post_id!r} is not in the database (it may have been erased)")
            cursor = conn.execute(
                "INSERT INTO corrections (post_id, kind, value, analyst, created_at) VALUES (?, ?, ?, ?, ?)",
                (post_id, kind, value, analyst, to_iso(utc_now())),
            )
            return int(cursor.lastrowid)
    finally:
        db.close()


LABEL_COLUMNS = (Column("post_id"), Column("label"), Column("analyst"), Column("created_at"))


def corrections_as_labels(db_path: str | Path, out_path: str | Path) -> int:
    """Write each post's latest sentiment correction as a label file; return how many labels were written.

    ``out_path`` ending in ``.csv`` gets CSV, anything else JSON Lines: the two forms ``tasteradar sentiment
    train --labels`` reads (``post_id`` and ``label``; ``analyst`` and ``created_at`` ride along). Posts
    erased since their correction are gone with it (the rows cascade).
    """
    db = open_db(db_path, readonly=True)
    try:
        rows = db.conn.execute(
            """SELECT c.post_id, c.value, c.analyst, c.created_at FROM corrections AS c
               WHERE c.kind = 'sentiment' AND c.id = (SELECT MAX(id) FROM corrections AS d
                                                      WHERE d.post_id = c.post_id AND d.kind = 'sentiment')
               ORDER BY c.id"""
        ).fetchall()
    finally:
        db.close()
    records = [dict(zip(("post_id", "label", "analyst", "created_at"), row, strict=True)) for row in rows]
    fmt = "csv" if Path(out_path).suffix.lower() == ".csv" else "jsonl"
    return write_records(records, LABEL_COLUMNS, fmt, out_path)
