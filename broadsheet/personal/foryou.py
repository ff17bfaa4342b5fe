"""The For-you feed: what the store knows about a reader, ranked by broadsheet.personal.recommend, each pick with why.

    picks = for_you(store, engine, user)          # -> [Pick(view, reasons)], best first
    seed(store, user, pasted_text)                 # cold start: ids, BibTeX, RIS, CSL-JSON, a Zotero export

Signals: upvotes ("which you upvoted"), papers in any of the reader's collections ("which you
saved"), seeds ("which you gave as a seed"), papers marked "not interested" (negatives), and the
authors, categories and searches they follow. Hidden papers and never-show rules
(broadsheet.community.follows.blocked) keep papers off the list whatever their score.

Candidates are the papers new in the last `DAYS` days (listed on Daily Papers or first published
then); when nothing is that new (a demo or an old import), the `DAYS` days up to the newest listing.
The candidates' tf-idf (`recommend.Lexicon`, seconds to fit for a week of papers) is the same for
every reader of the period, so the last few are kept in memory: a ranking then takes a few tenths
of a second; the first after the period changes pays the fit.

A ranking costs 0.2-0.35 s of CPU (seconds when the pool is new), so the web keeps each reader's last
one (`Rankings`): reused for RANKING_TTL seconds while the reader's signals, follows, rules and the
pool are the same (any change of theirs is a new key, so it shows at once), and a `gate` is called
before every ranking that is not reused (the web's per-user throttle).

Seeds go to a private collection of their own, "Seeds", not to the bookmarks: a pasted library of
hundreds of papers would bury the reader's reading list, while a collection of its own can be
looked at, pruned and exported like any other, and removing a paper from it removes the seed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from broadsheet.community import collections
from broadsheet.community.follows import blocked
from broadsheet.errors import Invalid, TooMany
from broadsheet.models import Paper, PaperView, User
from broadsheet.personal import recommend, references
from broadsheet.search import Engine, InvalidQuery
from broadsheet.search.vectors import Vectors
from broadsheet.store import Store
from broadsheet.store.collections import AlreadyIn, Collection, Full
from broadsheet.store.follows import Interests
from broadsheet.store.foryou import Like, Signals

DAYS = 7  # the recent period the feed ranks
MAX_CANDIDATES = 20_000  # the newest papers of the period, at most
MAX_SEEDS = 200  # papers taken from one paste
SEARCH_DEPTH = 300  # results of each followed search that can earn "matches your saved search"
SEEDS = "Seeds"
DIM = 384
LEXICONS = 4  # candidate pools whose tf-idf is kept
RANKING_TTL = 120.0  # seconds a reader's ranking is reused while nothing it depends on changed
RANKINGS = 1000  # readers whose last ranking is kept


@dataclass(frozen=True, slots=True)
class Pick:
    view: PaperView
    reasons: tuple[str, ...]
    score: float = 0.0


class Rankings:
    """Each reader's last ranking, by what it was computed from; kept RANKING_TTL seconds, the newest RANKINGS."""

    def __init__(self, ttl: float = RANKING_TTL, size: int = RANKINGS) -> None:
        self.ttl, self.size = ttl, size
        self._kept: OrderedDict[int, tuple[Hashable, float, list[Pick]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, user_id: int, key: Hashable, now: float | None = None) -> list[Pick] | None:
        now = time.monotonic() if now is None else now
        with self._lock:
            found = self._kept.get(user_id)
            if found is None or found[0] != key or now - found[1] > self.ttl:
                return None
            return found[2]

    def put(self, user_id: int, key: Hashable, picks: list[Pick], now: float | None = None) -> None:
        with self._lock:
            self._kept.pop(user_id, None)
            self._kept[user_id] = (key, time.monotonic() if now is None else now, picks)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def for_you(
    store: Store, engine_or_vectors: Engine | Vectors, user: User, *, limit: int = 50, today: date | None = None,
    zone: ZoneInfo = ZoneInfo("UTC"), among: Sequence[int] | None = None, rankings: Rankings | None = None,
    gate: Callable[[], None] | None = None,
) -> list[Pick]:  # fmt: skip
    """The reader's For-you list, best first. `among`: rank only these paper row ids (a digest's period).

    `rankings`: reuse the reader's last ranking while its inputs are the same; `gate` is called before
    any ranking that is not reused (it raises to refuse one, e.g. TooMany).
    """
    engine = engine_or_vectors if isinstance(engine_or_vectors, Engine) else None
    if engine is not None:
        engine.refresh()  # throttled: vectors stored since the last check join the index
    interests = store.follows.interests(user.id)
    signals = store.foryou.signals(user.id)
    ids = list(among) if among is not None else _recent(store, today or datetime.now(UTC).date(), zone)
    key = (limit, interests, signals, hashlib.blake2b(np.asarray(ids, dtype=np.int64).tobytes()).hexdigest())
    found = rankings.get(user.id, key) if rankings is not None else None
    if found is None:
        if gate is not None:
            gate()
        found = _ranked(store, engine_or_vectors, engine, ids, interests, signals, limit)
        if rankings is not None:
            rankings.put(user.id, key, found)
    return found


def _ranked(
    store: Store, engine_or_vectors: Engine | Vectors, engine: Engine | None, ids: list[int], interests: Interests,
    signals: Signals, limit: int,
) -> list[Pick]:  # fmt: skip
    vectors = engine.vectors if engine else engine_or_vectors
    assert not isinstance(vectors, Engine)
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
