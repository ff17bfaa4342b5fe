"""arXiv's daily announcement feeds (`rss.arxiv.org/atom/cs.LG+cs.CL`, or `/rss/...`).

Written to arXiv's RSS/Atom specification. An Atom entry:

    <entry><id>oai:arXiv.org:2203.01250v3</id><title>...</title>
      <summary>arXiv:2203.01250v3 Announce Type: replace-cross
    Abstract: We consider ...</summary>
      <category term="math.AP"/><category term="math.OC"/>
      <published>2024-08-23T00:00:00-04:00</published>
      <arxiv:announce_type>replace-cross</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <arxiv:journal_reference>..</arxiv:journal_reference><arxiv:DOI>..</arxiv:DOI>
      <dc:creator>Antonin Monteil, Paul Pegon</dc:creator></entry>

RSS 2.0 items carry the same data as `<description>`, `<guid>`, `<category>` and `<pubDate>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Literal
from xml.etree.ElementTree import Element

import httpx

from broadsheet import ids
from broadsheet.arxiv import xml
from broadsheet.ingest import metadata
from broadsheet.ingest.fetcher import Fetcher, Retry
from broadsheet.models import Paper

DEFAULT_URL = "https://rss.arxiv.org/atom"
Kind = Literal["new", "cross", "replace", "replace-cross"]
KINDS: tuple[Kind, ...] = ("new", "cross", "replace", "replace-cross")


@dataclass(frozen=True, slots=True)
class Announcement:
    paper: Paper
    kind: Kind
    day: date


def feed_url(base: str, categories: Sequence[str]) -> str:
    """`https://rss.arxiv.org/atom/cs.LG+cs.CL`; raises ValueError for an empty or bad category list."""
    if not categories:
        raise ValueError("no arXiv categories given (e.g. cs.LG,cs.CL)")
    bad = [c for c in categories if not ids.is_category(c)]
    if bad:
        raise ValueError(f"not arXiv categories: {', '.join(bad)} (expected e.g. cs.LG)")
    return f"{base.rstrip('/')}/{'+'.join(categories)}"


def parse_feed(body: bytes) -> list[Announcement]:
    root = xml.parse(body)
    if xml.local(root.tag) == "rss":
        channel = xml.kid(root, "channel")
        entries = list(xml.kids(channel, "item")) if channel is not None else []
    elif xml.local(root.tag) == "feed":
        entries = list(xml.kids(root, "entry"))
    else:
        raise xml.InvalidXml(f"expected an Atom <feed> or RSS <rss>, got <{xml.local(root.tag)}>")
    return [a for a in map(_announcement, entries) if a is not None]


def _announcement(entry: Element) -> Announcement | None:
    ident = xml.text(entry, "id") or xml.text(entry, "guid") or ""
    summary = xml.text(entry, "summary") or xml.text(entry, "description") or ""
    title = xml.text(entry, "title")
    try:
        arxiv_id = ids.parse(ident.strip().removeprefix("oai:arXiv.org:"))
    except ids.InvalidArxivId:
        return None
    kind = (xml.text(entry, "announce_type") or "new").strip()
    stamp = (xml.text(entry, "published") or xml.text(entry, "pubDate") or "").strip()
    if not title or kind not in KINDS or not stamp:
        return None
    try:
        day, published = _announce_day(stamp), metadata.parse_timestamp(stamp)
    except (TypeError, ValueError):
        return None
    abstract = summary.split("Abstract:", 1)[1].strip() if "Abstract:" in summary else summary.strip()
    terms = [c.get("term") or (c.text or "") for c in xml.kids(entry, "category")]
    cats = metadata.split_categories(t for t in terms if t)
    links = metadata.find_links(abstract)
    is_new = kind in ("new", "cross")
    paper = Paper(
        arxiv_id=arxiv_id.id,
        title=title,
        abstract=abstract,
        authors=metadata.split_authors(xml.text(entry, "creator") or ""),
        categories=cats.arxiv,
        version=arxiv_id.version,
        journal_ref=xml.text(entry, "journal_reference"),
        doi=xml.text(entry, "DOI"),
        license=xml.text(entry, "rights"),
        acm_class=cats.acm_class,
        msc_class=cats.msc_class,
        announced_on=day if is_new else None,
        updated_at=None if is_new else published,
        code_url=links.code_url,
        project_url=links.project_url,
        withdrawn=metadata.is_withdrawn(abstract),
    )
    try:
        return Announcement(metadata.clean_paper(paper), kind, day)
    except metadata.OutOfBounds:
        return None


def _announce_day(stamp: str) -> date:
    """The day as arXiv wrote it: `2024-08-23T00:00:00-04:00` and `Fri, 23 Aug 2024 00:00:00 -0400` are the 23rd."""
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).date()
    except ValueError:
        return parsedate_to_datetime(stamp).date()


class FeedError(Exception):
    """arXiv refused the feed request (e.g. HTTP 404 for an unknown category)."""


def _check(response: httpx.Response) -> list[Announcement]:
    if 400 <= response.status_code < 500:
        raise FeedError(f"arXiv answered HTTP {response.status_code} for {response.request.url}")
    try:
        return parse_feed(response.content)
    except xml.InvalidXml as exc:
        raise Retry(str(exc)) from None


def fetch(client: Fetcher, categories: Sequence[str], *, url: str = DEFAULT_URL) -> list[Announcement]:
    return client.get(feed_url(url, categories), None, _check)
