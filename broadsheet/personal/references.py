"""Reading references: the arXiv ids in what people paste or export (writing them: broadsheet.personal.citations).

    arxiv_ids_in("2401.00001v2, https://arxiv.org/abs/hep-th/9901001")   # ["2401.00001", "hep-th/9901001"]
    arxiv_ids_in(open("My Library.bib").read())                         # BibTeX, RIS, CSL-JSON, a Zotero export
    bibtex(papers); ris(papers); csl_json(papers)                         # writing: broadsheet.personal.citations

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
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import rispy  # type: ignore[import-untyped]
from bibtexparser.entrypoint import parse_string

from broadsheet import ids
from broadsheet.personal.citations import Name, arxiv_doi, bibtex, citation_keys, csl_json, name_of, ris

__all__ = ["MAX_IDS", "MAX_TEXT", "Name", "arxiv_doi", "arxiv_ids_in", "bibtex", "citation_keys", "csl_json",
           "name_of", "ris"]  # fmt: skip  # the writers, kept importable from here

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
