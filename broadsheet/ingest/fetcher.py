"""Polite HTTP for the outside services (arXiv, Hugging Face): one connection, a gap between requests, retries.

arXiv's terms ask for at most one request every 3 seconds on a single connection. Servers
answer overload with `503` + `Retry-After` (OAI-PMH) or a plain-text body `Rate exceeded.`
(the API); both are waited out and retried, as are network errors, 5xx answers and bodies that
fail to parse (a truncated page), with exponential backoff otherwise (tenacity). Anything else is final.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
import tenacity

T = TypeVar("T")
USER_AGENT = "Broadsheet/0.1 (self-hosted Daily Papers; https://github.com/broadsheet-papers/broadsheet)"


class FetchError(Exception):
    """A request that failed for good (after retries, or with a final answer)."""


class Retry(Exception):
    """Raised by a response check: the answer is unusable now, ask again after a backoff."""


class _Again(Exception):
    """An attempt worth repeating: why, and the wait the server asked for (None: the usual backoff)."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.wait = wait


@dataclass(frozen=True)
class Politeness:
    min_interval: float = 3.0  # seconds between the starts of two requests
    retries: int = 4  # further attempts after the first
    backoff: float = 5.0  # first retry wait; doubles each time
    max_wait: float = 600.0  # never wait longer than this for a Retry-After
    overload_wait: float = 10.0  # wait after "Rate exceeded." or a 503 without Retry-After
    timeout: float = 60.0


@dataclass(frozen=True)
class Pace:
    """Spacing for the whole deployment: each request reserves a slot (store.pacer.reserve) and waits for it."""

    reserve: Callable[[str, float], datetime]
    name: str
    interval: float
    sleep: Callable[[float], None] = time.sleep

    def __call__(self) -> None:
        wait = (self.reserve(self.name, self.interval) - datetime.now(UTC)).total_seconds()
        if wait > 0:
            self.sleep(wait)


@dataclass
class Fetcher:
    politeness: Politeness = field(default_factory=Politeness)
    transport: httpx.BaseTransport | None = None
    user_agent: str = USER_AGENT
    sleep: Callable[[float], None] = time.sleep
    pace: Pace | None = None  # deployment-wide spacing; without it, spacing is per Fetcher

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            timeout=self.politeness.timeout,
            headers={"User-Agent": self.user_agent},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            transport=self.transport,
            follow_redirects=True,
        )
        self._last_start = float("-inf")
        self._lock = threading.Lock()

    def get(self, url: str, params: dict[str, str] | None, check: Callable[[httpx.Response], T]) -> T:
        """GET with politeness and retries; `check` turns the response into a result or raises Retry."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.politeness.retries + 1),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Again),
            sleep=self.sleep,
        )
        try:
            result: T = retrying(self._attempt, url, params, check)
            return result
        except tenacity.RetryError as exc:
            problem = exc.last_attempt.exception()
            raise FetchError(f"{url}: giving up after {self.politeness.retries + 1} attempts ({problem})") from None

    def _attempt(self, url: str, params: dict[str, str] | None, check: Callable[[httpx.Response], T]) -> T:
        """One request: the result, or `_Again` saying why it is worth asking again (and how long to wait)."""
        try:
            response = self._request(url, params)
        except httpx.TransportError as exc:
            raise _Again(f"network error: {exc.__class__.__name__}: {exc}") from exc
        wait = _overload_wait(response, self.politeness.overload_wait)
        if wait is not None:
            raise _Again(f"server busy (HTTP {response.status_code})", wait)
        if response.status_code >= 500:
            raise _Again(f"HTTP {response.status_code}")
        try:
            return check(response)
        except Retry as exc:
            raise _Again(str(exc)) from exc

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """The server's own wait when it named one (Retry-After, overload), else exponential backoff."""
        problem = state.outcome.exception() if state.outcome else None
        if isinstance(problem, _Again) and problem.wait is not None:
            return min(problem.wait, self.politeness.max_wait)
        backoff = self.politeness.backoff * 2.0 ** (state.attempt_number - 1)
        return min(backoff, self.politeness.max_wait)

    def _request(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        with self._lock:
            gap = self._last_start + self.politeness.min_interval - time.monotonic()
            if self.pace is not None:
                self.pace()
            elif gap > 0:
                self.sleep(gap)
            self._last_start = time.monotonic()
            return self._http.get(url, params=params)

    def close(self) -> None:
        self._http.close()


def _overload_wait(response: httpx.Response, default: float) -> float | None:
    """Seconds to wait when the server says it is overloaded, else None."""
    if response.status_code in (429, 503):
        return _retry_after(response.headers.get("Retry-After")) or default
    if response.content[:64].strip().lower().startswith(b"rate exceeded"):
        return default
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError, IndexError):
        return None
