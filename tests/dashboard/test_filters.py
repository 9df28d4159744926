"""The global filters: seeded from the URL, written back to it, kept across pages, validated, and applied."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.auth import HASH_ENV
from dashboard.filters import Filters
from dashboard.queries import market
from tests.dashboard.market_seed import FIRST_DAY, LAST_DAY, OWN, PAGES_DIR, market_app, seed_market_world

URL_KEYS = ("from", "to", "platform", "brand")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    return seed_market_world(tmp_path_factory.mktemp("filters") / "tasteradar.db")


@pytest.fixture(autouse=True)
def seeded(world, monkeypatch):
    monkeypatch.setenv("TASTERADAR_DB", str(world.path))
    for name in (HASH_ENV, market.OWN_BRAND_ENV, market.ROLLUPS_ENV, "TASTERADAR_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return world


def run(query: dict | None = None) -> AppTest:
    app = market_app("overview", query)
    assert not app.exception, [error.value for error in app.exception]
    return app


def url(app: AppTest) -> dict[str, list[str]]:
    """The filter parameters of the app's URL, each as a list of values."""
    found = {}
    for key in URL_KEYS:
        if key in app.query_params:
            value = app.query_params[key]
            found[key] = list(value) if isinstance(value, list) else [value]
    return found


def test_a_shared_link_opens_the_same_view():
    app = run({"from": "2026-09-01", "to": "2026-09-20", "platform": "x", "brand": "Volt Mobile"})
    assert app.session_state["filters"] == Filters(
        date(2026, 9, 1), date(2026, 9, 20), ("x",), ("Volt Mobile",)
    )
    assert app.date_input(key="filter_from").value == date(2026, 9, 1)
    assert app.multiselect(key="filter_brand").value == ["Volt Mobile"]
    assert url(app) == {
        "from": ["2026-09-01"],
        "to": ["2026-09-20"],
        "platform": ["x"],
        "brand": ["Volt Mobile"],
    }


def test_defaults_cover_all_data_and_stay_out_of_the_url():
    app = run()
    assert app.session_state["filters"] == Filters(FIRST_DAY, LAST_DAY)
    assert url(app) == {}
    assert app.multiselect(key="filter_brand").options[0] == OWN


def test_changing_a_filter_rewrites_the_url():
    app = run()
    app.multiselect(key="filter_platform").set_value(["reddit", "x"]).run()
    app.date_input(key="filter_to").set_value(date(2026, 9, 10)).run()
    assert url(app) == {"to": ["2026-09-10"], "platform": ["reddit", "x"]}
    app.multiselect(key="filter_platform").set_value([]).run()
    assert url(app) == {"to": ["2026-09-10"]}
    app.button[0].click().run()  # Reset filters
    assert url(app) == {} and app.session_state["filters"] == Filters(FIRST_DAY, LAST_DAY)


def test_unknown_values_are_dropped_and_dates_clamped():
    app = run({"from": "2020-01-01", "to": "not-a-day", "platform": ["myspace", "x"], "brand": "Nobody"})
    assert app.session_state["filters"] == Filters(FIRST_DAY, LAST_DAY, ("x",), ())
    assert url(app) == {"platform": ["x"]}


def test_a_reversed_range_is_put_in_order():
    app = run({"from": "2026-09-20", "to": "2026-09-01"})
    assert app.session_state["filters"] == Filters(date(2026, 9, 1), date(2026, 9, 20))
    assert any("From is after To" in caption.value for caption in app.sidebar.caption)


def test_filters_survive_a_page_switch_and_apply_there():
    app = run({"brand": "Volt Mobile"})
    app.switch_page(str(PAGES_DIR / "topics.py")).run()
    assert not app.exception
    assert url(app) == {"brand": ["Volt Mobile"]}
    with_brand = app.dataframe[0].value["posts"].sum()
    app.multiselect(key="filter_brand").set_value([]).run()
    assert app.dataframe[0].value["posts"].sum() > with_brand


def test_filters_are_hashable_with_sql_bounds():
    view = Filters(date(2026, 9, 1), date(2026, 9, 30), ("x",), ("Volt Mobile",))
    assert hash(view) == hash(Filters(date(2026, 9, 1), date(2026, 9, 30), ("x",), ("Volt Mobile",)))
    assert view.day_bounds() == ("2026-09-01", "2026-09-30")
    assert view.time_bounds() == ("2026-09-01", "2026-10-01")
    assert view.days == 30
    assert Filters().days is None and Filters().time_bounds() == ("0000-01-01", "9999-12-31")
    assert Filters(until=LAST_DAY).time_bounds()[1] == (LAST_DAY + timedelta(days=1)).isoformat()
