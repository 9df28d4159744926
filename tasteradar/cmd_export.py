"""``tasteradar export``: annotated posts, topics and need themes; segments when their stage lands."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options

NOT_BUILT_EXIT = 2
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


def _later(name: str, what: str, issue: str) -> click.Command:
    """An export subcommand of a stage that a later issue builds: says so and exits 2."""

    @click.pass_context
    def command(ctx: click.Context, args: tuple[str, ...]) -> None:
        click.echo(f"tasteradar export {name}: not built yet ({issue}). Nothing was done.", err=True)
        ctx.exit(NOT_BUILT_EXIT)

    command.__doc__ = f"Export {what}. [not built yet: {issue}]"
    command = click.argument("args", nargs=-1, type=click.UNPROCESSED)(command)
    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.command(name=name, context_settings=settings)(shared_options(command))


export_command.add_command(
    _later("segment", "micro-segment members for campaigns", "the customers and segments issue")
)
