"""A per-process cache of anonymous GET responses, invalidated by any commit to the database.

Anonymous visitors (no session cookie, no `Authorization` header) asking for the same page or API
answer get the stored response while the database has not changed since it was made, and for at
most MAX_AGE seconds (pages that depend on the clock, like today's listing, move on by themselves).
"Changed" is `store.changes` (SQLite's `PRAGMA data_version`, PostgreSQL's current snapshot), which
moves when any connection commits, in this process or another, on this host or another (`broadsheet
serve --workers N`, the CLI, a `broadsheet worker`): a vote shows on the very next request, whichever
process answers it. Requests for one page at one data version that arrive while it is being made wait
for that one rendering instead of repeating it.

Pages carry the visitor's CSRF token (forms and `<meta name="csrf-token">`): it is stored as a
placeholder and the asking visitor's own token put back, so no visitor ever sees another's. A
response that sets a cookie, is not a 200, or is large is not stored. An in-memory SQLite database
is not cached (each request is answered by the app).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import Response

from broadsheet.web.deps import SESSION_COOKIE

MAX_AGE = 60.0  # seconds a stored response is served at most
MAX_ENTRIES = 512
MAX_BYTES = 1024 * 1024  # larger responses are not stored
PLACEHOLDER = b"\x00csrf\x00"
SKIPPED = ("/mcp", "/static/")
KEPT_HEADERS = ("content-type", "link", "content-security-policy", "x-total-count")

Key = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Stored:
    version: str
    made: float
    body: bytes  # the CSRF token replaced by PLACEHOLDER
    headers: tuple[tuple[str, str], ...]


class PageCache:
    def __init__(
        self, version: Callable[[], str | None], max_age: float = MAX_AGE, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.version = version
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Stored] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, version: str) -> Stored | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found.version != version or time.monotonic() - found.made > self.max_age:
                return None
            self._entries.move_to_end(key)
            return found

    def put(self, key: Key, stored: Stored) -> None:
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def install(app: FastAPI) -> None:
    """Register the cache as middleware inside `security.middleware` (call before registering that)."""
    changes = app.state.store.changes
    if changes.current() is None:
        return
    cache = PageCache(changes.current)
    flights: dict[tuple[Key, str], asyncio.Event] = {}  # one render per page and data version; others wait

    async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not _cacheable(request):
            return await call_next(request)
        token: str = getattr(request.state, "csrf", "")
        key = (request.url.scheme + "://" + request.headers.get("host", ""), request.url.path, request.url.query,
               request.headers.get("accept", ""))  # fmt: skip
        version = cache.version() or ""
        found = cache.get(key, version)
        flight = (key, version)
        if found is None and flight in flights:  # the same page at the same data version is being made
            await flights[flight].wait()
            found = cache.get(key, version)
        if found is None:
            owner = flight not in flights  # else the one being made could not be stored: make it again, alone
            done = flights.setdefault(flight, asyncio.Event())
            try:
                response = await call_next(request)
                found = await _store(response, token, version)
            finally:
                if owner:
                    del flights[flight]
                    done.set()
            if found is None:
                return response
            cache.put(key, found)
        return _answer(request, found, token)

    app.middleware("http")(middleware)


def _cacheable(request: Request) -> bool:
    return (
        request.method == "GET"
        and SESSION_COOKIE not in request.cookies
        and "authorization" not in request.headers
        and not request.url.path.startswith(SKIPPED)
    )


async def _store(response: Response, token: str, version: str) -> Stored | None:
    """The response as it can be stored, or None to pass it on as is (its body is read either way)."""
    body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
    response.body_iterator = _replay(body)  # type: ignore[attr-defined]
    if response.status_code != 200 or "set-cookie" in response.headers or len(body) > MAX_BYTES:
        return None
    if "no-store" in response.headers.get("cache-control", ""):
        return None
    headers = tuple((k, v) for k, v in response.headers.items() if k in KEPT_HEADERS)
    stored = body.replace(token.encode(), PLACEHOLDER) if token else body
    return Stored(version, time.monotonic(), stored, headers)


async def _replay(body: bytes) -> AsyncIterator[bytes]:
    yield body


def _answer(request: Request, found: Stored, token: str) -> Response:
    body = found.body.replace(PLACEHOLDER, token.encode())
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = dict(found.headers) | {"etag": etag, "cache-control": "private, no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers={"etag": etag, "cache-control": "private, no-cache"})
    return Response(body, headers=headers)
