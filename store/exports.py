"""Writing exported records: JSON Lines, JSON, CSV safe for spreadsheets, Parquet; streamed, chunk by chunk.

Every export of tasteradar (annotated posts, topics, segment members) goes through :func:`write_records`, so
the safety rules live in one place:

- **CSV is spreadsheet-safe.** A cell a spreadsheet would run as a formula (text starting with ``=``,
  ``+``, ``-``, ``@``, a tab, a carriage return or a line feed, also after leading spaces, and their
  full-width forms) gets a leading ``'``, which spreadsheets show as text and never evaluate; quoting
  alone does not do it (OWASP "CSV injection"). Lists and objects are written as JSON text, then
  neutralised like any other text.
- **JSON Lines, JSON and Parquet keep values exact** (they are read by programs, not spreadsheets): lists stay
  lists, objects stay objects (Parquet: ``map<string, string>``), text is written as it is. ``json`` is one
  array of the records (for small tables such as topics); ``jsonl`` one record per line.

Records are dicts with the same keys, in :class:`Column` order; numbers stay numbers in every format. Memory
holds one chunk of records at a time (Parquet writes one row group per chunk).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO, Literal

from store.text import to_json

__all__ = ["FORMATS", "Column", "neutralize", "write_records"]

#: The export formats: JSON Lines, a JSON array, spreadsheet-safe CSV, Parquet.
FORMATS = ("jsonl", "json", "csv", "parquet")
ColumnType = Literal["string", "int", "float", "bool", "list", "map"]
_FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")  # and full-width = + - @


@dataclass(frozen=True, slots=True)
class Column:
    """One exported field: its name and type (``list``: of strings; ``map``: string to string)."""

    name: str
    type: ColumnType = "string"


def neutralize(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula, else unchanged."""
    stripped = value.lstrip(" ")
    if stripped and stripped[0] in _FORMULA_START:
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    """A CSV cell: None empty, numbers as they are, lists and maps as JSON, every text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | tuple | dict):
        value = to_json(value)
    return neutralize(str(value))


def _chunks(records: Iterable[dict], size: int) -> Iterator[list[dict]]:
    """``records`` in lists of at most ``size``."""
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _write_jsonl(records: Iterable[dict], columns: Sequence[Column], out: BinaryIO) -> int:
    count = 0
    for record in records:
        out.write(to_json({column.name: record.get(column.name) for column in columns}).encode("utf-8"))
        out.write(b"\n")
        count += 1
    return count


def _write_json(records: Iterable[dict], columns: Sequence[Column], out: BinaryIO) -> int:
    count = 0
    out.write(b"[")
    for record in records:
        out.write(b",\n" if count else b"\n")
        out.write(to_json({column.name: record.get(column.name) for column in columns}).encode("utf-8"))
        count += 1
    out.write(b"\n]\n")
    return count


def _write_csv(records: Iterable[dict], columns: Sequence[Column], out: BinaryIO, chunk: int) -> int:
    count = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(column.name) for column in columns])
    for part in _chunks(records, chunk):
        writer.writerows([[_csv_cell(record.get(column.name)) for column in columns] for record in part])
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
        count += len(part)
    out.write(buffer.getvalue().encode("utf-8"))
    return count


def _arrow_schema(columns: Sequence[Column]):
    import pyarrow as pa

    types = {
        "string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
        "list": pa.list_(pa.string()), "map": pa.map_(pa.string(), pa.string()),
    }  # fmt: skip
    return pa.schema([pa.field(column.name, types[column.type]) for column in columns])


def _arrow_value(value: Any, column: Column) -> Any:
    if column.type == "map" and isinstance(value, dict):
        return [(str(key), None if item is None else str(item)) for key, item in value.items()]
    return value


def _write_parquet(records: Iterable[dict], columns: Sequence[Column], out: BinaryIO, chunk: int) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(columns)
    count = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for part in _chunks(records, chunk):
            arrays = {
                column.name: [_arrow_value(record.get(column.name), column) for record in part]
                for column in columns
            }
            writer.write_table(pa.Table.from_pydict(arrays, schema=schema))
            count += len(part)
        if count == 0:
            writer.write_table(schema.empty_table())
    return count


def write_records(
    records: Iterable[dict],
    columns: Sequence[Column],
    fmt: str,
    out: BinaryIO | str | Path,
    *,
    chunk: int = 5_000,
) -> int:
    """Write ``records`` (dicts keyed by column name) to ``out`` in ``fmt``; return how many were written.

    ``out`` is a binary stream (standard output's ``.buffer``, an open file) or a path, written to a
    ``.partial`` file first and renamed when complete, so an interrupted export never leaves a file that
    looks finished.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if isinstance(out, str | Path):
        target = Path(out)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as stream:
            count = write_records(records, columns, fmt, stream, chunk=chunk)
        partial.replace(target)
        return count
    if fmt == "jsonl":
        return _write_jsonl(records, columns, out)
    if fmt == "json":
        return _write_json(records, columns, out)
    if fmt == "csv":
        return _write_csv(records, columns, out, chunk)
    return _write_parquet(records, columns, out, chunk)
