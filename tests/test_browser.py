"""A real headless Chromium walks the site (the screenshots of every page: test_browser_screens.py)."""

from collections.abc import Iterator

import pytest
from community_site import Site
from playwright.sync_api import Browser, Page, expect


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


XSS = [
    "<script>window.__pwned = 1; alert(1)</script>",
    '<img src=x onerror="window.__pwned = 1; alert(2)">',
    "[click me](javascript:alert(3))",
    '"><svg onload=alert(4)>',
]


def test_hostile_input_stays_inert_in_a_real_browser(browser: Browser, site: Site, live: str) -> None:
    from broadsheet.community import accounts
    from broadsheet.models import Paper

    mallory = site.member("xss")
    site.store.users.update_profile(site.store.users.get("xss").id, display_name=XSS[1], votes_public=True)  # type: ignore[union-attr]
    for payload in XSS:
        assert mallory.post("/api/papers/2608.19880/comments", json={"body": payload}).status_code == 201
    assert (
        mallory.post(
            "/api/papers/submit", json={"paperId": "2608.19880", "githubRepo": "javascript:alert(5)"}
        ).status_code
        == 400
    )
    evil = Paper("2608.99999", XSS[0] + " " + XSS[3], XSS[1], (XSS[1],), ("cs.LG",),
                 code_url="javascript:alert(6)", project_url="javascript:alert(7)", license="javascript:alert(8)")  # fmt: skip
    site.store.papers.upsert([evil])
    accounts.new_session(site.store, site.store.users.get("xss"))  # type: ignore[arg-type]
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path in (
        "/papers/2608.19880",
        "/papers/2608.99999",
        "/u/xss",
        f"/search?q={XSS[0]}",
        "/papers/2608.99999.json",
    ):
        page.goto(live + path)
        for link in page.locator("a").all():
            assert not (link.get_attribute("href") or "").lower().startswith("javascript:"), path
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("img[src='x'], svg, iframe").count() == 0, path
        assert page.locator("script:not([src])").count() == 0, path
    page.goto(live + "/papers/2608.19880")
    page.get_by_text("click me").first.click()  # a javascript: link would have run here
    page.wait_for_timeout(200)
    assert dialogs == [] and page.evaluate("window.__pwned") is None
    context.close()


def _log_in(page: Page, live: str, username: str) -> None:
    page.goto(f"{live}/login?next=/papers/date/2026-08-21")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/papers/date/2026-08-21")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_upvote_button(browser: Browser, site: Site, live: str, javascript: bool) -> None:
    from broadsheet.community import accounts

    username = f"clicker{int(javascript)}"
    accounts.sign_up(site.store, username, None, "correct horse battery")
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    _log_in(page, live, username)
    button = page.locator("article.card[data-paper='2608.20202'] button.votes")
    before = int(button.locator(".count").inner_text())
    if javascript:
        page.evaluate("window.__same_page = true")
    button.click()
    expect_count = str(before + 1)
    expect(button.locator(".count")).to_have_text(expect_count)
    assert page.url.endswith("/papers/date/2026-08-21"), page.url
    if javascript:
        assert page.evaluate("window.__same_page") is True  # no reload
    assert button.get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.locator("article.card[data-paper='2608.20202'] .count").inner_text() == expect_count
    context.close()
