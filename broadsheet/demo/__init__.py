"""The bundled demo corpus: ~1,400 curated Daily-Papers entries (60 days) and 2,163 recent ML papers.

Built by `scripts/build_demo.py` from CC0 arXiv metadata plus the day and upvote count of
each curated entry, with the papers' vectors precomputed by `broadsheet embed` (float16), so
that the demo is searchable by meaning the moment it is loaded.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from broadsheet.importer import ImportReport, Options, import_file
from broadsheet.store import Store

HERE = Path(__file__).parent
FILES = (HERE / "arxiv.jsonl.gz", HERE / "daily.jsonl.gz")


def vectors_file(model: str) -> Path:
    return HERE / f"vectors-{model.replace('/', '_')}.npz"


def load(store: Store, zone: ZoneInfo, *, model: str | None = None) -> list[ImportReport]:
    """Import the demo corpus (idempotent: loading it twice changes nothing), and its vectors for `model`."""
    options = Options(zone=zone, source="demo")
    reports = [import_file(store, path, options) for path in FILES]
    path = vectors_file(model) if model else None
    if model and path and path.exists():
        with np.load(path) as data:
            rows = list(zip(data["ids"].tolist(), data["vectors"].astype(np.float32), strict=True))
        store.embeddings.import_vectors(model, rows)
    return reports
