"""The For-you feed: what the store knows about a reader, ranked by broadsheet.recommend, each pick with why.

    picks = for_you(store, engine, user)          # -> [Pick(view, reasons)], best first
    seed(store, user, pasted_text)                 # cold start: ids, BibTeX, RIS, CSL-JSON, a Zotero export

Signals: upvotes ("which you upvoted"), papers in any of the reader's collections ("which you
saved"), seeds ("which you gave as a seed"), papers marked "not interested" (negatives), and the
authors, categories and searches they follow. Hidden papers and never-show rules
(broadsheet.follows.blocked) keep papers off the list whatever their score.

Candidates are the papers new in the last `DAYS` days (listed on Daily Papers or first published
then); when nothing is that new (a demo or an old import), the `DAYS` days up to the newest listing.
The candidates' tf-idf (`recommend.Lexicon`, seconds to fit for a week of papers) is the same for
every reader of the period, so the last few are kept in memory: a ranking then takes a few tenths
of a second; the first after the period changes pays the fit.

Seeds go to a private collection of their own, "Seeds", not to the bookmarks: a pasted library of
hundreds of papers would bury the reader's reading list, while a collection of its own can be
looked at, pruned and exported like any other, and removing a paper from it removes the seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from broadsheet import collections, recommend, references
from broadsheet.errors import Invalid, TooMany
from broadsheet.follows import blocked
from broadsheet.models import Paper, PaperView, User
from broadsheet.search import Engine, InvalidQuery
from broadsheet.store import Store
from broadsheet.store.collections import AlreadyIn, Collection, Full
from broadsheet.store.foryou import Like
from broadsheet.vectors import Vectors

DAYS = 7  # the recent period the feed ranks
MAX_CANDIDATES = 20_000  # the newest papers of the period, at most
MAX_SEEDS = 200  # papers taken from one paste
SEARCH_DEPTH = 300  # results of each followed search that can earn "matches your saved search"
SEEDS = "Seeds"
DIM = 384
LEXICONS = 4  # candidate pools whose tf-idf is kept


@dataclass(frozen=True, slots=True)
class Pick:
    view: PaperView
    reasons: tuple[str, ...]
    score: float = 0.0


def for_you(
    store: Store, engine_or_vectors: Engine | Vectors, user: User, *, limit: int = 50, today: date | None = None,
    zone: ZoneInfo = ZoneInfo("UTC"), among: Sequence[int] | None = None,
) -> list[Pick]:  # fmt: skip
    """The reader's For-you list, best first. `among`: rank only these paper row ids (a digest's period)."""
    engine = engine_or_vectors if isinstance(engine_or_vectors, Engine) else None
    if engine is not None:
        engine.refresh()  # throttled: vectors stored since the last check join the index
    vectors = engine.vectors if engine else engine_or_vectors
    assert not isinstance(vectors, Engine)
    interests = store.follows.interests(user.id)
    signals = store.foryou.signals(user.id)
    ids = list(among) if among is not None else _recent(store, today or datetime.now(UTC).date(), zone)
    pairs = [(k, v) for k, v in zip(ids, store.papers.views(ids), strict=True) if not blocked(v.paper, interests)]
    keys, views = [k for k, _ in pairs], [v for _, v in pairs]
    likes = _likes(signals.likes)
    known = vectors.vectors(list({*keys, *(k.paper_id for k in likes), *signals.hidden}))
    matrix = np.stack([_vector(known.get(k)) for k in keys]) if keys else np.zeros((0, DIM), np.float32)
    texts = _texts(store, [k.paper_id for k in likes] + list(signals.hidden), dict(zip(keys, views, strict=True)))
    liked = [
        recommend.Liked(k.paper_id, k.title, _how(k), known[k.paper_id], k.categories, texts.get(k.paper_id, ""))
        for k in likes if k.paper_id in known
    ]  # fmt: skip
    hidden = [k for k in signals.hidden if k in known]
    reader = recommend.Reader(
        liked=liked, disliked=[known[k] for k in hidden], disliked_texts=[texts.get(k, "") for k in hidden],
        authors=interests.authors, categories=interests.categories,
        searches=_searches(engine, interests.searches, set(keys)),
    )  # fmt: skip
    candidates = [
        recommend.Candidate(k, v.paper.authors, v.paper.categories, _text(v.paper))
        for k, v in zip(keys, views, strict=True)
    ]  # fmt: skip
    by_key = dict(zip(keys, views, strict=True))
    lexicon = _lexicon(tuple(c.text for c in candidates))
    picks = recommend.rank(candidates, matrix, reader, limit=limit, lexicon=lexicon)
    return [Pick(by_key[p.key], p.reasons, p.score) for p in picks]


def _recent(store: Store, today: date, zone: ZoneInfo) -> list[int]:
    ids = store.papers.new_in(today - timedelta(days=DAYS - 1), today, zone)
    latest = store.daily.latest_day()
    if not ids and latest is not None and latest < today:
        ids = store.papers.new_in(latest - timedelta(days=DAYS - 1), latest, zone)
    return ids[-MAX_CANDIDATES:]  # row ids grow with time: the newest


@lru_cache(maxsize=LEXICONS)
def _lexicon(texts: tuple[str, ...]) -> recommend.Lexicon:
    return recommend.Lexicon.fit(texts)


def _text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"


def _texts(store: Store, ids: Sequence[int], views: dict[int, PaperView]) -> dict[int, str]:
    """Title and abstract of each paper (the candidates' views are given; the others are read)."""
    wanted = [k for k in dict.fromkeys(ids) if k not in views]
    read = store.papers.views(wanted)
    pairs = (
        zip(wanted, read, strict=True)
        if len(read) == len(wanted)
        else [(k, v) for k in wanted for v in store.papers.views([k])]
    )
    return {k: _text(v.paper) for k, v in [*views.items(), *pairs]}  # (one by one above when some are gone)


def _likes(likes: Sequence[Like]) -> list[Like]:
    """One signal per paper: saves and seeds before votes, newest first within each (the order given)."""
    chosen: dict[int, Like] = {}
    for like in sorted(likes, key=lambda k: k.collection is None):  # a stable sort
        chosen.setdefault(like.paper_id, like)
    return list(chosen.values())


def _how(like: Like) -> str:
    if like.collection is None:
        return "upvoted"
    if like.collection == SEEDS:
        return "gave as a seed"
    return "saved" if like.default else f"saved in “{like.collection}”"


def _vector(vector: recommend.Vector | None) -> recommend.Vector:
    return np.zeros(DIM, np.float32) if vector is None else vector


def _searches(engine: Engine | None, queries: Sequence[str], keys: set[int]) -> dict[str, frozenset[int]]:
    found = {}
    for query in queries if engine else ():
        assert engine is not None
        try:
            hits = engine.ranked(query, limit=SEARCH_DEPTH)
        except InvalidQuery:
            continue
        found[query] = frozenset(row for row, _ in hits if row in keys)
    return found


# -- cold start --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    added: tuple[str, ...]  # arXiv ids newly in the Seeds collection
    already: tuple[str, ...]  # there before
    unknown: tuple[str, ...]  # not on this site (yet)


def seeds(store: Store, user: User) -> Collection:
    """The reader's private "Seeds" collection, made on first use."""
    try:
        return collections.create(store, user, SEEDS, description="Papers given to start For you", private=True)
    except collections.CollectionExists:
        found = store.collections.by_title(user.id, SEEDS)
        assert found is not None
        return found


def seed(store: Store, user: User, text: str) -> Seeded:
    """Add the papers named in pasted text (ids, URLs, BibTeX, RIS, CSL-JSON, a Zotero export) as seeds."""
    wanted = references.arxiv_ids_in(text)
    if not wanted:
        raise Invalid("no arXiv ids found: paste ids (2401.01234), arXiv links, or a BibTeX, RIS or Zotero export")
    if len(wanted) > MAX_SEEDS:
        raise Invalid(f"at most {MAX_SEEDS} papers at a time ({len(wanted)} found)")
    rows = {key: store.papers.id_of(key) for key in wanted}
    unknown = tuple(k for k, row in rows.items() if row is None)
    if len(unknown) == len(wanted):
        return Seeded((), (), unknown)
    target = seeds(store, user)
    added, already = [], []
    for key, row in rows.items():
        if row is None:
            continue
        try:
            store.collections.add_item(target.id, row, note=None, cap=collections.MAX_ITEMS)
            added.append(key)
        except AlreadyIn:
            already.append(key)
        except Full:
            raise TooMany(f"your Seeds collection holds {collections.MAX_ITEMS} papers, the most allowed") from None
    return Seeded(tuple(added), tuple(already), unknown)
