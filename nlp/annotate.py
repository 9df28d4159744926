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
version) are deleted, the new rows inserted, the ``annotation_runs`` rows updated and the posts' days marked
stale for the daily rollups and the trend step the table feeds (``rollup_dirty``) together, so a post never
holds rows of two versions and a crash loses at most the batch in flight.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import sqlite_utils

from store import to_iso, transaction, utc_now
from store.rollup_marks import stale_posts_marker

__all__ = [
    "EFFECTIVE_LANG_SQL",
    "Annotator",
    "PostText",
    "maybe_english",
    "parse_name",
    "pending_count",
    "run_annotators",
]

#: What an annotator reads: ``(post_id, text, lang)``; ``lang`` may be None (unknown).
PostText = tuple[str, str, str | None]

#: Language labels under which an English-only annotator still runs: English, undetermined, unknown.
_MAYBE_ENGLISH = frozenset({None, "", "en", "und"})


def maybe_english(lang: str | None) -> bool:
    """Whether an English-only annotator should read a post labelled ``lang`` (unknown counts as English)."""
    return lang in _MAYBE_ENGLISH or (isinstance(lang, str) and lang.lower().startswith("en"))


_NAME = re.compile(r"^([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)\.v([1-9][0-9]*)$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

#: SQL for a post's language (posts aliased ``p``): the language annotator's verdict (``post_language``)
#: when it ran, else the source's own label. Every reader of "the post's language" uses this one expression.
EFFECTIVE_LANG_SQL = (
    "COALESCE((SELECT l.lang FROM post_language AS l WHERE l.post_id = p.id LIMIT 1), p.lang)"
)
_PENDING_SQL = f"""
SELECT p.id, p.text, {EFFECTIVE_LANG_SQL}, p.content_hash
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
    """One concern of the NLP stage (mentions, sentiment, ...), at one version.

    Optional: ``phase`` (int, default 0; see :func:`run_annotators`) and ``close()`` (release worker
    processes; ``tasteradar.analyze`` calls it after the run).
    """

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


class _Lane:
    """One annotator's pass in a run: its statements, a buffer of pending posts and its cursor."""

    def __init__(self, annotator: Annotator, batch_size: int) -> None:
        self.annotator = annotator
        self.family, self.version = _check(annotator)
        #: Read once, when the lane's phase starts: settings do not change within a run, and a fingerprint
        #: may cost work to compute (the sentiment model's hash).
        self.fingerprint = annotator.fingerprint
        self.batch_size = batch_size
        columns = (*annotator.columns, "annotator")
        placeholders = ", ".join("?" * len(columns))
        self.insert = f"INSERT INTO {annotator.table} ({', '.join(columns)}) VALUES ({placeholders})"
        self.delete = (
            f"DELETE FROM {annotator.table} "
            "WHERE post_id IN (SELECT value FROM json_each(?)) AND annotator GLOB ?"
        )
        self.family_glob = self.family.replace("[", "[[]") + ".v[0-9]*"
        #: Marks the batch's days stale for what the table feeds (rollups, trend step; None: nothing).
        self.mark = stale_posts_marker(annotator.table)
        self.buffer: list[tuple] = []
        self.after = ""
        self.exhausted = False
        self.done = 0

    def refill(self, db: sqlite_utils.Database) -> None:
        """Fetch the next pending posts when the buffer is empty (a short page means no more after it)."""
        if self.buffer or self.exhausted:
            return
        params = {
            "family": self.family, "version": self.version, "fingerprint": self.fingerprint,
            "after": self.after, "limit": self.batch_size,
        }  # fmt: skip
        self.buffer = db.conn.execute(_PENDING_SQL, params).fetchall()
        self.exhausted = len(self.buffer) < self.batch_size
        if self.buffer:
            self.after = self.buffer[-1][0]

    def bound(self) -> str | None:
        """The last id this lane can vouch for: everything pending up to it is in the buffer."""
        return None if self.exhausted else self.after

    def take(self, upto: str | None) -> list[tuple]:
        """Remove and return the buffered posts with ids up to ``upto`` (all when None)."""
        if upto is None:
            taken, self.buffer = self.buffer, []
            return taken
        cut = 0
        while cut < len(self.buffer) and self.buffer[cut][0] <= upto:
            cut += 1
        taken, self.buffer = self.buffer[:cut], self.buffer[cut:]
        return taken

    def write(self, db: sqlite_utils.Database, rows: list[tuple]) -> None:
        """Annotate ``rows`` and commit their results with their run records in one transaction."""
        annotator = self.annotator
        results = annotator.annotate([(pid, text, lang) for pid, text, lang, _ in rows])
        now = to_iso(utc_now())
        ids = json.dumps([row[0] for row in rows])
        with transaction(db) as conn:
            conn.execute(self.delete, [ids, self.family_glob])
            conn.executemany(self.insert, [(*result, annotator.name) for result in results])
            if self.mark:
                conn.execute(self.mark, [ids])
            done_rows = [
                (pid, self.family, self.version, self.fingerprint, digest, now) for pid, _, _, digest in rows
            ]
            conn.executemany(_DONE_SQL, done_rows)
        self.done += len(rows)


def _next_bound(lanes: Sequence[_Lane]) -> str | None:
    """The end of the next id range: the smallest id every unexhausted lane has buffered up to."""
    bounds = [bound for lane in lanes if (bound := lane.bound()) is not None]
    return min(bounds) if bounds else None


def run_annotators(
    db: sqlite_utils.Database,
    annotators: Sequence[Annotator],
    *,
    batch_size: int = 1000,
    progress=None,
) -> dict[str, int]:
    """Run each annotator over the posts it has not processed yet; return ``{name: posts processed}``.

    The annotators advance together over id ranges: each range (at most ``batch_size`` pending posts per
    annotator) goes through every annotator, in the order given, before the next range starts. So an
    annotator reads what an earlier one stored for the same posts in this run, the text of a range is parsed
    while it is hot (``nlp.normalize.parse_texts`` caches it), and an interrupted run leaves every annotator
    at about the same place. An annotator that needs the earlier ones done over *all* posts first (a model
    fitted on the whole corpus's embeddings) declares ``phase = 1``: phases run one after the other, and an
    annotator's ``fingerprint`` is first read when its phase starts. Each annotator's batch commits in its
    own transaction. ``progress(step, done, total)`` counts (post, annotator) pairs per phase. When an
    annotator raises, committed batches stay and the error propagates; the next run resumes with the rest.
    Two annotators of the same family in one call are refused (they would overwrite each other's rows).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"run_annotators: batch_size must be a positive integer, got {batch_size!r}")
    families = [_check(annotator)[0] for annotator in annotators]
    if len(set(families)) != len(families):
        raise ValueError(f"run_annotators: one annotator per family, got {[a.name for a in annotators]}")
    phases = sorted({getattr(annotator, "phase", 0) for annotator in annotators})
    done: dict[str, int] = {}
    for number, phase in enumerate(phases, start=1):
        step = "analyze" if len(phases) == 1 else f"analyze (pass {number} of {len(phases)})"
        members = [annotator for annotator in annotators if getattr(annotator, "phase", 0) == phase]
        done |= _run_phase(db, members, batch_size, progress, step)
    return {annotator.name: done[annotator.name] for annotator in annotators}


def _run_phase(
    db: sqlite_utils.Database, annotators: Sequence[Annotator], batch_size: int, progress, step: str
):
    """Run ``annotators`` together over id ranges (see :func:`run_annotators`)."""
    lanes = [_Lane(annotator, batch_size) for annotator in annotators]
    total = sum(pending_count(db, annotator) for annotator in annotators)
    if progress is not None and total:
        progress(step, 0, total)
    while True:
        for lane in lanes:
            lane.refill(db)
        if not any(lane.buffer for lane in lanes):
            break
        upto = _next_bound(lanes)
        for lane in lanes:
            rows = lane.take(upto)
            if rows:
                lane.write(db, rows)
        if progress is not None:
            done = sum(lane.done for lane in lanes)
            progress(step, done, max(total, done))
    return {lane.annotator.name: lane.done for lane in lanes}
