"""The brand pages (Overview, Topics, Emerging tastes and needs, Competitors) over a hand-made analysed world:
they render, their widgets work, every chart has a title and axis titles, hostile post text stays text, and
the overview computed from the raw tables equals the one read from the rollup."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.auth import HASH_ENV
from dashboard.filters import Filters
from dashboard.queries import market
from tests.dashboard.market_seed import (
    HOSTILE_TEXT,
    LAST_DAY,
    OWN,
    PAGES,
    PAGES_DIR,
    TOPICS,
    market_app,
    seed_market_world,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return seed_market_world(tmp_path_factory.mktemp("market") / "tasteradar.db")


def use(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the dashboard at ``db_path``, open (no login), own brand from the toml, caches empty."""
    monkeypatch.setenv("TASTERADAR_DB", str(db_path))
    for name in (HASH_ENV, market.OWN_BRAND_ENV, market.ROLLUPS_ENV, "TASTERADAR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def seeded(world, monkeypatch):
    use(world.path, monkeypatch)
    return world


def open_page(name: str, query: dict | None = None) -> AppTest:
    """The app on page ``name`` (URL parameters ``query``), run once without an exception."""
    app = market_app(name, query)
    assert not app.exception, [error.value for error in app.exception]
    return app


def specs(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("vega_lite_chart")]


def titles(app: AppTest) -> list[str]:
    """The titles of the page's charts (a layered chart's from its first layer)."""
    return [spec.get("title") or spec["layer"][0].get("title") for spec in specs(app)]


def assert_charts_titled(app: AppTest) -> None:
    """Every chart has a title, and every x and y axis that shows a field has a title (its unit)."""
    assert specs(app), "no chart drawn"
    for spec in specs(app):
        layers = spec.get("layer", [spec])
        assert spec.get("title") or layers[0].get("title"), spec
        for layer in layers:
            for channel in ("x", "y"):
                encoding = layer.get("encoding", {}).get(channel)
                if encoding and "field" in encoding:
                    assert encoding.get("title"), (channel, encoding)


def table_text(app: AppTest) -> str:
    """Every dataframe cell on the page, one per line, as written."""
    return "\n".join(str(cell) for frame in app.dataframe for cell in frame.value.to_numpy().ravel())


def assert_shown_as_text(app: AppTest) -> None:
    """The hostile post is in a table cell, never in Markdown, and nothing renders HTML."""
    assert HOSTILE_TEXT in table_text(app)
    for element in [*app.markdown, *app.caption, *app.title, *app.subheader, *app.text]:
        assert "<script" not in element.value and "javascript:" not in element.value
    assert not any(getattr(element.proto, "allow_html", False) for element in [*app.markdown, *app.caption])
    assert not app.get("html") and not app.get("iframe")


def test_overview_shows_the_own_brand_against_competitors(seeded):
    app = open_page("overview")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Posts"] == f"{sum(seeded.posts.values()):,}"
    assert metrics[f"Mentions of {OWN}"] == f"{seeded.mentions[OWN]:,}"
    share = seeded.mentions[OWN] / sum(seeded.mentions.values())
    assert metrics["Share of voice"] == f"{share:.1%}"
    assert len(specs(app)) == 4
    assert_charts_titled(app)
    emerging = app.dataframe[0].value
    assert emerging["label"].iloc[0] == TOPICS[2] and emerging["kind"].iloc[0] == "topic"
    trend = emerging["trend"].iloc[0]
    assert len(trend) == 56 and sum(trend[-7:]) > sum(trend[:7])
    assert any("Emerging in the 7 days" in warning.value for warning in app.warning)
    assert any("failed for 1 source" in error.value for error in app.error)
    assert "HTTP 503 from the API" in table_text(app)
    freshness = app.dataframe[-1].value.set_index("source")
    assert set(freshness.index) == {"x", "reddit"}
    assert freshness.loc["reddit", "last_run_status"] == "failed"
    assert freshness.loc["reddit", "last_success"] == "2026-09-24T10:00:00Z"


def test_overview_follows_the_filters_and_compares_with_the_period_before(seeded):
    app = open_page("overview", {"platform": "reddit", "from": "2026-09-01"})
    metrics = {metric.label: metric for metric in app.metric}
    with sqlite3.connect(seeded.path) as conn:
        (posts,) = conn.execute(
            "SELECT count(*) FROM posts WHERE platform = 'reddit' AND created_at >= '2026-09-01'"
        ).fetchone()
    assert metrics["Posts"].value == f"{posts:,}"
    assert metrics["Posts"].delta.endswith("%")  # against the 25 days before
    assert metrics["Share of voice"].delta.endswith(" pts")


def test_topics_page_opens_a_topic(seeded):
    app = open_page("topics")
    assert set(app.dataframe[0].value["label"]) == set(TOPICS.values())
    assert_shown_as_text(app)  # the hostile post is topic 0's most central post
    app.selectbox(key="topic").set_value(2).run()
    assert not app.exception
    posts = {metric.label: metric.value for metric in app.metric}["Posts in range"]
    assert posts == f"{49 * 1 + 7 * 4:,}"
    assert "Top terms (c-TF-IDF weight)" in titles(app)
    assert any(title.startswith("Map of topics") for title in titles(app))
    assert_charts_titled(app)


def test_emerging_page_ranks_needs_and_explains_flags(seeded):
    app = open_page("emerging")
    assert_shown_as_text(app)  # the hostile post is the newest need of theme 0
    assert app.dataframe[0].value["label"].iloc[0] == "sos via satellite"  # ranked by growth
    app.segmented_control(key="need_rank").set_value("Volume").run()
    assert app.dataframe[0].value["label"].iloc[0] == "esim for smartwatches"
    gaps = app.dataframe[1].value
    assert list(gaps["label"]) == ["esim for smartwatches"]
    assert "Volt Mobile" in gaps["competitors_praised"].iloc[0]
    app.selectbox(key="theme").set_value(1).run()
    assert (app.dataframe[2].value["need"] == "sos via satellite").all()
    flagged = app.dataframe[3].value
    app.selectbox(key="explain").set_value(list(flagged["kind"]).index("need")).run()
    assert not app.exception
    assert "Terms driving it: 7-day posts against expected" in titles(app)
    assert_charts_titled(app)


def test_competitors_page_heatmap_and_switching(seeded):
    app = open_page("competitors")
    app.slider(key="heatmap_topics").set_value(5).run()
    app.slider(key="heatmap_min_posts").set_value(1).run()
    week = app.selectbox(key="switch_week").options[1]
    app.selectbox(key="switch_week").set_value(week).run()
    assert not app.exception
    assert f"Switching posts from -> to, the week of {week}" in titles(app)
    assert "Net switching gain per week" in titles(app)
    assert_charts_titled(app)


def render_every_page(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Open each brand page in turn over ``db_path``; each renders without an exception."""
    use(db_path, monkeypatch)
    app = open_page("overview")
    for page in PAGES[1:]:
        app.switch_page(str(PAGES_DIR / f"{page}.py")).run()
        assert not app.exception, (page, [error.value for error in app.exception])
        assert app.info or app.caption, page
    return app


def test_pages_render_over_an_empty_database(db, monkeypatch):
    render_every_page(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]), monkeypatch)


def test_pages_render_before_the_first_analysis(small_demo, monkeypatch):
    app = render_every_page(small_demo.db_path, monkeypatch)  # posts, no mentions, topics or rollups
    app.switch_page(str(PAGES_DIR / "overview.py")).run()
    assert any("raw tables" in caption.value for caption in app.caption)
    assert {metric.label: metric.value for metric in app.metric}["Posts"] == f"{small_demo.posts:,}"


def test_raw_tables_give_the_same_overview(seeded, monkeypatch):
    view = Filters(date(2026, 8, 10), LAST_DAY, ("x",))
    from_rollup = market.brand_days(view), market.post_days(view)
    assert market.rollups_used()
    monkeypatch.setenv(market.ROLLUPS_ENV, "off")
    st.cache_data.clear()
    assert not market.rollups_used()
    from_raw = market.brand_days(view), market.post_days(view)
    for rollup, raw in zip(from_rollup, from_raw, strict=True):
        assert len(rollup) > 0
        pd.testing.assert_frame_equal(rollup.reset_index(drop=True), raw.reset_index(drop=True))
    assert market.data_days() == (date(2026, 8, 1), LAST_DAY)
    assert market.platform_options() == ["reddit", "x"]
    assert market.brand_options()[0] == OWN
