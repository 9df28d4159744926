"""Fixtures for the dashboard tests."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def restore_main_module():
    """Put ``sys.modules['__main__']`` back after each test: Streamlit's script runner (AppTest) installs the
    page it ran there, and a process started later by ``spawn`` (the embedding workers) would re-run that
    page as its main module and die."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
