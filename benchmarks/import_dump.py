"""Import a whole arXiv metadata dump twice through the CLI and print time, peak memory and what changed.

    python benchmarks/import_dump.py [PATH]   # default: ../shared/data/arxiv-daily-listings/papers.jsonl.gz

Each run is `/usr/bin/time -v broadsheet --data-dir TMP import PATH` in a fresh process; the
second run must report every paper unchanged and leave the database byte-for-byte the same
(compared as a digest over every row, row timestamps included).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "arxiv-daily-listings" / "papers.jsonl.gz"
TABLES = ("papers", "paper_categories", "daily_entries")


def timed_import(data_dir: Path, path: Path) -> tuple[float, int, str]:
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "broadsheet", "--data-dir", str(data_dir), "import", str(path)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    elapsed = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
    assert elapsed and rss, run.stderr
    seconds = int(elapsed[1] or 0) * 3600 + int(elapsed[2]) * 60 + float(elapsed[3])
    return seconds, int(rss[1]), run.stdout.strip()


def digest(db: Path) -> str:
    h = hashlib.sha256()
    with sqlite3.connect(db) as conn:
        for table in TABLES:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                h.update(repr(row).encode())
    return h.hexdigest()


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        first = timed_import(data, path)
        before = digest(data / "broadsheet.db")
        second = timed_import(data, path)
        same = before == digest(data / "broadsheet.db")
    count = int(re.search(r"([\d,]+) new", first[2])[1].replace(",", ""))  # type: ignore[index]
    print(f"file: {path}")
    for label, (seconds, rss_kb, output) in (("first import", first), ("re-import", second)):
        rate = count / seconds
        print(f"{label:<12}: {seconds:6.1f} s  {rate:7,.0f} papers/s  peak RSS {rss_kb / 1024:5.0f} MB  | {output}")
    print(f"database unchanged by the re-import: {same}")


if __name__ == "__main__":
    main()
