"""Parsing rules shared by every source of arXiv metadata (dumps, HF, API, OAI-PMH, RSS).

Pure functions: categories split from ACM/MSC class codes, author lists, TeX accents,
timestamps, whitespace for display, and code/project links found in abstracts and comments.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import NamedTuple

from broadsheet import ids

_ACM = re.compile(r"[A-K](?:\.\d+(?:\.\d+)?|\.m)?")
_MSC = re.compile(r"\d{2}(?:[A-Z](?:\d{2}|xx)?|-(?:XX|xx|\d{2}))?")


class Categories(NamedTuple):
    arxiv: tuple[str, ...]
    acm_class: str | None
    msc_class: str | None


def split_categories(items: Iterable[str]) -> Categories:
    """Separate arXiv categories (primary first, deduplicated) from ACM and MSC codes.

    >>> split_categories(["cs.CL", "cs.AI", "I.2.7; H.3.3", "68T50"])
    Categories(arxiv=('cs.CL', 'cs.AI'), acm_class='I.2.7; H.3.3', msc_class='68T50')
    """
    arxiv: list[str] = []
    acm: list[str] = []
    msc: list[str] = []
    for item in items:
        tokens = item.split()
        if tokens and all(ids.is_category(t) for t in tokens):
            arxiv.extend(tokens)
        elif tokens:
            _classify_codes(" ".join(tokens), acm, msc)
    return Categories(tuple(dict.fromkeys(arxiv)), "; ".join(acm) or None, ", ".join(msc) or None)


def _classify_codes(text: str, acm: list[str], msc: list[str]) -> None:
    codes = [c.strip() for c in re.split(r"[;,]", text) if c.strip()]
    if codes and all(_MSC.fullmatch(c) for c in codes):
        msc.extend(codes)
    elif codes:
        acm.extend(codes)  # ACM codes, or free-form class text: kept, never as a category


def split_authors(text: str) -> tuple[str, ...]:
    """Split arXiv's author string ("A. Smith, B. Jones and C. Lee") into names, in order."""
    flat = " ".join(decode_tex(text).split())
    flat = re.sub(r"\([^()]*\)", "", flat)  # affiliations in parentheses
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+", flat)
    return tuple(p.strip() for p in parts if p.strip())


def join_name(parts: Iterable[str]) -> str:
    """Kaggle `authors_parsed` / OAI `arXiv` entries are [keyname, forenames, suffix]."""
    keyname, *rest = [*parts, "", ""][:3]
    forenames, suffix = rest
    return " ".join(p.strip() for p in (forenames, keyname, suffix) if p and p.strip())


_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
}
_TEX_ACCENT = re.compile(r"\{?\\([`'^\"~=.]|[cvuH](?=[{ ]))\s*\{?\\?([A-Za-z])\}?\}?")


def decode_tex(text: str) -> str:
    """Turn TeX accents as arXiv writes them (`Bal\\'azs`, `{\\"o}`) into Unicode."""
    if "\\" not in text:
        return text
    decoded = _TEX_ACCENT.sub(lambda m: unicodedata.normalize("NFC", m[2] + _ACCENTS[m[1]]), text)
    return decoded.replace("{\\ss}", "ß").replace("\\ss{}", "ß")


def display_text(text: str) -> str:
    """Collapse arXiv's hard line breaks; keep real paragraph breaks (blank or indented line)."""
    paragraphs = re.split(r"\n\s*\n|\n(?=[ \t]+\S)", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def display_title(text: str) -> str:
    return " ".join(text.split())


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO 8601 (`2026-08-20T00:00:00.000Z`) or RFC 2822 (`Mon, 2 Apr 2007 19:18:42 GMT`), as UTC."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"unrecognised timestamp {text[:40]!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Links(NamedTuple):
    code_url: str | None
    project_url: str | None


_URL = re.compile(r"https?://[^\s<>\"'{}|\\^`\[\]]+", re.IGNORECASE)
_REPO = re.compile(
    r"https?://(?:www\.)?(github\.com|gitlab\.com|codeberg\.org|bitbucket\.org)/([\w.-]+)/([\w.-]+)",
    re.IGNORECASE,
)
_PROJECT_HOST = re.compile(r"https?://(?:[\w-]+\.github\.io|huggingface\.co/spaces/)", re.IGNORECASE)
_PROJECT_CUE = re.compile(r"(project|demo|web)\s*(page|site)|homepage|website", re.IGNORECASE)
_NOT_REPO_OWNERS = {"orgs", "topics", "features", "about", "sponsors", "marketplace", "settings"}


def find_links(*texts: str | None) -> Links:
    """First code repository and project page mentioned in an abstract or comment."""
    code: str | None = None
    project: str | None = None
    for text in texts:
        if not text or "://" not in text:
            continue
        flat = " ".join(text.split())
        for match in _URL.finditer(flat):
            url = match.group(0).rstrip(".,;:)]}'\"")
            repo = _repo_url(url)
            if repo:
                code = code or repo
            elif project is None and (
                _PROJECT_HOST.match(url) or _PROJECT_CUE.search(flat[max(0, match.start() - 40) : match.start()])
            ):
                project = url
    return Links(code, project)


def _repo_url(url: str) -> str | None:
    match = _REPO.match(url)
    if not match or match[2].lower() in _NOT_REPO_OWNERS:
        return None
    name = re.sub(r"\.git$", "", match[3].rstrip("."))
    return f"https://{match[1].lower()}/{match[2]}/{name}" if name else None


_WITHDRAWN = re.compile(
    r"^\W*(?:this\s+(?:paper|article|submission|manuscript)\s+(?:has\s+been|is|was)\s+)?withdrawn\b",
    re.IGNORECASE,
)


def is_withdrawn(*texts: str | None) -> bool:
    """arXiv marks a withdrawal in the comment (or abstract): "This paper has been withdrawn ..."."""
    return any(bool(t and _WITHDRAWN.match(t)) for t in texts)
