"""RSS and Atom feeds served by the real app: clean XML, stable ids, and text that stays text."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, fromstring

import feedparser
import pytest
from community_site import Site
from conftest import make_settings
from fastapi.testclient import TestClient

from broadsheet import feeds
from broadsheet.ingest.metadata import display_text, display_title, tex_to_text
from broadsheet.models import DailyRecord, Paper
from broadsheet.store import Store
from broadsheet.web import create_app

DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"


class _Html(HTMLParser):
    """What an HTML renderer would make of a string: its elements (tags, comments, declarations) and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        self.elements.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.elements.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.elements.append(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self.elements.append(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self.elements.append(f"<![{data}]>")


def html_text(markup: str) -> str:
    """The text an HTML renderer shows for `markup`; fails if it would render any element."""
    parser = _Html()
    parser.feed(markup)
    parser.close()
    assert not parser.elements, (markup, parser.elements)
    return "".join(parser.text)


def test_feeds_parse_cleanly_with_stable_ids_and_escaped_content(site: Site) -> None:
    site.store.papers.upsert(
        [
            Paper(
                "2608.88888",
                "A <b>bold</b> & risky title",
                "Abstract with <script>alert(1)</script>.",
                ("Eve",),
                ("cs.CL",),
            )
        ]
    )
    client = TestClient(site.app)
    for path in (
        "/feeds/daily.xml",
        "/feeds/daily.atom",
        "/feeds/trending.atom",
        "/feeds/cat/cs.CL.atom",
        "/feeds/cat/cs.CL.xml",
        "/feeds/search.atom?q=video+generation",
        "/feeds/search.xml?q=risky",
    ):
        response = client.get(path)
        assert response.status_code == 200 and "xml" in response.headers["content-type"], path
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries and all(e.get("id") and e.get("title") and e.get("link") for e in parsed.entries), path
        assert [e.id for e in parsed.entries] == [e.id for e in feedparser.parse(client.get(path).content).entries]
        assert all(e.get("published_parsed") for e in parsed.entries), path
    risky = feedparser.parse(client.get("/feeds/cat/cs.CL.atom").content).entries
    mine = next(e for e in risky if e.id == "https://arxiv.org/abs/2608.88888")
    assert mine.title == "A <b>bold</b> & risky title"  # text, not markup
    assert client.get("/feeds/cat/not a category.atom").status_code == 400
    assert client.get("/feeds/daily.json").status_code == 404
    assert client.get("/feeds/search.atom").status_code == 400
    assert '<link rel="alternate" type="application/atom+xml"' in client.get("/").text


# -- a hostile corpus: markup, CDATA ends, entities, characters XML forbids, astral and bidi text --------------

HOSTILE = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(2)>",
    "]]> <![CDATA[x]]>",
    "AT&T &amp; &lt;b&gt; &#60;i&#62;",
    "bell\x07 back\x08space \x01\x0b\x0c\x1f nul\x00",
    "noncharacters \ufffe\uffff",
    "astral 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 𠜎",
    "bidi \u202eevil\u202c \u200fRTL\u200e \u2066iso\u2069",
    "<!-- comment --> <?pi x?> <!DOCTYPE html>",
)
FORBIDDEN = set(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))


def xml_safe(text: str) -> str:
    return "".join(c for c in text if c not in FORBIDDEN)


def hostile_papers() -> list[Paper]:
    stamp = datetime(2026, 8, 21, 12, tzinfo=UTC)
    papers = []
    for i, text in enumerate(HOSTILE):
        papers.append(Paper(f"2608.{70000 + i}", f"Hostile title {i} {text}", f"Hostile abstract {i}: {text}\nthe end.",
                            (f"Author {text}", "Plain Person"), ("cs.CL",), submitted_at=stamp))  # fmt: skip
    return papers


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The real app over a real store holding only the hostile papers, written straight to the store.

    No importer in between: the store cleans what XML (and PostgreSQL) cannot hold, and the feeds
    escape the rest; the search-feed tests below check the feeds' own cleaning of query text."""
    settings = make_settings(tmp_path_factory.mktemp("hostile") / "data")
    store = Store.open(settings.db_url)
    store.migrate()
    store.daily.upsert(
        [DailyRecord(p, date(2026, 8, 21), upvotes=i) for i, p in enumerate(hostile_papers())], source="hf"
    )
    yield TestClient(create_app(settings, store))
    store.close()


HOSTILE_FEEDS = [f"/feeds/{name}.{fmt}" for name in ("daily", "trending", "cat/cs.CL") for fmt in ("xml", "atom")]


def _items(body: bytes) -> list[Element]:
    root = fromstring(body)
    return [el for el in root.iter() if el.tag in ("item", f"{{{feeds.ATOM}}}entry")]


@pytest.mark.parametrize("path", HOSTILE_FEEDS)
def test_hostile_papers_make_feeds_that_parse_and_show_text_only(hostile: TestClient, path: str) -> None:
    response = hostile.get(path)
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == len(HOSTILE)
    expected = {p.arxiv_id: p for p in hostile_papers()}
    for item in _items(response.content):
        if item.tag == "item":  # RSS: readers render title and description as HTML, so they must be escaped HTML
            paper = expected[item.findtext("guid", "").rpartition("/")[2]]
            assert html_text(item.findtext("title", "")) == tex_to_text(display_title(xml_safe(paper.title)))
            assert html_text(item.findtext("description", "")) == tex_to_text(display_text(xml_safe(paper.abstract)))
            assert item.findtext(DC_CREATOR) == xml_safe(", ".join(paper.authors))
        else:  # Atom: plain text constructs (type="text"), shown as text
            paper = expected[item.findtext(f"{{{feeds.ATOM}}}id", "").rpartition("/")[2]]
            summary = item.find(f"{{{feeds.ATOM}}}summary")
            assert summary is not None and summary.get("type") == "text"
            assert summary.text == tex_to_text(display_text(xml_safe(paper.abstract)))
            assert item.findtext(f"{{{feeds.ATOM}}}title") == tex_to_text(display_title(xml_safe(paper.title)))
            names = [n.text for n in item.iter(f"{{{feeds.ATOM}}}name")]
            assert names == [xml_safe(a) for a in paper.authors]
    for entry in parsed.entries:  # what feedparser hands a reader: HTML without elements, or plain text
        paper = expected[entry.id.rpartition("/")[2]]
        for detail, text in (
            (entry.summary_detail, tex_to_text(paper.abstract)),
            (entry.title_detail, tex_to_text(paper.title)),
        ):
            shown = html_text(detail.value) if detail.type == "text/html" else detail.value
            assert " ".join(shown.split()) == " ".join(xml_safe(text).split())


@pytest.mark.parametrize("fmt", ["xml", "atom"])
@pytest.mark.parametrize("query", ["\x08abc", "Hostile \x01<script>alert(1)</script>", "abstract ]]> &amp; \ufffe"])
def test_search_feeds_with_forbidden_characters_in_the_query_parse(hostile: TestClient, fmt: str, query: str) -> None:
    response = hostile.get(f"/feeds/search.{fmt}", params={"q": query})
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    title = fromstring(response.content).findtext("channel/title" if fmt == "xml" else f"{{{feeds.ATOM}}}title", "")
    shown = html_text(title) if fmt == "xml" else title
    assert xml_safe(query) in shown


def _feed(title: str, summary: str) -> feeds.Feed:
    moment = datetime(2026, 8, 21, tzinfo=UTC)
    entry = feeds.Entry("https://arxiv.org/abs/2608.00001", title, "https://x.org/papers/2608.00001", summary,
                        ("A <b>", "B\x01"), ("cs.CL",), moment, moment)  # fmt: skip
    return feeds.Feed(f"Site: search “{title}”", "https://x.org/search", "https://x.org/feeds/search.xml?q=x",
                      f"Papers matching {title}", [entry])  # fmt: skip


def test_rss_description_is_html_text_escaped_then_xml_escaped() -> None:
    body = feeds.rss(_feed("<b>bold</b> & co", '<img src=x onerror="alert(1)"> 1 < 2 &amp;'))
    assert b'&amp;lt;img src=x onerror="alert(1)"&amp;gt; 1 &amp;lt; 2 &amp;amp;amp;' in body
    item = fromstring(body).find("channel/item")
    assert item is not None
    assert html_text(item.findtext("description", "")) == '<img src=x onerror="alert(1)"> 1 < 2 &amp;'
    assert html_text(item.findtext("title", "")) == "<b>bold</b> & co"
    channel = fromstring(body).find("channel")
    assert channel is not None and html_text(channel.findtext("title", "")) == "Site: search “<b>bold</b> & co”"
    assert html_text(channel.findtext("description", "")) == "Papers matching <b>bold</b> & co"


def test_atom_summary_is_a_text_construct_escaped_once() -> None:
    body = feeds.atom(_feed("<b>bold</b>", "<img src=x> &amp;\x0b"))
    assert b'<atom:summary type="text">&lt;img src=x&gt; &amp;amp;</atom:summary>' in body
    entry = feedparser.parse(body).entries[0]
    assert entry.summary_detail.type == "text/plain" and entry.title_detail.type == "text/plain"
    assert [a.name for a in entry.authors] == ["A <b>", "B"]


def test_feed_builders_drop_characters_xml_forbids() -> None:
    body = feeds.atom(_feed("t\x00i\x08t\x1fle\ufffe", "s\x01um\x7fmary"))
    assert feedparser.parse(body).bozo == 0
    assert feedparser.parse(body).entries[0].title == "title"
    assert feedparser.parse(feeds.rss(_feed("\x02", "\x03"))).bozo == 0
