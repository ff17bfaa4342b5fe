"""A real HTTP server on a loopback port that serves recorded responses and misbehaves on request.

with RecordedServer() as server:
    server.route("/api/query", lambda q: Reply(body=...))
    server.fail("/api/query", Reply(status=503, headers={"Retry-After": "1"}))  # next request only
    ... server.url + "/api/query" ...; server.log  # [(monotonic time, path, query)]
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

Query = dict[str, str]


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    reset: bool = False  # drop the connection without an answer
    truncate: int | None = None  # send only the first N bytes of the body (with a matching length)


class RecordedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Callable[[Query], Reply]] = {}
        self.faults: dict[str, deque[Reply]] = defaultdict(deque)
        self.log: list[tuple[float, str, Query]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        # a short poll so that shutdown() returns at once instead of after the default half second
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def route(self, path: str, answer: Callable[[Query], Reply]) -> None:
        self.routes[path] = answer

    def fail(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with these replies, then go back to the route."""
        self.faults[path].extend(replies)

    def requests(self, path: str) -> list[tuple[float, Query]]:
        return [(t, q) for t, p, q in self.log if p == path]

    def __enter__(self) -> RecordedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler(server: RecordedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            server.log.append((time.monotonic(), parts.path, query))
            queue = server.faults.get(parts.path)
            if queue:
                reply = queue.popleft()
            elif parts.path in server.routes:
                reply = server.routes[parts.path](query)
            else:
                reply = Reply(404, b"not found")
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            time.sleep(reply.delay)
            if reply.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.connection.close()
                return
            body = reply.body if reply.truncate is None else reply.body[: reply.truncate]
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client went away (killed)
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
