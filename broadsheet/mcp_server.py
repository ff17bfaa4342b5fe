"""The site as MCP tools for agents: search, daily papers, read a paper, similar papers; upvote, save, comment.

    server = build(settings, store, engine)          # an MCPServer (the `mcp` SDK)
    server.run("stdio")                              # `broadsheet mcp`; writes use BROADSHEET_MCP_TOKEN
    endpoint = Endpoint(server, settings)            # ASGI, mounted at /mcp by create_app (streamable HTTP)

Read-only tools are anonymous. Writes go through `broadsheet.community.actions` (its checks and rate limits); over
HTTP the token is the request's `Authorization: Bearer` header, checked as the site checks it. Searches and
votes pass the web's in-memory throttles too (over HTTP the very buckets of the app serving /mcp, so an
agent cannot double its rate by mixing routes and tools; on stdio buckets of the process's own, same limits).
A refusal is a tool error with the site's message, never a traceback.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from broadsheet import rank, search
from broadsheet.community import actions as community
from broadsheet.community import collections
from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError, Conflict, Forbidden, Invalid, NotFound, TooMany, Unauthorized
from broadsheet.models import User
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.throttle import Throttle
from broadsheet.web import agents, shapes
from broadsheet.web.deps import TRENDING_POOL, VOTES_PER_MINUTE, _check_bearer, now, period, verified_authors

MAX_RESULTS = 50
Json = dict[str, Any]
Limit = Annotated[int, Field(ge=1, le=MAX_RESULTS, description="How many papers, at most")]
ArxivId = Annotated[str, Field(max_length=300, description="An arXiv id, e.g. 2401.01234 or hep-th/9901001")]
INSTRUCTIONS = (
    "Search and read arXiv papers listed on this Daily Papers site. Reading is open to all; upvote, save_to_collection"
    " and comment need a personal API token with the write scope (Authorization: Bearer over HTTP,"
    " BROADSHEET_MCP_TOKEN on stdio)."
)


@contextmanager
def _refusals() -> Iterator[None]:
    """The library's named errors (and unusable queries) as tool errors carrying their message."""
    try:
        yield
    except BroadsheetError as exc:
        raise ToolError(exc.message) from None
    except search.InvalidQuery as exc:
        raise ToolError(str(exc)) from None


def _score(value: float) -> float | None:
    """Scores as JSON allows them: an exact id/title match (infinite score) has none."""
    return round(value, 4) if math.isfinite(value) else None


def build(settings: Settings, store: Store, engine: Engine, *, token: str | None = None) -> MCPServer[Any]:
    """The MCP server over this site's store and search; `token`: the API token writes use when a request
    carries no headers (stdio)."""
    server: MCPServer[Any] = MCPServer(settings.site_name, instructions=INSTRUCTIONS, version="0.1.0")
    weights = rank.Weights.from_settings(settings)  # trending as the site ranks it (web.deps.trending_weights)
    own = {"search_throttle": Throttle(settings.search_rate, settings.search_burst),
           "vote_throttle": Throttle(VOTES_PER_MINUTE / 60, VOTES_PER_MINUTE)}  # fmt: skip

    def throttle(ctx: Context[Any, Any], name: str) -> tuple[Throttle, str]:
        """The web app's throttle `name` (over HTTP) or this server's own (stdio), and the client's address."""
        request = ctx.request_context.request if ctx.headers is not None else None
        found = getattr(getattr(getattr(request, "app", None), "state", None), name, None)
        client = getattr(request, "client", None)
        return (found if isinstance(found, Throttle) else own[name]), (client.host if client else "stdio")

    def search_allowed(ctx: Context[Any, Any]) -> None:
        bucket, address = throttle(ctx, "search_throttle")
        if not bucket.take(address):
            wait = max(1, math.ceil(bucket.retry_after(address)))
            raise TooMany(f"too many searches from your address: try again in {wait} s")

    def vote_allowed(ctx: Context[Any, Any], user: User) -> None:
        bucket, _ = throttle(ctx, "vote_throttle")
        if not bucket.take(str(user.id)):
            raise TooMany(f"more than {VOTES_PER_MINUTE} votes in a minute: slow down and try again shortly")

    def writer(ctx: Context[Any, Any]) -> User:
        headers = ctx.headers
        if headers is None:  # stdio: the token from the environment
            raw, address = token or "", "stdio"
        else:
            scheme, _, raw = headers.get("authorization", "").partition(" ")
            raw = raw.strip() if scheme.lower() == "bearer" else ""
            client = getattr(ctx.request_context.request, "client", None)
            address = client.host if client else "unknown"
        if not raw:
            raise Unauthorized("this needs a personal API token with the write scope (create one in your settings)")
        found = _check_bearer(store, raw, address)
        if not found.token.can_write:
            raise Forbidden("this API token is read-only: changes need a token with the write scope")
        return found.user

    @server.tool()
    def search_papers(
        query: Annotated[str, Field(max_length=search.MAX_QUERY, description="Words, a sentence, or an arXiv id")],
        ctx: Context[Any, Any],
        limit: Limit = 10,
    ) -> list[Json]:
        """Search papers (hybrid BM25 + meaning), best first."""
        with _refusals():
            search_allowed(ctx)
            hits = engine.search(query, limit=limit)
        return [shapes.paper(h.view) | {"score": _score(h.score)} for h in hits]

    @server.tool()
    def daily_papers(
        date: Annotated[str | None, Field(max_length=40, description="A day, YYYY-MM-DD")] = None,
        week: Annotated[str | None, Field(max_length=10, description="An ISO week, YYYY-Www")] = None,
        month: Annotated[str | None, Field(max_length=10, description="A month, YYYY-MM")] = None,
        sort: Literal["publishedAt", "trending"] = "publishedAt",
        limit: Limit = 20,
    ) -> list[Json]:
        """Papers listed on Daily Papers (of one day, week or month; default: all), newest listed first,
        or by trending score."""
        with _refusals():
            given = [(k, v) for k, v in (("day", date), ("week", week), ("month", month)) if v is not None]
            if len(given) > 1:
                raise Invalid("give at most one of date, week and month")
            chosen = period(given[0][0], given[0][1]) if given else None  # type: ignore[arg-type]
        if sort == "trending":
            pool = store.daily.views(chosen, order="added", limit=TRENDING_POOL)
            return [shapes.daily_item(v, trending_score=s) for v, s in rank.by_trending(pool, now(), weights)[:limit]]
        return [shapes.daily_item(v) for v in store.daily.views(chosen, order="added", limit=limit)]

    @server.tool()
    def paper(arxiv_id: ArxivId) -> Json:
        """One paper's details: title, authors, abstract, links, upvotes, comments (Hugging Face's shape)."""
        with _refusals():
            view = community.paper_of(store, arxiv_id)
        return shapes.paper(view, claimed=verified_authors(store, view))

    @server.tool()
    def read_paper(arxiv_id: ArxivId) -> str:
        """The paper as Markdown (title, authors, links, abstract, and the full text from arXiv's HTML rendering
        once the site has fetched it), as the site serves /papers/{id}.md."""
        with _refusals():
            view = community.paper_of(store, arxiv_id)
        return agents.page(store, settings, view, f"{settings.public_url}/papers/{view.paper.arxiv_id}")

    @server.tool()
    def similar_papers(arxiv_id: ArxivId, limit: Limit = 10) -> list[Json]:
        """The papers nearest in meaning to this one."""
        with _refusals():
            key = community.canonical(arxiv_id)
            if store.papers.id_of(key) is None:
                raise NotFound(f"paper {key} is not indexed")
        return [shapes.paper(h.view) | {"similarity": _score(h.score)} for h in engine.similar(key, limit=limit)]

    @server.tool()
    def upvote(arxiv_id: ArxivId, ctx: Context[Any, Any], up: bool = True) -> Json:
        """Upvote a paper (up=false takes the upvote back). Needs an API token with the write scope."""
        with _refusals():
            user = writer(ctx)
            vote_allowed(ctx, user)
            count = community.vote(store, user, arxiv_id, up)
        return {"upvotes": count, "upvoted": up}

    @server.tool()
    def save_to_collection(
        arxiv_id: ArxivId,
        ctx: Context[Any, Any],
        collection: Annotated[
            str | None,
            Field(
                max_length=200,
                description="A collection of yours, by slug (owner/title-<24 hex digits>); default: your bookmarks",
            ),
        ] = None,
        note: Annotated[
            str | None, Field(max_length=collections.MAX_NOTE + 100, description="A note on the paper")
        ] = None,
    ) -> Json:
        """Save a paper to one of your collections (default: your private bookmarks); saving it again changes
        nothing. Needs an API token with the write scope."""
        with _refusals():
            user = writer(ctx)
            if collection is None:
                chosen = collections.bookmarks(store, user)
            else:
                namespace, _, name = collection.strip().strip("/").partition("/")
                chosen = collections.owned(store, namespace, name, user)
            try:
                item = collections.add_paper(store, chosen, "paper", arxiv_id, note)
            except Conflict:  # already in it: saved, as asked
                item = None
        return {"collection": collections.slug(chosen), "title": chosen.title, "private": chosen.private,
                "paper": community.canonical(arxiv_id), "itemId": item, "added": item is not None}  # fmt: skip

    @server.tool()
    def comment(
        arxiv_id: ArxivId,
        body: Annotated[str, Field(max_length=community.MAX_COMMENT + 100, description="Markdown")],
        ctx: Context[Any, Any],
    ) -> Json:
        """Comment on a paper (Markdown); at most 30 comments in 10 minutes. Needs an API token with the write
        scope."""
        with _refusals():
            return shapes.comment(community.add_comment(store, writer(ctx), arxiv_id, body))

    return server


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection: the configured public address and loopback only."""
    public = urlsplit(settings.public_url)
    hosts = [public.netloc, "127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = [f"{public.scheme}://{public.netloc}", "http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class Endpoint:
    """The streamable-HTTP transport as an ASGI endpoint: stateless JSON responses, so any number of
    server processes can answer. `running()` (in the web app's lifespan) starts a fresh session manager
    each time the app starts; before that, or after, requests get a 503."""

    def __init__(self, server: MCPServer[Any], settings: Settings) -> None:
        self.server = server
        self.security = transport_security(settings)
        self.ready = False

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        # streamable_http_app() makes a new session manager (one can run only once); its routes are unused.
        self.server.streamable_http_app(stateless_http=True, json_response=True, transport_security=self.security)
        async with self.server.session_manager.run():
            self.ready = True
            try:
                yield
            finally:
                self.ready = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.ready:
            await JSONResponse({"error": "the MCP endpoint is not running"}, status_code=503)(scope, receive, send)
            return
        await self.server.session_manager.handle_request(scope, receive, send)
