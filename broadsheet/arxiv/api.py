"""The arXiv API (`export.arxiv.org/api/query`): papers by id list or by search query.

An entry looks like (Atom, arXiv namespace for the extras):

    <entry><id>http://arxiv.org/abs/2104.12255v1</id><updated>..</updated><published>..</published>
      <title>..</title><summary>..</summary><author><name>..</name></author>
      <arxiv:comment>..</arxiv:comment><arxiv:journal_ref>..</arxiv:journal_ref><arxiv:doi>..</arxiv:doi>
      <arxiv:primary_category term="cs.LG"/><category term="cs.LG"/><category term="stat.ML"/></entry>

Bad requests come back (HTTP 200 or 400) as a feed with one entry titled "Error".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import httpx

from broadsheet import ids
from broadsheet.arxiv import xml
from broadsheet.ingest import metadata
from broadsheet.ingest.fetcher import Fetcher, Retry
from broadsheet.models import Paper

DEFAULT_URL = "https://export.arxiv.org/api/query"
BATCH = 100  # ids per id_list request


class ArxivApiError(Exception):
    """arXiv answered with an error entry (e.g. a malformed id or query)."""


@dataclass(frozen=True)
class ApiPage:
    total: int
    start: int
    papers: list[Paper]


def parse_feed(body: bytes) -> ApiPage:
    """Parse one API response; raises ArxivApiError for error feeds, InvalidXml for broken ones."""
    root = xml.parse(body)
    if xml.local(root.tag) != "feed":
        raise xml.InvalidXml(f"expected an Atom <feed>, got <{xml.local(root.tag)}>")
    entries = list(xml.kids(root, "entry"))
    for entry in entries:
        if (xml.text(entry, "title") or "").strip() == "Error" or "/api/errors" in (xml.text(entry, "id") or ""):
            raise ArxivApiError((xml.text(entry, "summary") or "arXiv API error").strip())
    total = int((xml.text(root, "totalResults") or "0").strip())
    start = int((xml.text(root, "startIndex") or "0").strip())
    papers = [paper for paper in map(_paper, entries) if paper is not None]
    return ApiPage(total, start, papers)


def _paper(entry: Element) -> Paper | None:
    link = xml.text(entry, "id") or ""
    title = xml.text(entry, "title")
    if not title:
        return None  # the legacy API's placeholder entry for an unknown id
    try:
        arxiv_id = ids.parse(link.strip())
    except ids.InvalidArxivId:
        return None
    primary = xml.kid(entry, "primary_category")
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [c.get("term", "") for c in xml.kids(entry, "category")]
    cats = metadata.split_categories(t for t in terms if t)
    abstract = xml.text(entry, "summary") or ""
    comment = xml.text(entry, "comment")
    links = metadata.find_links(abstract, comment)
    paper = Paper(
        arxiv_id=arxiv_id.id,
        title=title,
        abstract=abstract,
        authors=tuple(n.strip() for a in xml.kids(entry, "author") if (n := xml.text(a, "name"))),
        categories=cats.arxiv,
        version=arxiv_id.version,
        comment=comment,
        journal_ref=xml.text(entry, "journal_ref"),
        doi=xml.text(entry, "doi"),
        acm_class=cats.acm_class,
        msc_class=cats.msc_class,
        submitted_at=metadata.parse_timestamp(xml.text(entry, "published")),
        updated_at=metadata.parse_timestamp(xml.text(entry, "updated")),
        code_url=links.code_url,
        project_url=links.project_url,
        withdrawn=metadata.is_withdrawn(comment, abstract),
    )
    try:
        return metadata.clean_paper(paper)
    except metadata.OutOfBounds:
        return None  # not a record arXiv would send: skipped, never stored


def _check(response: httpx.Response) -> ApiPage:
    try:
        return parse_feed(response.content)
    except xml.InvalidXml as exc:
        if response.status_code >= 400:
            raise ArxivApiError(f"HTTP {response.status_code} from the arXiv API") from None
        raise Retry(str(exc)) from None


def fetch_ids(client: Fetcher, arxiv_ids: Sequence[str], *, url: str = DEFAULT_URL) -> Iterator[Paper]:
    """The papers for the given ids (ids arXiv does not know are simply absent), in batches."""
    for start in range(0, len(arxiv_ids), BATCH):
        batch = list(arxiv_ids[start : start + BATCH])
        params = {"id_list": ",".join(batch), "max_results": str(len(batch))}
        yield from client.get(url, params, _check).papers


def query(
    client: Fetcher, search_query: str, *, start: int = 0, max_results: int = 100, url: str = DEFAULT_URL
) -> ApiPage:
    """One page of results for an API `search_query` (e.g. `cat:cs.CL AND ti:transformer`)."""
    params = {"search_query": search_query, "start": str(start), "max_results": str(max_results)}
    return client.get(url, params, _check)
