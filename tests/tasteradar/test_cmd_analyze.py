"""``tasteradar analyze`` on a copy of the small demo world, and the stage ``tasteradar demo`` runs."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from tasteradar import pipeline
from tasteradar.cli import cli


@pytest.fixture
def demo_copy(small_demo, tmp_path):
    """A private copy of the shared demo world (analyze writes to it)."""
    for name in ("tasteradar.db", "tasteradar.toml", "truth.json"):
        shutil.copy(small_demo.db_path.parent / name, tmp_path / name)
    return tmp_path


def test_analyze_annotates_then_has_nothing_to_do(demo_copy, fast_topics):
    runner = CliRunner()
    args = [
        "analyze",
        "--config",
        str(demo_copy / "tasteradar.toml"),
        "--db",
        str(demo_copy / "tasteradar.db"),
    ]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "mentions.phrase.v2: 3,000 posts" in first.output
    assert "emerging (last 28 days):" in first.output
    second = runner.invoke(cli, args)
    assert second.exit_code == 0, second.output
    assert "nothing new to annotate" in second.output
    assert "emerging: up to date." in second.output


def test_summary_says_when_the_trend_step_had_nothing_to_do():
    from tasteradar.analyze import AnalyzeResult, summary

    quiet = summary(AnalyzeResult({"mentions.phrase.v2": 0}, {"emerging": {"up_to_date": True}}), 0.1)
    assert quiet.splitlines() == [
        "nothing new to annotate (mentions.phrase.v2 up to date).",
        "emerging: up to date.",
    ]
    ran = summary(
        AnalyzeResult({"mentions.phrase.v2": 0}, {"emerging": {"topic": 2, "theme": 0, "term": 1}}), 0.1
    )
    assert ran.splitlines()[-1] == "emerging (last 28 days): 2 topic flags, 0 theme flags, 1 term flags."
    assert (
        summary(AnalyzeResult({}, {"emerging": {}}), 0.1).splitlines()[-1]
        == "emerging (last 28 days): no posts."
    )


def test_analyze_without_brands_says_what_to_configure(demo_copy, monkeypatch):
    monkeypatch.chdir(demo_copy.parent)
    monkeypatch.delenv("TASTERADAR_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["analyze", "--db", str(demo_copy / "tasteradar.db")])
    assert result.exit_code == 2
    assert "brand.name" in result.output and "Traceback" not in result.output


def test_analyze_stage_is_built_and_runs_from_a_config(demo_copy, hashing_embeddings):
    from tasteradar.config import load_config

    stage = pipeline.stage("analyze")
    assert stage.built
    config = load_config(demo_copy / "tasteradar.toml").with_db(demo_copy / "tasteradar.db")
    assert "3,000 posts" in stage.run(config, lambda *args: None)
    assert "nothing new" in stage.run(config, lambda *args: None)
