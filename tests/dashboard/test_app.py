"""The dashboard shell renders over a real database, read-only, without exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import dashboard

APP = str(Path(dashboard.__file__).with_name("app.py"))


@pytest.fixture
def app(small_demo, monkeypatch) -> AppTest:
    monkeypatch.setenv("TASTERADAR_DB", str(small_demo.db_path))
    return AppTest.from_file(APP, default_timeout=60)


def test_overview_renders_counts(app, small_demo):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    posts_metric = next(m for m in app.metric if m.label == "Posts")
    assert posts_metric.value == f"{small_demo.posts:,}"


def test_open_dashboard_banner_is_visible(app):
    app.run()
    assert any("no login is configured" in w.value for w in app.sidebar.warning)


def test_dashboard_never_writes(app, small_demo):
    before = small_demo.db_path.stat().st_mtime_ns
    app.run()
    assert small_demo.db_path.stat().st_mtime_ns == before
