"""Stored insights (summary and keywords): the table, `broadsheet summarize`, the worker, the API, the pages."""

from __future__ import annotations

import dataclasses
import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from community_site import Site
from huggingface_hub import HfApi
from typer.testing import CliRunner

from broadsheet import demo
from broadsheet.cli import app
from broadsheet.cli.insights import compute
from broadsheet.config import Settings
from broadsheet.insights import METHOD, VERSION, Insight
from broadsheet.models import Paper
from broadsheet.store import Store
from broadsheet.store.insights import Pending

WHEN = datetime(2026, 8, 20, 12, tzinfo=UTC)
ABSTRACT = (
    "Graph neural networks struggle on long-range tasks. We propose a sparse attention layer for molecular graphs. "
    "It improves property prediction accuracy on three benchmarks while halving memory use."
)


def paper(arxiv_id: str, title: str = "Sparse attention for molecular graphs", abstract: str = ABSTRACT) -> Paper:
    return Paper(arxiv_id, title, abstract, authors=("Ada Lovelace",), categories=("cs.LG",), submitted_at=WHEN)


SAMPLE = Insight("We propose a sparse attention layer for molecular graphs.", ("sparse attention", "molecular graphs"))


def test_an_insight_round_trips_and_replaces_the_old_one(store: Store) -> None:
    store.papers.upsert([paper("2608.00001"), paper("2608.00002")])
    first = store.papers.id_of("2608.00001")
    assert first is not None
    assert store.insights.missing_count(METHOD, VERSION) == 2
    store.insights.save([(first, SAMPLE)])
    stored = store.insights.get(first)
    assert stored is not None and stored.summary == SAMPLE.summary and stored.keywords == SAMPLE.keywords
    assert (stored.method, stored.version) == (METHOD, VERSION) and stored.computed_at.tzinfo is not None
    assert [p.paper.arxiv_id for p in store.insights.missing(METHOD, VERSION, model=None, limit=10)] == ["2608.00002"]
    store.insights.save([(first, Insight("Another sentence.", ("graphs",)))])  # replaces, never a second row
    replaced = store.insights.get(first)
    assert replaced is not None and (replaced.summary, replaced.keywords) == ("Another sentence.", ("graphs",))
    assert store.insights.missing_count(METHOD, VERSION) == 1
    view = store.papers.get("2608.00001")
    assert view is not None and view.summary == "Another sentence." and view.keywords == ("graphs",)
    bare = store.papers.get("2608.00002")
    assert bare is not None and bare.summary is None and bare.keywords == ()


def test_an_older_method_counts_as_missing_and_imports_skip_current_ones(store: Store) -> None:
    store.papers.upsert([paper("2608.00001"), paper("2608.00002")])
    first = store.papers.id_of("2608.00001")
    assert first is not None
    store.insights.save([(first, dataclasses.replace(SAMPLE, version=VERSION - 1))])
    assert store.insights.missing_count(METHOD, VERSION) == 2
    assert store.insights.import_insights([("2608.00001", SAMPLE), ("2608.00002", SAMPLE), ("2101.99999", SAMPLE)]) == 2
    assert store.insights.missing_count(METHOD, VERSION) == 0
    assert store.insights.import_insights([("2608.00001", SAMPLE)]) == 0


def test_a_reworded_paper_loses_its_insight_an_unchanged_one_keeps_it(store: Store) -> None:
    store.papers.upsert([paper("2608.00001"), paper("2608.00002")])
    ids = [store.papers.id_of(k) for k in ("2608.00001", "2608.00002")]
    store.insights.save([(i, SAMPLE) for i in ids if i is not None])
    reworded = dataclasses.replace(paper("2608.00001", abstract=ABSTRACT + " Code is released."), version=2)
    relinked = dataclasses.replace(paper("2608.00002"), code_url="https://github.com/a/b")
    store.papers.upsert([reworded, relinked])
    assert ids[0] is not None and store.insights.get(ids[0]) is None
    assert ids[1] is not None and store.insights.get(ids[1]) is not None


def test_stored_vectors_are_offered_with_the_missing_papers(store: Store) -> None:
    store.papers.upsert([paper("2608.00001"), paper("2608.00002")])
    first = store.papers.id_of("2608.00001")
    assert first is not None
    vector = np.arange(4, dtype=np.float32)
    store.embeddings.save("m", [(first, vector)])
    pending = store.insights.missing(METHOD, VERSION, model="m", limit=10)
    assert [p.vector is not None for p in pending] == [True, False]
    assert np.array_equal(np.frombuffer(pending[0].vector or b"", dtype="<f4"), vector)
    assert [p.paper_id for p in store.insights.missing(METHOD, VERSION, model="m", limit=10, after=first)] != [first]


class Recorder:
    """A stand-in embedder that records what it was asked to embed (the real one is used below)."""

    name, dim = "fake", 4

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:  # type: ignore[type-arg]
        self.texts += texts
        rows = np.ones((len(texts), self.dim), dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_compute_reuses_stored_vectors_and_keeps_the_order() -> None:
    stored = Pending(1, paper("2608.00001", title="Stored"), np.ones(4, dtype="<f4").tobytes())
    fresh = Pending(2, paper("2608.00002", title="Fresh"), None)
    recorder = Recorder()
    results = compute([fresh, stored], recorder)
    assert len(results) == 2 and all(r.summary for r in results)
    documents = [t for t in recorder.texts if t.startswith(("Stored. ", "Fresh. "))]
    assert documents == [f"Fresh. {ABSTRACT}"]  # the stored paper's document vector was not recomputed


@pytest.mark.slow
def test_summarize_command_is_resumable(settings: Settings, store: Store, tmp_path: Path) -> None:
    store.papers.upsert([paper(f"2608.0000{i}") for i in range(1, 4)] + [paper("2608.00009", abstract="")])
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path / "data"), "--database-url", settings.db_url, "summarize", "--batch", "2"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert f"4 papers summarized with {METHOD} v{VERSION}" in first.output
    assert store.insights.missing_count(METHOD, VERSION) == 0
    view = store.papers.get("2608.00001")
    assert view is not None and view.summary and len(view.keywords) >= 3
    empty = store.papers.get("2608.00009")
    assert empty is not None and empty.summary is None  # no abstract, no summary sentence
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "every paper has a summary" in again.output


# -- the site: worker, API (through huggingface_hub), cards and the paper page --------------------------


def _summarized(site: Site, arxiv_id: str) -> Insight:
    """An insight of a demo paper in the site's own store (tests here may change it)."""
    row_id = site.store.papers.id_of(arxiv_id)
    assert row_id is not None
    insight = Insight("A sentence that says what the paper does.", ("graph neural networks", "sparse attention"))
    site.store.insights.save([(row_id, insight)])
    return insight


def test_the_api_gives_ai_summary_and_ai_keywords_to_huggingface_hub(site: Site, live: str) -> None:
    insight = _summarized(site, "2608.19880")
    info = HfApi(endpoint=live, token=False).paper_info("2608.19880")
    assert info.ai_summary == insight.summary and info.ai_keywords == list(insight.keywords)
    day = site.guest().get("/api/daily_papers", params={"date": "2026-08-21"}).json()
    item = next(i for i in day if i["paper"]["id"] == "2608.19880")
    assert item["paper"]["ai_summary"] == insight.summary  # inside the paper object, as Hugging Face has it


def test_cards_show_the_summary_and_the_page_its_keywords(site: Site) -> None:
    insight = _summarized(site, "2608.19880")
    listing = site.guest().get("/papers/date/2026-08-21")
    assert listing.status_code == 200 and f'<p class="summary">{insight.summary}</p>' in listing.text
    page = site.guest().get("/papers/2608.19880")
    assert page.status_code == 200 and insight.summary in page.text
    assert '<a class="chip" href="/search?q=graph%20neural%20networks">graph neural networks</a>' in page.text


def test_the_worker_summarizes_the_paper_it_fetched(site: Site) -> None:
    from broadsheet.worker import request_fetch

    request_fetch(site.store, "2104.12255", user=None, cap=5)
    assert site.drain(arxiv_delay=0.0) >= 1
    view = site.store.papers.get("2104.12255")
    assert view is not None and view.summary and view.keywords


def test_demo_insight_files_are_read_and_imported(store: Store, tmp_path: Path) -> None:
    store.papers.upsert([paper("2608.00001")])
    path = tmp_path / "insights.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(json.dumps({"id": "2608.00001", "summary": SAMPLE.summary, "keywords": list(SAMPLE.keywords)}) + "\n")
    assert demo.read_insights(path) == [("2608.00001", SAMPLE)]
    assert store.insights.import_insights(demo.read_insights(path)) == 1
    view = store.papers.get("2608.00001")
    assert view is not None and view.summary == SAMPLE.summary
