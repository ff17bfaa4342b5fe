"""`broadsheet summarize`: a one-sentence summary and keywords for every paper (broadsheet.insights)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated

import numpy as np
import typer

from broadsheet.cli import app, embedder_for, open_store, out, paper_progress
from broadsheet.config import Settings
from broadsheet.insights import METHOD, VERSION, Insight, insights
from broadsheet.search.embed import Embedder
from broadsheet.store import Store
from broadsheet.store.insights import Pending


@app.command()
def summarize(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, max=1024, help="Papers per batch (each batch is committed).")] = 32,
) -> None:
    """Summarize every paper that lacks a summary from the current method; interrupt and rerun to resume."""
    settings: Settings = ctx.obj
    store = open_store(settings)
    total = store.insights.missing_count(METHOD, VERSION)
    if not total:
        out.print(f"every paper has a summary from {METHOD} v{VERSION}", highlight=False)
        return
    embedder = embedder_for(settings)
    started = time.monotonic()
    with paper_progress("Summarizing", total) as progress:
        done = summarize_pending(store, embedder, batch=batch, progress=progress)
    took = time.monotonic() - started
    out.print(f"{done:,} papers summarized with {METHOD} v{VERSION} in {took:.0f} s", highlight=False)


def summarize_pending(
    store: Store, embedder: Embedder, *, batch: int = 32, progress: Callable[[int, int], None] | None = None
) -> int:
    """Compute the insight of every paper without one from METHOD/VERSION, batch by batch (each batch committed).

    A paper's stored vector for `embedder` is reused as its document vector. Safe to interrupt: a rerun
    continues with the papers still missing.
    """
    total = store.insights.missing_count(METHOD, VERSION)
    done, after = 0, 0
    while pending := store.insights.missing(METHOD, VERSION, model=embedder.name, limit=batch, after=after):
        store.insights.save(list(zip([p.paper_id for p in pending], compute(pending, embedder), strict=True)))
        done, after = done + len(pending), pending[-1].paper_id
        if progress:
            progress(done, total)
    return done


def compute(pending: Sequence[Pending], embedder: Embedder) -> list[Insight]:
    """Insights in order: papers with a stored vector reuse it, the others are embedded here."""
    stored = [i for i, p in enumerate(pending) if p.vector is not None]
    fresh = [i for i, p in enumerate(pending) if p.vector is None]
    results: dict[int, Insight] = {}
    if stored:
        vectors = np.stack([np.frombuffer(pending[i].vector or b"", dtype="<f4") for i in stored])
        found = insights([pending[i].paper for i in stored], embedder, doc_vectors=vectors)
        results.update(zip(stored, found, strict=True))
    if fresh:
        results.update(zip(fresh, insights([pending[i].paper for i in fresh], embedder), strict=True))
    return [results[i] for i in range(len(pending))]
