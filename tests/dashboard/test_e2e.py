"""End to end in a real browser (Debian's Chromium through Playwright): every page opens and is photographed,
a segment export downloads, and hostile post text never runs (the canary ``window.__xss`` stays undefined).

Skipped where ``/usr/bin/chromium`` or Playwright is missing (``apt-get install chromium``). Screenshots go to
the test's temporary folder, or to ``$TASTERADAR_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from dashboard.auth import HASH_ENV
from dashboard.queries.people import SUPPRESS_ENV
from tasteradar.serve import free_port, start_dashboard, wait_until_up
from tests.dashboard.people_seed import XSS_TEXTS, seed_people_world

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: URL path -> (the page's name in the sidebar, its title). The root first: the page that runs app.py.
PAGES = {
    "": ("Overview", "Overview"),
    "topics": ("Topics", "Topics"),
    "emerging": ("Emerging tastes and needs", "Emerging tastes and unmet needs"),
    "competitors": ("Competitors", "Competitors"),
    "segments": ("Segments", "Segments"),
    "customers": ("Customers", "Customers"),
    "search": ("Search", "Search posts"),
    "review": ("Review", "Review"),
}
EXCEPTION = "[data-testid='stException']"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """The dashboard over the hand-made world, open (no login), on a free loopback port."""
    db_path = seed_people_world(tmp_path_factory.mktemp("e2e") / "tasteradar.db")
    saved = {name: os.environ.pop(name) for name in (HASH_ENV, SUPPRESS_ENV) if name in os.environ}
    try:
        process, url = start_dashboard(db_path, "127.0.0.1", free_port())
    finally:
        os.environ.update(saved)
    try:
        assert wait_until_up(url, process, timeout=60), "the dashboard did not start"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        yield context.new_page()
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("TASTERADAR_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def settle(page) -> None:
    """Wait until the script run is over (Streamlit's running indicator gone) and charts have painted."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"] button')")
    page.wait_for_timeout(400)


def open_page(page, server: str, path: str) -> None:
    """Open a page by its URL (a new session) and wait for it to finish."""
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=PAGES[path][1], exact=True).wait_for(timeout=30_000)
    settle(page)


def go(page, server: str, path: str) -> None:
    """Go to a page through the sidebar (same session, as a person would; by URL when the dashboard is not
    open yet) and wait for it to finish."""
    if not page.url.startswith(server):
        open_page(page, server, "")
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=PAGES[path][0], exact=True).click()
    page.get_by_role("heading", name=PAGES[path][1], exact=True).wait_for(timeout=30_000)
    settle(page)


def photograph(page, file: Path) -> None:
    """A screenshot of the whole page (the viewport stretched to the height of Streamlit's scrolling main)."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(int(height), 1000), 5000)})
    page.wait_for_timeout(300)
    page.screenshot(path=file)
    page.set_viewport_size({"width": 1400, "height": 1000})


def assert_nothing_ran(page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x'], a[href^='javascript']").count() == 0
    assert page.locator(EXCEPTION).count() == 0


def test_every_page_opens_and_is_photographed(page, server, shots):
    open_page(page, server, "")
    for path in PAGES:
        if path:
            go(page, server, path)
        assert_nothing_ran(page)
        photograph(page, shots / f"{path or 'overview'}.png")
    assert len(list(shots.glob("*.png"))) >= len(PAGES)


def test_segment_export_downloads_opted_in_members(page, server, tmp_path):
    go(page, server, "segments")
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / waiting.value.suggested_filename
    waiting.value.save_as(saved)
    assert saved.name == "segment-1.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert sorted(row["customer_id"] for row in rows) == ["C-001", "C-002"]  # never C-003 (no consent)


def test_search_shows_hostile_posts_without_running_them(page, server, shots):
    go(page, server, "search")
    box = page.get_by_label("Words to find")
    box.fill("esim")
    box.press("Enter")
    page.get_by_text("14 posts match", exact=False).wait_for(timeout=20_000)
    settle(page)
    assert_nothing_ran(page)
    photograph(page, shots / "search-results.png")


def test_review_shows_hostile_post_text_as_text(page, server, shots):
    go(page, server, "review")
    box = page.get_by_label("Find posts (optional)")
    for words, text in (("onerror", XSS_TEXTS[1]), ("script", XSS_TEXTS[0]), ("javascript", XSS_TEXTS[2])):
        box.fill(words)
        box.press("Enter")
        page.get_by_test_id("stText").get_by_text(text, exact=True).wait_for(timeout=20_000)  # markup as text
        settle(page)
        assert_nothing_ran(page)
    photograph(page, shots / "review-hostile.png")
