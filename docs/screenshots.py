"""Refresh the README's screenshots: start the dashboard over the demo world and photograph each page.

Usage: ``.venv/bin/python docs/screenshots.py [--db data/demo/tasteradar.db]`` (needs Debian's chromium).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from tasteradar.serve import free_port, start_dashboard, wait_until_up

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: name -> (URL path, page heading, whether the page draws a chart on first paint)
PAGES = {
    "overview": ("", "Overview", True),
    "topics": ("topics", "Topics", True),
    "emerging": ("emerging", "Emerging tastes and unmet needs", True),
    "competitors": ("competitors", "Competitors", True),
    "segments": ("segments", "Segments", True),
    "customers": ("customers", "Customers", False),
    "search": ("search", "Search posts", False),
    "review": ("review", "Review", False),
}
CHART = "[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']"
OUT = Path(__file__).with_name("img")


def main() -> None:
    """Photograph every page listed in PAGES into docs/img/NAME.png."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("data/demo/tasteradar.db"))
    args = parser.parse_args()
    process, url = start_dashboard(args.db.resolve(), "127.0.0.1", free_port(), brand="Nimbus Mobile")
    try:
        if not wait_until_up(url, process):
            raise SystemExit(f"dashboard did not start at {url}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name, (path, heading, chart) in PAGES.items():
                page.goto(f"{url}/{path}")
                page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=60_000)
                if chart:
                    page.wait_for_selector(CHART)
                page.wait_for_timeout(1500)
                page.screenshot(path=OUT / f"{name}.png", full_page=True)
                print(f"wrote {OUT / f'{name}.png'}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
