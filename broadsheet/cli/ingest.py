"""Ingestion commands: import, sync (arXiv announcements), harvest (OAI-PMH), fetch (arXiv API), sync-hf.

`import` exits 1 when a file cannot be read at all (missing, not gzip, not the format), else 4
when a file was damaged or cut short (what could be read was imported), else 0; malformed
lines are reported and skipped and do not change the exit code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from broadsheet import arxiv, ids
from broadsheet.arxiv import oai, rss
from broadsheet.arxiv.api import ArxivApiError
from broadsheet.cli import app, embed_new, err, fail, make_fetcher, open_store, out, print_reports
from broadsheet.config import Settings
from broadsheet.ingest import hf
from broadsheet.ingest.dump import RecordError
from broadsheet.ingest.fetcher import FetchError
from broadsheet.ingest.importer import FORMATS, Format, ImportFailed, ImportReport, Options, import_file
from broadsheet.models import UpsertResult
from broadsheet.store import Store
from broadsheet.worker import request_categories

DAMAGED = 4  # exit code: a file was damaged or cut short; what could be read was imported
COLUMNS = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
           TextColumn("{task.fields[rate]}"), TimeElapsedColumn())  # fmt: skip


def _day(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise fail(f"invalid {option} {value!r}: expected YYYY-MM-DD", 2) from None


def _changed(result: UpsertResult) -> None:
    """Exit 1 when nothing changed, so cron can chain `sync && embed`."""
    if result.new + result.updated == 0:
        raise typer.Exit(1)


@contextmanager
def _outside(name: str) -> Iterator[None]:
    """Turn an outside service's failure into a clear message and exit code 3."""
    try:
        yield
    except (FetchError, ArxivApiError, rss.FeedError, hf.HfError, oai.HarvestError) as exc:
        raise fail(f"{name}: {exc}", 3) from None


@app.command("import")
def import_(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files to import (.jsonl, .json, optionally .gz).")],
    fmt: Annotated[str | None, typer.Option("--format", help=f"One of {', '.join(FORMATS)} (default: detect).")] = None,
    day: Annotated[
        str | None, typer.Option("--date", help="Daily-Papers day of an hf file (default: from its name).")
    ] = None,
) -> None:
    """Import arXiv metadata (JSON Lines, Kaggle layout) or Hugging Face daily_papers responses.

    Exits 1 if a file cannot be read at all, 4 if one was damaged or cut short (what could be read was imported).
    """
    settings: Settings = ctx.obj
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", 2)
    options = Options(zone=settings.zone, day=_day(day, "--date"))
    store = open_store(settings)
    failures = damaged = 0
    for path in paths:
        try:
            report = _import_with_progress(store, path, options, fmt)
        except ImportFailed as exc:
            err.print(str(exc), style="red", highlight=False, markup=False)
            failures += 1
            continue
        print_reports([report])
        if report.damaged:
            err.print(f"{path}: {report.damaged}; what was read before is imported", highlight=False, markup=False)
            damaged += 1
    embed_new(store, settings)
    store.close()
    if failures or damaged:
        raise typer.Exit(1 if failures else DAMAGED)


def _import_with_progress(store: Store, path: Path, options: Options, fmt: str | None) -> ImportReport:
    started = time.monotonic()
    with Progress(*COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task(f"Importing {path.name}", total=None, rate="")

        def progress(done: int, total: int, lines: int) -> None:
            rate = lines / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=done, total=total, rate=f"{lines:,} lines · {rate:,.0f}/s")

        return import_file(store, path, options, fmt=cast("Format | None", fmt), progress=progress)


@app.command()
def sync(
    ctx: typer.Context,
    categories: Annotated[
        str | None, typer.Option(help="Comma-separated arXiv categories (default: the categories setting).")
    ] = None,
) -> None:
    """Store today's arXiv announcements (new, cross-listed, replaced papers) for the categories."""
    settings: Settings = ctx.obj
    chosen = settings.categories if categories is None else categories.replace("+", ",").split(",")
    cats = [c.strip() for c in chosen if c.strip()]
    try:
        rss.feed_url(settings.arxiv_rss_url, cats)
    except ValueError as exc:
        raise fail(str(exc), 2) from None
    store = open_store(settings)
    fetcher = make_fetcher(settings, interval=settings.arxiv_delay, store=store)
    with _outside("arXiv feed"):
        report = arxiv.sync(store, fetcher, cats, url=settings.arxiv_rss_url)
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.kinds.items())) or "no announcements"
    r = report.result
    out.print(
        f"{'+'.join(cats)}: {kinds} -> {r.new} new, {r.updated} updated, {r.unchanged} unchanged", highlight=False
    )
    _changed(r)


@app.command()
def harvest(
    ctx: typer.Context,
    from_: Annotated[str, typer.Option("--from", help="Harvest records changed on or after this date (YYYY-MM-DD).")],
    until: Annotated[str | None, typer.Option(help="... and on or before this date.")] = None,
    set_spec: Annotated[str | None, typer.Option("--set", help="OAI set, e.g. cs or cs:cs:LG.")] = None,
    prefix: Annotated[str, typer.Option(help=f"Metadata format: {', '.join(oai.PREFIXES)}.")] = "arXiv",
    resume: Annotated[bool, typer.Option(help="Continue the unfinished harvest with the same parameters.")] = False,
) -> None:
    """Backfill from arXiv's OAI-PMH service, page by page; an interrupted harvest resumes with --resume."""
    settings: Settings = ctx.obj
    start, end = _day(from_, "--from"), _day(until, "--until")
    if start is None or (end is not None and end < start):
        raise fail("--until must not be before --from", 2)
    if prefix not in oai.PREFIXES:
        raise fail(f"unknown --prefix {prefix!r}: use one of {', '.join(oai.PREFIXES)}", 2)
    params = oai.HarvestParams(settings.arxiv_oai_url, prefix, start, end, set_spec)
    store = open_store(settings)
    started = time.monotonic()
    with _outside("OAI-PMH harvest"), Progress(*COLUMNS, console=err, transient=True) as bar:
        task = bar.add_task("Harvesting", total=None, rate="")

        def on_page(checkpoint: oai.Checkpoint, page: oai.OaiPage) -> None:
            rate = checkpoint.records / max(time.monotonic() - started, 1e-6)
            bar.update(task, completed=checkpoint.records, total=page.complete_size, rate=f"{rate:,.0f} records/s")

        fetcher = make_fetcher(settings, interval=settings.arxiv_delay, store=store)
        result = oai.harvest(store, fetcher, params, resume=resume, on_page=on_page)
    r = result.upserts
    out.print(
        f"harvest done: {result.pages} pages, {result.records} records ({r.new} new, {r.updated} updated, "
        f"{r.unchanged} unchanged), {result.deleted} deleted",
        highlight=False,
    )
    embed_new(store, settings)


@app.command()
def fetch(
    ctx: typer.Context,
    arxiv_ids: Annotated[list[str], typer.Argument(help="arXiv ids or URLs (old-style and versioned ids work).")],
) -> None:
    """Fetch papers by id from the arXiv API (at most one request per 3 s, ids batched)."""
    settings: Settings = ctx.obj
    try:
        wanted = [ids.parse(i).id for i in arxiv_ids]
    except ids.InvalidArxivId as exc:
        raise fail(str(exc), 2) from None
    store = open_store(settings)
    with _outside("arXiv API"):
        fetcher = make_fetcher(settings, interval=settings.arxiv_delay, store=store)
        report = arxiv.fetch_into(store, fetcher, wanted, url=settings.arxiv_api_url)
    r = report.result
    out.print(f"{len(report.found)} found: {r.new} new, {r.updated} updated, {r.unchanged} unchanged", highlight=False)
    embed_new(store, settings)
    if report.missing:
        raise fail(f"not on arXiv: {', '.join(report.missing)}", 1)


@app.command("sync-hf")
def sync_hf(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="Day to mirror (default: today, New York time).")] = None,
) -> None:
    """Mirror one day of Hugging Face Daily Papers (entries and upvotes) from its API."""
    settings: Settings = ctx.obj
    the_day = _day(day, "--date") or datetime.now(settings.zone).date()
    store = open_store(settings)
    with _outside("Hugging Face"):
        fetcher = make_fetcher(settings, interval=1.0, store=store, service="hf")
        raw = hf.fetch_day(fetcher, the_day, url=settings.hf_api_url)
    records, errors = [], 0
    for record in hf.records(raw, day=the_day, zone=settings.zone):
        if isinstance(record, RecordError):
            errors += 1
        else:
            records.append(record)
    r = store.daily.upsert(records, source="hf")
    request_categories(store)  # Hugging Face items carry no arXiv categories: the worker asks arXiv for them
    skipped = f", {errors} malformed skipped" if errors else ""
    out.print(f"{the_day}: {r.new} new, {r.updated} updated, {r.unchanged} unchanged{skipped}", highlight=False)
    embed_new(store, settings)
    _changed(r)
