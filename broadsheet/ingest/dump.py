"""arXiv metadata records as JSON objects: the Kaggle "arxiv-metadata-oai-snapshot" layout.

One object per line, e.g. (Kaggle):

    {"id": "0704.0001", "title": "...", "abstract": "...", "authors": "C. Bal\\'azs, E. L. Berger",
     "authors_parsed": [["Balázs", "C.", ""], ...], "categories": "hep-ph", "comments": "37 pages",
     "journal-ref": "...", "doi": "...", "license": null,
     "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}], "update_date": "2008-11-13"}

and the daily-listings variant (lists instead of strings, `comment`, `date` = announcement day):

    {"id": "2503.11731", "title": "...", "abstract": "...", "authors": ["Xianming Zeng", ...],
     "categories": ["cs.CV", "cs.RO"], "comment": null, "date": "2025-03-18"}

Every record ends in `metadata.clean_paper`: characters XML forbids are dropped, and a record
with a field too long or a version out of range (v1..v10000) is refused with a RecordError.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from broadsheet import ids
from broadsheet.ingest import metadata
from broadsheet.models import Paper


class RecordError(ValueError):
    """A record that cannot become a Paper; the message says which field is wrong."""


def paper_from_record(obj: Any) -> Paper:
    if not isinstance(obj, dict):
        raise RecordError("expected a JSON object")
    try:
        arxiv_id = ids.parse(_text(obj, "id", required=True) or "")
    except ids.InvalidArxivId as exc:
        raise RecordError(str(exc)) from None
    title = _text(obj, "title", required=True) or ""
    abstract = _text(obj, "abstract") or _text(obj, "summary") or ""
    comment = _text(obj, "comments") or _text(obj, "comment")
    cats = metadata.split_categories(_categories(obj.get("categories")))
    version, submitted, updated = _versions(obj.get("versions"))
    links = metadata.find_links(abstract, comment)
    paper = Paper(
        arxiv_id=arxiv_id.id,
        title=title,
        abstract=abstract,
        authors=_authors(obj),
        categories=cats.arxiv,
        version=version or arxiv_id.version,
        comment=comment,
        journal_ref=_text(obj, "journal-ref") or _text(obj, "journal_ref"),
        doi=_text(obj, "doi"),
        license=_text(obj, "license"),
        acm_class=cats.acm_class,
        msc_class=cats.msc_class,
        submitted_at=submitted,
        updated_at=updated,
        announced_on=_day(obj.get("date")),
        code_url=links.code_url,
        project_url=links.project_url,
        withdrawn=metadata.is_withdrawn(comment, abstract),
    )
    try:
        return metadata.clean_paper(paper)
    except metadata.OutOfBounds as exc:
        raise RecordError(str(exc)) from None


def _text(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(f"missing field {key!r}")
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {key!r} must be a string, not {type(value).__name__}")
    return value


def _authors(obj: dict[str, Any]) -> tuple[str, ...]:
    parsed = obj.get("authors_parsed")
    if isinstance(parsed, list) and parsed and all(isinstance(p, list) for p in parsed):
        return tuple(name for p in parsed if (name := metadata.join_name(str(x) for x in p)))
    authors = obj.get("authors")
    if isinstance(authors, list):
        return tuple(metadata.decode_tex(" ".join(str(a).split())) for a in authors if str(a).strip())
    if isinstance(authors, str):
        return metadata.split_authors(authors)
    if authors is None:
        return ()
    raise RecordError("field 'authors' must be a string or a list of names")


def _categories(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise RecordError("field 'categories' must be a space-separated string or a list of strings")


def _versions(value: Any) -> tuple[int | None, Any, Any]:
    """(latest version number, v1 timestamp, latest version timestamp) from Kaggle `versions`."""
    if not value:
        return None, None, None
    try:
        stamped = sorted((_version(v["version"]), metadata.parse_timestamp(v.get("created"))) for v in value)
    except RecordError:
        raise
    except (TypeError, KeyError, ValueError) as exc:
        raise RecordError(f"field 'versions' must be a list of {{version: 'vN', created: date}} ({exc})") from None
    return stamped[-1][0], stamped[0][1], stamped[-1][1]


def _version(value: Any) -> int:
    text = str(value).removeprefix("v")
    if not (text.isascii() and text.isdigit()) or isinstance(value, bool):
        raise RecordError(f"field 'versions': version {str(value)[:20]!r} is not vN")
    if len(text) > 5 or int(text) not in metadata.VERSIONS:
        raise RecordError(f"field 'versions': version {text[:20]} is out of range (v1..v{metadata.VERSIONS.stop - 1})")
    return int(text)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        raise RecordError(f"field 'date' must be YYYY-MM-DD, not {str(value)[:20]!r}") from None
    if day.year not in metadata.YEARS:
        raise RecordError(f"field 'date' {day} is not between {metadata.YEARS.start} and {metadata.YEARS.stop - 1}")
    return day
