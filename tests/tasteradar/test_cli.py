"""The command line: every command has help, shared options work anywhere, unbuilt stages exit 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tasteradar import pipeline
from tasteradar.cli import cli

COMMANDS = sorted(cli.commands)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_issue_command_is_registered():
    expected = {"init", "demo", "import", "collect", "analyze", "customers", "segments", "export"}
    assert expected | {"dashboard", "status", "forget"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_shared_options(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "--config" in result.output
    assert "--db" in result.output
    assert len(cli.commands[name].help or "") > 20


def test_group_help_lists_commands(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


NOT_BUILT = [s.name for s in pipeline.STAGES if "not built yet" in (cli.commands[s.name].help or "")]


def test_built_stages_have_real_commands():
    assert {"import", "collect"} <= set(COMMANDS) - set(NOT_BUILT)


@pytest.mark.parametrize("name", NOT_BUILT)
def test_unbuilt_stage_says_so_and_exits_2(runner, name, tmp_path):
    result = runner.invoke(cli, [name, "--db", str(tmp_path / "x.db"), "some-arg"])
    assert result.exit_code == 2
    assert "not built yet" in result.output
    assert not (tmp_path / "x.db").exists()


def test_init_writes_starter_and_refuses_to_overwrite(runner, tmp_path):
    target = tmp_path / "tasteradar.toml"
    assert runner.invoke(cli, ["init", str(target)]).exit_code == 0
    assert target.read_text().startswith("#")
    again = runner.invoke(cli, ["init", str(target)])
    assert again.exit_code == 2
    assert "exists" in again.output
    assert runner.invoke(cli, ["init", str(target), "--force"]).exit_code == 0


def test_status_without_database_is_a_clear_error(runner, tmp_path):
    missing = tmp_path / "none.db"
    result = runner.invoke(cli, ["status", "--db", str(missing)])
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert str(missing) in result.output
    assert not missing.exists()


def test_bad_config_names_file_and_key(runner, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[brand]\nname = "Nimbus"\naliases = 42\n')
    result = runner.invoke(cli, ["status", "--config", str(config)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output
    assert "brand.aliases" in result.output
    assert "Traceback" not in result.output


def test_status_reports_counts_runs_and_freshness(runner, small_demo):
    result = runner.invoke(cli, ["status", "--db", str(small_demo.db_path)])
    assert result.exit_code == 0, result.output
    assert f"{small_demo.posts:,}" in result.output
    assert "posts" in result.output and "customers" in result.output
    assert "Last collection runs" in result.output
    assert "Data freshness" in result.output


def test_db_option_works_before_and_after_the_command(runner, small_demo):
    before = runner.invoke(cli, ["--db", str(small_demo.db_path), "status"])
    after = runner.invoke(cli, ["status", "--db", str(small_demo.db_path)])
    assert before.exit_code == after.exit_code == 0
    assert before.output == after.output


def test_demo_builds_once_then_reuses(runner, tmp_path, hashing_embeddings):
    db = tmp_path / "demo" / "tasteradar.db"
    first = runner.invoke(cli, ["demo", "--db", str(db), "--posts", "1500"])
    assert first.exit_code == 0, first.output
    assert "Demo world built" in first.output
    assert db.exists() and (db.parent / "truth.json").exists() and (db.parent / "tasteradar.toml").exists()
    for stage in ("analyze:", "customers:", "segments:"):  # every demo stage ran and said what it did
        assert stage in first.output
    assert "customers linked" in first.output and "segment run 1" in first.output
    second = runner.invoke(cli, ["demo", "--db", str(db), "--posts", "1500"])
    assert second.exit_code == 0, second.output
    assert "is current" in second.output
