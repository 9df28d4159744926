"""Streaming readers of JSONL and CSV files that know the byte offset after every record.

Both readers take a binary stream, never load the file and never hold more than one record (plus one read
chunk) in memory. Bytes are decoded per line or per record, so invalid UTF-8 fails that record with a reason
instead of the whole import. Every record carries ``start`` and ``end``: the byte offsets of its first byte
and of the byte after it, so an import can commit ``end`` as its checkpoint and later resume by seeking there.

CSV follows the ``csv`` module with ``newline=''`` (quoted fields may hold LF, CRLF or CR; CRLF line ends are
fine) because lines are handed to ``csv.reader`` exactly as they are in the file. One repair goes further: a
bare CR inside an *unquoted* field (pandas writes such rows unquoted; ``twcs_head5000.csv`` has one) makes
``csv.reader`` fail; the record is parsed again with the CRs kept inside the field, as in the file.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

#: Bytes read per ``read`` call.
CHUNK_SIZE = 1 << 20
#: A longer line (or CSV field) is malformed: it is quarantined, truncated, and the reader goes on.
MAX_RECORD_BYTES = 32 << 20
#: At most this much of a malformed record is kept for its quarantine row.
MAX_RAW_KEPT = 64 << 10
BOM = b"\xef\xbb\xbf"

# A high surrogate escape not followed by a low one, or a low one not preceded by a high one. A valid pair
# (``\ud83d\ude00``, how ``json.dumps`` writes an emoji) does not match; a hit is then checked exactly.
_LONE_SURROGATE_ESCAPE = re.compile(
    r"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_BARE_CR = re.compile(r"\r(?!\n)")
_CR_STANDIN = "\ue000"  # a private-use character: stands in for a bare CR while csv parses the record


def raise_field_size_limit(limit: int = MAX_RECORD_BYTES) -> None:
    """Let ``csv`` read fields up to ``limit`` characters (its default of 131,072 is too small for posts).

    The limit stays bounded on purpose: a field with an unbalanced quote is cut there and quarantined
    instead of swallowing the rest of a 5 GB file into memory.
    """
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)


@dataclass(slots=True)
class Record:
    """One JSONL line or CSV record: ``value`` (parsed), or ``error`` (the reason) with ``raw`` as read.

    ``value`` is a JSON value for JSONL and the list of fields for CSV. ``start``/``end`` are byte offsets.
    """

    value: Any
    start: int
    end: int
    error: str | None = None
    raw: Any = None


def iter_lines(stream: BinaryIO, offset: int = 0, *, prefix: bytes = b"") -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(line, start, end)`` for each LF-terminated line of ``stream`` (the LF stays in ``line``).

    ``offset`` is the byte offset the stream is at; ``prefix`` holds bytes already read from it (the
    format detection peeks at the start of standard input). A line longer than :data:`MAX_RECORD_BYTES`
    is yielded cut to :data:`MAX_RAW_KEPT` bytes and without its LF; its ``end`` still skips all of it.
    """
    carry = b""
    start = offset - len(prefix)
    overflow_start: int | None = None
    for chunk in _chunks(stream, prefix):
        data = carry + chunk if carry else chunk
        parts = data.split(b"\n")
        carry = parts.pop()
        for part in parts:
            end = start + len(part) + 1
            if overflow_start is not None:
                yield b"", overflow_start, end
                overflow_start = None
            else:
                yield part + b"\n", start, end
            start = end
        if len(carry) > MAX_RECORD_BYTES:
            if overflow_start is None:
                overflow_start = start
                yield carry[:MAX_RAW_KEPT], start, -1  # -1: the rest of this line is skipped
            start += len(carry)
            carry = b""
    if carry and overflow_start is None:
        yield carry, start, start + len(carry)
    elif overflow_start is not None:
        yield b"", overflow_start, start + len(carry)


def _chunks(stream: BinaryIO, prefix: bytes) -> Iterator[bytes]:
    """Yield ``prefix`` (when not empty), then the stream's bytes, :data:`CHUNK_SIZE` at a time."""
    if prefix:
        yield prefix
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def _too_long(start: int) -> str:
    """The reason given for a line or record longer than :data:`MAX_RECORD_BYTES`."""
    return f"record at byte {start:,} is longer than {MAX_RECORD_BYTES:,} bytes (a missing newline or quote?)"


def _decode_error(data: bytes, error: UnicodeDecodeError) -> str:
    """A readable reason for bytes that are not UTF-8."""
    bad = data[error.start : error.end]
    return f"invalid UTF-8 (byte {bad.hex(' ')} at position {error.start} of the record): {error.reason}"


def read_jsonl(stream: BinaryIO, offset: int = 0, *, prefix: bytes = b"") -> Iterator[Record]:
    """Yield one :class:`Record` per non-blank line of a JSON Lines stream.

    A line that is not UTF-8, not JSON (a truncated last line, say) or holds a lone surrogate escape
    (``"\\ud83d"`` with no partner: text cut inside an emoji) is yielded with ``error`` set.
    """
    pending: tuple[bytes, int] | None = None
    for line, start, end in iter_lines(stream, offset, prefix=prefix):
        if end == -1:
            pending = (line, start)
            continue
        if pending is not None:
            yield Record(None, pending[1], end, _too_long(pending[1]), pending[0])
            pending = None
            continue
        if start == 0 and line.startswith(BOM):
            line = line[len(BOM) :]
        if not line.strip():
            continue
        yield _jsonl_record(line, start, end)


def _jsonl_record(line: bytes, start: int, end: int) -> Record:
    """Decode and parse one JSONL line into a :class:`Record` (with ``error`` when it is malformed)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        return Record(None, start, end, _decode_error(line, error), line)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return Record(None, start, end, f"invalid JSON (truncated line?): {error}", text)
    if _LONE_SURROGATE_ESCAPE.search(text):
        lone = lone_surrogate(value)
        if lone is not None:
            return Record(
                None, start, end, f"lone surrogate \\u{ord(lone):04x} in the text (cut emoji?)", text
            )
    return Record(value, start, end)


def lone_surrogate(value: Any) -> str | None:
    """Return the first lone surrogate character found in the strings of ``value``, or None."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return None
    except UnicodeEncodeError as error:
        return error.object[error.start]


class _LineFeed:
    """Feeds decoded lines to ``csv.reader``; keeps the end offset and raw text of the current record."""

    def __init__(self, lines: Iterator[tuple[bytes, int, int]]) -> None:
        self._lines = lines
        self.end = 0
        self.parts: list[str] = []
        self.kept = 0
        self.error: str | None = None

    def reset(self) -> None:
        """Start a new record."""
        self.parts, self.kept, self.error = [], 0, None

    def __iter__(self) -> Iterator[str]:
        for line, start, end in self._lines:
            if end == -1:
                self.error = self.error or _too_long(start)
                continue
            if start == 0 and line.startswith(BOM):
                line = line[len(BOM) :]
            self.end = end
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                self.error = self.error or _decode_error(line, error)
                text = line.decode("utf-8", "replace")
            if self.kept < MAX_RAW_KEPT:
                self.parts.append(text)
                self.kept += len(text)
            yield text


def read_csv(stream: BinaryIO, offset: int = 0, *, prefix: bytes = b"") -> Iterator[Record]:
    """Yield one :class:`Record` per CSV record (``value`` is its list of fields); blank lines are skipped.

    A record that is not UTF-8, that ``csv`` cannot parse, or that is longer than :data:`MAX_RECORD_BYTES`
    is yielded with ``error`` set and its text as ``raw``. Checking the number of fields is the caller's job.
    """
    raise_field_size_limit()
    feed = _LineFeed(iter_lines(stream, offset, prefix=prefix))
    reader = csv.reader(feed)
    start = offset
    while True:
        feed.reset()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            fields = _reparse_bare_cr(feed.parts) if "\r" in "".join(feed.parts) else None
            if fields is None:
                raw = "".join(feed.parts)
                yield Record(None, start, feed.end, feed.error or f"CSV error: {error}", raw)
                start = feed.end
                continue
        if feed.error:
            yield Record(None, start, feed.end, feed.error, "".join(feed.parts))
        elif fields:
            yield Record(fields, start, feed.end)
        start = feed.end


def _reparse_bare_cr(parts: list[str]) -> list[str] | None:
    """Parse a record whose unquoted field holds a bare CR, keeping the CR in the field; None if it fails."""
    text = _BARE_CR.sub(_CR_STANDIN, "".join(parts))
    try:
        rows = list(csv.reader([text]))
    except csv.Error:
        return None
    if len(rows) != 1:
        return None
    return [field.replace(_CR_STANDIN, "\r") for field in rows[0]]
