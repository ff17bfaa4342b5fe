"""`broadsheet` command line: each command parses, calls the library, prints."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from broadsheet import demo, ids
from broadsheet.config import Settings
from broadsheet.importer import FORMATS, ImportFailed, ImportReport, Options, import_file
from broadsheet.metadata import display_text, display_title
from broadsheet.store import Store

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


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to the current schema."""
    settings: Settings = ctx.obj
    open_store(settings).close()
    out.print(f"Database ready: {settings.db_url}", highlight=False)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (env BROADSHEET_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (env BROADSHEET_PORT).", min=1, max=65535)] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the site; migrates the database and loads the demo corpus into an empty one."""
    import uvicorn

    from broadsheet.web import create_app

    settings: Settings = ctx.obj
    store = open_store(settings)
    if settings.load_demo and store.papers.count() == 0:
        out.print("Empty database: loading the demo corpus…")
        _print_reports(demo.load(store, settings.zone))
    bind = {"host": host or settings.host, "port": port or settings.port}
    if reload:
        store.close()
        uvicorn.run("broadsheet.web:app_from_env", factory=True, reload=True, **bind)  # type: ignore[arg-type]
    else:
        uvicorn.run(create_app(settings, store), **bind)  # type: ignore[arg-type]


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files to import (.jsonl, .json, optionally .gz).")],
    fmt: Annotated[str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)} (default: detect).")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Daily-Papers day of an hf file (default: from its name).")
    ] = None,
) -> None:
    """Import arXiv metadata (JSON Lines, Kaggle layout) or Hugging Face daily_papers responses."""
    settings: Settings = ctx.obj
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", 2)
    try:
        the_day = date.fromisoformat(day) if day else None
    except ValueError:
        raise fail(f"invalid --date {day!r}: expected YYYY-MM-DD", 2) from None
    store = open_store(settings)
    options = Options(zone=settings.zone, day=the_day)
    failures = 0
    for path in paths:
        try:
            report = _import_with_progress(store, path, options, fmt)
        except ImportFailed as exc:
            err.print(f"[red]{exc}[/]", highlight=False)
            failures += 1
            continue
        _print_reports([report])
    store.close()
    if failures:
        raise typer.Exit(1)


def _import_with_progress(store: Store, path: Path, options: Options, fmt: str | None) -> ImportReport:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn())  # fmt: skip
    started = time.monotonic()
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(f"Importing {path.name}", total=None, rate="")

        def progress(done: int, total: int, lines: int) -> None:
            rate = lines / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, total=total, rate=f"{lines:,} lines · {rate:,.0f}/s")

        return import_file(store, path, options, fmt=fmt, progress=progress)  # type: ignore[arg-type]


def _print_reports(reports: list[ImportReport]) -> None:
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


@app.command("demo")
def demo_(ctx: typer.Context) -> None:
    """Load the bundled demo corpus (safe to repeat: nothing changes the second time)."""
    settings: Settings = ctx.obj
    store = open_store(settings)
    _print_reports(demo.load(store, settings.zone))
    store.close()


@papers_app.command("show")
def papers_show(
    ctx: typer.Context,
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id or URL, e.g. 2401.01234 or hep-th/9901001.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the HF-shaped JSON.")] = False,
) -> None:
    """Show one paper."""
    from broadsheet.web import shapes

    try:
        key = ids.parse(arxiv_id).id
    except ids.InvalidArxivId as exc:
        raise fail(str(exc), 2) from None
    store = open_store(ctx.obj)
    view = store.papers.get(key)
    store.close()
    if view is None:
        raise fail(f"paper {key} is not in the database")
    if as_json:
        out.print_json(json.dumps(shapes.paper(view)))
        return
    p = view.paper
    out.print(f"[bold]{display_title(p.title)}[/]", highlight=False)
    out.print(", ".join(p.authors), highlight=False)
    facts = [
        f"arXiv:{p.arxiv_id}" + (f"v{p.version}" if p.version else ""),
        " ".join(p.categories),
        f"published {p.published:%Y-%m-%d}",
        f"{view.upvotes} upvotes",
        f"{view.num_comments} comments",
    ]
    out.print(" · ".join(f for f in facts if f), style="dim", highlight=False)
    if view.day:
        out.print(f"On Daily Papers: {view.day.isoformat()}", highlight=False)
    for link in (p.code_url, p.project_url):
        if link:
            out.print(link, highlight=False)
    out.print()
    out.print(display_text(p.abstract), highlight=False, markup=False)


def main() -> None:
    app()
