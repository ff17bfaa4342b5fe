"""A per-process cache of anonymous GET responses, invalidated by any commit to the database.

Anonymous visitors (no session cookie, no `Authorization` header) asking for the same page or API
answer get the stored response while the database has not changed since it was made, and for at
most MAX_AGE seconds (pages that depend on the clock, like today's listing, move on by themselves).
"Changed" is `store.changes` (SQLite's `PRAGMA data_version`, PostgreSQL's current snapshot), which
moves when any connection commits, in this process or another, on this host or another (`broadsheet
serve --workers N`, the CLI, a `broadsheet worker`): a vote shows on the very next request, whichever
process answers it. Requests for one page at one data version that arrive while it is being made wait
for that one rendering instead of repeating it.

A busy site can trade that for speed with `page_cache_grace` (seconds): a page made less than that
long ago is still served after a change, and the first request to find it outdated has it made again
in the background (stale-while-revalidate, one refresh per page at a time), so no reader waits for
it. The cost: for up to that long, anonymous visitors may still see what just changed or went away
(a vote, a comment removed by a moderator, a collection made private).

It is plain ASGI (no `BaseHTTPMiddleware`): a stored answer is sent without entering the framework.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.web.deps import SESSION_COOKIE

MAX_AGE = 60.0  # seconds a stored response is served at most
MAX_ENTRIES = 512
MAX_BYTES = 1024 * 1024  # larger responses are not stored
PLACEHOLDER = b"\x00csrf\x00"
SKIPPED = ("/mcp", "/static/")
KEPT_HEADERS = ("content-type", "content-disposition", "link", "content-security-policy", "x-total-count")
NO_CACHE = "private, no-cache"

Key = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Stored:
    version: str
    made: float
    body: bytes  # the CSRF token replaced by PLACEHOLDER
    headers: tuple[tuple[bytes, bytes], ...]
    digest: bytes = field(default=b"")  # of `body`; the ETag adds the visitor's token

    def etag(self, token: bytes) -> bytes:
        tag = hashlib.blake2b(self.digest + token, digest_size=12).hexdigest() if PLACEHOLDER in self.body else None
        return b'"' + (tag or self.digest[:12].hex()).encode() + b'"'


class PageCache:
    def __init__(
        self, version: Callable[[], str | None], max_age: float = MAX_AGE, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.version = version
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, Stored] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key, version: str, grace: float = 0.0) -> tuple[Stored | None, bool]:
        """The entry for `key` (or None), and whether it is current (made at `version`)."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None, False
            age = time.monotonic() - found.made
            current = found.version == version
            if age > self.max_age or (not current and age > grace):
                return None, False
            self._entries.move_to_end(key)
            return found, current

    def put(self, key: Key, stored: Stored) -> None:
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


class CacheLayer:
    """ASGI middleware in front of the app, inside `security.Guard` (which puts the CSRF token in the scope)."""

    def __init__(self, app: ASGIApp, version: Callable[[], str | None], grace: float = 0.0) -> None:
        self.app = app
        self.cache = PageCache(version)
        self.grace = grace
        self.enabled = version() is not None
        self._flights: dict[tuple[Key, str], asyncio.Event] = {}  # one render per page and data version
        self._tasks: set[asyncio.Task[None]] = set()
        self._refreshing: set[Key] = set()  # pages being made again in the background

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or not _cacheable(scope):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token: str = scope.get("state", {}).get("csrf", "")
        key = (scope.get("scheme", "http") + "://" + headers.get("host", ""), scope["path"],
               scope.get("query_string", b"").decode("latin-1"), headers.get("accept", ""))  # fmt: skip
        version = self.cache.version() or ""
        found, current = self.cache.get(key, version, self.grace)
        flight = (key, version)
        if found is not None and not current and flight not in self._flights:
            self._refresh(scope, key, version, token)  # serve the recent page; make the new one meanwhile
        if found is None and flight in self._flights:  # the same page at the same data version is being made
            await self._flights[flight].wait()
            found, _ = self.cache.get(key, version, self.grace)
        if found is None:
            await self._make(scope, receive, send, key, version, token)
            return
        await _answer(send, found, token.encode(), headers.get("if-none-match", ""))

    async def _make(
        self, scope: Scope, receive: Receive, send: Send, key: Key, version: str, token: str, claimed: bool = False
    ) -> None:
        flight = (key, version)
        owner = claimed or flight not in self._flights  # else the one being made could not be stored: make it again
        done = self._flights.setdefault(flight, asyncio.Event())

        def finished() -> None:  # the waiters go on now, before this client is sent anything (it may read slowly)
            if owner and self._flights.get(flight) is done:
                del self._flights[flight]
                done.set()

        recorder = _Recorder(send, finished)
        try:
            await self.app(scope, receive, recorder)
            stored = recorder.stored(version, token)
            if stored is not None:
                self.cache.put(key, stored)
            finished()
            if stored is None:
                await recorder.release()
            else:
                await _answer(send, stored, token.encode(), Headers(scope=scope).get("if-none-match", ""))
        finally:
            finished()

    def _refresh(self, scope: Scope, key: Key, version: str, token: str) -> None:
        """Make the page again in the background: one refresh per page at a time, whatever the versions."""
        if key in self._refreshing:
            return
        asked = False

        async def nothing() -> Message:
            nonlocal asked
            if asked:  # as a client that went away: a streaming answer must not spin on an endless body
                return {"type": "http.disconnect"}
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def discard(message: Message) -> None:
            return None

        async def making() -> None:
            try:
                await self._make(fresh, nothing, discard, key, version, token, claimed=True)
            finally:
                self._refreshing.discard(key)

        fresh = dict(scope) | {"state": dict(scope.get("state", {}))}
        self._flights[(key, version)] = asyncio.Event()  # claimed now: the next request must not start another
        self._refreshing.add(key)
        task = asyncio.get_running_loop().create_task(making())
        self._tasks.add(task)  # keep a reference until it is done
        task.add_done_callback(self._tasks.discard)


class _Recorder:
    """Holds a response back while it may be stored; passes it on as soon as it cannot be."""

    def __init__(self, send: Send, unstorable: Callable[[], None] = lambda: None) -> None:
        self.send = send
        self.unstorable = unstorable  # called as soon as the response is known not to be stored
        self.held: list[Message] = []
        self.passing = False
        self.size = 0
        self.complete = False

    async def __call__(self, message: Message) -> None:
        if self.passing:
            await self.send(message)
            return
        self.held.append(message)
        if message["type"] == "http.response.start":
            if (
                message["status"] != 200
                or _header(message, b"set-cookie")
                or b"no-store" in _header(message, b"cache-control")
            ):
                await self.release()
        elif message["type"] == "http.response.body":
            self.size += len(message.get("body", b""))
            self.complete = not message.get("more_body", False)
            if self.size > MAX_BYTES:
                await self.release()

    async def release(self) -> None:
        """Send what was held back (the response is not stored) and pass the rest on."""
        self.passing = True
        self.unstorable()
        held, self.held = self.held, []
        for message in held:
            await self.send(message)

    def stored(self, version: str, token: str) -> Stored | None:
        if self.passing or not self.complete or not self.held:
            return None
        start = next((m for m in self.held if m["type"] == "http.response.start"), None)
        if start is None:
            return None
        headers = start.get("headers", [])
        kept = tuple((n.lower(), v) for n, v in headers if n.lower().decode("latin-1") in KEPT_HEADERS)
        body = b"".join(m.get("body", b"") for m in self.held if m["type"] == "http.response.body")
        if token:
            body = body.replace(token.encode(), PLACEHOLDER)
        return Stored(version, time.monotonic(), body, kept, hashlib.blake2b(body, digest_size=16).digest())


def _header(message: Message, name: bytes) -> bytes:
    return b",".join(value for key, value in message.get("headers", ()) if key.lower() == name)


def _cacheable(scope: Scope) -> bool:
    if scope["method"] != "GET" or scope["path"].startswith(SKIPPED):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return False
        if name == b"cookie" and SESSION_COOKIE.encode() in value and _has_session(value):
            return False
    return True


def _has_session(header: bytes) -> bool:
    return SESSION_COOKIE in cookie_parser(header.decode("latin-1"))  # as `Request.cookies` reads it


async def _answer(send: Send, found: Stored, token: bytes, if_none_match: str) -> None:
    etag = found.etag(token)
    if etag.decode() in if_none_match:
        await send({"type": "http.response.start", "status": 304,
                    "headers": [(b"etag", etag), (b"cache-control", NO_CACHE.encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})
        return
    body = found.body.replace(PLACEHOLDER, token) if PLACEHOLDER in found.body else found.body
    headers: list[Any] = [*found.headers, (b"etag", etag), (b"cache-control", NO_CACHE.encode()),
                          (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
