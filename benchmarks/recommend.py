"""For-you evaluation: can a reader's five papers find their other papers among a month's new ones?

    python benchmarks/recommend.py [--start 2026-06-01 --end 2026-07-01] [--authors 600] [--seed 12] [--tune]
    python benchmarks/recommend.py --latency         # seconds: the period's Lexicon.fit, then one ranking

On the 74,728 real papers of shared/data/arxiv-daily-listings. A "reader" is an author (exact
normalised name, broadsheet.community.names) with at least 5 papers before the period and at least one in
it (so at least 6 papers). The reader's seeds are 5 of their papers from before the period, plus
5 random "not interested" papers from before the period whose categories are none of the seeds';
the candidates are every paper listed in the period (about 6,900 for June 2026); the held-out
papers are the reader's own papers in the period. Reported: recall@50 and nDCG@50 (binary
relevance) of the held-out papers, averaged over readers, for

- ours: broadsheet.personal.recommend.rank (logistic regression on MiniLM vectors + nearest liked paper +
  shared categories + arxiv-sanity-lite's SVM on a tf-idf fitted on the candidates, as the site
  does: `Lexicon.fit` once for the period),
- arxiv-sanity-lite: its tf-idf (TfidfVectorizer with its settings, fitted on the whole corpus) and
  its per-tag LinearSVC(C=0.01, balanced classes), the seeds as the tag, trained against the
  period's papers and the not-interested ones, ranking by decision function,
- centroid: cosine of each candidate to the mean of the seeds' vectors,
- category: the candidates in the seeds' most common primary category, newest first, then the rest.

Readers are split in two by a fixed shuffle: `--tune` searches ours' weights, tf-idf min_df and SVM C on the first half;
the table is on the second half, which no choice looked at. Vectors are MiniLM's (broadsheet.search.embed,
as the site stores them), computed once for the whole corpus and cached in /tmp/h2 (about 12
minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

from broadsheet.community.names import normalise_name
from broadsheet.ingest.dump import paper_from_record
from broadsheet.models import Paper
from broadsheet.personal import recommend
from broadsheet.search.embed import MiniLM, paper_text

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-daily-listings" / "papers.jsonl.gz"
CACHE = Path("/tmp/h2")
CHUNK = 2048
K = 50
SEEDS, DISLIKES = 5, 5
Matrix = npt.NDArray[np.float32]
Ranker = Callable[["Case"], Sequence[int]]  # candidate positions, best first


def load(path: Path = DATA) -> list[Paper]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [paper_from_record(json.loads(line)) for line in f]


def vectors(papers: list[Paper], cache: Path = CACHE) -> Matrix:
    """MiniLM vectors of every paper (as the site computes them), cached in `cache` chunk by chunk (resumable)."""
    embedder = MiniLM()
    folder = cache / embedder.name.replace("/", "_")
    whole = folder / f"all-{len(papers)}.npy"
    if whole.exists():
        return np.load(whole)
    folder.mkdir(parents=True, exist_ok=True)
    parts = []
    started = time.perf_counter()
    for k, start in enumerate(range(0, len(papers), CHUNK)):
        part = folder / f"chunk-{k:04d}.npy"
        if not part.exists():
            np.save(part, embedder.embed([paper_text(p) for p in papers[start : start + CHUNK]]))
            done = min(start + CHUNK, len(papers))
            print(f"embedded {done:,}/{len(papers):,} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        parts.append(np.load(part))
    matrix = np.concatenate(parts).astype(np.float32)
    np.save(whole, matrix)
    return matrix


@dataclass(frozen=True)
class Case:
    """One reader: seeds, not-interested papers and held-out papers (corpus positions)."""

    name: str
    seeds: tuple[int, ...]
    dislikes: tuple[int, ...]
    held: frozenset[int]


@dataclass
class World:
    papers: list[Paper]
    matrix: Matrix
    pool: npt.NDArray[np.int64]  # corpus positions of the period's papers
    newest: list[int]  # pool positions (indexes into `pool`), newest first

    def pool_matrix(self) -> Matrix:
        return self.matrix[self.pool]


def cases(papers: list[Paper], start: date, end: date, rng: random.Random) -> list[Case]:
    by_author: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(papers):
        for name in dict.fromkeys(normalise_name(a) for a in p.authors):
            by_author[name].append(i)
    before = [i for i, p in enumerate(papers) if _day(p) < start]
    found = []
    for name in sorted(by_author):
        mine = by_author[name]
        old = [i for i in mine if _day(papers[i]) < start]
        held = frozenset(i for i in mine if start <= _day(papers[i]) < end)
        if len(old) < SEEDS or not held:
            continue
        seeds = tuple(rng.sample(old, SEEDS))
        topics = {c for i in seeds for c in papers[i].categories}
        dislikes: list[int] = []
        while len(dislikes) < DISLIKES:
            other = rng.choice(before)
            if topics.isdisjoint(papers[other].categories) and other not in dislikes:
                dislikes.append(other)
        found.append(Case(name, seeds, tuple(dislikes), held))
    rng.shuffle(found)
    return found


def _day(paper: Paper) -> date:
    assert paper.announced_on is not None
    return paper.announced_on


# -- rankers ------------------------------------------------------------------------------------


def _candidates(world: World) -> list[recommend.Candidate]:
    papers = world.papers
    return [recommend.Candidate(int(i), papers[i].authors, papers[i].categories, _text(papers[i])) for i in world.pool]


def _text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"  # arxiv-sanity-lite's "title + summary"


def ours(world: World, weights: recommend.Weights, lexicon: recommend.Lexicon) -> Ranker:
    candidates, matrix = _candidates(world), world.pool_matrix()
    position = {int(c): k for k, c in enumerate(world.pool)}

    def run(case: Case) -> list[int]:
        reader = _reader(world, case)
        picks = recommend.rank(candidates, matrix, reader, limit=K, weights=weights, lexicon=lexicon)
        return [position[p.key] for p in picks]

    return run


def _reader(world: World, case: Case) -> recommend.Reader:
    liked = [
        recommend.Liked(i, world.papers[i].title, "saved", world.matrix[i], world.papers[i].categories,
                        _text(world.papers[i]))
        for i in case.seeds
    ]  # fmt: skip
    return recommend.Reader(
        liked=liked, disliked=[world.matrix[i] for i in case.dislikes],
        disliked_texts=[_text(world.papers[i]) for i in case.dislikes],
    )  # fmt: skip


def centroid(world: World) -> Ranker:
    matrix = world.pool_matrix()

    def run(case: Case) -> list[int]:
        return _top(matrix @ world.matrix[list(case.seeds)].mean(axis=0))

    return run


def category(world: World) -> Ranker:
    def run(case: Case) -> list[int]:
        primary = Counter(world.papers[i].primary_category for i in case.seeds).most_common(1)[0][0]
        same = [k for k in world.newest if world.papers[world.pool[k]].primary_category == primary]
        return (same + [k for k in world.newest if world.papers[world.pool[k]].primary_category != primary])[:K]

    return run


def sanity(world: World) -> Ranker | None:
    """arxiv-sanity-lite's per-tag SVM on its tf-idf features (None without scikit-learn)."""
    scores = sanity_scores(world)
    return None if scores is None else (lambda case: _top(scores(case)))


def sanity_scores(world: World) -> Callable[[Case], npt.NDArray[np.float64]] | None:
    """The SVM's decision value for every candidate, per reader."""
    from scipy.sparse import vstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(
        input="content", encoding="utf-8", decode_error="replace", strip_accents="unicode", lowercase=True,
        analyzer="word", stop_words="english", token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
        max_features=20000, norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
    )  # fmt: skip  # arxiv-sanity-lite's compute.py settings
    features = vectorizer.fit_transform(f"{p.title}. {p.abstract}" for p in world.papers)  # its "title + summary"
    pool = features[world.pool]

    def run(case: Case) -> npt.NDArray[np.float64]:
        x = vstack([pool, features[list(case.seeds)], features[list(case.dislikes)]])
        y = np.zeros(x.shape[0])
        y[len(world.pool) : len(world.pool) + SEEDS] = 1
        svm = LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        svm.fit(x, y)
        return np.asarray(svm.decision_function(pool), dtype=np.float64)

    return run


def _top(scores: npt.NDArray[np.floating]) -> list[int]:
    top = np.argpartition(-scores, K)[:K]
    return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]


# -- metrics ------------------------------------------------------------------------------------


def measure(world: World, ranker: Ranker, readers: Sequence[Case]) -> npt.NDArray[np.float64]:
    """Each reader's recall@K and nDCG@K (rows: readers)."""
    return each(world, [ranker(case) for case in readers], readers)


def evaluate(world: World, rankings: Sequence[Sequence[int]], readers: Sequence[Case]) -> tuple[float, float]:
    """Mean recall@K and nDCG@K (binary) of the readers' held-out papers in their rankings."""
    recall, ndcg = each(world, rankings, readers).mean(axis=0)
    return float(recall), float(ndcg)


def difference(ours: npt.NDArray[np.float64], other: npt.NDArray[np.float64], *, draws: int = 2000) -> str:
    """Mean per-reader difference of recall and nDCG with a 95 % paired bootstrap interval (readers resampled)."""
    gaps = ours - other
    rng = np.random.default_rng(0)
    means = np.array([gaps[rng.integers(0, len(gaps), len(gaps))].mean(axis=0) for _ in range(draws)])
    low, high = np.percentile(means, [2.5, 97.5], axis=0)
    return "; ".join(f"{name} {gaps[:, k].mean():+.3f} [{low[k]:+.3f}, {high[k]:+.3f}]"
                     for k, name in enumerate(("recall@50", "nDCG@50")))  # fmt: skip


def each(world: World, rankings: Sequence[Sequence[int]], readers: Sequence[Case]) -> npt.NDArray[np.float64]:
    recall, ndcg = [], []
    position = {int(i): k for k, i in enumerate(world.pool)}
    for case, ranking in zip(readers, rankings, strict=True):
        held = {position[i] for i in case.held}
        hits = [k in held for k in list(ranking)[:K]]
        recall.append(sum(hits) / len(held))
        ideal = sum(1 / math.log2(r + 2) for r in range(min(len(held), K)))
        ndcg.append(sum(1 / math.log2(r + 2) for r, hit in enumerate(hits) if hit) / ideal)
    return np.column_stack([recall, ndcg]).astype(np.float64)


def tune(world: World, readers: Sequence[Case]) -> tuple[recommend.Weights, int]:
    """The best blend, tf-idf `min_df` and SVM C on the tuning half, by recall@50 + nDCG@50: each reader's
    classifiers once per (min_df, C), then every blend of their scores.

    The logistic regression stays in (weight 0.5 or 1): it is what makes "not interested" papers count
    through their vectors.
    """
    best = (-1.0, recommend.Weights(), recommend.MIN_DF)
    candidates, matrix = _candidates(world), world.pool_matrix()
    nothing = recommend.Lexicon(None, None)
    vectors = [recommend.taste(candidates, matrix, _reader(world, case), lexicon=nothing) for case in readers]
    for min_df, svm_c in itertools.product((2, 5), (0.01, 0.1)):
        lexicon = recommend.Lexicon.fit([c.text for c in candidates], min_df=min_df)
        words = [recommend.lexical(candidates, lexicon, _reader(world, case), c=svm_c) for case in readers]
        parts = [replace(p, lexical=w) for p, w in zip(vectors, words, strict=True)]
        for model, lexical, nearest, shared in itertools.product(
            (0.5, 1.0), (1.0, 2.0, 3.0, 4.0, 6.0), (0.0, 0.5, 1.0, 2.0), (0.0, 0.5, 1.0, 2.0)
        ):
            weights = recommend.Weights(model=model, lexical=lexical, nearest=nearest, shared=shared, lexical_c=svm_c)
            recall, ndcg = evaluate(world, [_top(p.blend(weights)) for p in parts], readers)
            print(f"  min_df={min_df} C={svm_c} model={model} lexical={lexical} nearest={nearest} shared={shared}: "
                  f"R@50 {recall:.3f} nDCG@50 {ndcg:.3f}")  # fmt: skip
            if recall + ndcg > best[0]:
                best = (recall + ndcg, weights, min_df)
    return best[1], best[2]


def latency(world: World, runs: int = 3) -> None:
    """Seconds to fit the period's Lexicon (once per pool on the site) and to rank it for 20 and 200 liked papers."""
    candidates, matrix = _candidates(world), world.pool_matrix()
    started = time.perf_counter()
    lexicon = recommend.Lexicon.fit([c.text for c in candidates])
    print(f"Lexicon.fit of {len(candidates):,} candidates: {time.perf_counter() - started:.1f} s")
    rng = random.Random(0)
    for liked in (20, 200):
        before = range(int(world.pool.min()))  # papers from before the period
        case = Case("latency", tuple(rng.sample(before, liked)), tuple(rng.sample(before, 5)), frozenset())
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            recommend.rank(candidates, matrix, _reader(world, case), limit=K, lexicon=lexicon)
            times.append(time.perf_counter() - started)
        print(f"rank, {liked} liked papers: " + ", ".join(f"{t * 1000:.0f} ms" for t in times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 6, 1), help="first day of the period")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 7, 1), help="day after the period")
    parser.add_argument("--authors", type=int, default=600, help="readers per half (the rest are not used)")
    parser.add_argument("--tune", action="store_true", help="search ours' weights on the tuning half first")
    parser.add_argument("--seed", type=int, default=12, help="the draw of readers, seeds and not-interested papers")
    parser.add_argument("--embed-only", action="store_true", help="only compute and cache the vectors")
    parser.add_argument("--latency", action="store_true", help="only time Lexicon.fit and one ranking")
    args = parser.parse_args()
    papers = load()
    matrix = vectors(papers)
    if args.embed_only:
        return
    pool = np.array([i for i, p in enumerate(papers) if args.start <= _day(p) < args.end], dtype=np.int64)
    newest = sorted(range(len(pool)), key=lambda k: (_day(papers[pool[k]]), papers[pool[k]].arxiv_id), reverse=True)
    world = World(papers, matrix, pool, newest)
    if args.latency:
        latency(world)
        return
    readers = cases(papers, args.start, args.end, random.Random(args.seed))
    half = len(readers) // 2
    tuning, testing = readers[:half][: args.authors], readers[half:][: args.authors]
    held = np.mean([len(c.held) for c in testing])
    print(f"{len(pool):,} candidates ({args.start}..{args.end}); {len(readers):,} eligible readers, "
          f"{len(tuning)} to tune, {len(testing)} reported (held-out papers per reader: {held:.2f})")  # fmt: skip
    weights, min_df = tune(world, tuning) if args.tune else (recommend.Weights(), recommend.MIN_DF)
    started = time.perf_counter()
    lexicon = recommend.Lexicon.fit([c.text for c in _candidates(world)], min_df=min_df)
    print(f"tf-idf of the candidates (min_df={min_df}): {time.perf_counter() - started:.1f} s")
    print(f"ours: {weights}")
    rows: list[tuple[str, Ranker | None]] = [
        ("ours (broadsheet.personal.recommend)", ours(world, weights, lexicon)),
        ("arxiv-sanity-lite SVM on tf-idf", sanity(world)),
        ("nearest to the seeds' centroid (MiniLM)", centroid(world)),
        ("same primary category, newest first", category(world)),
    ]
    print("| ranker | recall@50 | nDCG@50 | seconds |\n|---|---|---|---|")
    scores = {}
    for name, ranker in rows:
        if ranker is None:
            continue
        started = time.perf_counter()
        scores[name] = measure(world, ranker, testing)
        recall, ndcg = scores[name].mean(axis=0)
        print(f"| {name} | {recall:.3f} | {ndcg:.3f} | {time.perf_counter() - started:.0f} |")
    ours_scores = scores[rows[0][0]]
    for name, other in list(scores.items())[1:]:
        print(f"ours - {name}: {difference(ours_scores, other)} (95 % paired bootstrap over readers)")


if __name__ == "__main__":
    main()
