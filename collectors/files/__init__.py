"""File import: posts from CSV and JSON Lines files (or standard input), streamed, batched and resumable.

::

    from collectors.files import import_file
    result = import_file(db, "Tweets.csv")                       # format detected: airline
    result = import_file(db, "dump.csv", mapping=["id=native_id", "body=text", "ts=created_at"])

Formats and detection: :mod:`collectors.files.formats`; ``--map``: :mod:`collectors.files.mapping`;
streaming with byte offsets: :mod:`collectors.files.readers`.

Batches and resume. Records are read one at a time and written ``batch_size`` at a time with ``upsert_posts``,
one transaction per batch, and that transaction also stores the checkpoint ``("import", <absolute path>)``:
the byte offset after the last record of the batch (plus, when a batch ends inside a page of X posts, how many
posts of the next record are done), the records read so far, and the file's size, mtime and a SHA-256 of its
first 64 KiB. A rerun after a crash or a kill finds an unfinished checkpoint for the same unchanged file,
format and mapping, seeks to the offset and goes on: every record lands exactly once. If the file changed,
the import starts over (upserts are idempotent, so that only costs time). A *finished* import marks its
checkpoint done, and importing the file again reads it all again: every post then counts as a duplicate
(``unchanged``, or ``updated`` where a file repeats an id with other values). Standard input cannot resume.

Every import writes a ``collection_runs`` row (source ``import``, query = the file name) with fetched (posts
and rejected records read by this run), new, duplicates and quarantined. Malformed records go to
``quarantine`` with source ``import:<file name>`` and the reason, while the rest of their batch lands.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import sqlite_utils

from collectors.files.formats import FORMATS, FileFormat, FormatError, build_mapper, choose, sniff_kind
from collectors.files.mapping import ColumnMapping, MappingError, parse_mapping
from collectors.files.readers import Record, read_csv, read_jsonl
from store import (
    Rejected,
    UpsertResult,
    finish_run,
    get_checkpoint,
    set_checkpoint,
    start_run,
    transaction,
    upsert_posts,
)

__all__ = ["DEFAULT_BATCH_SIZE", "FORMATS", "FormatError", "ImportResult", "MappingError", "import_file"]

SOURCE = "import"
STDIN_NAME = "<stdin>"
HEAD_BYTES = 64 << 10
DEFAULT_BATCH_SIZE = 2000


@dataclass
class ImportResult:
    """What one import did: counts of this run only (``resumed_records`` were committed by an earlier run)."""

    name: str
    format: str
    records: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    resumed_records: int = 0
    resumed_offset: int = 0
    run_id: int | None = None
    status: str = "running"

    @property
    def duplicates(self) -> int:
        """Posts already stored (from an earlier import, or earlier in this file): updated + unchanged."""
        return self.updated + self.unchanged

    @property
    def fetched(self) -> int:
        """Posts and rejected records this run read."""
        return self.inserted + self.updated + self.unchanged + self.quarantined

    def add(self, result: UpsertResult) -> None:
        """Add the counts of one batch."""
        self.inserted += result.inserted
        self.updated += result.updated
        self.unchanged += result.unchanged + result.suppressed  # suppressed: deleted earlier, seen again
        self.quarantined += result.quarantined


@dataclass
class _Input:
    """An open input: a seekable file (``path`` set) or standard input (``head`` already read from it)."""

    name: str
    stream: BinaryIO
    head: bytes
    path: Path | None = None
    size: int = 0
    mtime_ns: int = 0

    def fingerprint(self) -> dict[str, Any]:
        """What must be unchanged for a checkpoint of this file to be resumed."""
        digest = hashlib.sha256(self.head).hexdigest()
        return {"size": self.size, "mtime_ns": self.mtime_ns, "head_sha256": digest}


def _open_input(source: str | os.PathLike | BinaryIO) -> _Input:
    """Open ``source``: ``-`` is standard input, a binary file object is read as a stream, else a path."""
    if source == "-" or not isinstance(source, str | os.PathLike):
        stream = sys.stdin.buffer if source == "-" else source
        return _Input(STDIN_NAME, stream, _read_head(stream))
    path = Path(source).expanduser().resolve()
    stream = path.open("rb")  # raises FileNotFoundError naming the path
    stat = os.fstat(stream.fileno())
    head = stream.read(HEAD_BYTES)
    return _Input(path.name, stream, head, path, stat.st_size, stat.st_mtime_ns)


def _read_head(stream: BinaryIO) -> bytes:
    """Read up to :data:`HEAD_BYTES` from a stream (a pipe may return less per read)."""
    parts, size = [], 0
    while size < HEAD_BYTES:
        chunk = stream.read(HEAD_BYTES - size)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def _reader(kind: str):
    """The record reader of a kind of file."""
    return read_csv if kind == "csv" else read_jsonl


def _records_from(inp: _Input, kind: str, offset: int) -> Iterator[Record]:
    """Records of ``inp`` from byte ``offset`` (a file seeks; standard input starts after its head)."""
    if inp.path is None:
        return _reader(kind)(inp.stream, len(inp.head), prefix=inp.head)
    inp.stream.seek(offset)
    return _reader(kind)(inp.stream, offset)


def _first(inp: _Input, kind: str) -> tuple[Any, int, Iterator[Record] | None]:
    """Return the CSV header (or the first readable JSON object), the offset after the header, and for
    standard input the record iterator already started (its records cannot be read twice)."""
    if kind == "csv":
        records = _records_from(inp, kind, 0)
        header = next(records, None)
        if header is None or header.error:
            reason = header.error if header else "no header"
            raise FormatError(f"cannot read the CSV header: {reason}")
        return header.value, header.end, records if inp.path is None else None
    probe = read_jsonl(io.BytesIO(inp.head))
    first = next((record.value for record in probe if record.error is None), None)
    return first, 0, None


def _resume_point(db, inp: _Input, key: str | None, settings: dict[str, Any]) -> dict[str, Any] | None:
    """Return the unfinished checkpoint of this very file, format and mapping, or None to start at 0."""
    if key is None:
        return None
    checkpoint = get_checkpoint(db, SOURCE, key)
    if not checkpoint or checkpoint.get("done"):
        return None
    expected = {**inp.fingerprint(), **settings}
    if any(checkpoint.get(name) != value for name, value in expected.items()):
        return None  # the file, the format or the mapping changed: start over
    return checkpoint


def _items(
    records: Iterator[Record], mapper, source: str, skip: int, done: int
) -> Iterator[tuple[Any, int, int, int]]:
    """Yield ``(post or rejected, offset, skip, records)``: the resume point *after* each item.

    ``skip`` items of the first record were committed before (a batch ended inside an X page). A record
    that gives no post (a page of X results that is empty) yields ``None`` so the resume point moves on.
    """
    for record in records:
        if record.error is not None:
            items: list = [Rejected(source, record.raw, record.error)]
        else:
            items = mapper(record.value)
        if not items:
            yield None, record.end, 0, done + 1
        last = len(items) - 1
        for index, item in enumerate(items):
            if index < skip:
                continue
            if index == last:
                yield item, record.end, 0, done + 1
            else:
                yield item, record.start, index + 1, done
        skip = 0
        done += 1


def import_file(
    db: sqlite_utils.Database,
    path_or_stdin: str | os.PathLike | BinaryIO,
    *,
    format: str = "auto",
    mapping: Sequence[str] | ColumnMapping | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress=None,
) -> ImportResult:
    """Import the posts of a CSV or JSONL file (``-`` or a binary stream: standard input) into ``db``.

    ``format`` is ``auto`` or a name of :data:`FORMATS`; ``mapping`` is ``--map`` strings (or parsed) for
    generic files. ``progress(step, bytes_done, bytes_total)`` is called after each batch. Raises
    :class:`FormatError` or :class:`MappingError` (usage errors, before anything is written) and
    ``FileNotFoundError``. See the module docstring for batches, checkpoints and resume.
    """
    spec = (
        parse_mapping(mapping) if mapping is not None and not isinstance(mapping, ColumnMapping) else mapping
    )
    if spec is not None and not spec.columns and not spec.constants:
        spec = None
    inp = _open_input(path_or_stdin)
    try:
        kind = sniff_kind(inp.head)
        first, header_end, started = _first(inp, kind)
        chosen = choose(format, kind, first, spec)
        return _run(db, inp, chosen, spec, first, header_end, started, batch_size, progress)
    finally:
        if inp.path is not None:
            inp.stream.close()


def _run(db, inp: _Input, chosen: FileFormat, spec, first, header_end, started, batch_size, progress):
    """Stream the records of an opened input into the store in batches, with checkpoints and a run row."""
    source = f"{SOURCE}:{inp.name}"
    key = str(inp.path) if inp.path is not None else None
    settings = {"format": chosen.name, "mapping": spec.describe() if spec else []}
    checkpoint = _resume_point(db, inp, key, settings)
    result = ImportResult(inp.name, chosen.name)
    offset, skip, done = header_end, 0, 0
    if checkpoint is not None:
        offset, skip, done = checkpoint["offset"], checkpoint["skip"], checkpoint["records"]
        result.resumed_records, result.resumed_offset = done, offset
    mapper = build_mapper(chosen, first if chosen.kind == "csv" else None, spec, source)
    records = started if started is not None else _records_from(inp, chosen.kind, offset)
    result.run_id = start_run(db, SOURCE, inp.name)
    try:
        state = _Batches(db, result, source, key, {**inp.fingerprint(), **settings}, progress, inp.size)
        for item, after, after_skip, after_done in _items(records, mapper, source, skip, done):
            state.add(item, (after, after_skip, after_done), batch_size)
        state.flush()
        state.finish()
        result.status = "ok"
    except BaseException as error:
        result.status = "partial" if isinstance(error, KeyboardInterrupt) else "failed"
        _finish(db, result, f"{type(error).__name__}: {error}")
        raise
    _finish(db, result, None)
    return result


def _finish(db, result: ImportResult, error: str | None) -> None:
    """Close the run row with this run's counts."""
    finish_run(
        db, result.run_id, status=result.status, fetched=result.fetched, new=result.inserted,
        duplicates=result.duplicates, quarantined=result.quarantined, error=error,
    )  # fmt: skip


class _Batches:
    """Collects items into batches and commits each with its checkpoint (``key`` None: no checkpoint)."""

    def __init__(
        self, db, result: ImportResult, source: str, key: str | None, base: dict, progress, size: int
    ):
        self.db, self.result, self.source, self.key, self.base = db, result, source, key, base
        self.progress, self.size = progress, size
        self.items: list = []
        self.cursor: tuple[int, int, int] | None = None

    def add(self, item: Any, cursor: tuple[int, int, int], batch_size: int) -> None:
        """Add one item (None: none) with the resume point after it; commit when the batch is full."""
        self.cursor = cursor
        self.result.records = cursor[2] - self.result.resumed_records
        if item is None:
            return
        self.items.append(item)
        if len(self.items) >= batch_size:
            self.flush()

    def _checkpoint(self, **extra: Any) -> dict[str, Any]:
        """The checkpoint value at the current cursor."""
        offset, skip, records = self.cursor or (0, 0, 0)
        return {**self.base, "offset": offset, "skip": skip, "records": records, **extra}

    def flush(self) -> None:
        """Commit the collected items and the checkpoint after them in one transaction."""
        if not self.items:
            return
        value = self._checkpoint() if self.key is not None else None

        def save(db, _posts) -> None:
            if value is not None:
                set_checkpoint(db, SOURCE, self.key, value)

        batch, self.items = self.items, []
        self.result.add(
            upsert_posts(
                self.db, batch, batch_size=len(batch), source=self.source, on_batch=save,
                run_id=self.result.run_id,
            )
        )  # fmt: skip
        if self.progress is not None:
            self.progress(f"import {self.result.name}", self.cursor[0], self.size)

    def finish(self) -> None:
        """Mark the checkpoint done: the next import of this file reads it all again (as duplicates)."""
        if self.key is None:
            return
        with transaction(self.db):
            if self.cursor is None:
                self.cursor = (self.size, 0, self.result.resumed_records)
            set_checkpoint(self.db, SOURCE, self.key, self._checkpoint(done=True))
