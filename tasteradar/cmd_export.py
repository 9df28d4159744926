"""``tasteradar export``: annotated posts, topics, need themes and micro-segment members."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options

_WHERE_HELP = "Only posts where KEY=VALUE holds (repeat: all must hold). Keys: " + ", ".join(
    ["platform", "brand", "sentiment", "lang", "intent", "topic", "since", "until", "query", "author"]
)
_output_option = click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="File to write (default: standard output). A file appears only once complete.",
)  # fmt: skip


#: The format of the small tables (topics, themes): JSON by default.
_table_format_option = click.option(
    "--format", "fmt", type=click.Choice(["json", "csv", "jsonl", "parquet"]), default="json",
    show_default=True, help="One JSON array, CSV safe for spreadsheets, JSON Lines or Parquet.",
)  # fmt: skip


@click.group(name="export")
@shared_options
def export_command() -> None:
    """Export posts, topics and segments for campaign tools and analysts (JSONL, CSV, Parquet)."""


@export_command.command(name="posts")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True,
    help="JSON Lines, CSV safe for spreadsheets (formula cells neutralised), or Parquet.",
)  # fmt: skip
@click.option("--where", "where", multiple=True, metavar="KEY=VALUE", help=_WHERE_HELP)
@_output_option
@shared_options
@friendly_errors
def export_posts(fmt: str, where: tuple[str, ...], output: Path | None) -> None:
    """Write one record per annotated post: id, platform, author_handle, created_at, text, lang, brands,
    sentiment, sentiment_score, sentiment_by_brand, needs, intents, topic_id, topic_label.

    Run `tasteradar analyze` first; annotations not computed yet are empty. Example:
    tasteradar export posts --format csv --where brand=Volt --where since=2026-09-01 -o volt.csv
    """
    from nlp.export import POST_COLUMNS, parse_where, post_records

    try:
        post_filter = parse_where(where)
    except ValueError as error:
        raise BadInput(str(error)) from error
    count = _export(lambda conn: post_records(conn, post_filter), POST_COLUMNS, fmt, output)
    where_text = f" where {' and '.join(where)}" if where else ""
    click.echo(f"exported {count:,} posts{where_text} as {fmt} to {output or 'standard output'}", err=True)


@export_command.command(name="topics")
@_table_format_option
@_output_option
@shared_options
@friendly_errors
def export_topics(fmt: str, output: Path | None) -> None:
    """Write the topic table: id, label, status, terms, posts, share, the 7-day trend against the 28 days
    before, net sentiment, posts per brand, since when it is emerging, and its lineage across refits.

    Run `tasteradar analyze` first (it fits the topics). Example:
    tasteradar export topics --format csv -o topics.csv
    """
    from nlp.topics.export import TOPIC_COLUMNS, topic_records

    count = _export(topic_records, TOPIC_COLUMNS, fmt, output)
    click.echo(f"exported {count:,} topics as {fmt} to {output or 'standard output'}", err=True)


@export_command.command(name="themes")
@_table_format_option
@_output_option
@shared_options
@friendly_errors
def export_themes(fmt: str, output: Path | None) -> None:
    """Write the need-theme table: id, label, status, terms, need rows, the 7-day trend, net sentiment, the
    brands each is raised against, the competitors praised for it, and whether that is a competitor gap
    (raised against the own brand while a competitor is praised for it).

    Run `tasteradar analyze` first (it fits the themes). Example:
    tasteradar export themes --format csv -o themes.csv
    """
    from nlp.topics.theme_export import THEME_COLUMNS, theme_records

    own = runtime().config().brand.name
    count = _export(lambda conn: theme_records(conn, own), THEME_COLUMNS, fmt, output)
    click.echo(f"exported {count:,} need themes as {fmt} to {output or 'standard output'}", err=True)


def _export(records, columns, fmt: str, output: Path | None) -> int:
    """Write ``records(conn)`` over a read-only connection to ``output`` (or standard output)."""
    from store import open_db
    from store.exports import write_records

    if output is None and fmt == "parquet" and sys.stdout.isatty():
        raise BadInput("--format parquet writes binary data: give a file with -o FILE (or redirect stdout)")
    db = open_db(runtime().existing_database_path(), readonly=True)
    try:
        return write_records(records(db.conn), columns, fmt, output or sys.stdout.buffer)
    finally:
        db.close()


@export_command.command(name="segment")
@click.argument("segment_id", required=False, type=int, metavar="[ID]")
@click.option("--all", "all_segments", is_flag=True, help="Export every active customer segment.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet", "json", "jsonl"]), default="csv",
    show_default=True,
    help="CSV safe for spreadsheets (formula cells neutralised), Parquet, one JSON array or JSON Lines.",
)  # fmt: skip
@click.option(
    "--suppress", "suppress", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE", help="Do-not-contact list applied before anything is written (repeatable): customer ids "
    "and/or platform:handle, one a line, or a CSV with a customer_id and/or handle (and platform) header.",
)  # fmt: skip
@click.option(
    "--posts", "posts", type=click.IntRange(0, 50), default=3, show_default=True,
    help="Latest linked posts per member (0: none); past 500 X posts an export carries X post ids only.",
)  # fmt: skip
@_output_option
@shared_options
@friendly_errors
def export_segment(
    segment_id: int | None,
    all_segments: bool,
    fmt: str,
    suppress: tuple[Path, ...],
    posts: int,
    output: Path | None,
) -> None:
    """Write the members of micro-segment ID (or of every active customer segment with --all) for a campaign:
    customer_id, segment_id, segment_name, broad_segment, reason (top lift features), churn_risk, posts, and
    provenance (sources, queries, window_start, window_end, versions, run_id, content_hash, exported_at).

    Only customers who opted in a handle are exported; audience segments are aggregate-only. The summary
    (stderr) counts members left out for lack of consent and by the do-not-contact list; each export is
    recorded in the database (export_records) so `tasteradar forget` can remove a person from it. Example:
    tasteradar export segment 3 --suppress dnc.csv -o segment3.csv
    """
    from segments.export import SegmentExportError, export_segments, read_suppression
    from store import open_db

    if (segment_id is None) == (not all_segments):
        raise BadInput("give one segment ID or --all (not both); `tasteradar segments` lists the segments")
    if output is None and fmt == "parquet" and sys.stdout.isatty():
        raise BadInput("--format parquet writes binary data: give a file with -o FILE (or redirect stdout)")
    try:
        suppression = read_suppression(suppress)
    except ValueError as error:
        raise BadInput(str(error)) from error
    db = open_db(runtime().existing_database_path())
    try:
        export, export_id = export_segments(
            db,
            segment_id,
            fmt=fmt,
            out=output or sys.stdout.buffer,
            suppression=suppression,
            posts_per_member=posts,
        )
    except SegmentExportError as error:
        raise BadInput(str(error)) from error
    finally:
        db.close()
    _segment_summary(export, export_id, fmt, output, bool(suppress))


def _segment_summary(export, export_id: int, fmt: str, output: Path | None, suppressing: bool) -> None:
    """Print what an export wrote and what it left out to standard error."""
    from segments.export import X_TEXT_LIMIT

    count = len(export.segment_ids)
    segments = (
        f"segment {export.target}" if export.target != "all" else f"{count} segment{'s' * (count != 1)}"
    )
    click.echo(
        f"exported {len(export.records):,} members of {segments} as {fmt} to {output or 'standard output'} "
        f"(export record {export_id}, {export.content_hash})",
        err=True,
    )
    click.echo(
        f"left out: {export.no_consent:,} without consent, {export.suppressed:,} suppressed "
        f"(do-not-contact); {export.x_ids_only:,} X posts as ids only "
        f"(X terms: text for the first {X_TEXT_LIMIT})",
        err=True,
    )
    if suppressing and export.unmatched_suppression:
        click.echo(
            f"warning: {export.unmatched_suppression:,} do-not-contact entries match no customer id or "
            "platform:handle in the database; check the file's form",
            err=True,
        )
