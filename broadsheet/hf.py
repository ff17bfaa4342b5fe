"""Hugging Face's `/api/daily_papers` format: the one module that knows how HF writes a day.

A response is a JSON array of items; each item wraps a `paper`:

    [{"paper": {"id": "2608.19880", "title": "...", "summary": "...", "authors": [{"name": "..."}],
                "publishedAt": "2026-08-20T00:00:00.000Z", "upvotes": 163,
                "githubRepo": "https://github.com/...", "projectPage": "https://..."},
      "publishedAt": "2026-08-19T20:00:00.000Z", "title": "...", "numComments": 2, ...}]

Archived responses also come as arrays of Python-repr strings of such items, or wrapped as
`{"status": "success", "data": [...]}`; all three are accepted. Papers go through
`metadata.clean_paper` (XML-safe text, bounded sizes) and upvotes must be 0..10,000,000.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from broadsheet import ids, metadata
from broadsheet.dump import RecordError
from broadsheet.fetcher import Fetcher, Retry
from broadsheet.models import DailyRecord, Paper
from broadsheet.periods import local_day

MAX_UPVOTES = 10_000_000  # the most-upvoted paper ever had a few thousand


def items(response: Any) -> list[Any]:
    """The item list of a daily_papers response, in any of its archived shapes."""
    if isinstance(response, dict) and isinstance(response.get("data"), list):
        return list(response["data"])
    if isinstance(response, list):
        return response
    raise RecordError("expected a JSON array of daily-paper items (or {'data': [...]})")


def record_from_item(item: Any, *, day: date | None, zone: ZoneInfo) -> DailyRecord:
    """One daily-papers item as a DailyRecord; `day` defaults to the day it was added, in `zone`."""
    item = _unrepr(item)
    paper_obj = item.get("paper")
    if not isinstance(paper_obj, dict):
        raise RecordError("item has no 'paper' object")
    paper = _paper(paper_obj, item)
    try:
        added_at = metadata.parse_timestamp(paper_obj.get("submittedOnDailyAt") or item.get("publishedAt"))
    except ValueError as exc:
        raise RecordError(str(exc)) from None
    if day is None and added_at is None:
        raise RecordError("item has no date: give the day (file name YYYY-MM-DD.json or --date)")
    upvotes = paper_obj.get("upvotes") or 0
    if not isinstance(upvotes, int) or isinstance(upvotes, bool) or not 0 <= upvotes <= MAX_UPVOTES:
        raise RecordError(f"paper.upvotes must be an integer from 0 to {MAX_UPVOTES:,}, not {str(upvotes)[:20]}")
    return DailyRecord(
        paper=paper,
        day=day or local_day(added_at, zone),  # type: ignore[arg-type]
        added_at=added_at,
        upvotes=upvotes,
    )


def records(response: Any, *, day: date | None, zone: ZoneInfo) -> Iterator[DailyRecord | RecordError]:
    """Every item of a response as a record, or as the error that item raised."""
    for item in items(response):
        try:
            yield record_from_item(item, day=day, zone=zone)
        except RecordError as exc:
            yield exc


DEFAULT_URL = "https://huggingface.co/api/daily_papers"


class HfError(Exception):
    """Hugging Face refused the request (4xx) or sent something that is not a daily_papers response."""


def fetch_day(fetcher: Fetcher, day: date, *, url: str = DEFAULT_URL, limit: int = 100) -> list[Any]:
    """The raw items HF lists for one day (all pages)."""
    found: list[Any] = []
    for page in range(100):
        batch = fetcher.get(url, {"date": day.isoformat(), "limit": str(limit), "p": str(page)}, _check)
        found += batch
        if len(batch) < limit:
            break
    return found


def _check(response: httpx.Response) -> list[Any]:
    if 400 <= response.status_code < 500:
        raise HfError(f"Hugging Face answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return items(response.json())
    except ValueError:
        raise Retry("Hugging Face sent a body that is not JSON") from None
    except RecordError as exc:
        raise HfError(str(exc)) from None


def _unrepr(item: Any) -> dict[str, Any]:
    if isinstance(item, str):
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise RecordError("item is a string that is not a Python/JSON object") from None
    if not isinstance(item, dict):
        raise RecordError("item must be an object")
    return item


def _paper(p: dict[str, Any], item: dict[str, Any]) -> Paper:
    try:
        arxiv_id = ids.parse(str(p.get("id") or ""))
    except ids.InvalidArxivId as exc:
        raise RecordError(f"paper.id: {exc}") from None
    title = p.get("title") or item.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RecordError("paper has no title")
    summary = p.get("summary") or item.get("summary") or ""
    authors = p.get("authors") or []
    if not isinstance(summary, str) or not isinstance(authors, list):
        raise RecordError("paper.summary must be a string and paper.authors a list")
    try:
        published = metadata.parse_timestamp(p.get("publishedAt"))
    except ValueError as exc:
        raise RecordError(f"paper.publishedAt: {exc}") from None
    paper = Paper(
        arxiv_id=arxiv_id.id,
        title=title,
        abstract=summary,
        authors=tuple(_name(a) for a in authors if isinstance(a, dict) and a.get("name")),
        version=arxiv_id.version,
        submitted_at=published,
        code_url=_url(p.get("githubRepo")),
        project_url=_url(p.get("projectPage")),
        withdrawn=bool(p.get("withdrawnAt")),
    )
    try:
        return metadata.clean_paper(paper)
    except metadata.OutOfBounds as exc:
        raise RecordError(f"paper: {exc}") from None


def _name(author: dict[str, Any]) -> str:
    name = author["name"]
    if not isinstance(name, str):
        raise RecordError("paper.authors[].name must be a string")
    return name


def _url(value: Any) -> str | None:
    return value if isinstance(value, str) and value.startswith(("https://", "http://")) else None
