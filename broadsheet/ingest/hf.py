"""Hugging Face's `/api/daily_papers` format: the one module that knows how HF writes a day.

A response is a JSON array of items; each item wraps a `paper`:

    [{"paper": {"id": "2608.19880", "title": "...", "summary": "...", "authors": [{"name": "..."}],
                "publishedAt": "2026-08-20T00:00:00.000Z", "upvotes": 163,
                "githubRepo": "https://github.com/...", "projectPage": "https://..."},
      "publishedAt": "2026-08-19T20:00:00.000Z", "title": "...", "numComments": 2, ...}]

Archived responses also come as arrays of Python-repr strings of such items, or wrapped as
`{"status": "success", "data": [...]}`; all three are accepted. Each item is checked against the
pydantic shapes the API answers with (`broadsheet.shapes`); papers go through `metadata.clean_paper`
(XML-safe text, bounded sizes) and upvotes must be 0..10,000,000.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from broadsheet import ids
from broadsheet.ingest import metadata
from broadsheet.ingest.dump import RecordError
from broadsheet.ingest.fetcher import Fetcher, Retry
from broadsheet.models import DailyRecord, Paper
from broadsheet.periods import local_day
from broadsheet.shapes import DailyItemJson, PaperJson

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
    parsed = parse_item(_unrepr(item))
    paper = _paper(parsed.paper)
    try:
        added_at = metadata.parse_timestamp(parsed.paper.submitted_on_daily_at or parsed.published_at)
    except ValueError as exc:
        raise RecordError(str(exc)) from None
    if day is None and added_at is None:
        raise RecordError("item has no date: give the day (file name YYYY-MM-DD.json or --date)")
    upvotes = parsed.paper.upvotes
    if not 0 <= upvotes <= MAX_UPVOTES:
        raise RecordError(f"paper.upvotes must be an integer from 0 to {MAX_UPVOTES:,}, not {str(upvotes)[:20]}")
    return DailyRecord(
        paper=paper,
        day=day or local_day(added_at, zone),  # type: ignore[arg-type]
        added_at=added_at,
        upvotes=upvotes,
    )


def parse_item(item: dict[str, Any]) -> DailyItemJson:
    """The item checked against HF's shape (strict types: `true` is no upvote count); the first problem named."""
    try:
        return DailyItemJson.model_validate(item, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "item"
        raise RecordError(f"{where}: {first['msg']}"[:300]) from None


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


def _paper(p: PaperJson) -> Paper:
    try:
        arxiv_id = ids.parse(p.id)
    except ids.InvalidArxivId as exc:
        raise RecordError(f"paper.id: {exc}") from None
    if not p.title.strip():
        raise RecordError("paper has no title")
    try:
        published = metadata.parse_timestamp(p.published_at)
    except ValueError as exc:
        raise RecordError(f"paper.publishedAt: {exc}") from None
    paper = Paper(
        arxiv_id=arxiv_id.id,
        title=p.title,
        abstract=p.summary,
        authors=tuple(a.name for a in p.authors if a.name),
        version=arxiv_id.version,
        submitted_at=published,
        code_url=_url(p.github_repo),
        project_url=_url(p.project_page),
        withdrawn=bool(p.withdrawn_at),
    )
    try:
        return metadata.clean_paper(paper)
    except metadata.OutOfBounds as exc:
        raise RecordError(f"paper: {exc}") from None


def _url(value: str | None) -> str | None:
    return value if value and value.startswith(("https://", "http://")) else None
