"""``tasteradar analyze``: a thin shell over :func:`tasteradar.analyze.analyze`."""

from __future__ import annotations

import time

import click

from tasteradar.analyze import DEFAULT_BATCH_SIZE, analyze, summary
from tasteradar.clikit import friendly_errors, runtime, shared_options
from tasteradar.progress import reporter


@click.command(name="analyze")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Posts per transaction (each batch commits with its annotations).",
)
@click.option(
    "--refit",
    is_flag=True,
    help="Fit the topic and need-theme models again on the current posts (lasting topics keep their ids).",
)
@shared_options
@friendly_errors
def analyze_command(batch_size: int, refit: bool) -> None:
    """Annotate stored posts (language, embeddings, brand mentions, sentiment, needs, intents), then fit or
    assign topics and need themes, rebuild the daily rollups and flag emerging trends.

    Only posts an annotator has not processed at its current version (or that changed since) are read, in
    batches; a second run with nothing new does no work, and an interrupted run resumes where it stopped.
    The topic model is fitted on the first run with enough posts; later runs assign new posts to it, until
    --refit.
    """
    current = runtime()
    config = current.config()
    db_path = current.existing_database_path()
    started = time.monotonic()
    with reporter() as progress:
        result = analyze(config.with_db(db_path), progress, batch_size=batch_size, refit=refit)
    click.echo(summary(result, time.monotonic() - started))
