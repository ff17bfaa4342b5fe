"""Reference formats: arXiv ids read out of what people paste or export, and papers written as citations.

    arxiv_ids_in("2401.00001v2, https://arxiv.org/abs/hep-th/9901001")   # ["2401.00001", "hep-th/9901001"]
    arxiv_ids_in(open("My Library.bib").read())                         # BibTeX, RIS, CSL-JSON, a Zotero export
    bibtex(papers); ris(papers); csl_json(papers)                         # what a reference manager imports

Reading looks only where a format keeps an arXiv id: BibTeX `eprint` (with `archivePrefix`/`eprinttype`
arXiv or none), `arxivId`, `url`, `doi` (10.48550/arXiv.…), `note`, `journal`, `number`; RIS `UR`, `DO`, `N1`,
`M1`, `JO`…; CSL-JSON `URL`, `DOI`, `number`, `note`… (Zotero writes all three this way), so an id cited in an
abstract is not taken for a saved paper. Text that is none of these is read as a list of ids and URLs.
Junk gives [], never an exception; input beyond MAX_TEXT characters is ignored, and at most MAX_IDS ids come back.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import rispy  # type: ignore[import-untyped]
from bibtexparser.entrypoint import parse_string, write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import unicode_to_latex  # type: ignore[import-untyped]

from broadsheet import ids
from broadsheet.metadata import display_text, display_title, tex_to_text
from broadsheet.models import Paper

MAX_TEXT = 5_000_000  # characters read from one paste or file (our own export of 1,000 papers is 2.3 MB of CSL-JSON)
MAX_IDS = 5000

_NEW = r"\d{4}\.\d{4,5}(?:v\d{1,3})?"
_OLD = r"[a-z]+(?:-[a-z]+)*(?:\.[A-Za-z]{2})?/\d{7}(?:v\d{1,3})?"
_ID = rf"(?:{_NEW}|{_OLD})"
# An id behind something that says "arXiv": a URL, `arXiv:`, the DataCite DOI, DBLP's `abs/` volume.
_PREFIXED = re.compile(
    rf"(?:arxiv\.org/(?:abs|pdf|html|format)/|huggingface\.co/papers/|arxiv:\s?|10\.48550/arxiv\.|\babs/)({_ID})(?!\d)",
    re.IGNORECASE,
)
_BARE = re.compile(rf"(?<![\w./-])({_ID})(?![\w/-]|\.\d)")
# Old-style ids without a prefix count only under one of arXiv's old archive names (not `files/0912345`).
_ARCHIVES = frozenset((
    "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn", "chem-ph", "cmp-lg",
    "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math",
    "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th", "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "q-fin",
    "quant-ph", "solv-int", "stat", "supr-con",
))  # fmt: skip
# bibtexparser logs every block it cannot parse at ERROR: pasted junk is the reader's, not the operator's, problem.
logging.getLogger("bibtexparser").setLevel(logging.CRITICAL)
_BIBTEX_START = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
_RIS_START = re.compile(r"^\s*TY  -", re.MULTILINE)

# Fields whose whole value may be a bare id, and fields where an id counts only behind an arXiv prefix.
_BIB_BARE = ("arxivid", "arxiv_id", "arxiv")
_BIB_PREFIXED = ("url", "doi", "eprint", "note", "journal", "journaltitle", "number", "volume", "howpublished",
                 "pdf", "annote", "addendum", "archiveid")  # fmt: skip
_RIS_PREFIXED = ("urls", "doi", "notes", "note", "number", "journal_name", "secondary_title", "accession_number",
                 "type_of_work", "custom1", "custom2", "id", "file_attachments1", "file_attachments2")  # fmt: skip
_CSL_BARE = ("arxiv", "arxivid", "eprint")
_CSL_PREFIXED = ("url", "doi", "number", "note", "extra", "archiveid", "archive_location", "container-title",
                 "collection-title", "id", "source")  # fmt: skip


def arxiv_ids_in(text: str) -> list[str]:
    """Canonical arXiv ids (no version) named in `text`, de-duplicated, in the order they first appear."""
    if not isinstance(text, str):
        return []
    try:
        return _first(_found(text[:MAX_TEXT].lstrip("\ufeff")), MAX_IDS)
    except Exception:  # a parser's surprise on junk must never reach the reader
        return []


def _found(text: str) -> Iterator[str]:
    records = _records(text)
    if not records:  # not a reference format after all: a pasted list of ids and URLs
        yield from _from_paste(text)
    for found in records:
        yield from found


def _records(text: str) -> list[list[str]]:
    """The arXiv ids of each record of the reference format `text` is in; [] when it holds no record of one."""
    head = text.lstrip()[:1]
    try:
        if head and head in "[{":
            return _from_csl(text)
        if _BIBTEX_START.search(text):
            return _from_bibtex(text)
        if _RIS_START.search(text):
            return _from_ris(text)
    except Exception:  # a parser's surprise: read the text as a paste instead
        return []
    return []


def _first(found: Iterable[str], limit: int) -> list[str]:
    seen: dict[str, None] = {}
    for raw in found:
        canonical = _canonical(raw)
        if canonical is not None and canonical not in seen:
            seen[canonical] = None
            if len(seen) >= limit:
                break
    return list(seen)


def _canonical(raw: str) -> str | None:
    try:
        return ids.parse(raw).id
    except ids.InvalidArxivId:
        return None


def _prefixed(value: object) -> Iterator[str]:
    for text in _strings(value):
        yield from _PREFIXED.findall(text)


def _bare(value: object) -> Iterator[str]:
    """A field meant to hold an id: the id itself, or one behind a prefix."""
    for text in _strings(value):
        found = _PREFIXED.findall(text)
        yield from found or _BARE.findall(text)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def _from_paste(text: str) -> Iterator[str]:
    """Ids and URLs in free text; a bare old-style id counts only under a real archive name."""
    for match in re.finditer(rf"{_PREFIXED.pattern}|{_BARE.pattern}", text, re.IGNORECASE):
        prefixed, bare = match.group(1), match.group(2)
        if prefixed:
            yield prefixed
        elif "/" not in bare or bare.split("/")[0].split(".")[0].lower() in _ARCHIVES:
            yield bare


# -- BibTeX ----------------------------------------------------------------------------------------


def _from_bibtex(text: str) -> list[list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        library = parse_string(text)
    return [list(_bibtex_entry({f.key.lower(): f.value for f in entry.fields})) for entry in library.entries]


def _bibtex_entry(fields: dict[str, Any]) -> Iterator[str]:
    prefix = str(fields.get("archiveprefix") or fields.get("eprinttype") or "arxiv").strip("{} ").lower()
    eprint = fields.get("eprint")
    if isinstance(eprint, str) and prefix == "arxiv":
        eprint = eprint.strip("{} ")
        primary = str(fields.get("primaryclass") or "").strip("{} ").lower()
        if re.fullmatch(r"\d{7}(?:v\d+)?", eprint) and primary:  # old style split in two: hep-th + 9901001
            eprint = f"{primary.split('.')[0]}/{eprint}"
        yield from _bare(eprint)
    for name in _BIB_BARE:
        yield from _bare(fields.get(name))
    for name in _BIB_PREFIXED:
        yield from _prefixed(fields.get(name))


# -- RIS -------------------------------------------------------------------------------------------


def _from_ris(text: str) -> list[list[str]]:
    # rispy wants each record to start at a line beginning; stray text before the first record is dropped.
    start = _RIS_START.search(text)
    body = text[start.start() :] if start else text
    records = rispy.loads(body.replace("\r\n", "\n"), skip_unknown_tags=False, enforce_list_tags=False)
    return [list(_ris_record_ids(r)) for r in records if isinstance(r, dict)]


def _ris_record_ids(record: dict[str, Any]) -> Iterator[str]:
    for name in _RIS_PREFIXED:
        yield from _prefixed(record.get(name))
    unknown = record.get("unknown_tag") or {}
    if isinstance(unknown, dict):
        for values in unknown.values():
            yield from _prefixed(values)


# -- CSL-JSON (and Zotero's own JSON) ----------------------------------------------------------------


def _from_csl(text: str) -> list[list[str]]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    return [list(_csl_item(item)) for item in _csl_items(data)]


def _csl_item(item: dict[str, Any]) -> Iterator[str]:
    fields = {str(k).lower(): v for k, v in item.items()}
    for name in _CSL_BARE:
        yield from _bare(fields.get(name))
    for name in _CSL_PREFIXED:
        yield from _prefixed(fields.get(name))
    wrapped = fields.get("data")  # Zotero's web API wraps each item's fields in "data"
    if isinstance(wrapped, dict):
        yield from _csl_item(wrapped)


def _csl_items(data: object) -> list[dict[str, Any]]:
    if isinstance(data, dict):
        items = data.get("items")
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else [data]
    if isinstance(data, list):
        return [i for i in data if isinstance(i, dict)]
    return []


# == writing ==========================================================================================

_STOPWORDS = frozenset(("a", "an", "the", "on", "of", "in", "for", "and", "to", "with", "from", "by", "at", "via",
                        "is", "are", "do", "does", "towards", "toward"))  # fmt: skip
_SUFFIXES = frozenset(("jr", "jr.", "sr", "sr.", "ii", "iii", "iv"))
_GROUP = re.compile(r"\b(?:collaboration|consortium|team|group|project|initiative)\b|,| and ", re.IGNORECASE)


def arxiv_doi(arxiv_id: str) -> str:
    """The DataCite DOI arXiv gives every paper."""
    return f"10.48550/arXiv.{arxiv_id}"


def _unique(papers: Sequence[Paper]) -> list[Paper]:
    """Each paper once (the first time it is listed): a citation key names one entry."""
    first: dict[str, Paper] = {}
    for paper in papers:
        first.setdefault(paper.arxiv_id, paper)
    return list(first.values())


def citation_keys(papers: Sequence[Paper]) -> list[str]:
    """`smith2024title` per paper: first author's surname, year, first real title word; a letter makes twins unique.

    Twins get `a`, `b`, … in arXiv-id order, so a paper keeps its key whatever order the list is in."""
    base = [_key(p) for p in papers]
    twins: dict[str, list[str]] = {}
    for key, paper in zip(base, papers, strict=True):
        twins.setdefault(key, []).append(paper.arxiv_id)
    keys = []
    for key, paper in zip(base, papers, strict=True):
        group = sorted(set(twins[key]))
        keys.append(key if len(group) == 1 else key + _letters(group.index(paper.arxiv_id)))
    return keys


def _key(paper: Paper) -> str:
    surname = _ascii_word(name_of(paper.authors[0]).family if paper.authors else "") or "anon"
    words = [w for w in (_ascii_word(w) for w in display_title(paper.title).split()) if w]
    word = next((w for w in words if w not in _STOPWORDS), words[0] if words else "paper")
    return f"{surname}{paper.published.year}{word}"


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", tex_to_text(text)).lower())[:30]


def _letters(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("a") + rest) + out
    return out


class Name(NamedTuple):
    given: str  # "" for a group's name (a collaboration), kept whole in `family`
    family: str
    suffix: str = ""


def name_of(author: str) -> Name:
    """An arXiv author string (`Given [von] Surname [Jr.]`) split as reference managers want it.

    Lower-case particles before the surname belong to it (`Jan van der Berg` -> `van der Berg`, `Jan`)."""
    name = " ".join(tex_to_text(author).split())
    words = name.split(" ")
    if _GROUP.search(name) or len(words) < 2:
        return Name("", name)
    suffix = words.pop() if words[-1].lower() in _SUFFIXES and len(words) > 2 else ""
    start = len(words) - 1
    while start > 1 and words[start - 1][:1].islower():
        start -= 1
    return Name(" ".join(words[:start]), " ".join(words[start:]), suffix)


def _plain(text: str) -> str:
    """TeX as arXiv sends it, as readable one-paragraph-per-break Unicode."""
    return tex_to_text(display_text(text))


def _latex(text: str) -> str:
    """Unicode as LaTeX a BibTeX file can hold: specials escaped, non-ASCII as commands, braces balanced."""
    return str(unicode_to_latex(text, non_ascii_only=False))


def bibtex(papers: Sequence[Paper]) -> str:
    """Papers as BibTeX `@misc` entries the way arXiv recommends (eprint, archivePrefix, primaryClass, url)."""
    papers = _unique(papers)
    library = Library()
    for key, paper in zip(citation_keys(papers), papers, strict=True):
        fields = {
            "title": _latex(_plain(paper.title)),
            "author": " and ".join(_bibtex_author(a) for a in paper.authors),
            "year": str(paper.published.year),
            "eprint": paper.arxiv_id,
            "archivePrefix": "arXiv",
            "primaryClass": paper.primary_category or "",
            "url": ids.abs_url(paper.arxiv_id),
            "doi": arxiv_doi(paper.arxiv_id),
            "note": _latex(_plain(paper.journal_ref)) if paper.journal_ref else "",
        }
        entry_fields = [Field(k, "{" + v + "}") for k, v in fields.items() if v]
        library.add(Entry("misc", key, entry_fields))
    return write_string(library, unparse_stack=[]) if papers else ""


def _bibtex_author(author: str) -> str:
    name = name_of(author)
    if not name.given:
        return "{" + _latex(name.family) + "}"  # a group's name is one unit, never "Surname, Given"
    return ", ".join(_latex(part) for part in (name.family, name.suffix, name.given) if part)


def ris(papers: Sequence[Paper]) -> str:
    """Papers as RIS records (type UNPB, unpublished work: a preprint), as Zotero, EndNote and Mendeley import."""
    records = [_ris_record(p) for p in _unique(papers)]
    text = rispy.dumps(records, skip_unknown_tags=True) if records else ""
    return re.sub(r"^\d+\.\n", "", text, flags=re.MULTILINE)  # rispy numbers records ("1."): not RIS


def _ris_record(paper: Paper) -> dict[str, Any]:
    record: dict[str, Any] = {
        "type_of_reference": "UNPB",
        "title": _plain(paper.title),
        "authors": [_ris_author(a) for a in paper.authors],
        "year": str(paper.published.year),
        "date": paper.published.strftime("%Y/%m/%d/"),
        "abstract": " ".join(_plain(paper.abstract).split()),  # a tag's value is one line
        "urls": [ids.abs_url(paper.arxiv_id)],
        "doi": arxiv_doi(paper.arxiv_id),
        "publisher": "arXiv",
        "database_provider": "arXiv.org",
        "number": f"arXiv:{paper.arxiv_id}",
        "keywords": list(paper.categories),
        "notes": [f"arXiv:{paper.arxiv_id} [{paper.primary_category}]" if paper.primary_category
                  else f"arXiv:{paper.arxiv_id}"],
    }  # fmt: skip
    if paper.journal_ref:
        record["secondary_title"] = _plain(paper.journal_ref)
    return {k: v for k, v in record.items() if v}


def _ris_author(author: str) -> str:
    name = name_of(author)
    return ", ".join(part for part in (name.family, name.given, name.suffix) if part)


def csl_json(papers: Sequence[Paper]) -> str:
    """Papers as CSL-JSON (citeproc's input; Zotero, Pandoc and Mendeley read it): type `article`, a preprint."""
    papers = _unique(papers)
    items = [_csl(key, p) for key, p in zip(citation_keys(papers), papers, strict=True)]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _csl(key: str, paper: Paper) -> dict[str, Any]:
    when = paper.published
    item: dict[str, Any] = {
        "id": key,
        "type": "article",
        "title": _plain(paper.title),
        "author": [_csl_author(a) for a in paper.authors],
        "issued": {"date-parts": [[when.year, when.month, when.day]]},
        "abstract": _plain(paper.abstract),
        "URL": ids.abs_url(paper.arxiv_id),
        "DOI": arxiv_doi(paper.arxiv_id),
        "number": f"arXiv:{paper.arxiv_id}",
        "publisher": "arXiv",
        "source": "arXiv.org",
        "keyword": ", ".join(paper.categories),
    }
    if paper.journal_ref:
        item["note"] = _plain(paper.journal_ref)
    return {k: v for k, v in item.items() if v}


def _csl_author(author: str) -> dict[str, str]:
    name = name_of(author)
    if not name.given:
        return {"literal": name.family}
    return {"family": name.family, "given": name.given} | ({"suffix": name.suffix} if name.suffix else {})
