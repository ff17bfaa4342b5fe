"""The bundled demo corpus: ~1,400 curated Daily-Papers entries (60 days) and 2,163 recent ML papers.

Built by `scripts/build_demo.py` from CC0 arXiv metadata plus the day and upvote count of
each curated entry.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from broadsheet.importer import ImportReport, Options, import_file
from broadsheet.store import Store

HERE = Path(__file__).parent
FILES = (HERE / "arxiv.jsonl.gz", HERE / "daily.jsonl.gz")


def load(store: Store, zone: ZoneInfo) -> list[ImportReport]:
    """Import the demo corpus (idempotent: loading it twice changes nothing)."""
    options = Options(zone=zone, source="demo")
    return [import_file(store, path, options) for path in FILES]
