"""Papers that arrive without arXiv categories (Hugging Face items carry none) get them from the arXiv API in a
background "categories" job: paced like every arXiv request, recorded answers here (never the network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES, make_settings
from recorded_server import RecordedServer, Reply

from broadsheet.models import Paper
from broadsheet.search.embed import MiniLM
from broadsheet.store import Store, categories
from broadsheet.worker import Worker, request_categories

# the recorded answer to id_list=0808.05394,1707.08567: arXiv returns 1707.08567 (cs.IT) only
RECORDED = FIXTURES / "arxiv" / "api" / "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json"


@pytest.fixture
def arxiv() -> Iterator[RecordedServer]:
    body = json.loads(RECORDED.read_text())["body"].encode()
    with RecordedServer() as server:
        server.route("/api/query", lambda query: Reply(body=body))
        yield server


@pytest.fixture
def filled_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(make_settings(tmp_path / "data").db_url)
    store.migrate()
    store.papers.upsert([Paper("0808.05394", "Old paper", "An abstract."), Paper("1707.08567", "Coding", "Abstract.")])
    store.papers.upsert([Paper("2608.30000", "Has some", "Abstract.", categories=("cs.CL",))])
    yield store
    store.close()


def test_uncategorised_lists_newest_first_and_fill_touches_only_papers_without(filled_store: Store) -> None:
    assert categories.uncategorised(filled_store.db, limit=10) == ["1707.08567", "0808.05394"]
    assert categories.uncategorised(filled_store.db, limit=1) == ["1707.08567"]
    filled = categories.fill(filled_store.db, {"1707.08567": ("cs.IT", "math.IT", "cs.IT"), "2608.30000": ("x.Y",)})
    assert filled == 1 and categories.fill(filled_store.db, {"0808.05394": ()}) == 0
    assert _categories(filled_store, "1707.08567") == ("cs.IT", "math.IT")
    assert _categories(filled_store, "2608.30000") == ("cs.CL",)  # never overwritten
    assert categories.uncategorised(filled_store.db, limit=10) == ["0808.05394"]


@pytest.mark.slow
def test_the_worker_fills_categories_from_arxiv_and_stops(
    filled_store: Store, arxiv: RecordedServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", arxiv_api_url=arxiv.url + "/api/query", arxiv_delay=0.0,
                             http_backoff=0.0)  # fmt: skip
    job = request_categories(filled_store)
    assert (
        job is not None and job.kind == "categories" and set(job.payload["arxiv_ids"]) == {"0808.05394", "1707.08567"}
    )
    worker = Worker(filled_store, settings, MiniLM())
    assert worker.run_once()
    assert _categories(filled_store, "1707.08567") == ("cs.IT",)
    assert _categories(filled_store, "0808.05394") == ()  # arXiv did not answer for it
    assert worker.run_once()  # the next batch: the one paper still without, asked for once
    assert not worker.run_once()  # it filled nothing, so nothing more is queued
    asked = [query["id_list"] for _, path, query in arxiv.log if path == "/api/query"]
    assert sorted(asked) == ["0808.05394", "1707.08567,0808.05394"]
    again = request_categories(filled_store)  # the same papers again: that job is done, nothing new runs
    assert again is not None and again.status == "done" and not worker.run_once()


def _categories(store: Store, arxiv_id: str) -> tuple[str, ...]:
    view = store.papers.get(arxiv_id)
    assert view is not None
    return view.paper.categories
