"""Citations: papers written as BibTeX, RIS and CSL-JSON, for reference managers (`references` reads them).

    bibtex(papers); ris(papers); csl_json(papers)       # one entry per paper, duplicates dropped
    citation_keys(papers)                               # ["smith2024attention", ...]

Keys are the first author's surname, the year and the first title word that is not a stop word (ASCII);
twins get `a`, `b`, … in arXiv-id order. Names are split into given and family parts by `name_of`
(a collaboration's name stays whole).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, NamedTuple

import rispy  # type: ignore[import-untyped]
from bibtexparser.entrypoint import write_string
from bibtexparser.library import Library
from bibtexparser.model import Entry, Field
from pylatexenc.latexencode import unicode_to_latex  # type: ignore[import-untyped]

from broadsheet import ids
from broadsheet.ingest.metadata import display_text, display_title, tex_to_text
from broadsheet.models import Paper

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
