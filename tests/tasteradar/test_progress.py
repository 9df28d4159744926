"""Progress: plain log lines when output is not a terminal (cron, CI, pipes)."""

from __future__ import annotations

import logging

from tasteradar.progress import reporter


def test_lines_are_logged_off_a_terminal_and_always_at_the_end(caplog):
    caplog.set_level(logging.INFO, logger="tasteradar")
    with reporter(force_lines=True) as progress:
        for done in range(1, 1001):
            progress("embedding posts", done, 1000)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "embedding posts: 1/1,000 (0%)"
    assert lines[-1] == "embedding posts: 1,000/1,000 (100%)"
    assert len(lines) < 10  # throttled, not one line per item


def test_unknown_total_is_shown_as_such(caplog):
    caplog.set_level(logging.INFO, logger="tasteradar")
    with reporter(force_lines=True) as progress:
        progress("fetching", 5, 0)
    assert caplog.records[-1].getMessage() == "fetching: 5/?"
