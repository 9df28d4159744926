"""``tasteradar import PATH``: a thin shell over :func:`collectors.files.import_file`."""

from __future__ import annotations

import click

from collectors.files import DEFAULT_BATCH_SIZE, FORMATS, FormatError, ImportResult, MappingError, import_file
from tasteradar.clikit import friendly_errors, runtime, shared_options
from tasteradar.progress import reporter

FORMAT_CHOICES = ["auto", *FORMATS]


def summary(result: ImportResult) -> str:
    """One line saying what an import did (counts of this run; a resumed run says where it resumed)."""
    parts = [f"{result.inserted:,} imported", f"{result.duplicates:,} duplicates"]
    if result.updated:
        parts[-1] += f" ({result.updated:,} updated)"
    parts.append(f"{result.quarantined:,} quarantined")
    records = f"{result.records:,} record{'' if result.records == 1 else 's'}"
    line = f"{result.name} ({result.format}): " + ", ".join(parts) + f" from {records}."
    if result.resumed_records:
        line += (
            f" Resumed after {result.resumed_records:,} records (byte {result.resumed_offset:,}) "
            "committed by an earlier, interrupted import."
        )
    return line


@click.command(name="import")
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMAT_CHOICES),
    default="auto",
    show_default=True,
    help="File format; auto detects it from the header or the first record.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="For any other CSV/JSONL: fill a Post field from a column (repeat). Needs native_id, text and "
    "created_at; platform=x, lang=en or query=... set a constant (platform defaults to 'file').",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Posts per transaction (each batch commits with its checkpoint).",
)
@shared_options
@friendly_errors
def import_command(path: str, file_format: str, mapping: tuple[str, ...], batch_size: int) -> None:
    """Import posts from a CSV or JSONL file (PATH, or - for standard input).

    Known formats are detected: X API v2 JSONL, the airline tweets CSV, Customer Support on Twitter and
    the Reddit CSV export; any other file needs --map. Malformed records go to quarantine with their
    reason. An interrupted import of a file resumes where it stopped (standard input cannot); importing a
    finished file again counts its posts as duplicates.
    """
    from store import open_db

    db = open_db(runtime().database_path())
    try:
        with reporter() as progress:
            result = import_file(
                db, path, format=file_format, mapping=list(mapping) or None, batch_size=batch_size,
                progress=progress,
            )  # fmt: skip
    except (FormatError, MappingError) as error:
        raise click.UsageError(str(error)) from error
    finally:
        db.close()
    click.echo(summary(result))
