"""The benchmark harness (bench/run.py): registry, report rewriting that keeps other benchmarks' blocks."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench.run import BENCHMARKS, Section, main, markdown_table, render_block, update_report


def test_registry_modules_expose_run() -> None:
    assert BENCHMARKS["store"] == "bench.store_bench"
    for module_name in BENCHMARKS.values():
        assert callable(importlib.import_module(module_name).run)


def test_markdown_table() -> None:
    assert markdown_table(["a", "n"], [["x", 1], ["y|z", 2]]) == (
        "| a | n |\n|---|---:|\n| x | 1 |\n| y\\|z | 2 |"
    )


def test_update_report_rewrites_only_the_blocks_that_ran(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    first = render_block("store", [Section("Rate", "old figures")], command="python -m bench", seconds=1)
    other = render_block("nlp", [Section("Speed", "nlp figures")], command="python -m bench nlp", seconds=2)
    update_report(report, {"store": first, "nlp": other})
    second = render_block(
        "store", [Section("Rate", "new figures")], command="python -m bench store", seconds=1
    )
    update_report(report, {"store": second})
    text = report.read_text()
    assert "new figures" in text and "old figures" not in text
    assert "nlp figures" in text and "`python -m bench nlp`" in text
    assert text.count("<!-- bench:store:start -->") == 1
    assert text.index("bench:store:start") < text.index("bench:nlp:start")
    for label in ("nproc", "RAM", "CPU", "Python", "SQLite"):
        assert f"| {label} |" in text


def test_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["nope"])
    assert "unknown benchmark nope" in capsys.readouterr().err


def test_update_report_keeps_hand_notes_and_places_new_blocks_in_registry_order(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    store = render_block("store", [Section("Rate", "store v1")], command="python -m bench store", seconds=1)
    topics = render_block(
        "topics", [Section("Fit", "topics v1")], command="python -m bench topics", seconds=1
    )
    update_report(report, {"store": store, "topics": topics})
    note = "### Legs rerun by hand\n\nA note written between blocks.\n"
    report.write_text(
        report.read_text().replace("<!-- bench:topics:end -->\n", "<!-- bench:topics:end -->\n\n" + note)
    )
    nlp = render_block("nlp", [Section("Speed", "nlp v1")], command="python -m bench nlp", seconds=1)
    again = render_block("topics", [Section("Fit", "topics v2")], command="python -m bench topics", seconds=1)
    update_report(report, {"nlp": nlp, "topics": again})
    text = report.read_text()
    assert note in text and text.index("bench:topics:end") < text.index(note)
    assert "topics v2" in text and "topics v1" not in text and "store v1" in text
    assert text.index("bench:store:start") < text.index("bench:nlp:start") < text.index("bench:topics:start")
    assert text.startswith("# Benchmarks")
    update_report(report, {"topics": again})
    assert report.read_text() == text  # rewriting a block with itself changes nothing
