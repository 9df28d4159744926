"""``tasteradar collect``: a thin shell over :mod:`tasteradar.collect`.

Exit codes: 0 ok; 3 partial (some queries stopped early or failed; what was fetched is kept); 1 failed
(nothing could be collected); 2 bad input (unknown source, nothing enabled, a bad --every or --prune-since,
--prune-deleted with a source that cannot check deletions or with --every); 4 another collector (or another
prune) is already running on this database.
"""

from __future__ import annotations

from datetime import timedelta

import click

from store import to_iso, utc_now
from tasteradar import collect
from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options
from tasteradar.config import Config
from tasteradar.secrets import Secrets, load_secrets

EPILOG = (
    "Exit codes: 0 ok, 3 partial, 1 failed, 2 bad input, 4 another collector is running on this database."
)


@click.command("collect", epilog=EPILOG)
@click.option(
    "--source", "names", multiple=True, metavar="NAME",
    help="Run only this source (x, reddit, bluesky, mastodon); repeatable. Default: every enabled source.",
)  # fmt: skip
@click.option(
    "--every", metavar="INTERVAL",
    help="Keep running: collect every INTERVAL (15m, 1h, ...) until SIGTERM or Ctrl-C. Runs never overlap.",
)  # fmt: skip
@click.option(
    "--prune-deleted", is_flag=True,
    help="Instead of collecting: ask each source that can (x, reddit, bluesky) which stored posts the "
    "platform no longer has, and remove them with everything derived from them. No new posts are fetched.",
)  # fmt: skip
@click.option(
    "--prune-since", metavar="AGE",
    help="With --prune-deleted: check only posts created in the last AGE (30d, 12h, ...). Default: all.",
)  # fmt: skip
@shared_options
@friendly_errors
def collect_command(
    names: tuple[str, ...], every: str | None, prune_deleted: bool, prune_since: str | None
) -> None:
    """Collect new posts from the configured sources, each query from its checkpoint.

    One run of every enabled source (or only --source NAME), or with --every a long-running schedule.
    A source without its credentials is skipped with one log line; the others run. Prints one line per
    source and query; every run is recorded and shown by `tasteradar status`.

    With --prune-deleted it collects nothing: for each selected source that can check deletions it walks
    the stored posts of that platform (imported ones too; --prune-since limits them by age), asks the
    platform which are gone (deleted, or no longer public on X) and removes them, their search entries and
    every row derived from them. The ids removed are kept in the `deletions` table (no text), and a later
    collection or import does not store them again. Run it on its own schedule (daily, say): it takes its
    own lock, so it never blocks collection, and each check costs API requests (X: 1 per 100 posts).
    """
    ctx = click.get_current_context()
    if prune_since is not None and not prune_deleted:
        raise BadInput("--prune-since works only with --prune-deleted")
    if prune_deleted and every is not None:
        raise BadInput("--prune-deleted runs once: schedule it on its own (cron), not with --every")
    try:
        interval = collect.parse_interval(every) if every is not None else None
        age = collect.parse_age(prune_since) if prune_since is not None else None
    except ValueError as error:
        raise BadInput(str(error)) from error

    current = runtime()
    config = current.config()
    secrets = load_secrets(config.folder)
    try:
        collect.selected_sources(config, names)
        if prune_deleted:
            collect.prunable_sources(config, names)
    except collect.NothingToCollect as error:
        raise BadInput(str(error)) from error

    if prune_deleted:
        _prune(ctx, config, secrets, names, age)
    else:
        _collect(ctx, config, secrets, names, every, interval)


def _show(summary: collect.CollectSummary) -> None:
    """Print one line per source and query of a run."""
    for line in summary.lines():
        click.echo(line)


def _busy(ctx: click.Context, error: Exception) -> None:
    """Say another collector holds the lock, and exit with the busy code."""
    click.echo(f"tasteradar collect: {error}", err=True)
    ctx.exit(collect.EXIT_BUSY)


def _prune(
    ctx: click.Context, config: Config, secrets: Secrets, names: tuple[str, ...], age: float | None
) -> None:
    """One prune of deleted posts under its own lock; exits with the run's code."""
    since = None if age is None else to_iso(utc_now() - timedelta(seconds=age))
    try:
        with collect.CollectLock(config.database.path, kind="prune"):
            summary = collect.prune_once(config, secrets, names=names, created_since=since)
    except collect.CollectorBusy as error:
        _busy(ctx, error)
    _show(summary)
    ctx.exit(summary.exit_code)


def _collect(
    ctx: click.Context,
    config: Config,
    secrets: Secrets,
    names: tuple[str, ...],
    every: str | None,
    interval: float | None,
) -> None:
    """One collection run, or the schedule when ``interval`` is set, under the collect lock."""

    def run_once() -> collect.CollectSummary:
        return collect.collect_once(config, secrets, names=names)

    try:
        with collect.CollectLock(config.database.path):
            if interval is None:
                summary = run_once()
                _show(summary)
                ctx.exit(summary.exit_code)
            with collect.StopSignal() as stop:
                click.echo(
                    f"collect: every {every}; stop with Ctrl-C or SIGTERM (the current run finishes first)"
                )
                collect.run_schedule(run_once, interval, should_stop=stop, sleep=stop.sleep, on_summary=_show)
            click.echo("collect: stopped")
    except collect.CollectorBusy as error:
        _busy(ctx, error)
