"""The benchmark harness: ``python -m bench [NAME ...] [--quick]`` runs benchmarks, updates BENCHMARKS.md.

Benchmarks are registered explicitly in :data:`BENCHMARKS` (name -> module). Each module exposes
``run(quick: bool = False) -> list[Section]``. The harness rewrites only the blocks of the benchmarks that
ran, so the figures of the others (added by other issues, run at other times) stay in the file untouched.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCHMARKS: dict[str, str] = {
    "store": "bench.store_bench",
    "import": "bench.import_bench",
    "embed": "bench.embed_bench",
    "nlp": "bench.nlp_bench",
    "sentiment": "bench.sentiment_bench",
    "sentiment-study": "bench.sentiment_study",
    "topics": "bench.topics_bench",
    "topics-study": "bench.topics_study",
    "churn": "bench.churn_bench",
    "segments": "bench.segments_bench",
    "dashboard": "bench.dashboard_bench",
}

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "docs" / "BENCHMARKS.md"
HEADER = """# Benchmarks

Written by `python -m bench` (all benchmarks) or `python -m bench NAME` (one); each block below says when,
where and with which command its figures were measured. Rerunning one benchmark rewrites only its block.
Figures are from one shared machine: treat them as rough, and compare rows within a block, not across blocks.
"""
_BLOCK = re.compile(r"<!-- bench:(?P<name>[\w-]+):start -->\n.*?<!-- bench:(?P=name):end -->\n?", re.S)


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of a benchmark's report; ``body`` is Markdown (a table and a few sentences)."""

    title: str
    body: str


def print_report(
    run: Callable[..., list[Section]], description: str, quick_help: str, argv: list[str] | None = None
) -> int:
    """A benchmark module's ``main``: parse ``[--quick]``, run it and print its sections (no file written)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    for section in run(quick=parser.parse_args(argv).quick):
        print(f"### {section.title}\n\n{section.body}\n")
    return 0


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return a Markdown table; numbers right-aligned."""

    def cell(value: object) -> str:
        """Escape a value for a table cell."""
        return str(value).replace("|", "\\|")

    numeric = [all(isinstance(row[i], int | float) for row in rows) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---:" if is_num else "---" for is_num in numeric) + "|",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> str:
    """Return total RAM in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine_info() -> list[tuple[str, str]]:
    """Return (label, value) pairs describing this machine and software."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        ("CPU", _cpu_model()),
        ("nproc", str(cpus)),
        ("RAM", _ram_gib()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("sqlite-utils", _dist_version("sqlite-utils")),
    ]


def _dist_version(name: str) -> str:
    """Return an installed distribution's version ("not installed" when absent)."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def render_block(name: str, sections: Sequence[Section], *, command: str, seconds: float) -> str:
    """Return the Markdown block of one benchmark, wrapped in start/end markers."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    run_rows = [("date", when), ("command", f"`{command}`"), ("took", f"{seconds:.0f} s"), *machine_info()]
    parts = [
        f"<!-- bench:{name}:start -->",
        f"## {name}",
        "",
        markdown_table(["run", ""], run_rows),
        "",
    ]
    for section in sections:
        parts += [f"### {section.title}", "", section.body.strip(), ""]
    parts.append(f"<!-- bench:{name}:end -->")
    return "\n".join(parts) + "\n"


def update_report(path: Path, blocks: dict[str, str]) -> None:
    """Write ``blocks`` into the report at ``path``: a block of the same name is replaced where it stands, a
    new one goes before the first block that follows it in :data:`BENCHMARKS` (else at the end).

    Text outside the blocks (notes written by hand between them) is kept as it is.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER + "\n"
    fresh = dict(blocks)
    text = _BLOCK.sub(lambda match: _ending(fresh.pop(match["name"], match.group(0))), text)
    rank = {name: index for index, name in enumerate(BENCHMARKS)}
    for name, block in sorted(fresh.items(), key=lambda item: rank.get(item[0], len(rank))):
        later = [
            match.start()
            for match in _BLOCK.finditer(text)
            if rank.get(match["name"], len(rank)) > rank.get(name, len(rank))
        ]
        at = min(later, default=len(text))
        text = text[:at] + _ending(block) + ("\n" if at < len(text) else "") + text[at:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _ending(block: str) -> str:
    """``block`` ending in exactly one newline."""
    return block.rstrip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named benchmarks (all when none is named), print their reports and update the report file."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"report file (default {OUTPUT})")
    parser.add_argument("--no-write", action="store_true", help="print the report only")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    raw_args = list(sys.argv[1:] if argv is None else argv)
    command = " ".join(["python -m bench", *raw_args])
    blocks: dict[str, str] = {}
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        print(f"running benchmark {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        sections = module.run(quick=args.quick)
        blocks[name] = render_block(name, sections, command=command, seconds=time.perf_counter() - started)
        print(blocks[name], flush=True)
    if not args.no_write:
        update_report(args.output, blocks)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0
