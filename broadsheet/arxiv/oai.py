"""OAI-PMH (`oaipmh.arxiv.org/oai`): bulk backfill with ListRecords, resumable after any crash.

Three metadata formats are read: `arXiv` (split author names, categories, licence; dates only),
`arXivRaw` (version history with timestamps) and `oai_dc` (Dublin Core: no category codes).
A harvest commits each page's papers together with the next resumptionToken in one
transaction, so a harvest killed at any moment resumes from the last committed page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from xml.etree.ElementTree import Element

import httpx

from broadsheet import ids
from broadsheet.arxiv import xml
from broadsheet.ingest import metadata
from broadsheet.ingest.fetcher import Fetcher, Retry
from broadsheet.models import Paper, UpsertResult
from broadsheet.store import Store
from broadsheet.store.harvests import Checkpoint, HarvestKey

__all__ = ["Checkpoint", "HarvestParams", "OaiPage", "harvest", "parse_page"]

DEFAULT_URL = "https://oaipmh.arxiv.org/oai"
PREFIXES = ("arXiv", "arXivRaw", "oai_dc")


class OaiError(Exception):
    """An OAI-PMH <error>, e.g. badArgument, badResumptionToken, cannotDisseminateFormat."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class OaiPage:
    papers: list[Paper]
    deleted: list[str]
    token: str | None  # None: the list is complete
    complete_size: int | None = None
    last_datestamp: date | None = None


def parse_page(body: bytes) -> OaiPage:
    root = xml.parse(body)
    if xml.local(root.tag) != "OAI-PMH":
        raise xml.InvalidXml(f"expected <OAI-PMH>, got <{xml.local(root.tag)}>")
    error = xml.kid(root, "error")
    if error is not None:
        code = error.get("code", "error")
        if code == "noRecordsMatch":
            return OaiPage([], [], None)
        raise OaiError(code, (error.text or "").strip())
    papers: list[Paper] = []
    deleted: list[str] = []
    stamps: list[date] = []
    for record in xml.descendants(root, "record"):
        header = xml.kid(record, "header")
        if header is None:
            continue
        stamp = xml.text(header, "datestamp")
        if stamp:
            stamps.append(date.fromisoformat(stamp.strip()[:10]))
        ident = (xml.text(header, "identifier") or "").strip().removeprefix("oai:arXiv.org:")
        if header.get("status") == "deleted":
            deleted.append(ident)
            continue
        paper = _record(record)
        if paper is not None:
            papers.append(paper)
    token_el = next(xml.descendants(root, "resumptionToken"), None)
    token = (token_el.text or "").strip() if token_el is not None else ""
    size = token_el.get("completeListSize") if token_el is not None else None
    return OaiPage(papers, deleted, token or None, int(size) if size else None, max(stamps, default=None))


def _record(record: Element) -> Paper | None:
    meta = xml.kid(record, "metadata")
    body = next(iter(meta), None) if meta is not None else None
    if body is None:
        return None
    reader = {"arXiv": _arxiv, "arXivRaw": _arxiv_raw, "dc": _dublin_core}.get(xml.local(body.tag))
    if reader is None:
        return None
    try:
        return reader(body)
    except (ids.InvalidArxivId, ValueError):
        return None  # a record we cannot read is skipped, never half-stored


def _common(arxiv_id: str, title: str, abstract: str, comment: str | None, **fields: object) -> Paper:
    links = metadata.find_links(abstract, comment)
    return metadata.clean_paper(
        Paper(  # sizes and numbers bounded, XML-forbidden characters dropped (ValueError)
            arxiv_id=ids.parse(arxiv_id).id,
            title=title,
            abstract=abstract,
            comment=comment,
            code_url=links.code_url,
            project_url=links.project_url,
            withdrawn=metadata.is_withdrawn(comment, abstract),
            **fields,  # type: ignore[arg-type]
        )
    )


def _arxiv(el: Element) -> Paper:
    authors_el = xml.kid(el, "authors")
    authors = [
        metadata.join_name([xml.text(a, "keyname") or "", xml.text(a, "forenames") or "", xml.text(a, "suffix") or ""])
        for a in (xml.kids(authors_el, "author") if authors_el is not None else [])
    ]
    cats = metadata.split_categories([xml.text(el, "categories") or ""])
    return _common(
        xml.text(el, "id") or "", xml.text(el, "title") or "", xml.text(el, "abstract") or "",
        xml.text(el, "comments"),
        authors=tuple(a for a in authors if a),
        categories=cats.arxiv,
        journal_ref=xml.text(el, "journal-ref"),
        doi=xml.text(el, "doi"),
        license=xml.text(el, "license"),
        acm_class=xml.text(el, "acm-class") or cats.acm_class,
        msc_class=xml.text(el, "msc-class") or cats.msc_class,
        submitted_at=_day_start(xml.text(el, "created")),
        updated_at=_day_start(xml.text(el, "updated") or xml.text(el, "created")),
    )  # fmt: skip


def _arxiv_raw(el: Element) -> Paper:
    versions = sorted(
        (int((v.get("version") or "v0").lstrip("v")), metadata.parse_timestamp(xml.text(v, "date")))
        for v in xml.kids(el, "version")
    )
    cats = metadata.split_categories([xml.text(el, "categories") or ""])
    return _common(
        xml.text(el, "id") or "", xml.text(el, "title") or "", xml.text(el, "abstract") or "",
        xml.text(el, "comments"),
        authors=metadata.split_authors(xml.text(el, "authors") or ""),
        categories=cats.arxiv,
        version=versions[-1][0] if versions else None,
        journal_ref=xml.text(el, "journal-ref"),
        doi=xml.text(el, "doi"),
        license=xml.text(el, "license"),
        acm_class=xml.text(el, "acm-class") or cats.acm_class,
        msc_class=xml.text(el, "msc-class") or cats.msc_class,
        submitted_at=versions[0][1] if versions else None,
        updated_at=versions[-1][1] if versions else None,
    )  # fmt: skip


def _dublin_core(el: Element) -> Paper:
    url = next((u for u in xml.texts(el, "identifier") if "arxiv.org/abs/" in u), "")
    descriptions = xml.texts(el, "description")
    comment = next((d.split(":", 1)[1].strip() for d in descriptions if d.startswith("Comment:")), None)
    abstract = next((d for d in descriptions if not d.startswith("Comment:")), "")
    dates = sorted(d.strip() for d in xml.texts(el, "date"))
    creators = [" ".join(reversed([p.strip() for p in c.split(",", 1)])) for c in xml.texts(el, "creator")]
    return _common(
        url.strip(), xml.text(el, "title") or "", abstract, comment,
        authors=tuple(c for c in creators if c),
        submitted_at=_day_start(dates[0]) if dates else None,
        updated_at=_day_start(dates[-1]) if dates else None,
    )  # fmt: skip


def _day_start(value: str | None) -> datetime | None:
    return datetime.combine(date.fromisoformat(value.strip()[:10]), time(), UTC) if value else None


def _check(response: httpx.Response) -> OaiPage:
    try:
        return parse_page(response.content)
    except xml.InvalidXml as exc:
        raise Retry(f"unreadable OAI-PMH page: {exc}") from None


@dataclass(frozen=True)
class HarvestParams:
    url: str
    prefix: str
    from_date: date
    until_date: date | None = None
    set_spec: str | None = None

    @property
    def key(self) -> HarvestKey:
        return HarvestKey(self.url, self.prefix, self.from_date, self.until_date, self.set_spec)

    def first_request(self, from_date: date | None = None) -> dict[str, str]:
        query = {
            "verb": "ListRecords",
            "metadataPrefix": self.prefix,
            "from": (from_date or self.from_date).isoformat(),
        }
        if self.until_date:
            query["until"] = self.until_date.isoformat()
        if self.set_spec:
            query["set"] = self.set_spec
        return query


@dataclass
class HarvestResult:
    pages: int = 0
    records: int = 0
    deleted: int = 0
    upserts: UpsertResult = field(default_factory=UpsertResult)


class HarvestError(Exception):
    """The harvest cannot start or go on (nothing to resume, a final OAI error)."""


OnPage = Callable[[Checkpoint, OaiPage], None]


def harvest(
    store: Store, client: Fetcher, params: HarvestParams, *, resume: bool = False, on_page: OnPage | None = None
) -> HarvestResult:
    """Run (or resume) a ListRecords harvest to the end; every page is committed with its token."""
    checkpoint = store.harvests.unfinished(params.key) if resume else None
    if resume and checkpoint is None:
        raise HarvestError("there is no unfinished harvest with these parameters to resume")
    checkpoint = checkpoint or store.harvests.start(params.key)
    result = HarvestResult()
    while not checkpoint.done:
        if checkpoint.token:
            query = {"verb": "ListRecords", "resumptionToken": checkpoint.token}
        else:
            query = params.first_request(checkpoint.restart_from)
        try:
            page = client.get(params.url, query, _check)
        except OaiError as exc:
            if exc.code == "badResumptionToken" and checkpoint.token:  # tokens expire: restart by date
                checkpoint = store.harvests.drop_token(checkpoint.id)
                continue
            raise HarvestError(f"OAI-PMH error {exc}") from None
        checkpoint, upserted = store.harvests.commit_page(checkpoint.id, page)
        result.pages += 1
        result.records += len(page.papers)
        result.deleted += len(page.deleted)
        result.upserts += upserted
        if on_page:
            on_page(checkpoint, page)
    return result
