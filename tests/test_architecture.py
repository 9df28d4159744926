"""The layout rules of ARCHITECTURE.md, checked on the source: data moves one way, docs stay true."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: store <- collectors <- nlp <- customers <- segments <- dashboard: a package imports only those to its left.
CHAIN = ["store", "collectors", "nlp", "customers", "segments", "dashboard"]


def imported_packages(path: Path) -> set[str]:
    """Top-level package names that a module imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", CHAIN)
def test_no_package_imports_one_to_its_right(package):
    forbidden = set(CHAIN[CHAIN.index(package) + 1 :]) | {"tasteradar", "bench"}
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & forbidden
    }
    assert offenders == {}


def test_readme_opens_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[: readme.index("## What it is for")]
    assert "make demo" in head and "make test" in head


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in script


def test_every_cli_command_is_documented_in_the_readme():
    from tasteradar.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        name for name in cli.commands if f"`{name}" not in readme and f"tasteradar {name}" not in readme
    ]
    assert missing == []
