"""Parsing rules shared by every source of arXiv metadata (dumps, HF, API, OAI-PMH, RSS).

Pure functions: categories split from ACM/MSC class codes, author lists, TeX accents,
timestamps, whitespace for display, and code/project links found in abstracts and comments;
and `clean_paper`, the last step of every JSON parser (dumps, HF): characters XML 1.0 forbids
are dropped from every text field, and sizes and numbers are bounded:

    title <= 1,000 characters, abstract <= 20,000, comment <= 5,000, any other text field <= 2,000,
    <= 10,000 authors of <= 1,000 characters each, <= 100 categories, version 1..10,000.

(The largest in 74,728 real listings: title 226, abstract 3,488, comment 431, 3,303 authors, one
512-character author; the ATLAS+CMS papers list over 5,000 authors.)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple, get_type_hints

from broadsheet import ids
from broadsheet.models import Paper

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


class TexPart(NamedTuple):
    """A run of text rendered from TeX: plain text, or the Unicode reading of one `$...$` math span."""

    text: str
    math: bool


def tex_to_text(text: str) -> str:
    """TeX as arXiv writes it, as readable Unicode: `22.3\\%` is `22.3%`, `$\\alpha$` is `α`, `x^2` stays `x^2`.

    For display only (pages, feeds, mail): stored records and the API keep the source's text. Paragraph
    breaks ("\\n\\n") are kept and other whitespace collapsed, so `tex_to_text(display_text(abstract))` reads well.
    """
    return "".join(part.text for part in tex_parts(text))


@functools.lru_cache(maxsize=8192)
def tex_parts(text: str) -> tuple[TexPart, ...]:
    """`text` rendered by pylatexenc's latex2text, math spans apart (for pages that set them in their own style).

    Plain text stays as it is: a bare `%` is a percent (never a TeX comment), `&` an ampersand, `~` before a
    number or after a space a tilde, `$5` a price; URLs are never touched; `\\url{u}` is `u`, `\\href{u}{t}` `t (u)`.
    Unknown macros (`\\ours`) keep their name; citations are dropped. TeX that does not parse loses its specials.
    """
    if not _TEXISH.search(text):
        return (TexPart(_collapse(text), False),) if text else ()
    parts: list[TexPart] = []
    for i, piece in enumerate(_URL_PART.split(_LINK.sub(_link_text, text))):
        for chunk in [piece] if i % 2 else _chunks(piece):
            parts.extend(_render(chunk) if not i % 2 and _TEXISH.search(chunk) else [TexPart(chunk, False)])
    return _merge(parts)


def _chunks(text: str) -> list[str]:
    """`text` cut after sentences where no brace or `$` is open: pylatexenc reads only those holding TeX (fast)."""
    chunks, start, depth, dollars = [], 0, 0, 0
    for match in _TOKEN.finditer(text):
        token = match[0]
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == "$":
            dollars += 1
        elif token.isspace() and depth == 0 and dollars % 2 == 0:
            chunks.append(text[start : match.end()])
            start = match.end()
    return [*chunks, text[start:]]


_TEXISH = re.compile(r"[\\$~{}]|--|``|''")
_URL_PART = re.compile(r"(https?://[^\s<>\"'{}|\\^`\[\]]+)", re.IGNORECASE)
_LINK = re.compile(r"\\(?:url\{([^{}]*)\}|href\{([^{}]*)\}\{([^{}]*)\})")
_TOKEN = re.compile(r"\\.|[{}$]|(?<=[.!?;])\s+")
_PLAIN = re.compile(r"(?<!\\)[%&]|(?:^|(?<=[\s(]))~")  # 100% and a & b as meant; ~88%: "about", not a tie
_DOLLAR = re.compile(r"(?<!\\)\$\$?")
_PRICE = re.compile(r"\d[\d,.]*[kKMB]?(?:\s+[A-Za-z]{2}|[;:)!?]|\s*$)")  # $5 and, $10 per hour, $3.50.
_CITATION = re.compile(r"\s*<cit\.>")
_TEX_SPECIAL = re.compile(r"\\[A-Za-z]+\*?|\\(?=[^A-Za-z])|[${}]")


def _link_text(match: re.Match[str]) -> str:
    return match[1] if match[1] is not None else f"{match[3]} ({match[2]})"


def _escape_plain(text: str) -> str:
    """Bare %, & and "about" tildes escaped; a `$` opening no math but a price (`$5 and`) becomes `\\$`."""
    text = _PLAIN.sub(lambda m: "\\textasciitilde{}" if m[0] == "~" else "\\" + m[0], text)
    out, last, inside = [], 0, False
    for match in _DOLLAR.finditer(text):
        if not inside and match[0] == "$" and _PRICE.match(text, match.end()):
            out.append(text[last : match.start()] + "\\$")
            last = match.end()
        else:
            inside = not inside
    return "".join(out) + text[last:]


def _render(tex: str) -> list[TexPart]:
    from pylatexenc.latexwalker import LatexMathNode, LatexWalker, LatexWalkerError  # type: ignore[import-untyped]

    prepared = _escape_plain(tex)
    for attempt in (prepared, re.sub(r"(?<!\\)\$", r"\\$", prepared)):  # then: every $ a dollar
        try:
            nodes = LatexWalker(attempt, tolerant_parsing=False).get_latex_nodes()[0]
        except LatexWalkerError:
            continue
        to_text = _latex2text().nodelist_to_text
        runs = itertools.groupby(nodes, key=lambda n: isinstance(n, LatexMathNode))
        return [TexPart(_CITATION.sub("", to_text(list(run))), math) for math, run in runs]
    return [TexPart(_TEX_SPECIAL.sub("", prepared.replace("\\textasciitilde{}", "~")).replace("\\", ""), False)]


@functools.cache
def _latex2text() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db  # type: ignore[import-untyped]

    context = get_default_latex_context_db()
    context.set_unknown_macro_spec(MacroTextSpec("", simplify_repl=lambda n: n.macroname + n.macro_post_space))
    return LatexNodes2Text(latex_context=context, math_mode="text", strict_latex_spaces=False)


def _merge(parts: list[TexPart]) -> tuple[TexPart, ...]:
    """Adjacent text runs joined, whitespace collapsed (paragraph breaks kept), the ends stripped."""
    merged: list[TexPart] = []
    for part in parts:
        if merged and not part.math and not merged[-1].math:
            merged[-1] = TexPart(merged[-1].text + part.text, False)
        elif part.text:
            merged.append(TexPart(part.text.strip() if part.math else part.text, part.math))
    merged = [TexPart(p.text if p.math else _collapse(p.text, inner=True), p.math) for p in merged]
    if merged and not merged[0].math:
        merged[0] = TexPart(merged[0].text.lstrip(), False)
    if merged and not merged[-1].math:
        merged[-1] = TexPart(merged[-1].text.rstrip(), False)
    return tuple(p for p in merged if p.text)


def _collapse(text: str, *, inner: bool = False) -> str:
    """Runs of whitespace as one space (a non-breaking one stays), blank lines as one paragraph break."""
    paragraphs = [re.sub(r"[ \t\n\r\f\v]+", " ", p) for p in re.split(r"\s*\n\s*\n\s*", text)]
    joined = "\n\n".join(paragraphs)
    return joined if inner else joined.strip()


YEARS = range(1900, 3000)  # timestamps outside are refused: no real record has one, and they overflow zones


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
        except (TypeError, ValueError, IndexError, OverflowError):
            raise ValueError(f"unrecognised timestamp {text[:40]!r}") from None
    if moment.year not in YEARS:
        raise ValueError(f"timestamp {text[:40]!r} is not between {YEARS.start} and {YEARS.stop - 1}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_XML_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 forbids (C0 controls but tab and newlines, lone surrogates, U+FFFE/F)."""
    return _XML_FORBIDDEN.sub("", text) if _may_hold_forbidden(text) else text


def _may_hold_forbidden(text: str) -> bool:
    """Every character XML forbids is unprintable, so printable text (newlines aside) is safe: a fast C check."""
    return not text.isprintable() and not text.replace("\n", "").isprintable()


class OutOfBounds(ValueError):
    """A field too long, or a number out of range, to come from a real arXiv record."""


MAX_CHARS = {"title": 1_000, "abstract": 20_000, "comment": 5_000}
MAX_OTHER = 2_000  # any other text field: journal ref, DOI, licence, class codes, links
MAX_AUTHOR, MAX_AUTHORS = 1_000, 10_000
MAX_CATEGORIES = 100
VERSIONS = range(1, 10_001)


_TYPES = get_type_hints(Paper)
_STRINGS = tuple(f.name for f in dataclasses.fields(Paper) if _TYPES[f.name] in (str, str | None))
_TUPLES = tuple(f.name for f in dataclasses.fields(Paper) if _TYPES[f.name] == tuple[str, ...])


def clean_paper(paper: Paper) -> Paper:
    """The paper with characters XML forbids dropped from every text field; OutOfBounds when a size is not sane."""
    changes: dict[str, Any] = {}
    for name in _STRINGS:
        if value := getattr(paper, name):
            _check_size(name, value, MAX_CHARS.get(name, MAX_OTHER))
            if _may_hold_forbidden(value):
                changes[name] = xml_safe(value)
    for name in _TUPLES:
        if _may_hold_forbidden("".join(items := getattr(paper, name))):
            changes[name] = tuple(map(xml_safe, items))
    if len(paper.authors) > MAX_AUTHORS:
        raise OutOfBounds(f"field 'authors' has {len(paper.authors):,} names (at most {MAX_AUTHORS:,})")
    if paper.authors and max(map(len, paper.authors)) > MAX_AUTHOR:
        raise OutOfBounds(f"an author's name is too long ({max(map(len, paper.authors)):,} characters; "
                          f"at most {MAX_AUTHOR:,})")  # fmt: skip
    if len(paper.categories) > MAX_CATEGORIES:
        raise OutOfBounds(f"field 'categories' has {len(paper.categories):,} entries (at most {MAX_CATEGORIES})")
    if paper.version is not None and paper.version not in VERSIONS:
        raise OutOfBounds(f"version {paper.version} is out of range (v{VERSIONS.start}..v{VERSIONS.stop - 1})")
    cleaned = dataclasses.replace(paper, **changes) if changes else paper
    if not cleaned.title.strip():
        raise OutOfBounds("field 'title' is empty once characters XML forbids are removed")
    return cleaned


def _check_size(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise OutOfBounds(f"field {name!r} is too long ({len(value):,} characters; at most {limit:,})")


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
