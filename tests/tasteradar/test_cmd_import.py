"""`tasteradar import`: the command over collectors.files, run with CliRunner on a temporary database."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from store import open_db
from tasteradar.cmd_import import import_command

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "files"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def posts_in(db_path: Path) -> set[str]:
    db = open_db(db_path)
    try:
        return {row[0] for row in db.execute("SELECT id FROM posts")}
    finally:
        db.close()


def test_help_names_formats_and_map(runner):
    result = runner.invoke(import_command, ["--help"])
    assert result.exit_code == 0
    for word in ("--format", "x-jsonl", "reddit-csv", "--map", "COLUMN=FIELD", "--db", "standard input"):
        assert word in result.output


def test_import_prints_imported_duplicate_and_quarantined_counts(runner, tmp_path):
    db_path = tmp_path / "t.db"
    result = runner.invoke(import_command, [str(FIXTURES / "airline_like.csv"), "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert (
        "airline_like.csv (airline): 2 imported, 1 duplicates (1 updated), 0 quarantined from 3 records."
        in (result.output)
    )
    again = runner.invoke(import_command, [str(FIXTURES / "airline_like.csv"), "--db", str(db_path)])
    assert "0 imported, 3 duplicates" in again.output
    assert posts_in(db_path) == {"x:900000000000000001", "x:900000000000000002"}


def test_stdin_import(runner, tmp_path):
    db_path = tmp_path / "t.db"
    data = (FIXTURES / "x_posts.jsonl").read_bytes()
    result = runner.invoke(import_command, ["-", "--db", str(db_path)], input=data)
    assert result.exit_code == 0, result.output
    assert "<stdin> (x-jsonl): 4 imported, 0 duplicates, 0 quarantined from 4 records." in result.output
    assert "x:1851234567890123459" in posts_in(db_path)


def test_map_option_and_constants(runner, tmp_path):
    db_path = tmp_path / "t.db"
    args = [str(FIXTURES / "generic.csv"), "--db", str(db_path), "--map", "post_id=native_id",
            "--map", "body=text", "--map", "posted=created_at", "--map", "platform=forum"]  # fmt: skip
    result = runner.invoke(import_command, args)
    assert result.exit_code == 0, result.output
    assert "2 imported, 0 duplicates, 4 quarantined from 6 records" in result.output
    assert posts_in(db_path) == {"forum:1001", "forum:1002"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "map it with --map COLUMN=native_id"),
        (["--map", "body=txt"], "unknown field 'txt'"),
        (["--map", "post_id=native_id"], "add --map COLUMN=text --map COLUMN=created_at"),
        (["--format", "twcs"], "needs the columns"),
    ],
)
def test_usage_errors_exit_2_with_one_clear_line(runner, tmp_path, args, message):
    result = runner.invoke(
        import_command, [str(FIXTURES / "generic.csv"), "--db", str(tmp_path / "t.db"), *args]
    )
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_missing_file_is_one_line_and_exit_1(runner, tmp_path):
    result = runner.invoke(import_command, [str(tmp_path / "nope.csv"), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 1
    assert "nope.csv" in result.output and "Traceback" not in result.output
