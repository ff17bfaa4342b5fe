"""How long `ingest.fulltext.convert` takes on LaTeXML pages of growing size, and how much Markdown comes out.

    .venv/bin/python benchmarks/fulltext.py [--sizes 0.1 1 5 10] [--runs 3]

The pages are the reconstructed arXiv fixture (tests/fixtures/arxiv/html/2608.19880.html) with its body
sections repeated until the page reaches each size in MB: real LaTeXML markup (MathML with alttext,
tables, lists, citations), synthetic length. Prints seconds (best and worst of the runs), the Markdown's
length, and whether it was cut at MAX_CHARS.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from broadsheet.ingest import fulltext

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "arxiv" / "html" / "2608.19880.html"


def page_of(size_mb: float) -> bytes:
    page = FIXTURE.read_text(encoding="utf-8")
    start, end = page.index('<section id="S1"'), page.index('<section id="bib"')
    body, target = page[start:end], int(size_mb * 2**20)
    copies = max(1, (target - len(page)) // len(body) + 1)
    return (page[:start] + body * copies + page[start + len(body) :]).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1.0, 5.0, 10.0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'page MB':>8} {'best s':>8} {'worst s':>8} {'markdown chars':>15} truncated")
    for size in args.sizes:
        html = page_of(size)
        times, text = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            text = fulltext.convert(html)
            times.append(time.perf_counter() - started)
        assert text is not None
        print(f"{len(html) / 2**20:8.2f} {min(times):8.2f} {max(times):8.2f} {len(text.markdown):15,} {text.truncated}")


if __name__ == "__main__":
    main()
