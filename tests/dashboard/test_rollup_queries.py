"""The platform filter applies to the figures read from ``topic_daily`` and ``theme_daily`` (brand splits,
the brand x topic heatmap, need themes, sparklines), and they agree with counts over the raw tables."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
import streamlit as st

from dashboard.auth import HASH_ENV
from dashboard.filters import Filters
from dashboard.queries import market
from tests.dashboard.market_seed import LAST_DAY, seed_market_world

PLATFORMS = ("reddit", "x")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return seed_market_world(tmp_path_factory.mktemp("rollup_queries") / "tasteradar.db")


@pytest.fixture
def seeded(world, monkeypatch):
    monkeypatch.setenv("TASTERADAR_DB", str(world.path))
    for name in (HASH_ENV, market.OWN_BRAND_ENV, market.ROLLUPS_ENV):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return world


def raw(world, sql: str, platforms: tuple[str, ...]) -> dict:
    """``{key: count}`` of ``sql`` (``:platforms``: a JSON list; every platform when empty)."""
    conn = sqlite3.connect(world.path)
    try:
        chosen = "[" + ", ".join(f'"{p}"' for p in (platforms or PLATFORMS)) + "]"
        return {tuple(row[:-1]): row[-1] for row in conn.execute(sql, {"platforms": chosen})}
    finally:
        conn.close()


TOPIC_BRANDS_SQL = """
SELECT t.topic_id, m.brand, count(DISTINCT t.post_id) FROM post_topics AS t
JOIN posts AS p ON p.id = t.post_id JOIN post_mentions AS m ON m.post_id = t.post_id
WHERE p.platform IN (SELECT value FROM json_each(:platforms)) AND t.topic_id >= 0 GROUP BY 1, 2"""

THEME_NEEDS_SQL = """
SELECT t.theme_id, count(*) FROM post_need_themes AS t JOIN posts AS p ON p.id = t.post_id
WHERE p.platform IN (SELECT value FROM json_each(:platforms)) AND t.theme_id >= 0 GROUP BY 1"""


@pytest.mark.parametrize("platforms", [(), ("reddit",), ("x",)])
def test_topic_brands_and_themes_follow_the_platform_filter(seeded, platforms):
    view = Filters(platforms=platforms)
    split = market.topic_brands(view)
    assert {
        (t, b): n for t, b, n in zip(split["topic_id"], split["brand"], split["posts"], strict=True)
    } == raw(seeded, TOPIC_BRANDS_SQL, platforms)
    themes = market.theme_table(view)
    assert dict(zip(((t,) for t in themes["theme_id"]), themes["needs"], strict=True)) == raw(
        seeded, THEME_NEEDS_SQL, platforms
    )
    heatmap = market.brand_topic_sentiment(view)
    assert heatmap["posts"].sum() == split["posts"].sum()


def test_platforms_add_up_to_every_platform(seeded):
    every = Filters(date(2026, 8, 20), LAST_DAY)
    per = [Filters(date(2026, 8, 20), LAST_DAY, (platform,)) for platform in PLATFORMS]
    total = market.topic_brands(every)["posts"].sum()
    parts = [market.topic_brands(view)["posts"].sum() for view in per]
    assert all(parts) and sum(parts) == total
    for kind in ("topic", "theme"):
        keys = ("0", "1")
        all_series = market.emerging_series(kind, keys, every, 14)
        split = [market.emerging_series(kind, keys, view, 14) for view in per]
        for key in keys:
            assert [a + b for a, b in zip(split[0][key], split[1][key], strict=True)] == all_series[key]
        assert any(sum(series[key]) for series in split for key in keys)
    needs = [market.theme_table(view).set_index("theme_id")["needs_7d"] for view in per]
    assert (
        needs[0].add(needs[1], fill_value=0) == market.theme_table(every).set_index("theme_id")["needs_7d"]
    ).all()
