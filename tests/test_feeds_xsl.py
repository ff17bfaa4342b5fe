"""Feeds readable in a browser: every feed names the site's XSLT stylesheet, which is served offline with an
XML content type and turns RSS and Atom into a page with the URL to copy into a feed reader."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import make_settings
from fastapi.testclient import TestClient

from broadsheet import feeds
from broadsheet.models import DailyRecord, Paper
from broadsheet.store import Store
from broadsheet.web import create_app

STYLESHEET = Path(feeds.__file__).parent / "web" / "static" / "feed.xsl"
PAPERS = [
    Paper("2608.20001", "Fish & chips <b>bold</b>", "An abstract about 5 < 6 & more.", ("Ann Lee", "Bo Ma"), ("cs.CL",),
          submitted_at=datetime(2026, 8, 21, 12, tzinfo=UTC)),
    Paper("2608.20002", "A plain title", "A plain abstract.", ("Cy Wu",), ("cs.CL", "cs.LG"),
          submitted_at=datetime(2026, 8, 21, 13, tzinfo=UTC)),
]  # fmt: skip
FEEDS = ["/feeds/daily.xml", "/feeds/daily.atom", "/feeds/trending.xml", "/feeds/cat/cs.CL.atom"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("xsl") / "data", site_url="https://papers.example.org")
    store = Store.open(settings.db_url)
    store.migrate()
    store.daily.upsert([DailyRecord(p, date(2026, 8, 21), upvotes=3) for p in PAPERS], source="hf")
    yield TestClient(create_app(settings, store))
    store.close()


def test_the_builders_put_the_stylesheet_instruction_before_the_root() -> None:
    feed = feeds.Feed("t", "https://x.org/papers", "https://x.org/feeds/daily.atom", "d", [])
    for body in (feeds.atom(feed), feeds.rss(feed)):
        head, _, rest = body.partition(b"\n")
        assert head.startswith(b"<?xml version=") and rest.startswith(b'<?xml-stylesheet type="text/xsl" href="/static')
        assert not feedparser.parse(body).bozo


def test_the_stylesheet_is_well_formed_xslt() -> None:
    from xml.etree.ElementTree import parse

    root = parse(STYLESHEET).getroot()
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet" and root.get("version") == "1.0"


@pytest.mark.slow
@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_names_the_served_stylesheet_and_still_parses(client: TestClient, path: str) -> None:
    body = client.get(path).content
    assert b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>' in body.split(b"\n", 2)[1]
    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) >= 1
    sheet = client.get(feeds.STYLESHEET)
    assert sheet.status_code == 200 and "xml" in sheet.headers["content-type"]  # browsers refuse other types
    assert sheet.content == STYLESHEET.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("path", FEEDS)
def test_a_browser_applying_the_stylesheet_sees_a_readable_page(client: TestClient, path: str) -> None:
    etree = pytest.importorskip("lxml.etree")
    transform = etree.XSLT(etree.fromstring(client.get(feeds.STYLESHEET).content))
    page = transform(etree.fromstring(client.get(path).content))
    html = etree.tostring(page, method="html", encoding="unicode")
    root = page.getroot()
    assert root.tag == "html" and root.find("head/link[@rel='stylesheet']").get("href") == "/static/style.css"
    assert root.findtext(".//code[@class='feed-url']") == f"https://papers.example.org{path}"
    assert "Copy this URL into your feed reader" in html
    titles = [" ".join("".join(a.itertext()).split()) for a in root.iterfind(".//article//h3/a")]
    assert sorted(titles) == sorted(" ".join(p.title.split()) for p in PAPERS)
    first = next(a for a in root.iterfind(".//article") if "Fish" in "".join(a.itertext()))
    assert first.find(".//h3/a").get("href") == "https://papers.example.org/papers/2608.20001"
    assert "5 < 6 & more." in "".join(first.itertext())  # text, unescaped once: never "&amp;" nor an element
    assert first.find(".//b") is None and "Ann Lee" in "".join(first.itertext())
