"""Importing CRM files: customers (``customers``) and the handles they recorded (``customer_handles``).

Two file forms, told apart by the header (or ``kind=``):

- **crm**: one customer per row. Columns fill :data:`CRM_FIELDS`; headers are recognised whatever their case
  and punctuation (``customerID``, ``tenure``, ``MonthlyCharges``, ``Churn`` of the IBM telco churn table;
  ``customer_id`` ... of the demo's ``crm.csv``), and ``--map COLUMN=FIELD`` names any other column. Every
  column not mapped goes into ``attributes``, typed: whole and decimal numbers as numbers, Yes/No and
  true/false as booleans, blank as None, anything else as text.
- **handles**: ``customer_id, platform, handle, consent, consent_source, consent_date``. ``consent`` must be
  yes/no, true/false or 1/0 (anything else, blank included, is a bad row: never taken as consent); the
  handle is stored normalised for its platform (:func:`customers.linking.platform_handle`).

The file is streamed, ``batch_size`` rows per transaction. A bad row never stops the file: it goes to
``quarantine`` (source ``customers:<file name>``, the row as received, the reason) in its batch's
transaction and the rest lands. A handle of a customer not in the database is such a bad row.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

import sqlite_utils

from customers.linking import normalize_platform, platform_handle
from store import Customer, CustomerHandle, to_iso, upsert_customers, upsert_handles, utc_now
from store.ids import check_native_id
from store.runs import QUARANTINE_SQL, quarantine_row
from store.transactions import transaction

KINDS = ("crm", "handles")
CRM_FIELDS = (
    "customer_id", "broad_segment", "plan", "contract", "tenure_months", "monthly_charge", "total_charges",
    "churned",
)  # fmt: skip
HANDLE_FIELDS = ("customer_id", "platform", "handle", "consent", "consent_source", "consent_date")
REQUIRED = {"crm": ("customer_id",), "handles": ("customer_id", "platform", "handle", "consent")}
DEFAULT_BATCH_SIZE = 2000
MAX_REASONS = 5

#: Header names (lower case, letters and digits only) recognised without ``--map``, per field.
_ALIASES = {
    "customer_id": ("customerid", "custid", "customer"),
    "broad_segment": ("broadsegment", "segment"),
    "plan": ("plan",),
    "contract": ("contract",),
    "tenure_months": ("tenuremonths", "tenure"),
    "monthly_charge": ("monthlycharge", "monthlycharges"),
    "total_charges": ("totalcharges", "totalcharge"),
    "churned": ("churned", "churn"),
    "platform": ("platform", "network"),
    "handle": ("handle", "username", "screenname"),
    "consent": ("consent", "optin", "optedin"),
    "consent_source": ("consentsource",),
    "consent_date": ("consentdate",),
}
_FLAGS = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}
_INT = re.compile(r"[+-]?(?:0|[1-9]\d*)")
_DECIMAL = re.compile(r"[+-]?(?:0|[1-9]\d*)?\.\d+(?:[eE][+-]?\d+)?|[+-]?(?:0|[1-9]\d*)[eE][+-]?\d+")


class CustomerImportError(ValueError):
    """A file or mapping that cannot be imported at all; the message says what to fix."""


@dataclass
class ImportReport:
    """What one import did: rows read, customers or handles new and updated, rows quarantined (with the
    first :data:`MAX_REASONS` reasons), and the column of each field."""

    name: str
    kind: str
    mapping: dict[str, str]
    rows: int = 0
    imported: int = 0
    updated: int = 0
    quarantined: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    line: int
    raw: dict[str, str]
    record: Customer | CustomerHandle | None = None
    reason: str | None = None


def _header_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def parse_map(specs: Iterable[str], kind: str) -> dict[str, str]:
    """Parse ``COLUMN=FIELD`` strings into ``{field: column}``; raise :class:`CustomerImportError` naming
    the bad one and the fields of ``kind``."""
    fields = CRM_FIELDS if kind == "crm" else HANDLE_FIELDS
    mapping: dict[str, str] = {}
    for spec in specs:
        column, sep, name = spec.rpartition("=")
        column, name = column.strip(), name.strip()
        if not sep or not column or not name:
            raise CustomerImportError(
                f"--map {spec!r}: expected COLUMN=FIELD, for example --map ID=customer_id"
            )
        if name not in fields:
            raise CustomerImportError(
                f"--map {spec!r}: unknown {kind} field {name!r}; fields: {', '.join(fields)}"
            )
        if name in mapping:
            raise CustomerImportError(f"--map {spec!r}: field {name!r} is mapped twice")
        mapping[name] = column
    return mapping


def detect_kind(header: list[str]) -> str:
    """Return ``handles`` when the header has the handle file's required columns, else ``crm``."""
    keys = {_header_key(column) for column in header}
    has = all(any(alias in keys for alias in _ALIASES[name]) for name in REQUIRED["handles"])
    return "handles" if has else "crm"


def resolve_mapping(header: list[str], kind: str, explicit: dict[str, str]) -> dict[str, str]:
    """Return ``{field: column}``: the explicit ``--map`` entries, then recognised headers for the rest.

    Raises :class:`CustomerImportError` for a mapped column not in the header or a required field with
    no column, listing the file's columns.
    """
    hint = f" (columns in this file: {', '.join(header)})"
    unknown = [column for column in explicit.values() if column not in header]
    if unknown:
        raise CustomerImportError(f"no column {', '.join(map(repr, unknown))} in the header{hint}")
    mapping = dict(explicit)
    used = set(explicit.values())
    by_key = {_header_key(column): column for column in reversed(header)}
    for name in CRM_FIELDS if kind == "crm" else HANDLE_FIELDS:
        if name in mapping:
            continue
        found = next(
            (by_key[alias] for alias in _ALIASES[name] if by_key.get(alias) not in (None, *used)), None
        )
        if found is not None:
            mapping[name] = found
            used.add(found)
    missing = [name for name in REQUIRED[kind] if name not in mapping]
    if missing:
        adds = " ".join(f"--map COLUMN={name}" for name in missing)
        raise CustomerImportError(f"the {kind} file has no column for {', '.join(missing)}: add {adds}{hint}")
    return mapping


def typed(value: str | None) -> Any:
    """Return a CRM cell as a value: None (blank), bool (yes/no, true/false), int, float, or the text."""
    text = (value or "").strip()
    if not text:
        return None
    flag = _FLAGS.get(text.lower())
    if flag is not None and not text.isdigit():
        return flag
    if _INT.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text


def _blank(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _flag(name: str, value: str | None, *, required: bool) -> bool | None:
    text = (value or "").strip().lower()
    if not text and not required:
        return None
    if text not in _FLAGS:
        raise ValueError(f"{name} must be yes/no, true/false or 1/0, got {value!r}")
    return _FLAGS[text]


def _number(name: str, value: str | None, kind: type) -> int | float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if kind is int:
        if not number.is_integer() or number < 0:
            raise ValueError(f"{name} must be a whole number of months (0 or more), got {value!r}")
        return int(number)
    return number


def _customer_id(raw: dict[str, str], column: str) -> str:
    value = (raw.get(column) or "").strip()
    problem = check_native_id("customer_id", value)
    if problem:
        raise ValueError(problem)
    return value


def crm_record(raw: dict[str, str], mapping: dict[str, str], source: str) -> Customer:
    """Return the :class:`Customer` of one CRM row; raise ``ValueError`` saying which cell is wrong."""
    get = {name: raw.get(column) for name, column in mapping.items()}
    mapped = set(mapping.values())
    return Customer(
        customer_id=_customer_id(raw, mapping["customer_id"]),
        broad_segment=_blank(get.get("broad_segment")),
        plan=_blank(get.get("plan")),
        contract=_blank(get.get("contract")),
        tenure_months=_number("tenure_months", get.get("tenure_months"), int),
        monthly_charge=_number("monthly_charge", get.get("monthly_charge"), float),
        total_charges=_number("total_charges", get.get("total_charges"), float),
        churned=_flag("churned", get.get("churned"), required=False),
        attributes={column: typed(value) for column, value in raw.items() if column not in mapped},
        source=source,
    )


def handle_record(raw: dict[str, str], mapping: dict[str, str], _source: str) -> CustomerHandle:
    """Return the :class:`CustomerHandle` of one handles row; raise ``ValueError`` saying what is wrong."""
    get = {name: raw.get(column) for name, column in mapping.items()}
    platform = normalize_platform(get["platform"] or "")
    if not platform:
        raise ValueError("platform is empty")
    handle = platform_handle(platform, get["handle"] or "")
    if not handle:
        raise ValueError("handle is empty")
    if any(char.isspace() for char in handle):
        raise ValueError("handle contains spaces: a handle is the account name, not a display name")
    when = _blank(get.get("consent_date"))
    if when is not None:
        try:
            when = date.fromisoformat(when[:10]).isoformat()
        except ValueError:
            raise ValueError(f"consent_date must be YYYY-MM-DD, got {when!r}") from None
    return CustomerHandle(
        customer_id=_customer_id(raw, mapping["customer_id"]), platform=platform, handle=handle,
        consent=_flag("consent", get["consent"], required=True),
        consent_source=_blank(get.get("consent_source")), consent_date=when,
    )  # fmt: skip


def _rows(lines: Iterator[list[str]], header: list[str], make: Callable, mapping, source) -> Iterator[_Row]:
    """Parse each CSV line into a :class:`_Row` holding its record or the reason it cannot be used."""
    for cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        line = lines.line_num  # type: ignore[attr-defined]
        raw = dict(zip(header, cells, strict=False))
        if len(cells) != len(header):
            extra = {f"extra_{n}": cell for n, cell in enumerate(cells[len(header) :], 1)}
            reason = f"line {line}: {len(cells)} cells where the header has {len(header)}"
            yield _Row(line, {**raw, **extra}, reason=reason)
            continue
        try:
            yield _Row(line, raw, record=make(raw, mapping, source))
        except ValueError as error:
            yield _Row(line, raw, reason=f"line {line}: {error}")


def _key(record: Customer | CustomerHandle) -> tuple:
    if isinstance(record, Customer):
        return (record.customer_id,)
    return (record.platform, record.handle, record.customer_id)


def _known(conn: sqlite3.Connection, kind: str, records: list) -> set[tuple]:
    """The keys among ``records`` already stored (customers, or handles)."""
    if kind == "crm":
        sql = "SELECT customer_id FROM customers WHERE customer_id IN (SELECT value FROM json_each(?))"
        return {tuple(row) for row in conn.execute(sql, [json.dumps([r.customer_id for r in records])])}
    sql = (
        "SELECT h.platform, h.handle, h.customer_id FROM json_each(?) AS j JOIN customer_handles AS h "
        "ON h.platform = json_extract(j.value, '$[0]') AND h.handle = json_extract(j.value, '$[1]') "
        "AND h.customer_id = json_extract(j.value, '$[2]')"
    )
    return {tuple(row) for row in conn.execute(sql, [json.dumps([_key(r) for r in records])])}


def _without_unknown_customers(conn: sqlite3.Connection, rows: list[_Row]) -> None:
    """Turn the handle rows whose customer is not stored into bad rows (in place)."""
    ids = json.dumps([row.record.customer_id for row in rows if row.record is not None])
    sql = "SELECT customer_id FROM customers WHERE customer_id IN (SELECT value FROM json_each(?))"
    known = {row[0] for row in conn.execute(sql, [ids])}
    for row in rows:
        if row.record is not None and row.record.customer_id not in known:
            row.reason = (
                f"line {row.line}: customer {row.record.customer_id!r} is not in the CRM: import it first"
            )
            row.record = None


def _upsert(db: sqlite_utils.Database, kind: str, rows: list[_Row]) -> None:
    """Write the rows' records; when the store refuses the batch, retry one by one and mark the refused."""
    write = upsert_customers if kind == "crm" else upsert_handles
    good = [row for row in rows if row.record is not None]
    try:
        write(db, [row.record for row in good])
        return
    except (ValueError, sqlite3.IntegrityError):
        pass
    for row in good:
        try:
            write(db, [row.record])
        except (ValueError, sqlite3.IntegrityError) as error:
            row.reason, row.record = f"line {row.line}: {error}", None


def _write_batch(
    db: sqlite_utils.Database, kind: str, rows: list[_Row], source: str, report: ImportReport
) -> None:
    """Write one batch and its quarantine rows in one transaction, and count them in ``report``."""
    with transaction(db) as conn:
        if kind == "handles":
            _without_unknown_customers(conn, rows)
        records = [row.record for row in rows if row.record is not None]
        seen = _known(conn, kind, records) if records else set()
        _upsert(db, kind, rows)
        now = to_iso(utc_now())
        bad = [row for row in rows if row.record is None]
        conn.executemany(
            QUARANTINE_SQL, [quarantine_row(source, row.raw, row.reason, None, now) for row in bad]
        )
    for row in rows:
        if row.record is None:
            report.quarantined += 1
            if len(report.reasons) < MAX_REASONS:
                report.reasons.append(row.reason)
            continue
        key = _key(row.record)
        report.updated += key in seen
        report.imported += key not in seen
        seen.add(key)
    report.rows += len(rows)


def import_customers(
    db: sqlite_utils.Database,
    path: str | Path,
    *,
    mapping: Iterable[str] = (),
    kind: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ImportReport:
    """Import the CRM or handles CSV at ``path`` into ``db``; return an :class:`ImportReport`.

    ``kind`` (``crm`` or ``handles``) defaults to what the header says; ``mapping`` holds ``COLUMN=FIELD``
    strings. Raises :class:`CustomerImportError` when the file has no header, a mapping is wrong or a
    required column is missing (nothing is written then); bad rows are quarantined, never raised.
    """
    if kind is not None and kind not in KINDS:
        raise CustomerImportError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise CustomerImportError(f"batch_size must be a positive integer, got {batch_size!r}")
    path = Path(path)
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        lines = csv.reader(stream)
        header = [column.strip() for column in next(lines, [])]
        if not any(header):
            raise CustomerImportError(f"{path}: the file is empty; expected a CSV with a header line")
        if len(set(header)) != len(header):
            raise CustomerImportError(f"{path}: the header names a column twice: {', '.join(header)}")
        kind = kind or detect_kind(header)
        fields = resolve_mapping(header, kind, parse_map(mapping, kind))
        source = f"customers:{path.name}"
        report = ImportReport(path.name, kind, fields)
        make = crm_record if kind == "crm" else handle_record
        rows = _rows(lines, header, make, fields, path.name)
        while batch := list(islice(rows, batch_size)):
            _write_batch(db, kind, batch, source, report)
    return report
