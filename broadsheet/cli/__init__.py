"""`broadsheet` command line: each command parses, calls the library, prints.

Exit codes: 0 done (for sync commands: something changed), 1 done but nothing changed,
something was not found, or a file could not be read at all, 2 bad usage or settings, 3 an outside
service failed, 4 (`import`) a file was damaged or cut short: what could be read was imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from broadsheet.config import Settings
from broadsheet.ingest.fetcher import Fetcher, Pace, Politeness
from broadsheet.ingest.importer import ImportReport
from broadsheet.store import Store

if TYPE_CHECKING:
    from broadsheet.search.embed import MiniLM

app = typer.Typer(help="Broadsheet: a self-hostable Daily Papers site for arXiv.", no_args_is_help=True)
papers_app = typer.Typer(help="Look at stored papers.", no_args_is_help=True)
app.add_typer(papers_app, name="papers")
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code)


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (env BROADSHEET_DATA_DIR).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (env BROADSHEET_DATABASE_URL).")
    ] = None,
) -> None:
    """Settings come from BROADSHEET_* environment variables and .env; options here override them."""
    overrides: dict[str, Any] = {"data_dir": data_dir, "database_url": database_url}
    try:
        ctx.obj = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise fail(f"invalid settings: {problems}", 2) from None


def open_store(settings: Settings) -> Store:
    store = Store.open(settings.db_url)
    store.migrate()
    return store


def make_fetcher(settings: Settings, *, interval: float, store: Store | None = None, service: str = "arxiv") -> Fetcher:
    """A polite fetcher; with `store`, requests are spaced for the whole deployment (every host and worker)."""
    from broadsheet.worker import user_agent

    politeness = Politeness(
        min_interval=interval,
        retries=settings.http_retries,
        backoff=settings.http_backoff,
        timeout=settings.http_timeout,
    )
    pace = Pace(store.pacer.reserve, service, interval) if store is not None else None
    return Fetcher(politeness, user_agent=user_agent(settings), pace=pace)


def print_reports(reports: list[ImportReport]) -> None:
    for r in reports:
        res = r.result
        out.print(
            f"{r.path.name} ({r.format}): {res.new:,} new, {res.updated:,} updated, {res.unchanged:,} unchanged"
            + (f", {r.error_count:,} malformed skipped" if r.error_count else ""),
            highlight=False,
        )
        for e in r.errors[:10]:
            err.print(f"  line {e.line}: {e.message}", highlight=False, markup=False)
        if r.error_count > 10:
            err.print(f"  … and {r.error_count - 10:,} more", highlight=False)


def embedder_for(settings: Settings) -> MiniLM:
    from broadsheet.search.embed import MiniLM

    return MiniLM(max_tokens=settings.embed_max_tokens, device=settings.embed_device)


def embed_new(store: Store, settings: Settings) -> None:
    """After an ingest: embed the new papers now if they are few, else say how to do it."""
    from broadsheet.search.embed import embed_pending, minilm_name

    pending = store.embeddings.missing_count(minilm_name(settings.embed_max_tokens))
    if 0 < pending <= settings.embed_on_ingest:
        embed_pending(store, embedder_for(settings))
        out.print(f"{pending:,} new papers embedded for search", highlight=False)
    elif pending:
        out.print(f"{pending:,} papers await embedding: run `broadsheet embed`", highlight=False)


@contextmanager
def paper_progress(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar with papers/s and ETA for a batch pipeline stage (`embed`, `summarize`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TextColumn("ETA"), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total, rate="")

        def progress(done: int, _total: int) -> None:
            bar.update(task, completed=done, rate=f"{done / max(time.monotonic() - started, 1e-6):,.1f} papers/s")

        yield progress


def main() -> None:
    app()


# isort: off
from broadsheet.cli import site  # noqa: E402  (registers the commands, in help order)
from broadsheet.cli import ingest  # noqa: E402
from broadsheet.cli import search  # noqa: E402
from broadsheet.cli import insights  # noqa: E402
from broadsheet.cli import users  # noqa: E402
from broadsheet.cli import tokens  # noqa: E402
from broadsheet.cli import digests  # noqa: E402
from broadsheet.cli import mcp  # noqa: E402
from broadsheet.cli import migrate  # noqa: E402, F401
# isort: on

__all__ = ["app", "digests", "ingest", "insights", "main", "mcp", "search", "site", "tokens", "users"]
