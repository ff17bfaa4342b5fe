"""Hybrid search: BM25 (tantivy) and sentence vectors (MiniLM), fused with a tuned convex weight.

    engine = Engine(store, MiniLM(), settings.data_dir / "index")
    engine.search("meaningful representations", limit=20)       # -> [SearchHit]
    engine.search("2401.01234")                                  # that paper first
    engine.similar("2401.01234", limit=5)                        # nearest papers by vector

Ranking, for what people type (benchmarks/queries.py measures each kind):
- a query of up to TIER_WORDS words ranks in tiers: papers with an author of exactly that name (or,
  for one word found mostly in authors' names and someone's surname, of that surname), then papers with
  the query as a phrase, then papers with every word in the title as typed (for FIT_WORDS words or
  more, the titles the query is most of first: a title half remembered), then by its stem, then with every
  word anywhere, then the rest; within a tier by the fused score (one- and two-word
  queries lean on BM25: their vectors say little; so do bags of keywords without function words
  and queries whose every word is in some paper's title, BAG_ALPHA);
- longer queries (sentences, claims) by the fused score alone; from three words on, the two lists'
  scores as z-scores, not min-max scaled (SciFact tuning half: 0.717 nDCG@10 against 0.711);
- an unknown word one edit from an indexed word is corrected (the page says so); further away,
  it is only suggested; a correction that changes the first two letters must be
  spelling.PREFIX_ODDS times more common than one that keeps them; a word that some papers hold but
  that is one edit from a word spelling.KNOWN_ODDS times more common (someone else's typo) is
  corrected only when no paper holds every word as typed (nor a title, a typo allowed) and some
  paper does once corrected;
- a paper sharing no word with the query must be at least MIN_COSINE close in meaning, so
  nonsense gets no results instead of fifty weak ones.

The backends (`Lexical`, `vectors.Vectors`) follow the store, so a paper added by an import, a
sync or a submission through any process or host is findable without a restart: the tantivy
index is derived from the database on each host and refreshed before a query (at most once a
second); vectors are an exact in-memory matrix on SQLite, refreshed the same way, and pgvector's
HNSW index on PostgreSQL, where each query sees the database as it is (benchmarks/pg_search.py
measured the choice).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import statistics
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from broadsheet import ids, rank
from broadsheet.ingest.metadata import display_title
from broadsheet.models import Filters, SearchHit
from broadsheet.periods import InvalidPeriod, parse_date
from broadsheet.search.embed import Embedder
from broadsheet.search.lexical import LexicalIndex, Matches
from broadsheet.search.spelling import KNOWN_ODDS, closest, likely_meant
from broadsheet.search.vectors import Vector, Vectors, open_vectors
from broadsheet.store import Store
from broadsheet.words import FUNCTION_WORDS

MAX_QUERY = 250
MAX_TERMS = 32
ALPHA = 0.4  # weight of BM25 in the z-score fusion of longer queries; tuned on SciFact's tuning half (queries.py)
SHORT_ALPHA = 0.5  # the weight of BM25 for queries of two words (a name, a term: vectors know little)
ONE_WORD_ALPHA = 0.95  # ... and of one word (a surname, a term), where a vector knows even less; tuned
SHORT_WORDS = 2
BAG_ALPHA = 0.6  # z-score weight of BM25 for 3..TIER_WORDS words without function words, or all in one title
TIER_WORDS = 16  # queries of at most this many words rank author, phrase, title, all-words matches first; tuned
KNOWN_TRIED = 2  # this many of a query's rarest known words at most are tried as typos (each a vocabulary scan)
FIT_WORDS = 3  # from this many words, titles holding every word as typed rank by how much of the title they are
MIN_COSINE = 0.4  # a paper sharing no query word is a result only this close in meaning (nonsense -> none)
CANDIDATES = 100  # from each engine before fusion
QUERY_CACHE = 1024  # query vectors kept (embedding the query is most of a search's time)
RANKINGS_KEPT = 512  # rankings kept while the indexes do not change: a vote re-renders a page, not its search
RANKING_TTL = 5.0  # seconds at most (vectors stored in PostgreSQL by another host give no signal)
Mode = Literal["hybrid", "lexical", "vector"]
Sort = Literal["relevance", "newest", "upvotes"]
SORTS: tuple[Sort, ...] = ("relevance", "newest", "upvotes")
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Weights:
    """How the two engines' scores make one ranking (benchmarks/queries.py sweep tunes them)."""

    alpha: float = ALPHA
    short_alpha: float = SHORT_ALPHA
    one_word_alpha: float = ONE_WORD_ALPHA
    short_words: int = SHORT_WORDS
    bag_alpha: float = BAG_ALPHA
    tier_words: int = TIER_WORDS
    min_cosine: float = MIN_COSINE


@dataclass(frozen=True, slots=True)
class Results:
    """One page of a search, with what the page says around it."""

    hits: list[SearchHit]
    total: int  # results in the ranking (every page of it); 0 -> "No papers match"
    searched: str  # the query as searched: the typed one, or its spelling correction
    suggestions: list[str]  # other queries to try when nothing matched


class Standing(NamedTuple):
    """Where a candidate ranks: by tier, then by how much of its title the query is (titles holding every word of
    a query of FIT_WORDS or more as typed; 0 otherwise), then by its fused score."""

    tier: int
    fit: float
    score: float


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
        return parse_date(value, f"'{name}' date")  # bounded years: a date filter never overflows
    except InvalidPeriod as exc:
        raise InvalidQuery(str(exc)) from None


class Lexical(Protocol):
    """What search needs from a keyword backend (tantivy's BM25 index, derived from the store)."""

    def refresh(self) -> int: ...
    def match(self, words: list[str], *, limit: int) -> Matches: ...
    def frequency(self, word: str) -> int: ...
    def neighbours(self, word: str) -> list[tuple[str, int]]: ...
    def holds_all(self, words: list[str]) -> bool: ...
    def named(self, word: str) -> bool: ...
    def size(self) -> int: ...


@dataclass
class Engine:
    """Search over a store. The backends default to the store's kind (`open_vectors`) and a tantivy index
    in `directory`; pass `lexical` / `vectors` to use others."""

    store: Store
    embedder: Embedder
    directory: Path
    weights: Weights = Weights()
    refresh_every: float = 1.0  # seconds between checks that the indexes are current
    lexical: Lexical = dataclasses.field(default=None)  # type: ignore[assignment]
    vectors: Vectors = dataclasses.field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.lexical is None:
            self.lexical = LexicalIndex(self.store, self.directory / "lexical")
        if self.vectors is None:
            model, dim = self.embedder.name, self.embedder.dim
            self.vectors = open_vectors(self.store, model, dim, self.directory / "vectors")
        self._query_vector = functools.lru_cache(maxsize=QUERY_CACHE)(self._embed_query)
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._rankings: OrderedDict[tuple[Any, ...], tuple[float, list[tuple[int, float]]]] = OrderedDict()
        self.refresh(force=True)

    def _embed_query(self, text: str) -> Vector:
        """The query's vector (kept for the QUERY_CACHE latest queries: the next page, a popular query)."""
        vector: Vector = self.embedder.embed([text])[0]
        vector.setflags(write=False)
        return vector

    @property
    def alpha(self) -> float:
        """The fusion weight of BM25 for longer queries (benchmarks/relevance.py sets it)."""
        return self.weights.alpha

    @alpha.setter
    def alpha(self, value: float) -> None:
        self.weights = dataclasses.replace(self.weights, alpha=value)

    def refresh(self, *, force: bool = False) -> None:
        """Bring both indexes up to date with the store (throttled unless forced)."""
        if not force and time.monotonic() - self._checked < self.refresh_every:
            return
        with self._lock:
            changed = self.lexical.refresh() + self.vectors.refresh()
            if changed:
                self._rankings.clear()
            self._checked = time.monotonic()

    def search(
        self, query: str, *, filters: Filters = Filters(), limit: int = 20, offset: int = 0,
        mode: Mode = "hybrid", sort: Sort = "relevance",
    ) -> list[SearchHit]:  # fmt: skip
        """Best matches, best first (or newest / most upvoted first). Raises InvalidQuery for unusable input."""
        return self.results(query, filters=filters, limit=limit, offset=offset, mode=mode, sort=sort).hits

    def results(
        self, query: str, *, filters: Filters = Filters(), limit: int = 20, offset: int = 0,
        mode: Mode = "hybrid", sort: Sort = "relevance",
    ) -> Results:  # fmt: skip
        """A page of results with their count, the query as searched, and suggestions when nothing matched."""
        text = validate(query)
        self.refresh()
        searched, suggestions = self._spelling(text)
        ranked = self._ranking(text, searched, filters, offset + limit, mode)
        if sort == "relevance":
            page = ranked[offset : offset + limit]
            views = self.store.papers.views([row_id for row_id, _ in page])
            hits = [SearchHit(v, score) for v, (_, score) in zip(views, page, strict=False)]
        else:
            views = self.store.papers.views([row_id for row_id, _ in ranked])
            everything = [SearchHit(v, score) for v, (_, score) in zip(views, ranked, strict=False)]
            hits = sorted(everything, key=_SORT_KEYS[sort], reverse=True)[offset : offset + limit]
        if ranked:
            suggestions = []
        elif len(terms(searched)) > 2:
            suggestions.append("try fewer words")
        return Results(hits, len(ranked), searched, suggestions)

    def ranked(
        self, query: str, *, filters: Filters = Filters(), limit: int = 20, mode: Mode = "hybrid"
    ) -> list[tuple[int, float]]:
        """(paper row id, score) pairs, best first: `search` without fetching the papers."""
        text = validate(query)
        self.refresh()
        return self._ranking(text, self._spelling(text)[0], filters, limit, mode)[:limit]

    def _ranking(self, text: str, searched: str, filters: Filters, limit: int, mode: Mode) -> list[tuple[int, float]]:
        """Every result that passes the cut, best first, with its score (inf for an exact id/title match);
        kept while the indexes stay as they are, for at most RANKING_TTL seconds."""
        key = (text, searched, filters, limit, mode, self.weights)  # benchmarks change the weights
        with self._lock:
            kept = self._rankings.get(key)
            if kept is not None and time.monotonic() - kept[0] < RANKING_TTL:
                self._rankings.move_to_end(key)
                return kept[1]
        ranking = self._rank(text, searched, filters, limit, mode)
        with self._lock:
            self._rankings[key] = (time.monotonic(), ranking)
            while len(self._rankings) > RANKINGS_KEPT:
                self._rankings.popitem(last=False)
        return ranking

    def _rank(self, text: str, searched: str, filters: Filters, limit: int, mode: Mode) -> list[tuple[int, float]]:
        pool = max(CANDIDATES, limit) * (10 if filters.active else 1)
        scores = self._scores(searched, pool, mode)
        if filters.active:
            allowed = self.store.papers.matching(list(scores), filters)
            scores = {k: v for k, v in scores.items() if k in allowed}
        ranked = _exact_first(self.store, text, sorted(scores, key=lambda k: scores[k], reverse=True), filters)
        return [(row_id, scores[row_id].score if row_id in scores else float("inf")) for row_id in ranked]

    def _scores(self, text: str, pool: int, mode: Mode) -> dict[int, Standing]:
        """Each candidate's standing: tiers (author, phrase, title, all words) first for short queries."""
        words = terms(text)
        if mode == "vector":
            query = self._query_vector(text)
            return {n.paper_id: Standing(0, 0.0, n.score) for n in self.vectors.search(query, limit=pool)}
        found = self.lexical.match(words, limit=pool)
        if mode == "lexical":
            return {k: _standing(k, found, v, len(words), self.weights) for k, v in found.scores.items()}
        query = self._query_vector(text)
        semantic = {n.paper_id: n.score for n in self.vectors.search(query, limit=pool)}
        extra = self.vectors.vectors(list(found.scores.keys() - semantic.keys()))  # lexical-only: one batch
        semantic.update({row_id: float(vec @ query) for row_id, vec in extra.items()})
        return combine(found, semantic, words, self.weights)

    def _spelling(self, text: str) -> tuple[str, list[str]]:
        """The query to search (typos of unknown words corrected when each is one edit from a known word; of known
        ones, as `_known_typos` says) and the spelling suggestions (up to two edits away) when some word is unknown."""
        words = terms(text)
        if ids.is_arxiv_id(text.strip()):
            return text, []
        counts = {w: self.lexical.frequency(w) for w in words if len(w) >= 4 and not w.isdigit()}
        unknown = [w for w, n in counts.items() if not n]
        if not unknown:
            return self._known_typos(text, words, counts), []
        fixes = {w: best for w in unknown if (best := closest(w, self.lexical.neighbours(w)))}
        suggestion = " ".join(fixes[w][0] if w in fixes else w for w in words)
        if len(fixes) == len(unknown) and all(distance == 1 for _, distance in fixes.values()):
            return suggestion, []
        return text, [suggestion] if fixes else []

    def _known_typos(self, text: str, words: list[str], counts: dict[str, int]) -> str:
        """A word some papers hold may still be a typo ("languge" is in an arXiv title, so it is no unknown word).
        When no paper holds every word as typed (nor a title, a typo allowed), each of the KNOWN_TRIED rarest words in
        no author's name that has a word one edit away KNOWN_ODDS times more common is taken for that word, if then
        some paper holds every word. `counts`: papers holding each word of 4+ letters."""
        if self.lexical.holds_all(words):
            return text
        most = self.lexical.size() // KNOWN_ODDS
        rare = sorted((n, w) for w, n in counts.items() if w.isalpha() and n <= most and not self.lexical.named(w))
        fixes: dict[str, str] = {}
        for count, word in rare[:KNOWN_TRIED]:  # the rarest: a typo is mostly the rarest word, and each costs a scan
            if meant := likely_meant(word, count, self.lexical.neighbours(word)):
                fixes[word] = meant
        fixed = [fixes.get(w, w) for w in words]
        return " ".join(fixed) if fixes and self.lexical.holds_all(fixed) else text

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


def combine(found: Matches, semantic: dict[int, float], words: Sequence[str], weights: Weights) -> dict[int, Standing]:
    """Each candidate's standing (tier, title fit, fused score) for a query of these words; papers sharing no word
    with the query and not close in meaning are cut. The fewer the words, and a bag of keywords more than a
    sentence, the more BM25 counts."""
    short = len(words) <= weights.tier_words
    if len(words) <= weights.short_words:
        alpha = weights.one_word_alpha if len(words) == 1 else weights.short_alpha
        fused = rank.convex(found.scores, semantic, alpha)
    else:
        bag = not any(w.lower() in FUNCTION_WORDS for w in words)  # keywords, not a sentence
        titled = bool(found.title)  # some title holds every word: a title, half remembered
        fused = standardised(found.scores, semantic, weights.bag_alpha if (short and bag) or titled else weights.alpha)
    return {
        k: _standing(k, found, v, len(words), weights)
        for k, v in fused.items()
        if k in found.scores or semantic.get(k, 0.0) >= weights.min_cosine
    }


def standardised(lexical: dict[int, float], semantic: dict[int, float], alpha: float) -> dict[int, float]:
    """`alpha * z(lexical) + (1 - alpha) * z(semantic)`, each list's scores as z-scores; a paper missing from
    the lexical list counts as its lowest score (every candidate has a semantic score)."""
    lex, sem = _z(lexical), _z(semantic)
    floor = min(lex.values(), default=0.0)
    return {k: alpha * lex.get(k, floor) + (1 - alpha) * sem.get(k, 0.0) for k in lex.keys() | sem.keys()}


def _z(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    mean = statistics.fmean(scores.values())
    spread = statistics.pstdev(scores.values()) or 1.0
    return {k: (v - mean) / spread for k, v in scores.items()}


_SORT_KEYS: dict[str, Callable[[SearchHit], Any]] = {
    "newest": lambda h: h.view.paper.published,
    "upvotes": lambda h: (h.view.upvotes, h.score),
}


def _standing(row_id: int, found: Matches, score: float, n_words: int, weights: Weights) -> Standing:
    """A candidate's standing for a query of `n_words` words: no tier for a long one (a sentence, a claim)."""
    if n_words > weights.tier_words:
        return Standing(0, 0.0, score)
    tier = _tier(row_id, found)
    fit = found.typed.get(row_id, 0.0) if tier == 3 and n_words >= FIT_WORDS else 0.0
    return Standing(tier, fit, score)


def _tier(row_id: int, found: Matches) -> int:
    """5: an author's name is the query; 4: the query as a phrase; 3: every query word in the title as typed,
    2: or its stem (a title half remembered); 1: every query word; 0: the rest."""
    if row_id in found.author:
        return 5
    if row_id in found.phrase:
        return 4
    if row_id in found.typed:
        return 3
    if row_id in found.title:
        return 2
    return 1 if row_id in found.all_words else 0


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
            return view.row_id
    return None


def _norm(text: str) -> str:
    return " ".join(terms(text))


__all__ = [
    "Engine",
    "InvalidQuery",
    "Results",
    "SearchHit",
    "Standing",
    "Weights",
    "combine",
    "make_filters",
    "standardised",
    "terms",
    "validate",
]
