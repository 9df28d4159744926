"""``tasteradar collect``: a thin shell over :mod:`tasteradar.collect`.

Exit codes: 0 ok; 3 partial (some queries stopped early or failed; what was fetched is kept); 1 failed
(nothing could be collected); 2 bad input (unknown source, nothing enabled, a bad --every, --prune-deleted);
4 another collector is already running on this database.
"""

from __future__ import annotations

import click

from tasteradar import collect
from tasteradar.clikit import BadInput, friendly_errors, runtime, shared_options

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
    help="Remove posts the platforms report deleted (not built yet: exits 2 and does nothing).",
)  # fmt: skip
@shared_options
@friendly_errors
def collect_command(names: tuple[str, ...], every: str | None, prune_deleted: bool) -> None:
    """Collect new posts from the configured sources, each query from its checkpoint.

    One run of every enabled source (or only --source NAME), or with --every a long-running schedule.
    A source without its credentials is skipped with one log line; the others run. Prints one line per
    source and query; every run is recorded and shown by `tasteradar status`.
    """
    ctx = click.get_current_context()
    if prune_deleted:
        click.echo(
            "tasteradar collect --prune-deleted: not built yet; removing posts the platforms report deleted "
            "(and everything derived from them) is still to do. Nothing was done.",
            err=True,
        )
        ctx.exit(collect.EXIT_BAD_INPUT)
    try:
        interval = collect.parse_interval(every) if every is not None else None
    except ValueError as error:
        raise BadInput(str(error)) from error
    from tasteradar.secrets import load_secrets

    current = runtime()
    config = current.config()
    secrets = load_secrets(config.folder)
    try:
        collect.selected_sources(config, names)
    except collect.NothingToCollect as error:
        raise BadInput(str(error)) from error

    def run_once() -> collect.CollectSummary:
        return collect.collect_once(config, secrets, names=names)

    def show(summary: collect.CollectSummary) -> None:
        for line in summary.lines():
            click.echo(line)

    try:
        with collect.CollectLock(config.database.path):
            if interval is None:
                summary = run_once()
                show(summary)
                ctx.exit(summary.exit_code)
            with collect.StopSignal() as stop:
                click.echo(
                    f"collect: every {every}; stop with Ctrl-C or SIGTERM (the current run finishes first)"
                )
                collect.run_schedule(run_once, interval, should_stop=stop, sleep=stop.sleep, on_summary=show)
            click.echo("collect: stopped")
    except collect.CollectorBusy as error:
        click.echo(f"tasteradar collect: {error}", err=True)
        ctx.exit(collect.EXIT_BUSY)
