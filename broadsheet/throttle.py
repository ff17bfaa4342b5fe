"""An in-memory token bucket per client: a cost guard for expensive anonymous work (searches).

    bucket = Throttle(rate=5, burst=30)
    bucket.take("203.0.113.7")   # False: this client is over its rate for now

Each process keeps its own buckets (no database write per search: a write would also invalidate every
cached page), so with N web processes a client may reach N times the rate; it bounds what one client
costs, it is not an account-level limit (those are in `store.counters`, shared by every host).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

MAX_CLIENTS = 10_000  # buckets kept; the least recently seen are forgotten (a forgotten client starts full)


class Throttle:
    def __init__(self, rate: float, burst: float, max_clients: int = MAX_CLIENTS) -> None:
        self.rate = rate
        self.burst = burst
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client: (tokens, when)
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> bool:
        """Spend one token of `client`'s bucket; False when it is empty (the caller refuses the work)."""
        if self.rate <= 0:
            return True  # no limit
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, when = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - when) * self.rate)
            allowed = tokens >= 1
            self._buckets[client] = (tokens - 1 if allowed else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return allowed

    def retry_after(self, client: str) -> float:
        """Seconds until `client` has a token again."""
        with self._lock:
            tokens, _ = self._buckets.get(client, (self.burst, 0.0))
        return max(0.0, (1 - tokens) / self.rate) if self.rate > 0 else 0.0
