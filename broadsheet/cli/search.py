"""Search commands: embed (vectors for every paper), search (the site's hybrid search, from the shell)."""

from __future__ import annotations

import json
import time
from typing import Annotated

import typer
from pydantic import ValidationError

from broadsheet import search as search_mod
from broadsheet.cli import app, embedder_for, fail, open_store, out, paper_progress
from broadsheet.config import Settings
from broadsheet.ingest.metadata import display_title
from broadsheet.search.embed import embed_pending


@app.command()
def embed(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, max=1024, help="Papers per batch (each batch is committed).")] = 32,
) -> None:
    """Compute vectors for every paper that lacks one for the current model; interrupt and rerun to resume."""
    settings: Settings = ctx.obj
    store = open_store(settings)
    embedder = embedder_for(settings)
    total = store.embeddings.missing_count(embedder.name)
    started = time.monotonic()
    with paper_progress("Embedding", total) as progress:
        done = embed_pending(store, embedder, batch=batch, progress=progress)
    took = time.monotonic() - started
    out.print(f"{done:,} papers embedded with {embedder.name} in {took:.0f} s", highlight=False)


@app.command("search")
def search_cmd(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Words, a question, an arXiv id or a title.")],
    limit: Annotated[int, typer.Option(min=1, max=100, help="How many results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of a list.")] = False,
    category: Annotated[str | None, typer.Option(help="Only papers in this arXiv category.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="Published on or after YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Published on or before YYYY-MM-DD.")] = None,
    daily: Annotated[bool, typer.Option(help="Only papers listed on Daily Papers.")] = False,
    has_code: Annotated[bool, typer.Option(help="Only papers with a code repository.")] = False,
) -> None:
    """Search titles, abstracts and authors by words and by meaning (the site's search)."""
    from broadsheet import shapes
    from broadsheet.search.engines import make_engine
    from broadsheet.search.params import SearchParams

    try:
        params = SearchParams(q=query, category=category, since=since, until=until, daily=daily, has_code=has_code)
        filters = params.filters()
        search_mod.validate(query)
    except ValidationError as exc:
        raise fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 2) from None
    except search_mod.InvalidQuery as exc:
        raise fail(str(exc), 2) from None
    store = open_store(ctx.obj)
    hits = make_engine(ctx.obj, store).search(query, filters=filters, limit=limit, sort=params.sort, mode=params.mode)
    if as_json:
        words = search_mod.terms(query)
        out.print_json(json.dumps([shapes.as_json(shapes.search_json(h.view, words, score=h.score)) for h in hits]))
        return
    if not hits:
        raise fail("no papers match", 1)
    for rank, hit in enumerate(hits, start=1):
        p = hit.view.paper
        out.print(f"{rank:>3}. [bold]{display_title(p.title)}[/]  [dim]arXiv:{p.arxiv_id} · {hit.score:.3f}[/]")
