"""The bundled demo corpus: ~1,400 curated Daily-Papers entries (60 days) and 2,163 recent ML papers.

Built by `scripts/build_demo.py` from CC0 arXiv metadata plus the day and upvote count of
each curated entry, with the papers' vectors precomputed by `broadsheet embed` (float16), so
that the demo is searchable by meaning the moment it is loaded, and their summaries and
keywords precomputed by `broadsheet summarize` (insights-<method>-<version>.jsonl.gz).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from broadsheet.ingest.importer import ImportReport, Options, import_file
from broadsheet.insights import METHOD, VERSION, Insight
from broadsheet.models import DailyRecord, PaperView
from broadsheet.store import Store

HERE = Path(__file__).parent
FILES = (HERE / "arxiv.jsonl.gz", HERE / "daily.jsonl.gz")


def vectors_file(model: str) -> Path:
    return HERE / f"vectors-{model.replace('/', '_')}.npz"


def insights_file(method: str = METHOD, version: int = VERSION) -> Path:
    return HERE / f"insights-{method}-{version}.jsonl.gz"


def load(store: Store, zone: ZoneInfo, *, model: str | None = None) -> list[ImportReport]:
    """Import the demo corpus (idempotent: loading it twice changes nothing), its vectors for `model`, and
    its summaries and keywords from the current insight method."""
    options = Options(zone=zone, source="demo")
    reports = [import_file(store, path, options) for path in FILES]
    path = vectors_file(model) if model else None
    if model and path and path.exists():
        with np.load(path) as data:
            rows = list(zip(data["ids"].tolist(), data["vectors"].astype(np.float32), strict=True))
        store.embeddings.import_vectors(model, rows)
    if insights_file().exists():
        store.insights.import_insights(read_insights(insights_file()))
    return reports


def read_insights(path: Path) -> list[tuple[str, Insight]]:
    """(arXiv id, Insight) per line of a demo insights file: {"id", "summary", "keywords"}."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [(r["id"], Insight(r["summary"], tuple(r["keywords"]))) for r in rows]


RECENT_SOURCE = "demo-recent"  # daily entries made by `broadsheet demo --recent`
RECENT_NOTE = "demo data: listed today by `broadsheet demo --recent`"


@dataclass(frozen=True)
class Recent:
    listed: list[str]  # on today's Daily Papers, marked as demo data
    submittable: list[str]  # published today, not listed: for a newcomer to try submitting


def list_recent(store: Store, zone: ZoneInfo, *, count: int = 5, now: datetime | None = None) -> Recent:
    """Demo papers re-dated as published today: `count` listed on today's Daily Papers, `count` left to submit.

    Demo data only (entry source "demo-recent", the entry's note says so). The papers are chosen by the
    day, so running it twice on the same day changes nothing; another day picks other papers.
    """
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    published = datetime.combine(today, time(0), zone).astimezone(UTC)
    chosen = _candidates(store, today, 2 * count)
    store.daily.redate([v.paper.arxiv_id for v in chosen], published)
    listed = [dataclasses.replace(v.paper, submitted_at=published) for v in chosen[:count]]
    store.daily.upsert([DailyRecord(p, today, comment=RECENT_NOTE) for p in listed], source=RECENT_SOURCE)
    return Recent([p.arxiv_id for p in listed], [v.paper.arxiv_id for v in chosen[count:]])


def _candidates(store: Store, today: date, wanted: int) -> list[PaperView]:
    """Uncurated demo papers from a start that moves with the day; ones listed today by us are kept."""
    with gzip.open(FILES[0], "rt", encoding="utf-8") as lines:
        ids = sorted(json.loads(line)["id"] for line in lines)
    start = today.toordinal() * wanted % len(ids)
    chosen: list[PaperView] = []
    for arxiv_id in ids[start:] + ids[:start]:
        view = store.papers.get(arxiv_id)
        ours = view is not None and view.day == today and view.submitter_comment == RECENT_NOTE
        if view is not None and (ours or view.day is None):
            chosen.append(view)
        if len(chosen) == wanted:
            break
    return chosen
