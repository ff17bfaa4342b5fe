"""The MCP tools, through the SDK's own client: streamable HTTP on the live site, and `broadsheet mcp` on stdio."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from community_site import Site
from fastapi.testclient import TestClient
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from broadsheet.community import accounts, collections

pytestmark = pytest.mark.slow
ENVHARNESS = "agents learning in simulated environments"
Session = Callable[[ClientSession], Awaitable[Any]]


def over_http(url: str, use: Session, token: str | None = None) -> Any:
    async def run() -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=60) as http,
            streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await use(session)

    return anyio.run(run)


def text(result: CallToolResult) -> str:
    part = result.content[0]
    assert isinstance(part, TextContent)
    return part.text


def call(name: str, **arguments: Any) -> Session:
    async def use(session: ClientSession) -> CallToolResult:
        return await session.call_tool(name, arguments)

    return use


def test_lists_the_tools(live: str) -> None:
    async def names(session: ClientSession) -> set[str]:
        return {t.name for t in (await session.list_tools()).tools}

    assert over_http(live, names) == {"search_papers", "daily_papers", "paper", "read_paper", "similar_papers",
                                      "upvote", "save_to_collection", "comment"}  # fmt: skip


def test_search_finds_envharness(live: str) -> None:
    result = over_http(live, call("search_papers", query=ENVHARNESS, limit=20))
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    found = [p["id"] for p in result.structured_content["result"]]
    assert "2608.19880" in found and len(found) == 20  # EnvHarness: agents + environments
    assert json.loads(text(result))["id"] == found[0]  # one text part per paper, too


def test_read_paper_is_markdown_with_the_title(site: Site, live: str) -> None:
    view = site.store.papers.newest(limit=1)[0][0]
    result = over_http(live, call("read_paper", arxiv_id=view.paper.arxiv_id))
    assert not result.is_error, text(result)
    served = httpx2.get(f"{live}/papers/{view.paper.arxiv_id}.md")
    assert served.status_code == 200 and text(result) == served.text  # what the site serves
    assert text(result).startswith(f"# {view.paper.title.split()[0]}") and "## Abstract" in text(result)


def test_bad_input_is_a_clear_tool_error(live: str) -> None:
    unknown = over_http(live, call("paper", arxiv_id="2401.99999"))
    assert unknown.is_error and "not indexed" in text(unknown) and "Traceback" not in text(unknown)
    malformed = over_http(live, call("read_paper", arxiv_id="not an id"))
    assert malformed.is_error and "Traceback" not in text(malformed)


def test_upvote_needs_a_write_token(site: Site, live: str) -> None:
    arxiv_id = site.store.papers.newest(limit=1)[0][0].paper.arxiv_id
    before = site.store.papers.get(arxiv_id)
    assert before is not None
    refused = over_http(live, call("upvote", arxiv_id=arxiv_id))
    assert refused.is_error and "API token" in text(refused)

    forged = over_http(live, call("upvote", arxiv_id=arxiv_id), token="bs_not-a-real-token")
    assert forged.is_error and "invalid or revoked" in text(forged)

    user = accounts.sign_up(site.store, "mcp-voter", None, "correct horse battery")
    _, read_only = site.store.tokens.create(user.id, "reader", "read")
    assert "read-only" in text(over_http(live, call("upvote", arxiv_id=arxiv_id), token=read_only))

    _, raw = site.store.tokens.create(user.id, "agent", "write")
    done = over_http(live, call("upvote", arxiv_id=arxiv_id), token=raw)
    assert not done.is_error, text(done)
    assert done.structured_content == {"upvotes": before.upvotes + 1, "upvoted": True}
    after = site.store.papers.get(arxiv_id)
    assert after is not None and after.upvotes == before.upvotes + 1

    made = over_http(live, call("comment", arxiv_id=arxiv_id, body="Nice *work*"), token=raw)
    assert not made.is_error, text(made)
    assert made.structured_content is not None and made.structured_content["author"]["name"] == "mcp-voter"
    empty = over_http(live, call("comment", arxiv_id=arxiv_id, body="   "), token=raw)
    assert empty.is_error and "empty" in text(empty)


def test_stdio_paper_and_a_write_with_the_environment_token(site: Site, tmp_path: Path) -> None:
    arxiv_id = site.store.papers.newest(limit=1)[0][0].paper.arxiv_id
    user = accounts.sign_up(site.store, "stdio-agent", None, "correct horse battery")
    _, raw = site.store.tokens.create(user.id, "stdio", "write")
    env = {"BROADSHEET_DATA_DIR": str(site.settings.data_dir), "BROADSHEET_DATABASE_URL": site.settings.db_url,
           "BROADSHEET_MCP_TOKEN": raw}  # fmt: skip
    params = StdioServerParameters(command=sys.executable, args=["-m", "broadsheet", "mcp"], env=env, cwd=tmp_path)

    async def run() -> tuple[CallToolResult, CallToolResult]:
        with (tmp_path / "stderr.txt").open("w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                shown = await session.call_tool("paper", {"arxiv_id": arxiv_id})
                return shown, await session.call_tool("upvote", {"arxiv_id": arxiv_id})

    shown, voted = anyio.run(run)
    assert not shown.is_error, text(shown)
    details = json.loads(text(shown))
    assert details["id"] == arxiv_id and details["title"] and details["authors"]
    assert not voted.is_error, text(voted)
    assert voted.structured_content == {"upvotes": details["upvotes"] + 1, "upvoted": True}


def test_daily_and_similar_papers(site: Site, live: str) -> None:
    async def use(session: ClientSession) -> tuple[CallToolResult, ...]:
        trending = await session.call_tool("daily_papers", {"sort": "trending", "limit": 3})
        both = await session.call_tool("daily_papers", {"date": "2026-08-21", "month": "2026-08"})
        similar = await session.call_tool("similar_papers", {"arxiv_id": "2608.19880", "limit": 4})
        return trending, both, similar

    trending, both, similar = over_http(live, use)
    assert trending.structured_content is not None and len(trending.structured_content["result"]) == 3
    assert "trendingScore" in json.dumps(trending.structured_content)
    assert both.is_error and "at most one of date, week and month" in text(both)
    assert similar.structured_content is not None
    nearest = similar.structured_content["result"]
    expected = [h.view.paper.arxiv_id for h in site.engine.similar("2608.19880", limit=4)]  # by the engine's vectors
    assert [p["id"] for p in nearest] == expected and "2608.19880" not in expected


def test_the_endpoint_can_be_turned_off(site: Site) -> None:
    with TestClient(site.app_with(mcp_enabled=False)) as client:
        assert client.post("/mcp", json={}).status_code == 404
    with TestClient(site.app, base_url="http://127.0.0.1:8000") as client:  # on: the MCP transport answers
        assert client.post("/mcp", json={}, headers={"Accept": "application/json"}).status_code in (400, 406)
        foreign = client.post("/mcp", json={}, headers={"Host": "evil.example"})  # DNS rebinding: refused
        assert foreign.status_code == 421


def test_save_to_collection_needs_a_write_token_and_is_idempotent(site: Site, live: str) -> None:
    arxiv_id = "2608.19880"
    refused = over_http(live, call("save_to_collection", arxiv_id=arxiv_id))
    assert refused.is_error and "API token" in text(refused)
    user = accounts.sign_up(site.store, "mcp-saver", None, "correct horse battery")
    _, read_only = site.store.tokens.create(user.id, "reader", "read")
    assert "read-only" in text(over_http(live, call("save_to_collection", arxiv_id=arxiv_id), token=read_only))
    _, raw = site.store.tokens.create(user.id, "agent", "write")

    saved = over_http(live, call("save_to_collection", arxiv_id=f"arXiv:{arxiv_id}v1"), token=raw)
    assert not saved.is_error, text(saved)
    marks = collections.bookmarks(site.store, user)
    assert saved.structured_content is not None and saved.structured_content["added"] is True
    assert saved.structured_content["collection"] == collections.slug(marks) and saved.structured_content["private"]
    again = over_http(live, call("save_to_collection", arxiv_id=arxiv_id), token=raw)
    assert again.structured_content is not None and again.structured_content["added"] is False
    assert site.store.collections.arxiv_ids(marks.id) == {arxiv_id}

    reading = collections.create(site.store, user, "Reading group")
    slug = collections.slug(reading)
    into = over_http(live, call("save_to_collection", arxiv_id=arxiv_id, collection=slug, note="read §3"), token=raw)
    assert not into.is_error, text(into)
    items = site.store.collections.items(reading.id)
    assert [(i.view.paper.arxiv_id, i.note) for i in items] == [(arxiv_id, "read §3")]

    other = accounts.sign_up(site.store, "mcp-other", None, "correct horse battery")
    theirs = collections.slug(collections.create(site.store, other, "Not yours"))
    foreign = over_http(live, call("save_to_collection", arxiv_id=arxiv_id, collection=theirs), token=raw)
    assert foreign.is_error and "only its owner" in text(foreign)
    unknown = over_http(live, call("save_to_collection", arxiv_id="2101.00001"), token=raw)
    assert unknown.is_error and "not indexed" in text(unknown) and "Traceback" not in text(unknown)
    bad = over_http(live, call("save_to_collection", arxiv_id=arxiv_id, collection="nonsense"), token=raw)
    assert bad.is_error and "no collection" in text(bad)


def test_search_and_upvote_pass_the_webs_throttles(site: Site, live: str) -> None:
    from broadsheet.throttle import Throttle

    kept = site.app.state.search_throttle, site.app.state.vote_throttle
    site.app.state.search_throttle = Throttle(rate=0.001, burst=2)
    site.app.state.vote_throttle = Throttle(rate=0.001, burst=1)
    try:
        _throttled(site, live)
    finally:
        site.app.state.search_throttle, site.app.state.vote_throttle = kept


def _throttled(site: Site, live: str) -> None:

    async def searches(session: ClientSession) -> list[CallToolResult]:
        return [await session.call_tool("search_papers", {"query": ENVHARNESS, "limit": 3}) for _ in range(3)]

    first, second, third = over_http(live, searches)
    assert not first.is_error and not second.is_error, text(first)
    assert third.is_error and "too many searches from your address" in text(third)
    assert httpx2.get(f"{live}/api/papers/search", params={"q": "agents"}).status_code == 429  # the same bucket

    user = accounts.sign_up(site.store, "mcp-hasty", None, "correct horse battery")
    _, raw = site.store.tokens.create(user.id, "agent", "write")
    views = site.store.papers.newest(limit=2)[0]

    async def votes(session: ClientSession) -> list[CallToolResult]:
        return [await session.call_tool("upvote", {"arxiv_id": v.paper.arxiv_id}) for v in views]

    done, refused = over_http(live, votes, token=raw)
    assert not done.is_error, text(done)
    assert refused.is_error and "votes in a minute" in text(refused)
    assert site.store.personal.votes(user.id) and len(site.store.personal.votes(user.id)) == 1
