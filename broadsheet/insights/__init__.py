"""A one-sentence summary and 5-12 keywords per paper, offline, like Hugging Face's ai_summary / ai_keywords.

    embedder = MiniLM()
    [insight] = insights([paper], embedder)       # Insight(summary=..., keywords=(...), method=..., version=...)
    insights(papers, embedder, doc_vectors=vecs)  # reuse stored paper vectors (same embedder) to skip one call

No language model: the summary is the abstract's sentence that best states the contribution
(`broadsheet.insights.summary`), the keywords are candidate noun phrases from the title and abstract ranked
against the paper's MiniLM vector with maximal marginal relevance (`broadsheet.insights.keywords`). Both are
extracted from the text, so they never say anything the abstract does not. TeX is turned into text
first (pylatexenc). Papers are embedded batch by batch: three embedding calls per batch (papers,
sentences, candidate phrases), never one per phrase. `METHOD` and `VERSION` are stored with each
result, so a change of method is known to need recomputing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pylatexenc.latex2text import LatexNodes2Text  # type: ignore[import-untyped]
from pylatexenc.latexwalker import LatexWalker, LatexWalkerError  # type: ignore[import-untyped]

from broadsheet.ingest.metadata import decode_tex
from broadsheet.insights import keywords, summary
from broadsheet.models import Paper
from broadsheet.search.embed import Embedder, Vectors

METHOD = "extractive-mmr"
VERSION = 1
MIN_KEYWORDS = 5
MAX_KEYWORDS = 12
BATCH = 32


@dataclass(frozen=True, slots=True)
class Insight:
    summary: str  # one sentence of the abstract ("" when the abstract is empty)
    keywords: tuple[str, ...]  # MIN_KEYWORDS..MAX_KEYWORDS phrases from the title/abstract (fewer for tiny texts)
    method: str = METHOD
    version: int = VERSION


@dataclass(frozen=True, slots=True)
class _Prepared:
    title: str
    abstract: str
    sentences: list[str]
    candidates: list[keywords.Candidate]


def insights(
    papers: Sequence[Paper], embedder: Embedder, *, doc_vectors: Vectors | None = None, batch: int = BATCH
) -> list[Insight]:
    """One Insight per paper, in order. `doc_vectors`: the papers' stored vectors from `embedder`, if at hand."""
    if doc_vectors is not None and len(doc_vectors) != len(papers):
        raise ValueError(f"{len(doc_vectors)} document vectors for {len(papers)} papers")
    results: list[Insight] = []
    for start in range(0, len(papers), batch):
        chunk = papers[start : start + batch]
        given = None if doc_vectors is None else doc_vectors[start : start + batch]
        results.extend(_batch(chunk, embedder, given))
    return results


def _batch(papers: Sequence[Paper], embedder: Embedder, given: Vectors | None) -> list[Insight]:
    prepared = [prepare(p) for p in papers]
    docs = given if given is not None else embedder.embed([f"{p.title}. {p.abstract}" for p in prepared])
    sentence_vectors = _split(embedder.embed([s for p in prepared for s in p.sentences]), prepared, "sentences")
    phrase_vectors = _split(embedder.embed([c.phrase for p in prepared for c in p.candidates]), prepared, "candidates")
    return [
        _insight(p, doc, sv, pv)
        for p, doc, sv, pv in zip(prepared, docs, sentence_vectors, phrase_vectors, strict=True)
    ]


def _split(vectors: Vectors, prepared: Sequence[_Prepared], field: str) -> list[Vectors]:
    sizes = [len(getattr(p, field)) for p in prepared]
    return np.split(vectors, np.cumsum(sizes)[:-1]) if sizes else []


def _insight(paper: _Prepared, doc: Vectors, sentence_vectors: Vectors, phrase_vectors: Vectors) -> Insight:
    text = paper.sentences
    sentence = summary.trim(text[summary.choose(text, sentence_vectors, doc)]) if text else ""
    chosen = keywords.select(paper.candidates, phrase_vectors, doc, k=keyword_count(paper.abstract))
    return Insight(sentence, tuple(chosen))


def keyword_count(abstract: str) -> int:
    """How many keywords an abstract gets: HF's median is 10; a few more for long abstracts."""
    return max(MIN_KEYWORDS, min(MAX_KEYWORDS, round(len(abstract.split()) / WORDS_PER_KEYWORD)))


WORDS_PER_KEYWORD = 18


def prepare(paper: Paper) -> _Prepared:
    title, abstract = plain_text(paper.title), plain_text(paper.abstract)
    return _Prepared(title, abstract, summary.split_sentences(abstract), keywords.candidates(title, abstract))


_LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")


def plain_text(text: str) -> str:
    """Abstract or title as plain one-line text: TeX accents, math and macros turned into Unicode text."""
    flat = decode_tex(text)
    if "\\" in flat or "$" in flat:
        flat = _tex_to_text(_UNESCAPED_PERCENT.sub(r"\\%", flat))
    return " ".join(flat.split())


def _tex_to_text(tex: str) -> str:
    """A bare % is escaped first (a TeX comment would swallow the rest of the line; authors mean percent).
    TeX that does not parse or convert (an unclosed brace or $, a macro without its argument) loses its
    macro names and special characters instead."""
    try:
        nodes = LatexWalker(tex, tolerant_parsing=False).get_latex_nodes()[0]
        return str(_LATEX.nodelist_to_text(nodes)).replace("<cit.>", "")
    except (LatexWalkerError, IndexError, KeyError, ValueError):  # a macro without its arguments (\\url) raises too
        return _TEX_SPECIAL.sub(" ", tex.replace("\\%", "%"))


_TEX_SPECIAL = re.compile(r"\\[A-Za-z]+\*?|[\\${}]")
