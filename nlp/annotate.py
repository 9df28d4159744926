"""The annotation framework: the :class:`Annotator` contract and the incremental, batched runner.

An annotator has a versioned ``name`` (``mentions.phrase.v1``: family ``mentions.phrase``, version 1), the
``table`` it writes and its ``columns`` (the first is ``post_id``; the runner adds ``annotator``), and
``annotate(batch)``, which maps ``(post_id, text, lang)`` triples to rows (``lang`` is the language
annotator's label when it ran before, else the source's). It stores nothing itself.

:func:`run_annotators` gives each annotator only the posts it has not processed at its current version:
``annotation_runs`` holds one row per (post, family) with the version, the annotator's settings
``fingerprint`` and the post's ``content_hash`` it ran on, so a second run with nothing new does no work, a
post edited since (new hash) is redone, and a new version or changed settings (a brand alias added to the
configuration) recompute that annotator alone. Post ids are streamed in id order with keyset pagination
(memory holds one batch), and each batch commits in one transaction: the family's old rows of those posts (any
version) are deleted, the new rows inserted and the ``annotation_runs`` rows updated together, so a post
never holds rows of two versions and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import sqlite_utils

from store import to_iso, transaction, utc_now

__all__ = ["Annotator", "PostText", "maybe_english", "parse_name", "pending_count", "run_annotators"]

#: What an annotator reads: ``(post_id, text, lang)``; ``lang`` may be None (unknown).
PostText = tuple[str, str, str | None]

#: Language labels under which an English-only annotator still runs: English, undetermined, unknown.
_MAYBE_ENGLISH = frozenset({None, "", "en", "und"})


def maybe_english(lang: str | None) -> bool:
    """Whether an English-only annotator should read a post labelled ``lang`` (unknown counts as English)."""
    return lang in _MAYBE_ENGLISH or (isinstance(lang, str) and lang.lower().startswith("en"))


_NAME = re.compile(r"^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)\.v([1-9][0-9]*)$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

# ``lang`` is the language annotator's verdict (``post_language``) when it ran, else the source's own label.
_PENDING_SQL = """
SELECT p.id, p.text,
  COALESCE((SELECT l.lang FROM post_language AS l WHERE l.post_id = p.id LIMIT 1), p.lang),
  p.content_hash
FROM posts AS p
LEFT JOIN annotation_runs AS r
  ON r.post_id = p.id AND r.annotator = :family AND r.version = :version
  AND r.fingerprint = :fingerprint AND r.content_hash = p.content_hash
WHERE p.id > :after AND r.post_id IS NULL
ORDER BY p.id LIMIT :limit"""
_COUNT_SQL = """
SELECT count(*) FROM posts AS p
LEFT JOIN annotation_runs AS r
  ON r.post_id = p.id AND r.annotator = :family AND r.version = :version
  AND r.fingerprint = :fingerprint AND r.content_hash = p.content_hash
WHERE r.post_id IS NULL"""
_DONE_SQL = (
    "INSERT INTO annotation_runs (post_id, annotator, version, fingerprint, content_hash, done_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id, annotator) DO UPDATE SET version = excluded.version, "
    "fingerprint = excluded.fingerprint, content_hash = excluded.content_hash, done_at = excluded.done_at"
)


@runtime_checkable
class Annotator(Protocol):
    """One concern of the NLP stage (mentions, sentiment, ...), at one version."""

    #: Versioned name, ``family.vN`` (``mentions.phrase.v1``); bump N when the output would change.
    name: str
    #: The table its rows go to (created by a migration, following the derived-table rule).
    table: str
    #: The columns of each row ``annotate`` returns, ``post_id`` first; ``annotator`` is added by the runner.
    columns: tuple[str, ...]
    #: A short hash of the settings the output depends on (configured brand terms, a model file); ``""`` when
    #: none. A change redoes every post, like a new version, without a code change.
    fingerprint: str

    def annotate(self, batch: Sequence[PostText]) -> list[tuple]:
        """Return the rows for ``batch`` (any number per post, none allowed), in :attr:`columns` order."""
        ...


def parse_name(name: str) -> tuple[str, int]:
    """Split a versioned annotator name into ``(family, version)``: ``mentions.phrase.v2`` -> (..., 2)."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(
            f"annotator name {name!r} must look like 'concern.method.vN' (lowercase, dotted, N >= 1)"
        )
    return match.group(1), int(match.group(2))


def _check(annotator: Annotator) -> tuple[str, int]:
    """Validate an annotator's declarations; return its family and version."""
    family, version = parse_name(annotator.name)
    names = (annotator.table, *annotator.columns)
    if not all(_IDENT.match(name) for name in names) or annotator.columns[:1] != ("post_id",):
        raise ValueError(
            f"{annotator.name}: table and columns must be plain identifiers with post_id first, got {names}"
        )
    return family, version


def pending_count(db: sqlite_utils.Database, annotator: Annotator) -> int:
    """How many stored posts ``annotator`` has not processed at its current version (or since an edit)."""
    family, version = _check(annotator)
    params = {"family": family, "version": version, "fingerprint": annotator.fingerprint}
    return db.conn.execute(_COUNT_SQL, params).fetchone()[0]


def _run_one(db: sqlite_utils.Database, annotator: Annotator, batch_size: int, progress) -> int:
    """Run one annotator over its pending posts; return how many posts it processed."""
    family, version = _check(annotator)
    total = pending_count(db, annotator)
    step = f"analyze {annotator.name}"
    if progress is not None and total:
        progress(step, 0, total)
    columns = (*annotator.columns, "annotator")
    table, placeholders = annotator.table, ", ".join("?" * len(columns))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    delete = f"DELETE FROM {table} WHERE post_id IN (SELECT value FROM json_each(?)) AND annotator GLOB ?"
    family_glob = family.replace("[", "[[]") + ".v[0-9]*"
    done, after = 0, ""
    while True:
        params = {
            "family": family, "version": version, "fingerprint": annotator.fingerprint,
            "after": after, "limit": batch_size,
        }  # fmt: skip
        rows = db.conn.execute(_PENDING_SQL, params).fetchall()
        if not rows:
            break
        after = rows[-1][0]
        results = annotator.annotate([(pid, text, lang) for pid, text, lang, _ in rows])
        now = to_iso(utc_now())
        with transaction(db) as conn:
            conn.execute(delete, [json.dumps([row[0] for row in rows]), family_glob])
            conn.executemany(insert, [(*result, annotator.name) for result in results])
            done_rows = [
                (pid, family, version, annotator.fingerprint, digest, now) for pid, _, _, digest in rows
            ]
            conn.executemany(_DONE_SQL, done_rows)
        done += len(rows)
        if progress is not None:
            progress(step, done, max(total, done))
    return done


def run_annotators(
    db: sqlite_utils.Database,
    annotators: Sequence[Annotator],
    *,
    batch_size: int = 1000,
    progress=None,
) -> dict[str, int]:
    """Run each annotator over the posts it has not processed yet; return ``{name: posts processed}``.

    ``progress(step, done, total)`` (see ``tasteradar.progress``) is called per batch. When an annotator
    raises, its committed batches stay and the error propagates; the next run resumes with the rest.
    Two annotators of the same family in one call are refused (they would overwrite each other's rows).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"run_annotators: batch_size must be a positive integer, got {batch_size!r}")
    families = [_check(annotator)[0] for annotator in annotators]
    if len(set(families)) != len(families):
        raise ValueError(f"run_annotators: one annotator per family, got {[a.name for a in annotators]}")
    return {annotator.name: _run_one(db, annotator, batch_size, progress) for annotator in annotators}
