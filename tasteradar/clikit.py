"""Shared pieces of the command line: the options every command takes, error handling, logging."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import click

from tasteradar.config import ConfigError
from tasteradar.runtime import Runtime


def _set_option(ctx: click.Context, param: click.Parameter, value: object) -> None:
    """Store a shared option on the root Runtime; a subcommand's value overrides the group's."""
    runtime = ctx.find_root().ensure_object(Runtime)
    if value is None or value == 0:
        return
    if param.name == "config":
        runtime.config_path = Path(value)
    elif param.name == "db":
        runtime.db_path = Path(value)
    elif param.name == "verbose":
        runtime.verbose = max(runtime.verbose, int(value))


def shared_options(command):
    """Add ``--config``, ``--db`` and ``-v`` to a command (the group has them too)."""
    options = [
        click.option(
            "--config", type=click.Path(dir_okay=False), expose_value=False, callback=_set_option,
            help="Configuration file (default: $TASTERADAR_CONFIG, then ./tasteradar.toml).",
        ),
        click.option(
            "--db", type=click.Path(dir_okay=False), expose_value=False, callback=_set_option,
            help="SQLite database file (overrides database.path of the configuration).",
        ),
        click.option(
            "-v", "--verbose", count=True, expose_value=False, callback=_set_option,
            help="More log output (-vv for debug).",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


class BadInput(click.ClickException):
    """Input the user must fix (a configuration error): one clear line, exit code 2."""

    exit_code = 2


def friendly_errors(command):
    """Turn configuration errors (exit 2) and missing files (exit 1) into one clear line, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            raise BadInput(str(error)) from error
        except FileNotFoundError as error:
            raise click.ClickException(str(error)) from error

    return wrapper


def runtime() -> Runtime:
    """The Runtime of the current invocation, with logging set to its verbosity.

    Only tasteradar's own logger gets more verbose with ``-v``: third-party loggers stay at WARNING
    (tweepy's DEBUG output, for one, prints the bearer token).
    """
    current = click.get_current_context().find_root().ensure_object(Runtime)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("tasteradar").setLevel(logging.DEBUG if current.verbose else logging.INFO)
    return current
