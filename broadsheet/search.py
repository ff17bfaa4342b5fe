"""Hybrid search: BM25 (tantivy) and sentence vectors (MiniLM), fused with a tuned convex weight.

    engine = Engine(store, MiniLM(), settings.data_dir / "index")
    engine.search("meaningful representations", limit=20)       # -> [SearchHit]
    engine.search("2401.01234")                                  # that paper first
    engine.similar("2401.01234", limit=5)                        # nearest papers by vector

Both indexes are refreshed from the store before a query (at most once a second), so a paper
added by an import, a sync or a submission is findable without a restart.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from broadsheet import ids, rank
from broadsheet.embed import Embedder
from broadsheet.lexical import LexicalIndex
from broadsheet.metadata import display_title
from broadsheet.models import Filters, SearchHit
from broadsheet.store import Store
from broadsheet.vectors import VectorIndex

MAX_QUERY = 250
MAX_TERMS = 32
ALPHA = 0.3  # weight of BM25 in the fusion; tuned on SciFact train (benchmarks/relevance.py --sweep)
CANDIDATES = 100  # from each engine before fusion
Mode = Literal["hybrid", "lexical", "vector"]
_WORD = re.compile(r"\w+", re.UNICODE)


class InvalidQuery(ValueError):
    """A query that cannot be searched (empty, too long, no words)."""


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


def make_filters(
    *, category: str | None = None, since: str | None = None, until: str | None = None,
    daily_only: bool = False, has_code: bool = False,
) -> Filters:  # fmt: skip
    """Filters from user input (strings as typed); raises InvalidQuery with the reason."""
    if category and not ids.is_category(category.strip()):
        raise InvalidQuery(f"{category[:40]!r} is not an arXiv category (e.g. cs.CL)")
    start, end = _date(since, "from"), _date(until, "to")
    if start and end and end < start:
        raise InvalidQuery("the 'to' date is before the 'from' date")
    return Filters((category or "").strip() or None, start, end, daily_only, has_code)


def _date(value: str | None, name: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidQuery(f"invalid '{name}' date {value[:20]!r}: expected YYYY-MM-DD") from None


@dataclass
class Engine:
    store: Store
    embedder: Embedder
    directory: Path
    alpha: float = ALPHA
    refresh_every: float = 1.0  # seconds between checks that the indexes are current

    def __post_init__(self) -> None:
        self.lexical = LexicalIndex(self.store, self.directory / "lexical")
        self.vectors = VectorIndex(self.store, self.embedder.name, self.embedder.dim, self.directory / "vectors")
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self.refresh(force=True)

    def refresh(self, *, force: bool = False) -> None:
        """Bring both indexes up to date with the store (throttled unless forced)."""
        if not force and time.monotonic() - self._checked < self.refresh_every:
            return
        with self._lock:
            self.lexical.refresh()
            self.vectors.refresh()
            self._checked = time.monotonic()

    def search(
        self, query: str, *, filters: Filters = Filters(), limit: int = 20, offset: int = 0, mode: Mode = "hybrid"
    ) -> list[SearchHit]:
        """Best matches, best first. Raises InvalidQuery for unusable input."""
        page = self.ranked(query, filters=filters, limit=offset + limit, mode=mode)[offset:]
        views = self.store.papers.views([row_id for row_id, _ in page])
        return [SearchHit(v, score) for v, (_, score) in zip(views, page, strict=False)]

    def ranked(
        self, query: str, *, filters: Filters = Filters(), limit: int = 20, mode: Mode = "hybrid"
    ) -> list[tuple[int, float]]:
        """(paper row id, score) pairs, best first: `search` without fetching the papers."""
        text = validate(query)
        self.refresh()
        pool = max(CANDIDATES, limit) * (10 if filters.active else 1)
        scores = self._scores(text, pool, mode)
        if filters.active:
            allowed = self.store.papers.matching(list(scores), filters)
            scores = {k: v for k, v in scores.items() if k in allowed}
        ranked = sorted(scores, key=lambda k: scores[k], reverse=True)
        ranked = _exact_first(self.store, text, ranked, filters)[:limit]
        return [(row_id, scores.get(row_id, float("inf"))) for row_id in ranked]

    def _scores(self, text: str, pool: int, mode: Mode) -> dict[int, float]:
        lexical = dict(self.lexical.search(terms(text), limit=pool)) if mode != "vector" else {}
        if mode == "lexical":
            return lexical
        query = self.embedder.embed([text])[0]
        semantic = {n.paper_id: n.score for n in self.vectors.search(query, limit=pool)}
        if mode == "vector":
            return semantic
        for row_id in lexical.keys() - semantic.keys():  # exact cosine for lexical-only candidates
            vec = self.vectors.vector(row_id)
            if vec is not None:
                semantic[row_id] = float(vec @ query)
        return rank.convex(lexical, semantic, self.alpha)

    def similar(self, arxiv_id: str, *, limit: int = 5) -> list[SearchHit]:
        """Nearest papers by vector, the paper itself excluded."""
        self.refresh()
        row_id = self.store.papers.id_of(arxiv_id)
        vec = self.vectors.vector(row_id) if row_id is not None else None
        if row_id is None or vec is None:
            return []
        found = [n for n in self.vectors.search(vec, limit=limit + 1) if n.paper_id != row_id][:limit]
        views = self.store.papers.views([n.paper_id for n in found])
        return [SearchHit(v, n.score) for v, n in zip(views, found, strict=False)]


def _exact_first(store: Store, text: str, ranked: list[int], filters: Filters) -> list[int]:
    """An arXiv id, or a paper's exact title, as the query puts that paper first."""
    try:
        exact = store.papers.id_of(ids.parse(text).id)
    except ids.InvalidArxivId:
        exact = _title_match(store, text, ranked[:20])
    if exact is None or (filters.active and exact not in store.papers.matching([exact], filters)):
        return ranked
    return [exact, *(r for r in ranked if r != exact)]


def _title_match(store: Store, text: str, candidates: list[int]) -> int | None:
    wanted = _norm(text)
    for view in store.papers.views(candidates):
        if _norm(display_title(view.paper.title)) == wanted:
            return store.papers.id_of(view.paper.arxiv_id)
    return None


def _norm(text: str) -> str:
    return " ".join(terms(text))


__all__ = ["Engine", "InvalidQuery", "SearchHit", "make_filters", "terms", "validate"]
