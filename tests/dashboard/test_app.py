"""The dashboard shell: every page of the navigation renders over a freshly imported world (no analysis yet)
and over an analysed one, read-only, without exceptions; an open dashboard says so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import dashboard
from dashboard.auth import HASH_ENV
from tests.dashboard.people_seed import seed_people_world

APP = Path(dashboard.__file__).with_name("app.py")
PAGES = APP.with_name("views")
#: The page files app.py's navigation names, in order.
NAVIGATION = re.findall(r'\("(\w+\.py)", "', APP.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_people_world(tmp_path_factory.mktemp("shell") / "tasteradar.db")


def make_app(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("TASTERADAR_DB", str(db_path))
    monkeypatch.delenv(HASH_ENV, raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    return AppTest.from_file(str(APP), default_timeout=60)


def test_navigation_names_eight_pages_that_exist():
    assert len(NAVIGATION) == 8
    assert all((PAGES / name).is_file() for name in NAVIGATION)


@pytest.mark.parametrize("world", ["fresh", "analysed"])
def test_every_page_renders_without_writing(world, small_demo, analysed, monkeypatch):
    db_path = small_demo.db_path if world == "fresh" else analysed
    before = db_path.stat().st_mtime_ns
    app = make_app(db_path, monkeypatch)
    for name in NAVIGATION:
        app.switch_page(f"{PAGES.name}/{name}").run()
        assert not app.exception, (name, [error.message for error in app.exception])
        assert app.title, name
    assert db_path.stat().st_mtime_ns == before


def test_open_dashboard_banner_is_visible(analysed, monkeypatch):
    app = make_app(analysed, monkeypatch).run()
    assert not app.exception
    assert any("no login is configured" in warning.value for warning in app.sidebar.warning)
