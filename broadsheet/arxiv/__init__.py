"""Everything that talks to arXiv: the announcement feeds (`rss`), the API (`api`), OAI-PMH (`oai`).

The functions here connect those sources to the store:

    sync(store, fetcher, ["cs.LG", "cs.CL"])      # today's announcements -> SyncReport
    fetch_into(store, fetcher, ["2401.01234"])   # papers by id -> FetchReport
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from broadsheet.arxiv import api, rss
from broadsheet.ingest.fetcher import Fetcher
from broadsheet.models import UpsertResult
from broadsheet.store import Store


@dataclass(frozen=True)
class SyncReport:
    result: UpsertResult
    kinds: Counter[str] = field(default_factory=Counter)  # announcements by type: new, cross, replace, ...


def sync(store: Store, fetcher: Fetcher, categories: Sequence[str], *, url: str = rss.DEFAULT_URL) -> SyncReport:
    """Read the announcement feed for the categories and store what it announces."""
    announced = rss.fetch(fetcher, categories, url=url)
    result = store.papers.upsert_announced([(a.paper, a.day, a.kind) for a in announced])
    return SyncReport(result, Counter(a.kind for a in announced))


@dataclass(frozen=True)
class FetchReport:
    result: UpsertResult
    found: list[str]
    missing: list[str]


def fetch_into(store: Store, fetcher: Fetcher, arxiv_ids: Sequence[str], *, url: str = api.DEFAULT_URL) -> FetchReport:
    """Fetch papers by (canonical) id from the arXiv API and upsert them; report ids arXiv lacks."""
    wanted = list(dict.fromkeys(arxiv_ids))
    papers = list(api.fetch_ids(fetcher, wanted, url=url))
    result = store.papers.upsert(papers)
    found = {p.arxiv_id for p in papers}
    return FetchReport(result, [i for i in wanted if i in found], [i for i in wanted if i not in found])
