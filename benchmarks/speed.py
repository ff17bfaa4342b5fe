"""Search speed end to end (query embedding included in the vector figures), index build, memory, embedding throughput.

    python benchmarks/speed.py --data /tmp/bench75k            # 75K real papers
    python benchmarks/speed.py --data /tmp/bench1m --million   # plus synthetic papers up to 1M

The 75K corpus is shared/data/arxiv-daily-listings/papers.jsonl.gz, imported and embedded by
the same code as `broadsheet import` and `broadsheet embed` (resumable: reruns reuse `--data`).
For 1M, synthetic papers fill the gap: each is made of sentences drawn from real abstracts,
with a vector mixed from two real papers' vectors plus noise (real structure, not uniform noise).
Queries: 500 real title fragments (2-4 content words), the same for every engine, timed
through `Engine.search` (the site's search); arxiv-sanity-lite's search rule (a linear scan
scoring query-word hits: 10 per author hit, 20 per title hit, up to 3 per abstract occurrence)
is re-implemented here from its published description and timed on the same queries.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import statistics
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import arxiv_sanity
import numpy as np

from broadsheet.ingest.importer import Options, import_file
from broadsheet.models import Paper
from broadsheet.search import Engine
from broadsheet.search.embed import MiniLM, embed_pending, minilm_name
from broadsheet.store import Store

LISTINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-daily-listings" / "papers.jsonl.gz"
STOP = {
    "a", "an", "the", "of", "for", "and", "in", "on", "to", "with", "via", "by", "from", "is", "are", "we",
    "our", "using", "based", "towards", "toward", "into", "at", "as",
}  # fmt: skip


def queries(papers: list[tuple[str, str]], n: int = 500, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _, title in rng.sample(papers, n * 2):
        words = [w for w in re.findall(r"[a-z]+", title.lower()) if w not in STOP and len(w) > 2]
        if len(words) >= 2:
            out.append(" ".join(rng.sample(words, min(len(words), rng.randint(2, 4)))))
    return out[:n]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95)]
    return f"p50 {statistics.median(ordered) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms"


def timed_search(engine: Engine, qs: list[str], label: str) -> None:
    """p50/p95 of `Engine.search` per mode. The query's vector is kept by the engine after the first mode
    that needs it (vector), so the hybrid figures leave out embedding the query."""
    for mode in ("lexical", "vector", "hybrid"):
        times = []
        for q in qs:
            t = time.perf_counter()
            engine.search(q, limit=10, mode=mode)  # type: ignore[arg-type]
            times.append(time.perf_counter() - t)
        print(f"Engine.search {mode:<8} {label}, {len(qs)} queries: {percentiles(times)}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def embedding_rate(texts: list[str], tokens: int) -> None:
    for threads in (1, 2):
        model = MiniLM(max_tokens=tokens, threads=threads)
        model.embed(texts[:32])
        started = time.perf_counter()
        for i in range(0, len(texts), 32):
            model.embed(texts[i : i + 32])
        rate = len(texts) / (time.perf_counter() - started)
        print(f"embedding {tokens} tokens, {threads} thread(s): {rate:6.1f} papers/s")


def fill_to_million(store: Store, model: str, rng: np.random.Generator) -> None:
    """Synthetic papers (real sentences, mixed real vectors) until the store holds 1,000,000."""
    count = store.papers.count()
    with store.db.read() as conn:
        abstracts = [r[0] for r in conn.exec_driver_sql("SELECT abstract FROM papers LIMIT 20000")]
        base = np.stack([np.frombuffer(r[0], dtype="<f4") for r in conn.exec_driver_sql(
            "SELECT vector FROM embeddings WHERE model = ? LIMIT 20000", (model,))])  # fmt: skip
    sentences = [s for a in abstracts for s in re.split(r"(?<=\.)\s+", " ".join(a.split())) if len(s) > 30]
    py = random.Random(11)
    started, made = time.perf_counter(), 0
    while count + made < 1_000_000:
        n = min(20_000, 1_000_000 - count - made)
        batch = [Paper(f"synthetic/{count + made + k:07d}", " ".join(py.sample(sentences, 1))[:140],
                       " ".join(py.sample(sentences, 7))) for k in range(n)]  # fmt: skip
        store.papers.upsert(batch)
        mix = base[rng.integers(0, len(base), n)] + base[rng.integers(0, len(base), n)]
        mix += rng.normal(0, 0.02, mix.shape).astype(np.float32)
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        ids = [store.papers.id_of(p.arxiv_id) for p in (batch[0], batch[-1])]
        store.embeddings.save(model, list(zip(range(ids[0], ids[1] + 1), mix.astype(np.float32), strict=True)))  # type: ignore[arg-type]
        made += n
        print(f"  synthetic papers: {count + made:,} ({time.perf_counter() - started:.0f} s)", flush=True)


def fill_missing_vectors(store: Store, model: str, rng: np.random.Generator) -> int:
    """Papers still without a vector get one mixed from two real papers' vectors plus noise (as for --million)."""
    with store.db.read() as conn:
        base = np.stack([np.frombuffer(r[0], dtype="<f4") for r in conn.exec_driver_sql(
            "SELECT vector FROM embeddings WHERE model = ? LIMIT 20000", (model,))])  # fmt: skip
    done = 0
    while missing := store.embeddings.missing(model, limit=20_000):
        n = len(missing)
        mix = base[rng.integers(0, len(base), n)] + base[rng.integers(0, len(base), n)]
        mix += rng.normal(0, 0.02, mix.shape).astype(np.float32)
        mix /= np.linalg.norm(mix, axis=1, keepdims=True)
        store.embeddings.save(model, [(row_id, v) for (row_id, _), v in zip(missing, mix, strict=True)])
        done += n
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="working directory (kept: reruns reuse it)")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--million", action="store_true")
    parser.add_argument(
        "--real", type=int, default=None, help="embed at most this many papers for real; the rest get mixed vectors"
    )
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    store = Store.open(f"sqlite:///{args.data / 'bench.db'}")
    store.migrate()
    if store.papers.count() < 70_000:
        import_file(store, LISTINGS, Options(zone=ZoneInfo("America/New_York")))
    model = minilm_name(args.tokens)
    embedder = MiniLM(max_tokens=args.tokens)
    started = time.perf_counter()
    if args.real is None or store.embeddings.count(model) < args.real:
        wanted = None if args.real is None else args.real - store.embeddings.count(model)
        done = embed_pending(store, embedder, batch=64, limit=wanted)
        print(f"embedded {done:,} papers in {time.perf_counter() - started:.0f} s")
    if args.real is not None:
        mixed = fill_missing_vectors(store, model, np.random.default_rng(5))
        print(f"{store.embeddings.count(model) - mixed:,} real vectors; {mixed:,} mixed from them (--real)")
    if args.million:
        fill_to_million(store, model, np.random.default_rng(3))
    with store.db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT arxiv_id, title, authors, abstract FROM papers WHERE arxiv_id NOT LIKE 'synthetic/%'"
        ).all()
    qs = queries([(r[0], r[1]) for r in rows])
    rss_before = rss_mb()
    started = time.perf_counter()
    engine = Engine(store, embedder, args.data / "index")
    took = time.perf_counter() - started
    print(f"papers: {store.papers.count():,}; engine ready in {took:.1f} s (the first run builds the indexes)")
    print(f"resident memory: {rss_mb():,.0f} MB with the engine loaded ({rss_before:,.0f} MB before)")
    started = time.perf_counter()
    Engine(store, embedder, args.data / "index")
    print(f"engine reopened from its persisted indexes in {time.perf_counter() - started:.1f} s")
    timed_search(engine, qs, f"over {store.papers.count():,} papers")
    corpus = [
        (r[1].lower(), " ".join(json.loads(r[2]) if isinstance(r[2], str) else r[2]).lower(), r[3].lower())
        for r in rows
    ]
    times = []
    for q in qs[:100]:
        t = time.perf_counter()
        arxiv_sanity.search(corpus, q)
        times.append(time.perf_counter() - t)
    print(f"arxiv-sanity-lite linear scan over {len(corpus):,} papers, 100 queries: {percentiles(times)}")
    if not args.million:
        texts = [f"{r[1]}. {' '.join(r[3].split())}" for r in rows[:512]]
        embedding_rate(texts, args.tokens)


if __name__ == "__main__":
    main()
