"""The ``tasteradar`` command: a thin shell over the Python API of each stage.

Every command accepts ``--config PATH`` and ``--db PATH``, before or after its name. Exit codes: 0 done,
1 failed, 2 bad usage or a stage that is not built yet.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from tasteradar import pipeline
from tasteradar.clikit import friendly_errors, runtime, shared_options
from tasteradar.progress import reporter

DEMO_DB = Path("data/demo/tasteradar.db")
NOT_BUILT_EXIT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@shared_options
@click.version_option(package_name="tasteradar")
def cli() -> None:
    """tasteradar: social listening and micro-segment discovery for telecom brands.

    Start with `tasteradar demo` (an offline demo world) or `tasteradar init` (a configuration to edit).
    """


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default=Path("tasteradar.toml"))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@shared_options
@friendly_errors
def init(path: Path, force: bool) -> None:
    """Write a commented starter configuration to PATH (default ./tasteradar.toml)."""
    from tasteradar.config import write_starter

    try:
        written = write_starter(path, force=force)
    except FileExistsError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"Wrote {written}. Edit the brand, competitors and sources, then run `tasteradar status`.")


@cli.command()
@click.option("--seed", default=7, show_default=True, help="Random seed: one seed, one world.")
@click.option("--posts", default=20_000, show_default=True, help="Number of posts to generate.")
@click.option("--force", is_flag=True, help="Rebuild even when the demo world on disk is current.")
@click.option("--no-stages", is_flag=True, help="Only build the world; do not run the analysis stages.")
@shared_options
@friendly_errors
def demo(seed: int, posts: int, force: bool, no_stages: bool) -> None:
    """Build the offline demo world (posts, CRM, ground truth) and run every built stage over it.

    Writes the database (default data/demo/tasteradar.db) with tasteradar.toml, truth.json, crm.csv and
    handles.csv beside it. A second run reuses a current world unless --force.
    """
    from tasteradar.config import load_config
    from tasteradar.demo import build_demo, demo_is_current

    db_path = (runtime().db_path or DEMO_DB).resolve()
    started = time.monotonic()
    if force or not demo_is_current(db_path, seed=seed, posts=posts):
        with reporter() as progress:
            summary = build_demo(db_path, seed=seed, posts=posts, progress=progress)
        click.echo(
            f"Demo world built in {summary.seconds:.1f}s: {summary.posts:,} posts "
            f"by {summary.authors:,} authors, "
            f"{summary.customers:,} customers ({summary.opted_in:,} opted in), "
            f"{summary.micro_segments} planted micro-segments."
        )
    else:
        click.echo(f"Demo world at {db_path} is current (seed {seed}); use --force to rebuild.")
    config = load_config(db_path.with_name("tasteradar.toml")).with_db(db_path)
    if not no_stages:
        with reporter() as progress:
            for line in pipeline.run_built_stages(config, progress):
                click.echo(f"  {line}")
    click.echo(f"Database: {db_path}")
    click.echo(f"Config:   {config.path}")
    elapsed = time.monotonic() - started
    click.echo(f"Done in {elapsed:.1f}s. Next: tasteradar --config {config.path} dashboard")


def _not_built(name: str) -> click.Command:
    """A command for a stage that later issues build: says so plainly and exits 2."""
    stage = pipeline.stage(name)

    @click.pass_context
    def command(ctx: click.Context, args: tuple[str, ...]) -> None:
        click.echo(
            f"tasteradar {name}: not built yet; it will {stage.summary} ({stage.planned_in}). "
            "Nothing was done.",
            err=True,
        )
        ctx.exit(NOT_BUILT_EXIT)

    command.__doc__ = f"{stage.summary[0].upper()}{stage.summary[1:]}. [not built yet: {stage.planned_in}]"
    command = click.argument("args", nargs=-1, type=click.UNPROCESSED)(command)
    command = shared_options(command)
    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.command(name=name, context_settings=settings)(command)


def _register_stage_commands() -> None:
    """Add the commands of built stages, then a plain "not built yet" command for every other stage."""
    from tasteradar.cmd_analyze import analyze_command
    from tasteradar.cmd_collect import collect_command
    from tasteradar.cmd_customers import customers_group, forget_command
    from tasteradar.cmd_export import export_command
    from tasteradar.cmd_import import import_command
    from tasteradar.cmd_segments import segments_command
    from tasteradar.cmd_sentiment import sentiment_group

    commands = (
        import_command, collect_command, analyze_command, sentiment_group, export_command, customers_group,
        forget_command, segments_command,
    )  # fmt: skip
    for command in commands:
        cli.add_command(command)
    for stage in pipeline.STAGES:
        if stage.name not in cli.commands:
            cli.add_command(_not_built(stage.name))


_register_stage_commands()


@cli.command()
@shared_options
@friendly_errors
def status() -> None:
    """Show rows per table, the last collection run per source and query, and data freshness."""
    from tasteradar.status import format_status, status_report

    click.echo(format_status(status_report(runtime().database_path())))


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: dashboard.port, 8501).")
@click.option("--host", help="Address to bind (default: dashboard.host, 127.0.0.1).")
@shared_options
@friendly_errors
def dashboard(port: int | None, host: str | None) -> None:
    """Start the Streamlit dashboard on loopback and print its URL; Ctrl-C stops it."""
    from tasteradar.serve import start_dashboard, wait_until_up

    current = runtime()
    config = current.config()
    db_path = current.existing_database_path()
    process, url = start_dashboard(
        db_path,
        host or config.dashboard.host,
        port or config.dashboard.port,
        config_dir=config.folder,
        brand=config.brand.name or None,
    )
    try:
        if not wait_until_up(url, process):
            process.terminate()
            raise click.ClickException(f"the dashboard did not start at {url}; rerun with -v to see why")
        click.echo(f"Dashboard: {url}\nDatabase:  {db_path}\nPress Ctrl-C to stop.")
        sys.exit(process.wait())
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="tasteradar")
