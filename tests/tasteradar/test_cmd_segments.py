"""``tasteradar segments``: a run over a linked demo world, its summary, and the list of stored segments."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from tasteradar.cli import cli


def test_segments_runs_then_lists_stable_segments(small_demo, tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(small_demo.db_path.parent, folder)
    config = str(folder / "tasteradar.toml")
    runner = CliRunner()
    assert runner.invoke(cli, ["customers", "link", "--config", config]).exit_code == 0
    first = runner.invoke(cli, ["segments", "--config", config])
    assert first.exit_code == 0, first.output
    assert "segment run 1" in first.output and "born" in first.output
    listed = runner.invoke(cli, ["segments", "--list", "--config", config])
    assert listed.exit_code == 0 and "customers" in listed.output and "over-indexed:" in listed.output
    second = runner.invoke(cli, ["segments", "--config", config])
    assert second.exit_code == 0 and "segment run 2" in second.output
    assert " born" not in second.output and "kept" in second.output


def test_segments_list_before_any_run(small_demo, tmp_path):
    folder = tmp_path / "demo"
    shutil.copytree(small_demo.db_path.parent, folder)
    result = CliRunner().invoke(cli, ["segments", "--list", "--config", str(folder / "tasteradar.toml")])
    assert result.exit_code == 0 and "no segments yet" in result.output
