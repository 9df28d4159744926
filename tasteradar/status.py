"""``tasteradar status``: what is in the database, when each source last ran, and how fresh the data is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from store import open_db
from store.queries import freshness, last_runs, table_counts


@dataclass(frozen=True)
class StatusReport:
    """Everything ``status`` prints, as data (the CLI formats it; tests read it)."""

    db_path: Path
    size_bytes: int
    schema_version: int
    counts: dict[str, int]
    runs: list[dict]
    freshness: list[dict]


def status_report(db_path: Path) -> StatusReport:
    """Read counts per table, the last run per source and query, and freshness per platform.

    Opening the file applies pending migrations (that is how an older database is brought up to date);
    status itself only reads.
    """
    if not db_path.exists():
        raise FileNotFoundError(
            f"no database at {db_path}: run `tasteradar demo` for the demo world, or set database.path"
        )
    db = open_db(db_path)
    try:
        version = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
        return StatusReport(
            db_path=db_path,
            size_bytes=_file_size(db_path),
            schema_version=version,
            counts=table_counts(db),
            runs=last_runs(db),
            freshness=freshness(db),
        )
    finally:
        db.close()


def _file_size(db_path: Path) -> int:
    """Size of the database with its write-ahead log, in bytes."""
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def format_status(report: StatusReport) -> str:
    """Render a report as plain aligned text for a terminal or a log."""
    size_mb = report.size_bytes / 1_000_000
    lines = [
        f"Database: {report.db_path} ({size_mb:.1f} MB, schema v{report.schema_version})",
        "",
        _table(["table", "rows"], [[name, f"{n:,}"] for name, n in report.counts.items()]),
        "",
        "Last collection runs:",
    ]
    if report.runs:
        keys = [
            "source",
            "query",
            "status",
            "finished_at",
            "fetched",
            "new",
            "duplicates",
            "quarantined",
            "deleted",
        ]
        lines.append(_table(keys, [[_cell(run.get(k)) for k in keys] for run in report.runs]))
    else:
        lines.append("  none yet (`tasteradar collect` records one row per source and query)")
    lines += ["", "Data freshness:"]
    if report.freshness:
        keys = list(report.freshness[0])
        lines.append(_table(keys, [[_cell(row.get(k)) for k in keys] for row in report.freshness]))
    else:
        lines.append("  no posts yet")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    out = []
    for row in [header, *rows]:
        out.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())
    return "\n".join(out)
