"""Build the bundled demo corpus (broadsheet/demo/*.jsonl.gz) from ../shared/data.

    python scripts/build_demo.py [--shared ../shared/data] [--days 60]

Keeps only CC0 arXiv metadata (id, title, abstract, authors, categories, comment, dates)
plus, for the curated part, the Daily-Papers day and the upvote count (facts). No Hugging
Face user names, avatars, organisations or AI summaries are copied.

- arxiv.jsonl.gz: the arxiv-ml-demo slice (the searchable firehose) plus the arXiv listing
  record of every curated paper that has one (for its categories), arXiv-metadata layout.
  Hugging Face items carry no categories: a curated paper gets them from these CC0 records
  where the ids overlap (473 of 1,416 in the 60 days built on 2026-12-02; the other 943 have
  ids after the listings end, 2026-07-01). The count is printed; `broadsheet sync-hf` queues
  the worker's "categories" job, which asks the arXiv API for papers still without.
- daily.jsonl.gz: the last `--days` days of hf-daily-papers, as {"date", "item"} lines in a
  minimal daily_papers item shape.
- vectors-<model>.npz: every demo paper's vector from `broadsheet embed`'s code (float16, by id),
  for the model built by scripts/build_model.py at the default token limit. After a model
  change, `python scripts/build_demo.py --vectors-only` recomputes just this file.
- insights-<method>-<version>.jsonl.gz: every demo paper's summary and keywords from `broadsheet
  summarize`'s code ({"id", "summary", "keywords"} lines), reusing the shipped vectors. After a
  method change, `python scripts/build_demo.py --insights-only` recomputes just this file;
  `--curated-only` does the Daily-Papers entries only, `--scratch DIR` keeps the work database
  there so that an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import ast
import gzip
import json
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "broadsheet" / "demo"
ARXIV_FIELDS = ("id", "title", "abstract", "authors", "categories", "comment", "date")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--tokens", type=int, default=None, help="embedding token limit (default: the setting's)")
    parser.add_argument("--vectors-only", action="store_true", help="only recompute the vectors (a new model)")
    parser.add_argument("--insights-only", action="store_true", help="only recompute the summaries and keywords")
    parser.add_argument("--curated-only", action="store_true", help="insights for the Daily-Papers entries only")
    parser.add_argument("--scratch", type=Path, default=None, help="keep the insights' work database here (resume)")
    args = parser.parse_args()
    if args.vectors_only:
        write_vectors(args.tokens)
        return
    if args.insights_only:
        write_insights(args.tokens, curated_only=args.curated_only, scratch=args.scratch)
        return
    curated = curated_items(args.shared / "hf-daily-papers" / "items.jsonl.gz", args.days)
    wanted = {line["item"]["paper"]["id"] for line in curated}
    firehose = [json.loads(x) for x in (args.shared / "arxiv-ml-demo" / "papers.jsonl").open(encoding="utf-8")]
    have = {r["id"] for r in firehose}
    with gzip.open(args.shared / "arxiv-daily-listings" / "papers.jsonl.gz", "rt", encoding="utf-8") as listings:
        joined = [r for r in map(json.loads, listings) if r["id"] in wanted and r["id"] not in have]
    write(OUT / "arxiv.jsonl.gz", [{k: r.get(k) for k in ARXIV_FIELDS} for r in firehose + joined])
    write(OUT / "daily.jsonl.gz", curated)
    print(f"arxiv.jsonl.gz: {len(firehose)} firehose + {len(joined)} curated with listings")
    print(f"daily.jsonl.gz: {len(curated)} curated entries on {len({c['date'] for c in curated})} days")
    categorised = {r["id"] for r in firehose + joined if r.get("categories")} & wanted
    print(
        f"categories from the CC0 arXiv data: {len(categorised)} of {len(wanted)} curated papers; "
        f"{len(wanted - categorised)} remain empty (ids outside the data; the worker asks arXiv for them)"
    )
    write_vectors(args.tokens)
    write_insights(args.tokens, curated_only=False, scratch=None)


def write_vectors(tokens: int | None) -> None:
    """Load the demo into a scratch store, embed it like `broadsheet embed`, save the vectors (only these)."""
    from zoneinfo import ZoneInfo

    import numpy as np

    from broadsheet import demo
    from broadsheet.config import Settings
    from broadsheet.search.embed import MiniLM, embed_pending
    from broadsheet.store import Store

    tokens = tokens or Settings.model_fields["embed_max_tokens"].default

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/demo.db")
        store.migrate()
        demo.load(store, ZoneInfo("America/New_York"))
        embedder = MiniLM(max_tokens=tokens)
        embed_pending(store, embedder)
        with store.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT p.arxiv_id, e.vector FROM embeddings e JOIN papers p ON p.id = e.paper_id ORDER BY p.arxiv_id"
            ).all()
    ids = np.array([r[0] for r in rows])
    vectors = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows]).astype(np.float16)
    for stale in OUT.glob("vectors-*.npz"):  # vectors of another model are of no use to the demo
        stale.unlink()
    np.savez_compressed(demo.vectors_file(embedder.name), ids=ids, vectors=vectors)
    print(f"{demo.vectors_file(embedder.name).name}: {len(ids)} vectors")


def write_insights(tokens: int | None, *, curated_only: bool, scratch: Path | None) -> None:
    """Load the demo (with its vectors) into a work store, summarize it like `broadsheet summarize`, save these."""
    import time
    from zoneinfo import ZoneInfo

    from broadsheet import demo
    from broadsheet.cli.insights import summarize_pending
    from broadsheet.config import Settings
    from broadsheet.search.embed import MiniLM
    from broadsheet.store import Store

    embedder = MiniLM(max_tokens=tokens or Settings.model_fields["embed_max_tokens"].default)
    with tempfile.TemporaryDirectory() as tmp:
        folder = scratch or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        store = Store.open(f"sqlite:///{folder}/demo-insights.db")
        store.migrate()
        demo.load(store, ZoneInfo("America/New_York"), model=embedder.name)
        if curated_only:  # the work store only: papers that are not on Daily Papers go
            with store.db.write() as conn:
                conn.exec_driver_sql("DELETE FROM papers WHERE id NOT IN (SELECT paper_id FROM daily_entries)")
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            rate = done / max(time.monotonic() - started, 1e-6)
            print(f"{done}/{total} papers, {rate:.2f} papers/s", flush=True)

        summarize_pending(store, embedder, progress=progress)
        with store.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT p.arxiv_id, i.summary, i.keywords FROM insights i JOIN papers p ON p.id = i.paper_id"
                " ORDER BY p.arxiv_id"
            ).all()
        store.close()
    for stale in OUT.glob("insights-*.jsonl.gz"):  # another method's results are of no use to the demo
        stale.unlink()
    write(demo.insights_file(), [{"id": r[0], "summary": r[1], "keywords": json.loads(r[2])} for r in rows])
    print(f"{demo.insights_file().name}: {len(rows)} papers")


def curated_items(path: Path, days: int) -> list[dict[str, object]]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        lines = [json.loads(x) for x in stream]
    keep_days = sorted({line["date"] for line in lines})[-days:]
    out = []
    for line in lines:
        if line["date"] not in keep_days:
            continue
        item = line["item"]
        item = ast.literal_eval(item) if isinstance(item, str) else item
        paper = item["paper"]
        out.append({
            "date": line["date"],
            "item": {
                "paper": {
                    "id": paper["id"],
                    "title": paper.get("title") or item.get("title"),
                    "summary": paper.get("summary") or item.get("summary"),
                    "authors": [{"name": a["name"]} for a in paper.get("authors", []) if a.get("name")],
                    "publishedAt": paper.get("publishedAt"),
                    "submittedOnDailyAt": paper.get("submittedOnDailyAt"),
                    "upvotes": paper.get("upvotes", 0),
                },
                "publishedAt": item.get("publishedAt"),
            },
        })  # fmt: skip
    return out


def write(path: Path, rows: list[dict[str, object]]) -> None:
    """Write gzipped JSON lines to a temporary file, then move it into place (never a half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as raw, gzip.GzipFile(path.name, "wb", compresslevel=9, fileobj=raw, mtime=0) as out:
        for row in rows:
            out.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
    partial.replace(path)


if __name__ == "__main__":
    main()
