"""Every page in a real headless Chromium at desktop and phone widths: screenshots into docs/screenshots/.

The README shows the main ones. On phones the header must stay compact and never hide the target of a link to
`#comments`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from community_site import PASSWORD, Site
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser, Page

from broadsheet.community import authors
from broadsheet.mail.subscriptions import Subscriptions
from broadsheet.models import Preferences

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PAPER = "2608.19880"  # the top paper of the demo's last day
PHONE_HEADER_MAX = 80  # px: the header on a 390 x 844 phone


@dataclass(frozen=True, slots=True)
class Width:
    name: str
    width: int
    height: int


DESKTOP = Width("desktop", 1280, 800)
PHONE = Width("phone", 390, 844)


@dataclass(frozen=True, slots=True)
class Shot:
    name: str  # the file is docs/screenshots/{name}-{width}.png
    path: str  # or "{manage}" for the signed manage link
    signed_in: bool = False


SHOTS_TAKEN = (
    Shot("home", "/"),
    Shot("day", "/papers/date/2026-08-21"),
    Shot("week", "/papers/week/2026-W34"),
    Shot("month", "/papers/month/2026-08"),
    Shot("trending", "/papers/trending"),
    Shot("search", "/search?q=video+generation"),
    Shot("search-none", "/search?q=qwxyzzy+frobnicate"),
    Shot("paper", f"/papers/{PAPER}"),
    Shot("author", "{author}"),
    Shot("login", "/login"),
    Shot("signup", "/signup"),
    Shot("subscribe", "/subscribe"),
    Shot("manage", "{manage}"),
    Shot("feed", "/feeds/daily.atom"),
    Shot("collections", "/collections", signed_in=True),
    Shot("for-you", "/for-you", signed_in=True),
    Shot("following", "/following", signed_in=True),
    Shot("settings", "/settings", signed_in=True),
)


@pytest.fixture(scope="module")
def places(site: Site) -> dict[str, str]:
    """A reader with comments, votes, bookmarks, follows, a collection, For-you seeds and a digest subscription."""
    reader = site.member("reader")
    _discuss(site, reader)
    newest, _ = site.store.papers.newest(limit=6)
    picks = [view.paper.arxiv_id for view in newest if view.paper.arxiv_id != PAPER]
    assert reader.post(f"/api/papers/{PAPER}/vote", json={"up": True}).status_code == 200
    assert reader.post(f"/papers/{PAPER}/save", data={"saved": "true"}).status_code == 200
    view = site.store.papers.get(PAPER)
    assert view is not None
    paper = view.paper
    for kind, value in (("category", "cs.CV"), ("author", paper.authors[0]), ("search", "video")):
        assert reader.post("/follows", data={"kind": kind, "value": value, "followed": "true"}).status_code == 200
    made = reader.post("/collections", data={"title": "Video generation", "description": "To read this week"})
    assert made.status_code == 200
    seeds = reader.post("/for-you/seeds", data={"text": "\n".join([PAPER, *picks])})
    assert seeds.status_code == 200
    digests = Subscriptions(site.store, site.settings)
    digests.request("reader@example.org", Preferences(categories=("cs.CV",)), client="screens")
    subscriber = site.store.subscribers.by_email("reader@example.org")
    assert subscriber is not None
    manage = urlsplit(digests.manage_url(subscriber))
    return {"{author}": authors.url(paper.authors[0]), "{manage}": f"{manage.path}?{manage.query}"}


DISCUSSION = (  # who, the index of the comment answered (or None), what
    ("reader", None, "Clear write-up: the ablation in **section 4** is the part to read."),
    ("ines", 0, "Does the released code reproduce table 2? The numbers for the 7B model look high."),
    ("reader", 0, "It does for me, within 0.3 points, on one GPU in about a day."),
    ("tomas", None, "How does this compare with last week's paper on the same benchmark?"),
    ("ines", 3, "Their evaluation uses a different split, so the two tables are not comparable."),
    ("tomas", 3, "Fair. The appendix has the per-category numbers, which answer most of my questions."),
    ("reader", None, "The method section is dense; figure 3 helps a lot."),
    ("ines", 6, "Agreed. A short blog post from the authors would help newcomers."),
)


def _discuss(site: Site, reader: TestClient) -> None:
    """Enough comments that the thread is taller than a screen (so a jump to #comments really scrolls)."""
    people = {"reader": reader, "ines": site.member("ines"), "tomas": site.member("tomas")}
    made: list[int] = []
    for who, answered, body in DISCUSSION:
        parent = made[answered] if answered is not None else None
        answer = people[who].post(f"/api/papers/{PAPER}/comments", json={"body": body, "parentId": parent})
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])


def _page(browser: Browser, live: str, width: Width, *, signed_in: bool) -> Page:
    context = browser.new_context(viewport={"width": width.width, "height": width.height})
    page = context.new_page()
    if signed_in:
        page.goto(f"{live}/login?next=/settings")
        page.fill("input[name=username]", "reader")
        page.fill("input[name=password]", PASSWORD)
        page.click("form.stack button[type=submit]")
        page.wait_for_url("**/settings")
    return page


def _save(page: Page, path: Path) -> None:
    """The viewport in 256 colours (a third of the bytes; text looks the same): the repository carries these.
    A stored shot that looks the same is kept, so a test run leaves the repository's files alone."""
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    shot = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    if path.exists() and _looks_the_same(Image.open(path).convert("RGB"), shot.convert("RGB")):
        return
    shot.save(path, optimize=True)


def _looks_the_same(old: Image.Image, new: Image.Image) -> bool:
    """Under 0.1 % of the pixels changed by more than 24 levels: a relative time or a score moved, or the
    palette's rounding (measured: at most 0.04 % between two runs of the same code), not the layout."""
    if old.size != new.size:
        return False
    changed = np.abs(np.asarray(old, dtype=np.int16) - np.asarray(new, dtype=np.int16)).max(axis=2) > 24
    return float(changed.mean()) < 0.001


def _header_height(page: Page) -> float:
    return float(page.evaluate("document.querySelector('header.site').getBoundingClientRect().height"))


@pytest.mark.slow
@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=lambda w: w.name)
def test_every_page_at_desktop_and_phone_width(
    browser: Browser, live: str, places: dict[str, str], width: Width
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {False: _page(browser, live, width, signed_in=False), True: _page(browser, live, width, signed_in=True)}
    errors: list[str] = []
    for page in pages.values():
        page.on("pageerror", lambda exc: errors.append(str(exc)))
    for shot in SHOTS_TAKEN:
        page = pages[shot.signed_in]
        response = page.goto(live + places.get(shot.path, shot.path))
        assert response is not None and response.status == 200, shot
        _save(page, SHOTS / f"{shot.name}-{width.name}.png")
        if shot.path.startswith("/feeds/"):  # the browser made a page of it with the feed's XSLT
            assert "copy" in page.inner_text("body").lower() and page.locator("link[rel=stylesheet]").count(), shot
        else:
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
                " > window.innerWidth + 1).map(e => e.tagName + '.' + e.className).slice(0, 5)"
            )
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (shot, wide)
            if width is PHONE:
                assert _header_height(page) <= PHONE_HEADER_MAX, shot
            assert page.locator("article.card .body > p:empty").count() == 0, shot  # no form split a <p> in two
    for page in pages.values():
        page.context.close()
    assert errors == []


@pytest.mark.slow
@pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=lambda w: w.name)
def test_a_link_to_comments_shows_them_below_the_header(browser: Browser, live: str, places: dict[str, str],
                                                        width: Width) -> None:  # fmt: skip
    page = _page(browser, live, width, signed_in=False)
    page.goto(f"{live}/papers/date/2026-08-21")
    page.locator(f"article.card[data-paper='{PAPER}'] a.comments").click()
    page.wait_for_url(f"**/papers/{PAPER}#comments")
    page.wait_for_timeout(100)
    header = page.evaluate("document.querySelector('header.site').getBoundingClientRect().bottom")
    heading = page.evaluate("document.querySelector('#comments h2').getBoundingClientRect().top")
    assert heading >= header, (heading, header)  # the heading is below the header, not under it
    assert heading < width.height / 2  # and it was scrolled to
    page.context.close()


@pytest.mark.slow
def test_the_phone_menu_opens_without_javascript(browser: Browser, live: str) -> None:
    context = browser.new_context(viewport={"width": PHONE.width, "height": PHONE.height}, java_script_enabled=False)
    page = context.new_page()
    page.goto(live + "/")
    trending = page.locator("header nav.sections a", has_text="Trending")
    assert not trending.is_visible()
    page.locator("label.menu-button").click()
    assert trending.is_visible() and page.locator("header a", has_text="Log in").is_visible()
    _save(page, SHOTS / "menu-phone.png")
    trending.click()
    page.wait_for_url("**/papers/trending")
    context.close()


@pytest.mark.slow
@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_compact_cards_are_remembered_per_browser(browser: Browser, live: str, javascript: bool) -> None:
    context = browser.new_context(viewport={"width": DESKTOP.width, "height": DESKTOP.height},
                                  java_script_enabled=javascript)  # fmt: skip
    page = context.new_page()
    page.goto(live + "/papers/date/2026-08-21")
    toggle = page.locator(".view-options button")
    authors_line = page.locator("article.card .authors").first
    if not javascript:  # no toggle, and the cards are the full (expanded) ones
        assert toggle.count() == 0 and authors_line.is_visible()
        context.close()
        return
    assert toggle.inner_text() == "Compact view" and toggle.get_attribute("aria-pressed") == "false"
    tall = page.locator("article.card").first.bounding_box()
    toggle.click()
    short = page.locator("article.card").first.bounding_box()
    assert tall and short and short["height"] < tall["height"]
    page.goto(live + "/search?q=video+generation")  # another page, the same choice
    assert page.evaluate("document.documentElement.dataset.cards") == "compact"
    assert not page.locator("article.card .snippet").first.is_visible()
    _save(page, SHOTS / "search-compact-desktop.png")
    page.locator(".view-options button", has_text="Expanded view").click()
    page.reload()
    assert page.evaluate("document.documentElement.dataset.cards") == "expanded"
    assert page.locator("article.card .snippet").first.is_visible()
    context.close()


@pytest.mark.slow
def test_search_results_link_every_author_and_mark_the_matched_ones(site: Site) -> None:
    view = site.store.papers.get(PAPER)
    assert view is not None
    names = view.paper.authors
    assert len(names) > 8
    page = site.guest().get("/search", params={"q": f"{names[0].split()[-1]} {names[7]}"}).text
    card = page[page.index(f'data-paper="{PAPER}"') :]
    card = card[: card.index("</article>")]
    first, last = names[0].split()[0], names[0].split()[-1]
    assert f'<a href="{authors.url(names[0])}">{first} <mark>{last}</mark></a>' in card
    assert f'<a href="{authors.url(names[7])}"><mark>{names[7]}</mark></a>' in card  # a later name the query named
    assert f'<a href="{authors.url(names[1])}">{names[1]}</a>' in card
    words = {last.lower(), *names[7].lower().split()}
    shown = [*names[:3], *(n for n in names[3:] if words & set(n.lower().split()))]
    assert card.count('<a href="/authors/') == len(shown) and f"and {len(names) - len(shown)} others</p>" in card
