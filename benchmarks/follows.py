"""The author index and the reader's filters: what they cost the insert path, the migration and the pages.

    python benchmarks/follows.py upsert [--postgresql] [--runs 4]  # the 2,163-paper slice: upsert, with/without index
    python benchmarks/follows.py cli [--runs 4]                    # `broadsheet import` of the slice, with/without
    python benchmarks/follows.py corpus [--postgresql]             # 74,728 papers: 0013's backfill, author pages
    python benchmarks/follows.py rules                             # follows.blocked() over 1,000 papers, many rules

"without" runs the same code with `store.authors.write_author_index` replaced by a no-op, interleaved with
"with" runs, each into a fresh migrated database, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import broadsheet.store.papers as store_papers
from broadsheet.community import authors as people
from broadsheet.community import follows
from broadsheet.ingest.importer import Options, _paper_line, import_file
from broadsheet.models import Paper
from broadsheet.store import Store
from broadsheet.store.follows import Interests

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SLICE = DATA / "arxiv-ml-demo" / "papers.jsonl"
CORPUS = DATA / "arxiv-daily-listings" / "papers.jsonl.gz"
REAL_INDEX = store_papers.write_author_index


def fresh_url(postgresql: bool, folder: str) -> str:
    if postgresql:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        import postgres  # the tests' embedded PostgreSQL 18

        return str(postgres.fresh_database())
    return f"sqlite:///{folder}/bench.db"


def slice_papers() -> list[Paper]:
    with SLICE.open() as lines:
        return [_paper_line(json.loads(line)) for line in lines]


def upsert(postgresql: bool, runs: int) -> None:
    papers, times = slice_papers(), {"without": [], "with": []}
    for _ in range(runs):
        for mode in ("without", "with"):
            store_papers.write_author_index = REAL_INDEX if mode == "with" else (lambda *_: None)
            with tempfile.TemporaryDirectory() as folder:
                store = Store.open(fresh_url(postgresql, folder))
                store.migrate()
                start = time.perf_counter()
                for first in range(0, len(papers), 1000):
                    store.papers.upsert(papers[first : first + 1000])
                times[mode].append(time.perf_counter() - start)
                store.close()
    store_papers.write_author_index = REAL_INDEX
    backend = "PostgreSQL" if postgresql else "SQLite"
    for mode, seconds in times.items():
        print(f"{backend} upsert of {len(papers):,} papers, {mode:7} the author index: "
              + ", ".join(f"{s:.2f}" for s in seconds) + " s")  # fmt: skip


def cli(runs: int) -> None:
    without = (
        "import sys, broadsheet.store.papers as P; P.write_author_index = lambda *a: None; "
        "from broadsheet.cli import main; sys.argv[0] = 'broadsheet'; main()"
    )
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(runs):
        for mode in ("without", "with"):
            with tempfile.TemporaryDirectory() as folder:
                args = ["--data-dir", folder]
                subprocess.run([sys.executable, "-m", "broadsheet", *args, "init"], check=True, capture_output=True)
                command = [sys.executable, "-m", "broadsheet"] if mode == "with" else [sys.executable, "-c", without]
                start = time.perf_counter()
                subprocess.run([*command, *args, "import", str(SLICE)], check=True, capture_output=True)
                times[mode].append(time.perf_counter() - start)
    for mode, seconds in times.items():
        print(f"`broadsheet import` of the slice, {mode:7} the author index: " + ", ".join(f"{s:.2f}" for s in seconds)
              + " s wall")  # fmt: skip


def corpus(postgresql: bool) -> None:
    from alembic import command

    from broadsheet.store.engine import _alembic_config

    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(fresh_url(postgresql, folder))
        store.migrate()
        start = time.perf_counter()
        import_file(store, CORPUS, Options(ZoneInfo("UTC")))
        print(f"import of {store.papers.count():,} papers: {time.perf_counter() - start:.1f} s")
        for _ in range(2):
            with store.db.write() as conn:
                command.downgrade(_alembic_config(conn), "0012")
            start = time.perf_counter()
            with store.db.write() as conn:
                command.upgrade(_alembic_config(conn), "0013")
            print(f"migration 0013 (tables + author index backfill): {time.perf_counter() - start:.1f} s")
        store.migrate()
        for name in ("Yang Liu", "Hao Wang", "Zhang Wei"):
            seconds = []
            for _ in range(5):
                start = time.perf_counter()
                found = people.page(store, name)
                seconds.append(time.perf_counter() - start)
            print(f"author page {name!r} ({found.total} papers, {len(found.coauthors)} co-authors): "
                  f"{min(seconds) * 1000:.0f}-{max(seconds) * 1000:.0f} ms over 5 runs")  # fmt: skip
        store.close()


def rules() -> None:
    papers = slice_papers()[:1000]
    many = Interests(
        hidden=frozenset(f"0000.{n:05d}" for n in range(follows.MAX_HIDDEN)),
        never_categories=frozenset({"hep-th", "cs.CR"}),
        never_words=frozenset({f"word{n}" for n in range(150)} | {"blockchain", "large language model"}),
        never_authors=frozenset(f"some one{n}" for n in range(48)),
    )
    for _ in range(3):
        start = time.perf_counter()
        blocked = sum(follows.blocked(p, many) for p in papers)
        print(f"blocked() over {len(papers):,} papers with {follows.MAX_HIDDEN:,} hidden and 202 rules: "
              f"{(time.perf_counter() - start) * 1000:.0f} ms ({blocked} blocked)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("upsert", "cli", "corpus", "rules"))
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    if args.what == "upsert":
        upsert(args.postgresql, args.runs)
    elif args.what == "cli":
        cli(args.runs)
    elif args.what == "corpus":
        corpus(args.postgresql)
    else:
        rules()


if __name__ == "__main__":
    main()
