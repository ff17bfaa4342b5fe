"""Search over titles, abstracts and authors: query parsing, ranking and highlighting.

The keyword engine is SQLite FTS5 with BM25 (title weighted above abstract). All words
must match first; when that finds too few papers, papers matching any word follow.
An arXiv id (or arXiv URL) as the query puts that paper first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from broadsheet import ids
from broadsheet.models import SearchHit
from broadsheet.store import Store

MAX_QUERY = 250
MAX_TERMS = 32
_WORD = re.compile(r"\w+", re.UNICODE)


class InvalidQuery(ValueError):
    """A query that cannot be searched (empty, too long, no words)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text, marked when it matches the query (HF's highlightedTitle items)."""

    type: Literal["text", "highlight"]
    text: str


def terms(query: str) -> list[str]:
    """The query's words, lowercased, deduplicated, in order."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:MAX_TERMS]


def validate(query: str) -> str:
    text = query.strip()
    if not text:
        raise InvalidQuery("the search query is empty")
    if len(text) > MAX_QUERY:
        raise InvalidQuery(f"the search query is too long ({len(text)} characters; at most {MAX_QUERY})")
    if not terms(text) and not ids.is_arxiv_id(text):
        raise InvalidQuery("the search query has no words to look for")
    return text


def fts_match(words: list[str], mode: Literal["and", "or"]) -> str:
    """An FTS5 MATCH expression; each word is quoted so no user input is read as FTS syntax."""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    return (" OR " if mode == "or" else " ").join(quoted)


def search(store: Store, query: str, *, limit: int = 20, offset: int = 0) -> list[SearchHit]:
    """Best matches for a query, best first. Raises InvalidQuery for unusable input."""
    text = validate(query)
    wanted = offset + limit
    ranked: dict[int, float] = {}
    exact = _id_match(store, text)
    if exact is not None:
        ranked[exact] = float("inf")
    words = terms(text)
    if words:
        for mode in ("and", "or"):
            if len(ranked) >= wanted or (mode == "or" and len(words) == 1):
                break
            for row_id, score in store.papers.keyword_ids(fts_match(words, mode), limit=wanted):
                ranked.setdefault(row_id, score if mode == "and" else score - 1e6)
    page = list(ranked.items())[offset:wanted]
    views = store.papers.views([row_id for row_id, _ in page])
    return [SearchHit(view, score) for view, (_, score) in zip(views, page, strict=False)]


def _id_match(store: Store, text: str) -> int | None:
    try:
        return store.papers.id_of(ids.parse(text).id)
    except ids.InvalidArxivId:
        return None


def _stem(word: str) -> str:
    """A light prefix stem, so `representations` also marks `representation`."""
    return word if len(word) <= 4 else word[: max(4, len(word) - 3)]


def highlight(text: str, words: list[str]) -> list[Segment]:
    """Split text into plain and matching pieces; a word matches when it starts with a query stem."""
    stems = tuple(_stem(w) for w in words if w)
    segments: list[Segment] = []
    last = 0
    for match in _WORD.finditer(text):
        if stems and match.group(0).lower().startswith(stems):
            if match.start() > last:
                segments.append(Segment("text", text[last : match.start()]))
            segments.append(Segment("highlight", match.group(0)))
            last = match.end()
    if last < len(text):
        segments.append(Segment("text", text[last:]))
    return _joined(segments)


def _joined(segments: list[Segment]) -> list[Segment]:
    """Merge neighbouring highlights separated only by spaces ("meaningful representations")."""
    out: list[Segment] = []
    for seg in segments:
        if out and out[-1].type == seg.type == "highlight":
            out[-1] = Segment("highlight", out[-1].text + seg.text)
        elif (
            len(out) >= 2
            and seg.type == "highlight"
            and out[-1].type == "text"
            and not out[-1].text.strip()
            and out[-2].type == "highlight"
        ):
            space = out.pop()
            out[-1] = Segment("highlight", out[-1].text + space.text + seg.text)
        else:
            out.append(seg)
    return out


def snippet(segments: list[Segment], width: int = 320) -> list[Segment]:
    """A window of about `width` characters around the first highlight."""
    total = sum(len(s.text) for s in segments)
    if total <= width:
        return segments
    pos = 0
    for seg in segments:
        if seg.type == "highlight":
            break
        pos += len(seg.text)
    full = "".join(s.text for s in segments)
    start = max(0, min(pos - width // 3, total - width))
    end = start + width
    if start > 0:  # begin and end on word boundaries
        start = full.find(" ", start, pos) + 1 if full.find(" ", start, pos) >= 0 else start
    if end < total:
        end = max(full.rfind(" ", start, end), pos + 1) if full.rfind(" ", start, end) > pos else end
    return _cut(segments, start, end)


def _cut(segments: list[Segment], start: int, end: int) -> list[Segment]:
    out: list[Segment] = []
    pos = 0
    for seg in segments:
        a, b = max(start, pos), min(end, pos + len(seg.text))
        if a < b:
            out.append(Segment(seg.type, seg.text[a - pos : b - pos]))
        pos += len(seg.text)
    if out and start > 0:
        out[0] = Segment(out[0].type, "…" + out[0].text.lstrip())
    if out and end < pos:
        out[-1] = Segment(out[-1].type, out[-1].text.rstrip() + "…")
    return out
