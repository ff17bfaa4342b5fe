"""The measurements behind two engine choices: the keyword index and the vector scan.

    python benchmarks/engines.py --data /tmp/bench75k                      # after speed.py filled it
    python benchmarks/engines.py --data /tmp/bench75k --vectors 1000000    # vector scans at 1M

Keyword: SQLite FTS5 (bm25(), the query's words joined by OR, as hybrid search needs them) and
tantivy (the site's `LexicalIndex`), both built from the same real papers and asked the same 500
queries as `speed.py`, top 100 each. Vectors: the exact float32 scan the site uses (numpy) and,
when `faiss-cpu` is installed (`pip install faiss-cpu`; not a dependency of Broadsheet), faiss's
flat scans over float32, fp16 and 8-bit scalar-quantised vectors. `--vectors N` grows the real
vectors to N by mixing pairs of them plus noise, as speed.py --million does.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from speed import percentiles, queries

from broadsheet.search import terms
from broadsheet.search.embed import MiniLM, minilm_name
from broadsheet.search.lexical import LexicalIndex
from broadsheet.store import Store


def timed(run: Callable[[str], object], qs: list[str]) -> str:
    samples = []
    for q in qs:
        started = time.perf_counter()
        run(q)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def keyword(store: Store, rows: list[tuple[int, str, str, str]], qs: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "fts.db")
        started = time.perf_counter()
        db.execute("CREATE VIRTUAL TABLE fts USING fts5(title, abstract, authors, tokenize='porter unicode61')")
        db.executemany("INSERT INTO fts(rowid, title, abstract, authors) VALUES (?, ?, ?, ?)", rows)
        db.commit()
        print(f"FTS5 build over {len(rows):,} papers: {time.perf_counter() - started:.1f} s")

        def fts(q: str) -> object:
            match = " OR ".join(f'"{w}"' for w in terms(q))
            sql = "SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 1.2, 1.0, 1.0) LIMIT 100"
            return db.execute(sql, (match,)).fetchall()

        print(f"FTS5 OR-query, top 100, {len(qs)} queries:    {timed(fts, qs)}")
        started = time.perf_counter()
        index = LexicalIndex(store, Path(tmp) / "tantivy")
        index.refresh()
        print(f"tantivy build over {store.papers.count():,} papers: {time.perf_counter() - started:.1f} s")
        print(f"tantivy OR-query, top 100, {len(qs)} queries: {timed(lambda q: index.search(terms(q), limit=100), qs)}")


def vectors(store: Store, tokens: int, size: int | None, qs: list[str]) -> None:
    model = minilm_name(tokens)
    with store.db.read() as conn:
        blobs = [r[0] for r in conn.exec_driver_sql("SELECT vector FROM embeddings WHERE model = ?", (model,))]
    matrix = np.stack([np.frombuffer(b, dtype="<f4") for b in blobs])
    if size and size > len(matrix):
        rng = np.random.default_rng(3)
        extra = size - len(matrix)
        mix = matrix[rng.integers(0, len(matrix), extra)] + matrix[rng.integers(0, len(matrix), extra)]
        mix += rng.normal(0, 0.02, mix.shape).astype(np.float32)
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        matrix = np.concatenate([matrix, mix.astype(np.float32)])
    embedder = MiniLM(max_tokens=tokens)
    query_vectors = {q: embedder.embed([q])[0] for q in qs[:200]}
    sample = list(query_vectors)
    scores = np.empty(len(matrix), dtype=np.float32)

    def scan(q: str) -> object:
        np.dot(matrix, query_vectors[q], out=scores)
        top = np.argpartition(scores, len(scores) - 100)[-100:]
        return top[np.argsort(-scores[top])]

    print(f"numpy float32 exact scan over {len(matrix):,} vectors, top 100: {timed(scan, sample)}")
    try:
        import faiss  # type: ignore[import-not-found]
    except ImportError:
        print("faiss-cpu is not installed: pip install faiss-cpu to compare its flat scans")
        return
    for name, kind in (("float32", None), ("fp16", "QT_fp16"), ("SQ8", "QT_8bit")):
        dim = matrix.shape[1]
        index = faiss.IndexFlatIP(dim) if kind is None else faiss.IndexScalarQuantizer(
            dim, getattr(faiss.ScalarQuantizer, kind), faiss.METRIC_INNER_PRODUCT)  # fmt: skip
        index.train(matrix)
        index.add(matrix)
        run = timed(lambda q, ix=index: ix.search(query_vectors[q][None, :], 100), sample)
        print(f"faiss flat {name:<7} scan over {len(matrix):,} vectors, top 100:  {run}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder speed.py has filled (bench.db)")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--vectors", type=int, default=None, help="grow the vectors to this many")
    args = parser.parse_args()
    store = Store.open(f"sqlite:///{args.data / 'bench.db'}")
    with store.db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, title, abstract, authors FROM papers WHERE arxiv_id NOT LIKE 'synthetic/%'"
        ).all()
    qs = queries([(str(r[0]), r[1]) for r in rows])
    if args.vectors is None:
        keyword(store, [(r[0], r[1], r[2], r[3]) for r in rows], qs)
    vectors(store, args.tokens, args.vectors, qs)


if __name__ == "__main__":
    main()
