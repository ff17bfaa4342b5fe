"""A real SMTP server (aiosmtpd) on a loopback port that keeps what it receives and can refuse on cue."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import defaultdict
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: dict[str, list[str]] = defaultdict(list)  # recipient -> replies to give, in order
        self.delay = delay
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        with self._lock:
            queued = self.refuse.get(address)
            if queued:
                return queued.pop(0) if len(queued) > 1 or not queued[0].startswith("5") else queued[0]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            time.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, sink: Sink, port: int) -> None:
        self.sink, self.port = sink, port
        self.controller = Controller(sink, hostname="127.0.0.1", port=port)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
