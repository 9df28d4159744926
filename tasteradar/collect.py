"""Collection: run every enabled source once (or on a schedule) and say how it went.

The Python API behind ``tasteradar collect``::

    summary = collect_once(config, secrets)            # every enabled source, each query, page by page
    summary.status, summary.exit_code                  # "ok" 0, "partial" 3, "failed" 1

Each source is built from its ``[sources.NAME]`` table (translated to the settings mapping the source reads)
and the secrets. A source that cannot run here (``NotConfigured``: no credentials, nothing to search for) is
logged in one line and skipped; the others run. Each query's run is recorded in ``collection_runs`` by
:mod:`collectors.job`, which also commits every page with its checkpoint.

Statuses and exit codes: ``ok`` (0) when every query of every source that ran was ok; ``failed`` (1) when
every one failed, or when no source could run at all; ``partial`` (3) otherwise. 2 means bad input (unknown
source, nothing enabled) and 4 that another collector holds the lock on this database.

:func:`run_schedule` repeats a run every interval: run, then sleep until the next slot (slots missed by a long
run are skipped, so runs never overlap), until asked to stop. :class:`CollectLock` keeps two collectors off
one database.

:func:`prune_once` is ``tasteradar collect --prune-deleted``: instead of collecting, every selected source
that can check deletions (the optional ``deleted`` method: X, Reddit, Bluesky) walks the stored posts of its
platform, asks the platform which are gone and removes them with everything derived from them. Same
statuses and exit codes; a run row per source with query ``prune-deleted``. It takes its own lock
(``<db>.prune.lock``), so a long prune never makes a scheduled collection exit 4.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors import registry
from collectors.base import NotConfigured, can_check_deleted
from collectors.job import PRUNE_QUERY, QueryRun, overall_status, prune_source, run_source
from tasteradar.config import Config

log = logging.getLogger("tasteradar.collect")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_PARTIAL = 3
EXIT_BUSY = 4
EXIT_CODES = {"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}
MIN_INTERVAL = 10.0


class NothingToCollect(ValueError):
    """No source is enabled (or an unknown one was asked for): bad input, exit 2."""


class CollectorBusy(RuntimeError):
    """Another collector holds the lock on this database."""


# ---- settings --------------------------------------------------------------------------------------------


def source_settings(name: str, config: Config) -> dict[str, Any]:
    """The settings mapping source ``name`` reads, from its configuration table and the brands."""
    sources = config.sources
    if name == "x":
        x = sources.x
        return {
            "queries": list(x.effective_queries(config)),
            "max_results": x.max_results,
            "max_pages": x.max_pages,
        }
    if name == "reddit":
        return {
            "subreddits": list(sources.reddit.subreddits),
            "searches": list(sources.reddit.effective_searches(config)),
            "limit": sources.reddit.limit,
        }
    if name == "bluesky":
        bluesky = sources.bluesky
        return {
            "terms": list(bluesky.effective_terms(config)),
            "max_seconds": float(bluesky.max_seconds),
            "max_events": bluesky.max_events,
        }
    if name == "mastodon":
        return {
            "instances": list(sources.mastodon.instances),
            "hashtags": list(sources.mastodon.effective_hashtags(config)),
            "max_pages": sources.mastodon.max_pages,
        }
    table = getattr(sources, name, None)
    return dict(vars(table)) if table is not None else {}


def selected_sources(config: Config, names: Iterable[str] = ()) -> list[str]:
    """The sources to run: ``names`` when given (each must be registered), else the enabled ones."""
    names = list(dict.fromkeys(names))
    if names:
        unknown = [name for name in names if name not in registry.SOURCES]
        if unknown:
            known = ", ".join(registry.SOURCES)
            raise NothingToCollect(f"unknown source {', '.join(unknown)}; known sources: {known}")
        return names
    enabled = [name for name in config.sources.enabled if name in registry.SOURCES]
    if not enabled:
        where = config.path or "tasteradar.toml"
        raise NothingToCollect(
            f"no source is enabled in {where}: add a [sources.NAME] table with enabled = true "
            f"(NAME one of {', '.join(registry.SOURCES)}), or pass --source NAME"
        )
    return enabled


# ---- one run ---------------------------------------------------------------------------------------------


@dataclass
class SourceResult:
    """How one source did: ``ok``, ``partial``, ``failed`` or ``skipped`` (not configured here)."""

    name: str
    status: str
    runs: list[QueryRun] = field(default_factory=list)
    reason: str | None = None


@dataclass
class CollectSummary:
    """One collection run over the selected sources."""

    sources: list[SourceResult]
    seconds: float = 0.0
    label: str = "collect"

    @property
    def ran(self) -> list[SourceResult]:
        """The sources that were built and run (not skipped)."""
        return [result for result in self.sources if result.status != "skipped"]

    @property
    def status(self) -> str:
        """``ok``/``partial``/``failed`` over every query run; ``failed`` when no source could run."""
        statuses = [run.status for result in self.ran for run in result.runs]
        statuses += [result.status for result in self.ran if not result.runs]  # failed before any query
        if not statuses:
            return "failed"
        if all(status == "ok" for status in statuses):
            return "ok"
        return "failed" if all(status == "failed" for status in statuses) else "partial"

    @property
    def exit_code(self) -> int:
        """0 ok, 3 partial, 1 failed."""
        return EXIT_CODES[self.status]

    def lines(self) -> list[str]:
        """One line per query run (per source when it was skipped or failed to start), then the total."""
        lines = []
        for result in self.sources:
            if not result.runs:
                lines.append(
                    f"{result.name}: {result.status}" + (f" ({result.reason})" if result.reason else "")
                )
            for run in result.runs:
                if run.query == PRUNE_QUERY:
                    lines.append(
                        f"{run.source} prune-deleted: {run.status}, {run.fetched} checked, "
                        f"{run.deleted} deleted" + (f" ({run.error})" if run.error else "")
                    )
                    continue
                lines.append(
                    f"{run.source} {run.query!r}: {run.status}, {run.fetched} fetched, {run.new} new, "
                    f"{run.duplicates} duplicates, {run.quarantined} quarantined"
                    + (f" ({run.error})" if run.error else "")
                )
        skipped = len(self.sources) - len(self.ran)
        lines.append(
            f"{self.label}: {self.status} in {self.seconds:.1f}s ({len(self.ran)} sources ran"
            + (f", {skipped} skipped" if skipped else "")
            + f"; exit {self.exit_code})"
        )
        return lines


def build_sources(
    config: Config, secrets: Mapping[str, str], names: Iterable[str], redact: Callable[[str], str] = str
) -> tuple[list[tuple[str, Any]], list[SourceResult]]:
    """Build each named source (as ``(name, source)``); one that cannot run becomes a result instead.

    A ``NotConfigured`` source is logged in one line (``bluesky: not configured, skipped: set ...``).
    """
    built, results = [], []
    for name in names:
        try:
            built.append((name, registry.build_source(name, source_settings(name, config), secrets)))
        except NotConfigured as error:
            reason = redact(str(error))
            log.warning("%s: not configured, skipped: %s", name, reason)
            results.append(SourceResult(name, "skipped", reason=f"not configured: {reason}"))
        except Exception as error:  # noqa: BLE001 - one broken source must not stop the others
            reason = redact(f"{type(error).__name__}: {error}")
            log.error("%s: could not start: %s", name, reason)
            results.append(SourceResult(name, "failed", reason=f"could not start: {reason}"))
    return built, results


def collect_once(
    config: Config,
    secrets: Any,
    *,
    names: Iterable[str] = (),
    db: Any = None,
) -> CollectSummary:
    """Run the selected sources once (every query, page by page) and return the summary.

    ``secrets`` is a ``tasteradar.secrets.Secrets`` (or any mapping with a ``redact`` method); every error
    message is redacted with it before it is logged or stored. ``db`` defaults to the configured database.
    Raises ``NothingToCollect`` when no source is enabled or an unknown one is named.
    """
    from store import open_db

    started = time.monotonic()
    redact = getattr(secrets, "redact", None) or str
    selected = selected_sources(config, names)
    sources, skipped = build_sources(config, secrets, selected, redact)
    database = db if db is not None else open_db(config.database.path)
    results = {result.name: result for result in skipped}
    try:
        for name, source in sources:
            runs = run_source(database, source, redact)
            status = overall_status(runs) if runs else "ok"
            results[name] = SourceResult(name, status, runs, None if runs else "no queries")
    finally:
        if db is None:
            database.close()
    ordered = [results[name] for name in selected if name in results]
    summary = CollectSummary(ordered, seconds=time.monotonic() - started)
    level = logging.INFO if summary.status == "ok" else logging.WARNING
    log.log(level, "collect: %s (%d of %d sources ran)", summary.status, len(summary.ran), len(ordered))
    return summary


# ---- pruning deleted posts --------------------------------------------------------------------------------


def prunable_sources(config: Config, names: Iterable[str] = ()) -> tuple[list[str], list[SourceResult]]:
    """The selected sources that can check deletions, and a ``skipped`` result for each one that cannot.

    A source named explicitly that cannot check deletions is bad input (``NothingToCollect``), and so is a
    selection where none can.
    """
    names = list(names)
    selected = selected_sources(config, names)
    able = [name for name in selected if can_check_deleted(registry.source_class(name))]
    unable = [name for name in selected if name not in able]
    if names and unable:
        raise NothingToCollect(f"--prune-deleted: {', '.join(unable)} cannot check deletions")
    if not able:
        raise NothingToCollect(
            f"--prune-deleted: none of {', '.join(selected)} can check deletions (sources that can: "
            f"{', '.join(n for n in registry.SOURCES if can_check_deleted(registry.source_class(n)))})"
        )
    return able, [SourceResult(name, "skipped", reason="cannot check deletions") for name in unable]


def prune_once(
    config: Config,
    secrets: Any,
    *,
    names: Iterable[str] = (),
    db: Any = None,
    created_since: str | None = None,
) -> CollectSummary:
    """Remove stored posts the platforms report deleted, for every selected source that can check.

    ``created_since`` (ISO time) limits the check to posts created since then. Raises ``NothingToCollect``
    as :func:`prunable_sources` says. The summary's status and exit code read like :func:`collect_once`'s.
    """
    from store import open_db

    started = time.monotonic()
    redact = getattr(secrets, "redact", None) or str
    able, unable = prunable_sources(config, names)
    sources, skipped = build_sources(config, secrets, able, redact)
    database = db if db is not None else open_db(config.database.path)
    results = {result.name: result for result in [*unable, *skipped]}
    try:
        for name, source in sources:
            run = prune_source(database, source, redact, created_since=created_since)
            results[name] = SourceResult(name, run.status, [run])
    finally:
        if db is None:
            database.close()
    ordered = [results[name] for name in selected_sources(config, names) if name in results]
    summary = CollectSummary(ordered, seconds=time.monotonic() - started, label="prune-deleted")
    level = logging.INFO if summary.status == "ok" else logging.WARNING
    log.log(level, "prune-deleted: %s (%d of %d sources ran)", summary.status, len(summary.ran), len(ordered))
    return summary


def parse_age(text: str) -> float:
    """Seconds in an age such as ``30d``, ``12h`` or ``90m`` (``--prune-since``); ``ValueError`` if not."""
    match = _INTERVAL.match(str(text))
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(
            f"--prune-since {text!r}: expected a positive number and a unit, e.g. 30d, 12h or 90m"
        )
    return float(match.group(1)) * _UNIT[match.group(2).lower()]


# ---- schedule and lock -----------------------------------------------------------------------------------

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)\s*$", re.IGNORECASE)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``15m``, ``90s``, ``1h`` or ``1d``; ``ValueError`` says the form."""
    match = _INTERVAL.match(str(text))
    if match is None:
        raise ValueError(f"--every {text!r}: expected a number and a unit, e.g. 15m, 90s, 1h or 1d")
    seconds = float(match.group(1)) * _UNIT[match.group(2).lower()]
    if seconds < MIN_INTERVAL:
        raise ValueError(f"--every {text!r}: the shortest interval is {MIN_INTERVAL:.0f}s")
    return seconds


class StopSignal:
    """A stop flag set by SIGTERM or Ctrl-C: the run in progress ends, then the schedule stops.

    A second Ctrl-C aborts at once (a run killed mid-page loses only that page, which commits with its
    checkpoint, so the next run fetches it again).
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self._previous: dict[int, Any] = {}

    def __call__(self) -> bool:
        return self.event.is_set()

    def sleep(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when stopped."""
        self.event.wait(max(0.0, seconds))

    def _handle(self, signum: int, frame: Any) -> None:
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.event.set()
        log.warning("collect: %s received; stopping after the current run", signal.Signals(signum).name)

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


def run_schedule(
    run_once: Callable[[], CollectSummary],
    every: float,
    *,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    max_runs: int | None = None,
    on_summary: Callable[[CollectSummary], None] | None = None,
) -> list[CollectSummary]:
    """Call ``run_once`` every ``every`` seconds until ``should_stop()`` (or ``max_runs``); never overlapping.

    Slots are counted from the first run; a run longer than the interval makes the schedule skip the slots
    it missed (logged) instead of starting runs back to back. Returns the summaries, oldest first.
    """
    summaries: list[CollectSummary] = []
    next_at = clock()
    while not should_stop():
        summary = run_once()
        summaries.append(summary)
        if on_summary is not None:
            on_summary(summary)
        if max_runs is not None and len(summaries) >= max_runs:
            break
        next_at += every
        late = clock() - next_at
        if late > 0:
            missed = int(late // every) + 1
            next_at += missed * every
            log.warning("collect: the run took longer than --every; skipping %d slot(s)", missed)
        while not should_stop() and (remaining := next_at - clock()) > 0:
            sleep(min(remaining, 60.0))
    return summaries


def lock_path(db_path: Path, kind: str = "collect") -> Path:
    """The lock file of ``kind`` (``collect`` or ``prune``) of the database at ``db_path`` (beside it)."""
    return db_path.with_name(f"{db_path.name}.{kind}.lock")


class CollectLock:
    """An exclusive ``flock`` on ``<db>.collect.lock``, held for a run or a whole schedule.

    The kernel drops the lock when the process dies, so a killed collector never leaves a stale lock.
    Raises ``CollectorBusy`` when another collector holds it.
    """

    def __init__(self, db_path: Path, kind: str = "collect") -> None:
        self.path = lock_path(Path(db_path), kind)
        self.kind = kind
        self._file: Any = None

    def __enter__(self) -> CollectLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held until __exit__
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise CollectorBusy(
                f"another `tasteradar collect{' --prune-deleted' if self.kind == 'prune' else ''}` "
                f"(pid {holder}) is running on this database "
                f"(lock {self.path}); nothing was done"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self._file is not None:
            self._file.truncate(0)
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
