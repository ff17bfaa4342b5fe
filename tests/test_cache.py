"""The anonymous page cache (broadsheet.web.cache) as plain ASGI, over a tiny app whose answers are counted."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from broadsheet.web.cache import CacheLayer


class Counted:
    """An ASGI app answering `made N at V`; `version` is what the database marker says now."""

    def __init__(self) -> None:
        self.version = "1"
        self.made = 0
        self.headers: list[tuple[bytes, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.made += 1
        body = f"made {self.made} at {self.version}".encode()
        await asyncio.sleep(0.01)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), *self.headers]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


def client(app: Counted, grace: float = 0.0) -> httpx.AsyncClient:
    layer = CacheLayer(app, version=lambda: app.version, grace=grace)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=layer), base_url="http://test")


@pytest.mark.anyio
async def test_a_change_shows_on_the_next_request_and_the_first_answer_has_an_etag() -> None:
    app = Counted()
    async with client(app) as c:
        first = await c.get("/")
        assert (await c.get("/")).text == first.text == "made 1 at 1"
        assert (await c.get("/", headers={"if-none-match": first.headers["etag"]})).status_code == 304
        app.version = "2"
        assert (await c.get("/")).text == "made 2 at 2"


@pytest.mark.anyio
async def test_concurrent_requests_for_one_page_make_it_once() -> None:
    app = Counted()
    async with client(app) as c:
        answers = await asyncio.gather(*(c.get("/") for _ in range(20)))
    assert {a.text for a in answers} == {"made 1 at 1"} and app.made == 1


@pytest.mark.anyio
async def test_with_a_grace_period_a_recent_page_is_served_while_the_new_one_is_made_in_the_background() -> None:
    app = Counted()
    async with client(app, grace=30) as c:
        await c.get("/")
        app.version = "2"
        stale = await asyncio.gather(*(c.get("/") for _ in range(10)))
        assert {a.text for a in stale} == {"made 1 at 1"}  # nobody waited for the new page
        await asyncio.sleep(0.2)
        assert (await c.get("/")).text == "made 2 at 2" and app.made == 2  # made once, in the background


@pytest.mark.anyio
async def test_without_grace_no_outdated_page_is_ever_served() -> None:
    app = Counted()
    async with client(app, grace=0) as c:
        for version in "23456":
            app.version = version
            assert (await c.get("/")).text.endswith(f"at {version}")


@pytest.mark.anyio
async def test_answers_that_set_cookies_and_requests_with_a_session_are_not_cached() -> None:
    app = Counted()
    async with client(app) as c:
        session = {"cookie": "bs_visitor=abc; bs_session=x"}
        assert (await c.get("/", headers=session)).text == "made 1 at 1"
        assert (await c.get("/", headers=session)).text == "made 2 at 1"
        app.headers = [(b"set-cookie", b"a=b")]
        assert (await c.get("/other")).text == "made 3 at 1"
        assert (await c.get("/other")).text == "made 4 at 1"
        assert (await c.get("/", headers={"authorization": "Bearer t"})).text == "made 5 at 1"


@pytest.mark.anyio
async def test_a_client_reading_slowly_does_not_hold_up_others_waiting_for_the_same_page() -> None:
    app = Counted()
    layer = CacheLayer(app, version=lambda: app.version)
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [], "state": {}}
    stuck = asyncio.Event()

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def slow_send(message: dict[str, object]) -> None:
        await stuck.wait()  # a client that never reads its answer

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    first = asyncio.create_task(layer(dict(scope), receive, slow_send))
    await asyncio.sleep(0.005)  # the page is being made for the slow client
    await asyncio.wait_for(layer(dict(scope), receive, send), timeout=2)
    assert sent[-1]["body"] == b"made 1 at 1" and app.made == 1
    stuck.set()
    await first
