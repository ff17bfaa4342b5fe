"""A real headless Chromium walks the site; the README screenshot comes from here."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshot.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs the Debian chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 860})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert errors == []


def test_home_paper_page_and_search(page: Page, server: str) -> None:
    page.goto(server + "/")
    assert page.locator("h1").inner_text().startswith("Daily Papers")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    first = page.locator("article.card h3 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/papers/2608.19880")
    assert page.locator("h1").inner_text() == title
    assert page.locator("a", has_text="PDF").get_attribute("href") == "https://arxiv.org/pdf/2608.19880"
    page.fill("input[name=q]", "video generation")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/search?q=video+generation")
    assert page.locator("article.card").count() > 0
    assert page.locator("article.card mark").count() > 0


def test_narrow_screen_has_no_horizontal_scroll(browser: Browser, server: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(server + "/papers/week/2026-W34")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
