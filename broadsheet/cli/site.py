"""Site commands: init, serve, demo, papers show."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from broadsheet import demo, ids
from broadsheet.cli import app, fail, open_store, out, papers_app, print_reports
from broadsheet.config import Settings
from broadsheet.ingest.metadata import display_text, display_title
from broadsheet.search.embed import minilm_name
from broadsheet.store import Store


def model_name(settings: Settings) -> str:
    return minilm_name(settings.embed_max_tokens)


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
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Web processes sharing the port (uvicorn workers). With more than one, the background-job "
            "threads (BROADSHEET_WORKER_THREADS) run once, in this supervising process, not in each web process.",
        ),
    ] = 1,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
) -> None:
    """Serve the site; migrates the database and loads the demo corpus into an empty one."""
    import uvicorn

    from broadsheet.web import create_app

    if reload and workers > 1:
        raise fail("--reload and --workers cannot be combined", 2)
    given = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings: Settings = ctx.obj.model_copy(update=given)  # links in mail and feeds follow the real address
    store = open_store(settings)
    if settings.load_demo and store.papers.count() == 0:
        out.print("Empty database: loading the demo corpus…")
        print_reports(demo.load(store, settings.zone, model=model_name(settings)))
    if not settings.smtp_host:
        out.print(f"No SMTP server configured: mail is written to {settings.mail_dir}/", highlight=False)
    if reload or workers > 1:
        _serve_processes(settings, store, workers=workers, reload=reload)
    else:
        uvicorn.run(create_app(settings, store), host=settings.host, port=settings.port, access_log=settings.access_log)


def _serve_processes(settings: Settings, store: Store, *, workers: int, reload: bool) -> None:
    """uvicorn's own processes, each building the app from the environment (`app_from_env`).

    The settings this command resolved (options included) go to them as BROADSHEET_* variables, so
    every process builds the same Settings. The job threads run here, once, whatever the process count."""
    import os

    import uvicorn

    from broadsheet.cli import embedder_for
    from broadsheet.worker import start_threads

    os.environ.update(settings_env(settings))
    if reload:  # one web process at a time: the job threads stay in it, as with a single process
        store.close()
        uvicorn.run("broadsheet.web:app_from_env", factory=True, reload=True, host=settings.host, port=settings.port)
        return
    os.environ["BROADSHEET_WORKER_THREADS"] = "0"
    stop, threads = start_threads(store, settings, embedder_for(settings))
    try:
        uvicorn.run(
            "broadsheet.web:app_from_env",
            factory=True,
            workers=workers,
            host=settings.host,
            port=settings.port,
            access_log=settings.access_log,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        store.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """What the CLI resolved, as the variables `Settings()` reads: paths absolute, the database URL explicit."""
    return {
        "BROADSHEET_DATA_DIR": str(settings.data_dir.resolve()),
        "BROADSHEET_DATABASE_URL": settings.db_url,
        "BROADSHEET_HOST": settings.host,
        "BROADSHEET_PORT": str(settings.port),
    }


@app.command()
def worker(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run the jobs that are due now, then exit.")] = False,
) -> None:
    """Run background jobs (fetch papers from arXiv, send mail); any number may run, on any host."""
    import signal
    import threading

    from broadsheet.cli import embedder_for
    from broadsheet.worker import Worker

    settings: Settings = ctx.obj
    store = open_store(settings)
    runner = Worker(store, settings, embedder_for(settings))
    if once:
        done = 0
        while runner.run_once():
            done += 1
        out.print(f"{done} jobs run; {store.jobs.waiting()} waiting", highlight=False)
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    out.print("worker running (Ctrl-C to stop)")
    runner.run(stop)


@app.command("demo")
def demo_(
    ctx: typer.Context,
    recent: Annotated[
        bool,
        typer.Option(
            "--recent",
            help="Also re-date 10 demo papers as published today and list 5 of them on today's Daily Papers "
            "(entry source 'demo-recent', marked as demo data), so there is something to vote on and to submit. "
            "Safe to repeat the same day.",
        ),
    ] = False,
) -> None:
    """Load the bundled demo corpus (safe to repeat: nothing changes the second time)."""
    settings: Settings = ctx.obj
    store = open_store(settings)
    print_reports(demo.load(store, settings.zone, model=model_name(settings)))
    if recent:
        made = demo.list_recent(store, settings.zone)
        out.print(f"Demo data listed today: {', '.join(made.listed) or 'none'}", highlight=False)
        out.print(f"Published today, ready to submit: {', '.join(made.submittable) or 'none'}", highlight=False)
    store.close()


@papers_app.command("show")
def papers_show(
    ctx: typer.Context,
    arxiv_id: Annotated[str, typer.Argument(help="arXiv id or URL, e.g. 2401.01234 or hep-th/9901001.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the HF-shaped JSON.")] = False,
) -> None:
    """Show one paper."""
    from broadsheet import shapes

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
        out.print_json(json.dumps(shapes.as_json(shapes.paper_json(view))))
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
