"""Highlighting: which words of a title or abstract match the query (HF's highlightedTitle items)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import tantivy

_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMER = (  # the keyword index's `en_stem`
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.stemmer("english"))
    .build()
)


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text, marked when it matches the query (HF's highlightedTitle items)."""

    type: Literal["text", "highlight"]
    text: str


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A word as the keyword index stores it (Snowball English), so a mark means "this word matched"."""
    tokens = _STEMMER.analyze(word)
    return str(tokens[0]) if tokens else word.lower()


def highlight(text: str, words: list[str], *, stemmed: bool = True) -> list[Segment]:
    """Split text into plain and matching pieces: a word matches when its stem is a query word's stem
    (or, with `stemmed=False`, for names, when it is a query word, case aside)."""
    return list(_highlight(text, tuple(words), stemmed))


@lru_cache(maxsize=4096)  # a results page is rendered again after every vote; its abstracts are not
def _highlight(text: str, words: tuple[str, ...], stemmed: bool) -> tuple[Segment, ...]:
    norm = stem if stemmed else str.lower
    wanted = {norm(w) for w in words if w}
    segments: list[Segment] = []
    last = 0
    for match in _WORD.finditer(text):
        if wanted and norm(match.group(0)) in wanted:
            if match.start() > last:
                segments.append(Segment("text", text[last : match.start()]))
            segments.append(Segment("highlight", match.group(0)))
            last = match.end()
    if last < len(text):
        segments.append(Segment("text", text[last:]))
    return tuple(_joined(segments))


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


def authors(names: tuple[str, ...] | list[str], words: list[str], shown: int = 3) -> list[Segment]:
    """The author line of a result: the first `shown` names, plus any later name the query matched, marked."""
    wanted = {w.lower() for w in words}
    if len(names) <= shown + 1:
        picked = list(names)
    else:
        later = [n for n in names[shown:] if wanted & {w.lower() for w in _WORD.findall(n)}]
        picked = [*names[:shown], *later]
    line = ", ".join(picked)
    if len(picked) < len(names):
        others = len(names) - len(picked)
        line += f" and {others} other{'s' if others > 1 else ''}"
    return highlight(line, words, stemmed=False)
