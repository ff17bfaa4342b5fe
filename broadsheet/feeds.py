"""RSS 2.0 and Atom 1.0 documents from papers: pure builders, escaped by the XML serializer.

Atom titles and summaries are text constructs (`type="text"`): escaped once, by XML. RSS says
nothing of the kind and readers render its titles and descriptions as HTML, so those are
HTML-escaped first (a title `<img src=x>` is sent as `&amp;lt;img src=x&amp;gt;`: text, never an
element). Characters XML 1.0 forbids (most C0 controls, U+FFFE/U+FFFF, lone surrogates) are
dropped from every text and attribute, so a stored title or a search query cannot break a feed.

Entry ids (Atom `id`, RSS `guid`) are the papers' arXiv URLs, so they stay the same across
runs, hosts and reinstalls; dates are RFC 3339 (Atom) and RFC 822 (RSS). Every document names the
site's XSLT stylesheet (`<?xml-stylesheet?>`), so a feed opened in a browser is a readable page with
its URL to copy into a feed reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from broadsheet.ingest.metadata import display_text, display_title, tex_to_text, xml_safe
from broadsheet.models import PaperView

ATOM = "http://www.w3.org/2005/Atom"
STYLESHEET = "/static/feed.xsl"  # web/static/feed.xsl: a browser shows the feed as a page, readers ignore it
STYLESHEET_PI = f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET}"?>'.encode()
register_namespace("atom", ATOM)
_EPOCH = datetime(1991, 8, 1, tzinfo=UTC)  # an empty feed's stable "updated"


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str
    summary: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published: datetime
    updated: datetime


@dataclass(frozen=True)
class Feed:
    title: str
    link: str  # the HTML page this feed follows
    self_url: str
    description: str
    entries: list[Entry]

    @property
    def updated(self) -> datetime:
        return max((e.updated for e in self.entries), default=_EPOCH)


def entries(views: list[PaperView], site: str) -> list[Entry]:
    out = []
    for view in views:
        p = view.paper
        published = view.added_at or p.published
        updated = max(published, p.updated_at) if p.updated_at else published
        title, summary = tex_to_text(display_title(p.title)), tex_to_text(display_text(p.abstract))
        out.append(Entry(f"https://arxiv.org/abs/{p.arxiv_id}", title, f"{site}/papers/{p.arxiv_id}",
                         summary, p.authors, p.categories, published, updated))  # fmt: skip
    return out


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _html(text: str) -> str:
    """Text as HTML (for RSS elements that readers render as HTML)."""
    return escape(text, quote=False)


def _text(parent: Element, tag: str, value: str, **attrs: str) -> Element:
    child = SubElement(parent, tag, attrs)
    child.text = value
    return child


def atom(feed: Feed) -> bytes:
    root = Element(f"{{{ATOM}}}feed")
    _text(root, f"{{{ATOM}}}id", feed.self_url)
    _text(root, f"{{{ATOM}}}title", feed.title)
    _text(root, f"{{{ATOM}}}subtitle", feed.description)
    _text(root, f"{{{ATOM}}}updated", _rfc3339(feed.updated))
    SubElement(root, f"{{{ATOM}}}link", {"rel": "self", "href": feed.self_url, "type": "application/atom+xml"})
    SubElement(root, f"{{{ATOM}}}link", {"rel": "alternate", "href": feed.link, "type": "text/html"})
    _text(SubElement(root, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", "Broadsheet")
    for e in feed.entries:
        item = SubElement(root, f"{{{ATOM}}}entry")
        _text(item, f"{{{ATOM}}}id", e.id)
        _text(item, f"{{{ATOM}}}title", e.title)
        SubElement(item, f"{{{ATOM}}}link", {"rel": "alternate", "href": e.link, "type": "text/html"})
        _text(item, f"{{{ATOM}}}published", _rfc3339(e.published))
        _text(item, f"{{{ATOM}}}updated", _rfc3339(e.updated))
        for name in e.authors or ("Unknown",):
            _text(SubElement(item, f"{{{ATOM}}}author"), f"{{{ATOM}}}name", name)
        for category in e.categories:
            SubElement(item, f"{{{ATOM}}}category", {"term": category})
        _text(item, f"{{{ATOM}}}summary", e.summary, type="text")
    return _document(root)


def rss(feed: Feed) -> bytes:
    root = Element("rss", {"version": "2.0"})
    channel = SubElement(root, "channel")
    _text(channel, "title", _html(feed.title))
    _text(channel, "link", feed.link)
    _text(channel, "description", _html(feed.description))
    _text(channel, "lastBuildDate", format_datetime(feed.updated))
    SubElement(channel, f"{{{ATOM}}}link", {"rel": "self", "href": feed.self_url, "type": "application/rss+xml"})
    for e in feed.entries:
        item = SubElement(channel, "item")
        _text(item, "title", _html(e.title))
        _text(item, "link", e.link)
        _text(item, "description", _html(e.summary))
        _text(item, "guid", e.id, isPermaLink="true")
        _text(item, "pubDate", format_datetime(e.published))
        for category in e.categories:
            _text(item, "category", category)
        if e.authors:
            _text(item, "{http://purl.org/dc/elements/1.1/}creator", ", ".join(e.authors))
    return _document(root)


def _document(root: Element) -> bytes:
    for element in root.iter():
        element.text = xml_safe(element.text) if element.text else element.text
        element.attrib.update((name, xml_safe(value)) for name, value in element.attrib.items())
    body: bytes = tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + STYLESHEET_PI + b"\n" + body
