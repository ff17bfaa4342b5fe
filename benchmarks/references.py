"""Write real papers as BibTeX, RIS and CSL-JSON and read the arXiv ids back; print the time of each.

    python benchmarks/references.py [--data ../shared/data] [--papers 1000] [--runs 3]

The papers are the first N of `arxiv-ml-demo/papers.jsonl` (real arXiv records); 1,000 is the most a
collection holds. Writing is `broadsheet.personal.citations.bibtex/ris/csl_json`; reading is `arxiv_ids_in`
(what the For-you cold start runs on an uploaded export), which must find every id again.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from broadsheet.ingest import dump
from broadsheet.models import Paper
from broadsheet.personal.references import arxiv_ids_in, bibtex, csl_json, ris

WRITERS: dict[str, Callable[[Sequence[Paper]], str]] = {"BibTeX": bibtex, "RIS": ris, "CSL-JSON": csl_json}


def timed(run: Callable[[], object], runs: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return min(times), max(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lines = (args.data / "arxiv-ml-demo" / "papers.jsonl").read_text(encoding="utf-8").splitlines()[: args.papers]
    papers = [dump.paper_from_record(json.loads(line)) for line in lines]
    wanted = [p.arxiv_id for p in papers]
    print(f"{len(papers)} real papers, best and worst of {args.runs} runs")
    print(f"{'format':<9} {'write s':>13} {'size MB':>8} {'read s':>13} {'ids found':>10}")
    for name, write in WRITERS.items():
        w_min, w_max, text = timed(lambda write=write: write(papers), args.runs)  # type: ignore[misc]
        assert isinstance(text, str)
        r_min, r_max, found = timed(lambda text=text: arxiv_ids_in(text), args.runs)  # type: ignore[misc]
        ok = "all" if found == wanted else f"{len(found) if isinstance(found, list) else 0}!"
        print(
            f"{name:<9} {w_min:6.2f}-{w_max:<6.2f} {len(text.encode()) / 1e6:8.2f} {r_min:6.2f}-{r_max:<6.2f} {ok:>10}"
        )
    paste = "\n".join(f"https://arxiv.org/abs/{a}v1" for a in wanted)
    p_min, p_max, found = timed(lambda: arxiv_ids_in(paste), args.runs)
    ok = "all" if found == wanted else "!"
    print(f"{'paste':<9} {'':>13} {len(paste) / 1e6:8.2f} {p_min:6.2f}-{p_max:<6.2f} {ok:>10}")


if __name__ == "__main__":
    main()
