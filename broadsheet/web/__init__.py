"""The web app: `create_app(settings, store)` returns a FastAPI app serving pages and the JSON API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException as StarletteHTTPException

from broadsheet import ids
from broadsheet.community.tokens import secret_key
from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError
from broadsheet.ingest.metadata import display_text, display_title, tex_parts, tex_to_text
from broadsheet.markup import render as render_markdown
from broadsheet.search import Engine
from broadsheet.search.engines import make_engine
from broadsheet.search.highlight import Segment
from broadsheet.store import Store
from broadsheet.throttle import Throttle
from broadsheet.web import accounts, agents, api, community, feeds, openapi, pages, security, subscriptions, tokens
from broadsheet.web.cache import CacheLayer
from broadsheet.web.collections import install as install_collections
from broadsheet.web.deps import VOTES_PER_MINUTE
from broadsheet.web.exports import install as install_exports
from broadsheet.web.follows import install as install_follows
from broadsheet.web.foryou import install as install_foryou

HERE = Path(__file__).parent


def create_app(settings: Settings, store: Store, engine: Engine | None = None) -> FastAPI:
    """The site and API over `store`; `engine` (search) is built from the settings unless given.

    The app's lifespan runs `settings.worker_threads` background-job threads (fetching papers,
    sending mail), so the embedded default needs no other process.
    """
    app = FastAPI(
        title=settings.site_name,
        description="Daily arXiv papers, community-curated. The `/api` routes follow Hugging Face's papers API.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
        # Streamed (chunked) bodies are cut off by FastAPI at twice the limit; declared ones above the
        # limit get a JSON 413 from security.Guard before anything is read.
        max_body_size=2 * security.MAX_BODY,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.engine = engine or make_engine(settings, store)
    app.state.secret = secret_key(settings, store)
    app.state.templates = _templates(settings)
    app.state.search_throttle = Throttle(settings.search_rate, settings.search_burst)
    app.state.vote_throttle = Throttle(VOTES_PER_MINUTE / 60, VOTES_PER_MINUTE)
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    # Order matters: specific routes (…/vote, …/comments, /papers/submit) before `/papers/{id:path}`.
    routers = (community.api, community.pages, accounts.router, subscriptions.router, subscriptions.tokened,
               feeds.router, tokens.router, api.router, agents.router, pages.router)  # fmt: skip
    app.add_api_route("/api/docs", _docs, include_in_schema=False)
    app.state.mcp = _mcp(app) if settings.mcp_enabled else None
    app.add_api_route("/docs", _docs, include_in_schema=False)
    install_exports(app)  # `/collections/{owner}/{name}.bib` before the collection page takes it
    install_collections(app)  # its routes before `/api/{rest}` and `/papers/{id}`
    install_follows(app)  # the same
    install_foryou(app)
    for router in routers:
        app.include_router(router)
    app.add_exception_handler(BroadsheetError, _named_error)
    app.add_exception_handler(security.LoginRequired, _login_required)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _starlette_error)
    # Outermost last: Guard (cookies, CSRF token, headers), then the cache of anonymous GETs.
    app.add_middleware(CacheLayer, version=store.changes.current, grace=settings.page_cache_grace)
    app.add_middleware(security.Guard, secret=app.state.secret)
    openapi.install(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from broadsheet.worker import start_threads

    stop, threads = start_threads(app.state.store, app.state.settings, app.state.engine.embedder)
    async with app.state.mcp.running() if app.state.mcp else nullcontext():  # the MCP endpoint's sessions
        yield
    stop.set()
    for thread in threads:
        thread.join(timeout=30)


def _mcp(app: FastAPI) -> Any:
    """The MCP tools at `/mcp` (streamable HTTP), for agents."""
    from broadsheet.mcp_server import Endpoint, build

    endpoint = Endpoint(build(app.state.settings, app.state.store, app.state.engine), app.state.settings)
    app.add_route("/mcp", endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False)  # type: ignore[arg-type]
    return endpoint


def _docs() -> HTMLResponse:
    """Swagger UI from the swagger-ui-bundle package's files: works offline, no CDN."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="API docs",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/favicon.svg",
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse(security.login_redirect(request), status_code=303)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (used by `broadsheet serve --reload`)."""
    settings = Settings()
    store = Store.open(settings.db_url)
    store.migrate()
    return create_app(settings, store)


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status_code=status)
    templates = request.app.state.templates
    context = {"status": status, "message": message}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)  # type: ignore[no-any-return]


async def _named_error(request: Request, exc: Exception) -> Response:
    """Every named error (broadsheet.errors), from pages and API alike: its status and message."""
    assert isinstance(exc, BroadsheetError)
    return _error(request, exc.status, exc.message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ())[1:]) or "request"
        problems.append(f"{where}: {err.get('msg', 'invalid value')}")
    return _error(request, 400, "; ".join(problems) or "invalid request")


async def _starlette_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = "Page not found." if exc.status_code == 404 else str(exc.detail)
    return _error(request, exc.status_code, message)


def _context(request: Request) -> dict[str, Any]:
    """In every template: the viewer (or None) and the CSRF token for forms."""
    return {"viewer": security.current_user(request), "csrf_token": security.csrf_token(request)}


def _templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_context])
    env = templates.env
    env.globals.update(site_name=settings.site_name, abs_url=ids.abs_url, pdf_url=ids.pdf_url)
    env.filters.update(
        title=lambda text: tex_to_text(display_title(text)),  # plain text: TeX rendered, then autoescaped
        paragraphs=lambda text: display_text(text).split("\n\n"),  # still TeX: each goes through `tex`
        tex=tex,
        marks=marks,
        short_authors=short_authors,
        http_url=http_url,
        markdown=render_markdown,
        day=lambda d: f"{d.day} {d:%b %Y}" if isinstance(d, date) else "",
    )
    return templates


def http_url(url: str | None) -> str:
    """Only http(s) links reach an href; anything else (javascript:, data:) becomes inert."""
    return url if isinstance(url, str) and url.lower().startswith(("https://", "http://")) else "#"


def short_authors(authors: tuple[str, ...] | list[str], shown: int = 3) -> str:
    if len(authors) <= shown + 1:
        return ", ".join(authors)
    return f"{', '.join(authors[:shown])} and {len(authors) - shown} others"


def tex(text: str) -> Markup:
    """TeX as readable text (metadata.tex_parts), escaped; math spans in `<span class="math">`."""
    return Markup("").join(
        Markup('<span class="math">{}</span>').format(p.text) if p.math else escape(p.text)
        for p in tex_parts(display_title(text))
    )


def marks(parts: list[Segment]) -> Markup:
    return Markup("").join(
        Markup("<mark>{}</mark>").format(s.text) if s.type == "highlight" else escape(s.text) for s in parts
    )
