"""Search quality by query type: keywords, authors, titles, claims; lexical / vector / hybrid / arxiv-sanity.

    python benchmarks/queries.py prepare [--data /tmp/queries-bench]      # import + embed (resumable)
    python benchmarks/queries.py run [--data DIR] [--papers N] [--half tune|report|both]

The corpus is the 74,728 real papers of shared/data/arxiv-daily-listings plus the Hugging Face
daily papers (shared/data/hf-daily-papers), merged by arXiv id and stored in a seeded random
order, so the first N rows are a uniform sample: `--papers N` evaluates on them alone (the
embedded prefix, while the embedding of the rest is still running). SciFact (train) is a corpus
of its own. Each query type is split in two halves by a seeded hash of the query: "tune" (the
half the engine's weights were chosen on) and "report" (never looked at while tuning).

Query types, all from real data:
  keywords  each HF paper's `ai_keywords` phrase -> that paper (known item; one query per paper)
  authors   a person's full name -> every corpus paper they wrote; and "Surname" alone for
            surnames carried by one person only in the corpus
  titles    a title as written, and partially remembered (words dropped, one misspelt)
  claims    SciFact train claims -> judged abstracts
Metrics: nDCG@10, MRR (first relevant hit, cut at 100), recall@10 and recall@100.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import arxiv_sanity
import numpy as np
import relevance
from alembic.util.exc import CommandError
from query_sets import (
    LISTINGS,
    SEED,
    Query,
    author_queries,
    claim_queries,
    hf_items,
    keyword_queries,
    nonsense,
    read_lines,
    title_queries,
)

from broadsheet import demo, search
from broadsheet.ingest import dump, hf
from broadsheet.models import Paper, merge
from broadsheet.search import Engine, InvalidQuery, lexical
from broadsheet.search.embed import MiniLM, embed_pending
from broadsheet.store import Store

ZONE = ZoneInfo("America/New_York")
TUNING_TYPO_SEED = 99  # `--extra-typo-titles 99`: the tuning set the title tier was chosen on (stops 22-23)


def corpus_papers() -> list[Paper]:
    """Listings and HF papers merged by id, in a seeded random order."""
    found: dict[str, Paper] = {}
    for obj in read_lines(LISTINGS):
        paper = dump.paper_from_record(obj)
        found[paper.arxiv_id] = merge(found[paper.arxiv_id], paper) if paper.arxiv_id in found else paper
    for item in hf_items():
        paper = hf.record_from_item(item, day=None, zone=ZONE).paper
        found[paper.arxiv_id] = merge(found[paper.arxiv_id], paper) if paper.arxiv_id in found else paper
    ordered = [found[k] for k in sorted(found)]
    random.Random(SEED).shuffle(ordered)
    return ordered


def bench_embedder() -> MiniLM:
    """The product's embedder (the model `make` builds, its default token limit): the numbers describe what ships."""
    return MiniLM()


def open_store(folder: Path) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{folder / 'bench.db'}")
    with contextlib.suppress(CommandError):  # migrated by a newer checkout: an older engine reads it as it is
        store.migrate()
    return store


def prepare(data: Path) -> None:
    """Import both corpora (once) and embed what is missing (resumable); SciFact first, it is small."""
    scifact = open_store(data / "scifact")
    if scifact.papers.count() == 0:
        scifact.papers.upsert(relevance.load_corpus(relevance.SCIFACT / "corpus.jsonl.gz"))
    arxiv = open_store(data / "arxiv")
    if arxiv.papers.count() == 0:
        papers = corpus_papers()
        for i in range(0, len(papers), 2000):
            arxiv.papers.upsert(papers[i : i + 2000])
        print(f"imported {arxiv.papers.count():,} papers", flush=True)
    embedder = bench_embedder()
    for name, store in (("scifact", scifact), ("arxiv", arxiv)):
        started = time.perf_counter()

        def report(done: int, total: int, name: str = name, started: float = started) -> None:
            if done % 1024 < 64 or done == total:
                rate = done / (time.perf_counter() - started)
                print(f"{name}: embedded {done:,}/{total:,} ({rate:.1f}/s)", flush=True)

        embed_pending(store, embedder, batch=64, progress=report)
        print(f"{name}: all {store.papers.count():,} papers embedded", flush=True)


# -- the queries --------------------------------------------------------------------------------


# -- the runs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    ndcg10: float
    mrr: float
    recall10: float
    recall100: float
    n: int


def score(runs: list[list[str]], queries: list[Query]) -> Scores:
    if not queries:
        return Scores(0, 0, 0, 0, 0)
    nd = mrr = r10 = r100 = 0.0
    for ranked, q in zip(runs, queries, strict=True):
        nd += relevance.ndcg10(ranked, set(q.relevant))
        first = next((i for i, doc in enumerate(ranked[:100]) if doc in q.relevant), None)
        mrr += 0.0 if first is None else 1.0 / (first + 1)
        r10 += len(set(ranked[:10]) & q.relevant) / len(q.relevant)
        r100 += len(set(ranked[:100]) & q.relevant) / len(q.relevant)
    n = len(queries)
    return Scores(nd / n, mrr / n, r10 / n, r100 / n, n)


def engine_runs(engine: Engine, queries: list[Query], mode: str) -> list[list[str]]:
    out = []
    for q in queries:
        try:
            hits = engine.search(q.text, limit=100, mode=mode)  # type: ignore[arg-type]
        except InvalidQuery:
            hits = []
        out.append([h.view.paper.arxiv_id for h in hits])
    return out


def sanity_runs(store: Store, queries: list[Query]) -> list[list[str]]:
    with store.db.read() as conn:
        rows = conn.exec_driver_sql("SELECT arxiv_id, title, authors, abstract FROM papers ORDER BY id").all()
    names = [r[0] for r in rows]
    docs = [
        (r[1].lower(), " ".join(json.loads(r[2]) if isinstance(r[2], str) else r[2]).lower(), r[3].lower())
        for r in rows
    ]
    return [[names[i] for i in arxiv_sanity.search(docs, q.text, limit=100)] for q in queries]


def subset(data: Path, n: int, name: str = "arxiv") -> Store:
    """The first `n` papers of a prepared corpus (a uniform sample) with their vectors, in a store of their own."""
    full = open_store(data / name)
    if n >= full.papers.count():
        return full
    folder = data / f"{name}-{n}"
    store = open_store(folder)
    if store.papers.count() == n:
        return store
    model = bench_embedder().name
    with full.db.read() as conn:
        embedded = conn.exec_driver_sql(
            "SELECT count(*) FROM embeddings WHERE model = ? AND paper_id <= ?", (model, n)
        ).scalar_one()
    if embedded < n:
        raise SystemExit(f"only {embedded:,} of the first {n:,} papers are embedded yet: run `prepare` longer")
    for start in range(0, n, 2000):
        ids = list(range(start + 1, min(start + 2000, n) + 1))
        store.papers.upsert([v.paper for v in full.papers.views(ids)])
    with full.db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT p.arxiv_id, e.vector FROM embeddings e JOIN papers p ON p.id = e.paper_id "
            "WHERE e.model = ? AND e.paper_id <= ?",
            (model, n),
        ).all()
    ids_of = {arxiv_id: store.papers.id_of(arxiv_id) for arxiv_id, _ in rows}
    vecs = [(ids_of[a], np.frombuffer(v, dtype="<f4")) for a, v in rows]
    for start in range(0, len(vecs), 5000):
        store.embeddings.save(model, vecs[start : start + 5000])  # type: ignore[arg-type]
    return store


def stored_papers(store: Store) -> dict[str, Paper]:
    with store.db.read() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM papers ORDER BY id")]
    return {v.paper.arxiv_id: v.paper for v in store.papers.views(ids)}


def corpus_queries(store: Store, sizes: dict[str, int]) -> list[Query]:
    papers = stored_papers(store)
    out = keyword_queries(papers, random.Random(SEED), sizes["keywords"])
    out += author_queries(papers, random.Random(SEED + 1), sizes["authors"])
    return out + title_queries(papers, random.Random(SEED + 2), sizes["titles"])


def with_extra_typo_titles(store: Store, queries: list[Query], seed: int | None) -> list[Query]:
    """With a seed: the typo-title queries replaced by more of them for tuning, drawn with that seed, kept when
    in the tuning half and holding none of any reporting query's papers (the title tier was chosen on these)."""
    if seed is None:
        return queries
    reported = frozenset().union(*(q.relevant for q in queries if q.half == "report"))
    extra = title_queries(stored_papers(store), random.Random(seed), 6000)
    extra = [q for q in extra if q.kind == "typo-titles" and q.half == "tune" and not q.relevant & reported]
    return [q for q in queries if q.kind != "typo-titles"] + extra


def with_fresh_typo_titles(store: Store, queries: list[Query], seed: int | None) -> list[Query]:
    """With a seed: the typo-title queries replaced by a second reporting set, drawn with that seed, kept when in
    the reporting half and holding none of the papers of any tuning query (`--extra-typo-titles 99`'s, the set the
    title tier was chosen on, included) nor of any typo-title query of the first draw (their misses were read)."""
    if seed is None:
        return queries
    extra = [q for q in with_extra_typo_titles(store, queries, TUNING_TYPO_SEED) if q.kind == "typo-titles"]
    read = [q for q in queries if q.half == "tune" or q.kind == "typo-titles"] + extra
    seen = frozenset().union(*(q.relevant for q in read))
    fresh = title_queries(stored_papers(store), random.Random(seed), 6000)
    fresh = [q for q in fresh if q.kind == "typo-titles" and q.half == "report" and not q.relevant & seen]
    return [q for q in queries if q.kind != "typo-titles"] + fresh


def demo_store(data: Path) -> Store:
    """The bundled demo corpus (its vectors ship with it): a small corpus whose every paper is embedded."""
    store = open_store(data / "demo")
    if store.papers.count() == 0:
        demo.load(store, ZONE, model=bench_embedder().name)
    return store


def run(args: argparse.Namespace) -> None:
    if args.demo:
        arxiv = demo_store(args.data)
    else:
        arxiv = subset(args.data, args.papers) if args.papers else open_store(args.data / "arxiv")
    scifact = subset(args.data, args.claim_docs, "scifact") if args.claim_docs else open_store(args.data / "scifact")
    sizes = {"keywords": args.per_type, "authors": args.per_type, "titles": args.per_type}
    only_claims = args.types == ["claims"]
    queries = claim_queries() if only_claims else corpus_queries(arxiv, sizes) + claim_queries()
    queries = with_extra_typo_titles(arxiv, queries, args.extra_typo_titles)
    queries = with_fresh_typo_titles(arxiv, queries, args.fresh_typo_titles)
    queries = [q for q in queries if not args.types or q.kind in args.types]
    if args.claim_docs:  # judged documents outside the subset are dropped, and claims left with none
        kept = {v.paper.arxiv_id for v in scifact.papers.views(list(range(1, args.claim_docs + 1)))}
        queries = [q if q.kind != "claims" else Query(q.kind, q.text, q.relevant & kept) for q in queries]
        queries = [q for q in queries if q.relevant]
    embedder = bench_embedder()
    tag = f"index-v{lexical.SCHEMA_VERSION}"
    engines = {"arxiv": Engine(arxiv, embedder, arxiv_folder(arxiv) / tag), "scifact": None}
    print(f"corpus: {arxiv.papers.count():,} papers ({arxiv_folder(arxiv)}); SciFact {scifact.papers.count():,} docs; "
          f"lexical schema {lexical.SCHEMA_VERSION}; engine code {search.__file__}")  # fmt: skip
    table: list[tuple[str, str, str, Scores]] = []
    for kind in dict.fromkeys(q.kind for q in queries):
        store = scifact if kind == "claims" else arxiv
        if kind == "claims" and engines["scifact"] is None:
            engines["scifact"] = Engine(scifact, embedder, arxiv_folder(scifact) / tag)
        engine = engines["scifact" if kind == "claims" else "arxiv"]
        assert engine is not None
        for half in ("tune", "report") if args.half == "both" else (args.half,):
            chosen = [q for q in queries if q.kind == kind and q.half == half][: args.cap or None]
            for mode in args.modes:
                if mode == "arxiv-sanity":
                    sample = chosen[: args.sanity]
                    table.append((kind, half, mode, score(sanity_runs(store, sample), sample)))
                else:
                    table.append((kind, half, mode, score(engine_runs(engine, chosen, mode), chosen)))
                print(row(*table[-1]), flush=True)
    if not only_claims and (not args.types or "nonsense" in args.types):
        nonsense_report(engines["arxiv"], args.modes, args.cap or 200)  # type: ignore[arg-type]


def sweep(args: argparse.Namespace) -> None:
    """Fusion weights and keyword boosts on the tuning half only, from cached candidates per query."""
    arxiv = demo_store(args.data) if args.demo else subset(args.data, args.papers) if args.papers else None
    arxiv = arxiv or open_store(args.data / "arxiv")
    scifact = subset(args.data, args.claim_docs, "scifact") if args.claim_docs else open_store(args.data / "scifact")
    sizes = {"keywords": args.per_type, "authors": args.per_type, "titles": args.per_type}
    queries = with_extra_typo_titles(arxiv, corpus_queries(arxiv, sizes) + claim_queries(), args.extra_typo_titles)
    queries = [q for q in queries if q.half == "tune"]
    queries = [q for q in queries if not args.types or q.kind in args.types]
    if args.claim_docs:  # judged documents outside the subset are dropped, and claims left with none
        kept = {v.paper.arxiv_id for v in scifact.papers.views(list(range(1, args.claim_docs + 1)))}
        queries = [q if q.kind != "claims" else Query(q.kind, q.text, q.relevant & kept) for q in queries]
        queries = [q for q in queries if q.relevant]
    embedder = bench_embedder()
    tag = f"index-v{lexical.SCHEMA_VERSION}"
    engines = {"arxiv": Engine(arxiv, embedder, arxiv_folder(arxiv) / tag)}
    engines["scifact"] = Engine(scifact, embedder, arxiv_folder(scifact) / tag)
    cache = []
    for q in queries:
        engine = engines["scifact" if q.kind == "claims" else "arxiv"]
        text = engine._spelling(q.text)[0]
        words = search.terms(text)
        vec = embedder.embed([text])[0]
        semantic = {n.paper_id: n.score for n in engine.vectors.search(vec, limit=100)}
        for boosts in BOOST_GRID:
            lexical.BOOSTS["authors"], lexical.PHRASE_BOOST, lexical.FUZZY_BOOST = boosts
            found = engine.lexical.match(words, limit=100)
            sem = dict(semantic)
            for row_id in found.scores.keys() - sem.keys():
                v = engine.vectors.vector(row_id)
                if v is not None:
                    sem[row_id] = float(v @ vec)
            cache.append((q, boosts, engine, found, sem, words))
    names = _names(engines)
    for boosts in BOOST_GRID:
        for weights in weight_grid():
            cells = []
            for kind in dict.fromkeys(q.kind for q in queries):
                chosen = [c for c in cache if c[0].kind == kind and c[1] == boosts]
                runs = []
                for q, _, engine, found, sem, words in chosen:
                    scores = search.combine(found, sem, words, weights)
                    ranked = sorted(scores, key=lambda k: scores[k], reverse=True)
                    ranked = search._exact_first(engine.store, q.text, ranked, search.Filters())
                    runs.append([names[id(engine)][k] for k in ranked[:100]])
                s = score(runs, [c[0] for c in chosen])
                cells.append(f"{kind} {s.ndcg10:.3f}/{s.mrr:.3f}/{s.recall10:.3f}")
            label = f"authors x{boosts[0]} phrase {boosts[1]} fuzzy {boosts[2]} | {weights}"
            print(f"{label}: " + "  ".join(cells), flush=True)


BOOST_GRID = [(1.0, 1.0, 0.5), (1.0, 0.0, 0.0)]  # (author boost, phrase bonus, fuzzy bonus)


def weight_grid() -> list[search.Weights]:  # (a function: engines before Weights existed still run `run`)
    return [
        search.Weights(one_word_alpha=o, bag_alpha=b) for o in (0.5, 0.7, 0.9, 0.95, 1.0) for b in (0.4, 0.5, 0.6, 0.7)
    ]


def _names(engines: dict[str, Engine]) -> dict[int, dict[int, str]]:
    out = {}
    for engine in engines.values():
        with engine.store.db.read() as conn:
            out[id(engine)] = dict(conn.exec_driver_sql("SELECT id, arxiv_id FROM papers").all())
    return out


def nonsense_report(engine: Engine, modes: list[str], n: int = 200) -> None:
    for mode in [m for m in modes if m in ("lexical", "vector", "hybrid")]:
        queries = nonsense()[:n]
        empty = sum(not run for run in engine_runs(engine, [Query("nonsense", q, frozenset()) for q in queries], mode))
        print(f"nonsense ({len(queries)} made-up queries), {mode}: {empty / len(queries):.0%} get no results")


def arxiv_folder(store: Store) -> Path:
    return Path(str(store.db.engine.url.database)).parent


def row(kind: str, half: str, mode: str, s: Scores) -> str:
    return (f"| {kind:<11} | {half:<6} | {mode:<12} | {s.ndcg10:.3f} | {s.mrr:.3f} | {s.recall10:.3f} | "
            f"{s.recall100:.3f} | {s.n:>4} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["prepare", "run", "sweep"])
    parser.add_argument("--data", type=Path, default=Path("/tmp/queries-bench"), help="prepared folder (kept)")
    parser.add_argument("--papers", type=int, default=0, help="evaluate on the first N papers only (default: all)")
    parser.add_argument("--claim-docs", type=int, default=0, help="SciFact: the first N documents only (default: all)")
    parser.add_argument("--demo", action="store_true", help="the bundled demo corpus instead of the listings")
    parser.add_argument("--half", choices=["tune", "report", "both"], default="both")
    parser.add_argument("--per-type", type=int, default=1000, help="queries per type (before the split)")
    parser.add_argument("--sanity", type=int, default=100, help="queries per type and half for arxiv-sanity (slow)")
    parser.add_argument("--cap", type=int, default=0, help="at most N queries per type and half (default: all)")
    parser.add_argument("--types", nargs="*", default=[])
    typos = parser.add_mutually_exclusive_group()
    typos.add_argument(
        "--extra-typo-titles", type=int, default=None, metavar="SEED",
        help="typo-titles: a larger tuning-only set drawn with this seed (none of the reporting half's papers)",
    )  # fmt: skip
    typos.add_argument(
        "--fresh-typo-titles", type=int, default=None, metavar="SEED",
        help="run: typo-titles replaced by a second reporting set drawn with this seed (papers no tuning query holds)",
    )  # fmt: skip
    parser.add_argument("--modes", nargs="*", default=["lexical", "vector", "hybrid", "arxiv-sanity"])
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.data)
        return
    if args.command == "sweep":
        sweep(args)
        return
    print("| type        | half   | method       | nDCG@10 | MRR | R@10 | R@100 | n |")
    print("|---|---|---|---|---|---|---|---|")
    run(args)


if __name__ == "__main__":
    main()
