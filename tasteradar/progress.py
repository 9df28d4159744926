"""Progress reporting: a bar on a terminal, plain log lines otherwise (cron, CI, pipes)."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

log = logging.getLogger("tasteradar")

#: ``report(step, done, total)``: the shape every long-running function accepts as ``progress=``.
ProgressFn = Callable[[str, int, int], None]


class _LineReporter:
    """Logs ``step: done/total (pct)`` at most every ``interval`` seconds, and always at the end of a step."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total and done >= total
        if not finished and now - self._last.get(step, 0.0) < self.interval:
            return
        self._last[step] = now
        pct = f" ({100 * done / total:.0f}%)" if total else ""
        log.info("%s: %s/%s%s", step, f"{done:,}", f"{total:,}" if total else "?", pct)


class _BarReporter:
    """Draws one click progress bar per step on a terminal."""

    def __init__(self) -> None:
        self._step: str | None = None
        self._bar = None
        self._done = 0

    def __call__(self, step: str, done: int, total: int) -> None:
        if step != self._step:
            self.close()
            self._step = step
            self._bar = click.progressbar(length=max(total, 1), label=step, file=sys.stderr)
            self._bar.__enter__()
            self._done = 0
        self._bar.update(max(done - self._done, 0))
        self._done = done

    def close(self) -> None:
        """Finish the current bar, if any."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


@contextmanager
def reporter(*, force_lines: bool = False) -> Iterator[ProgressFn]:
    """Yield a progress callback fitted to where output goes: bars on a TTY, log lines elsewhere."""
    if sys.stderr.isatty() and not force_lines:
        bar = _BarReporter()
        try:
            yield bar
        finally:
            bar.close()
    else:
        yield _LineReporter()
