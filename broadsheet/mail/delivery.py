"""`broadsheet digest send`: every confirmed subscriber's digest for a period, once, through the ledger.

The ledger row (subscriber, period) moves queued -> sending -> sent. "sending" is committed
before the SMTP transaction (for a few rows at a time, in one transaction that also rechecks
that each subscriber is still subscribed) and "sent" right after the server accepts the
message, so a run
killed at any moment leaves every row either finished or safe to redo: the next run resends
the rows still queued or sending, and never a row marked sent. The one case that can repeat a
message is a kill in the instant between the server's "250 OK" and the ledger commit; the
repeat then carries the same Message-ID (stable per subscriber and period), by which mail
systems recognise it as the same message. Temporary SMTP failures are retried with backoff
and then left queued for the next run; permanent ones (5xx) are recorded, and an address that
fails permanently `digest_pause_after` times in a row is paused. One subscriber's failure
never stops the others. Only one run at a time in the whole deployment (store.locks).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Protocol

from broadsheet import rank
from broadsheet.config import Settings
from broadsheet.mail.digest import DigestPeriod, Selector, compose, message_id
from broadsheet.mail.mailer import PermanentFailure, TemporaryFailure
from broadsheet.mail.subscriptions import Subscriptions
from broadsheet.models import Subscriber
from broadsheet.search import Engine
from broadsheet.store import Store
from broadsheet.store.digests import Delivery

MAX_ATTEMPTS = 6  # runs that may meet a temporary failure before the delivery counts as failed
CHUNK = 32  # digests built, then claimed in one transaction, before they are sent


class DigestError(Exception):
    """The run cannot start (another run holds the lock)."""


class Sender(Protocol):
    def send(self, message: Message) -> None: ...


@dataclass
class RunReport:
    period: str
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1


@dataclass
class Digests:
    store: Store
    engine: Engine
    settings: Settings

    def __post_init__(self) -> None:
        self.subscriptions = Subscriptions(self.store, self.settings)
        self.secret = self.subscriptions.secret
        self.selector = Selector(self.store, self.engine, self.settings.zone, rank.Weights.from_settings(self.settings))

    def build(self, subscriber: Subscriber, period: DigestPeriod) -> Message | None:
        """The subscriber's digest for the period, or None when nothing matches."""
        papers = self.selector.papers(subscriber, period)
        if not papers:
            return None
        msg_id = message_id(period, subscriber.id, self.secret, self.settings.mail_from)
        return compose(subscriber, papers, period, self.subscriptions.links(subscriber),
                       mail_from=self.settings.mail_from, site_name=self.settings.site_name, msg_id=msg_id)  # fmt: skip

    def dry_run(self, period: DigestPeriod, folder: Path) -> RunReport:
        """Write each digest as an .eml file instead of sending it (the ledger is not touched)."""
        folder.mkdir(parents=True, exist_ok=True)
        report = RunReport(period.key)
        for subscriber in self.store.subscribers.active(period.frequency):
            message = self.build(subscriber, period)
            if message is None:
                report.add("empty")
                continue
            (folder / f"{period.key}-{subscriber.id}.eml").write_bytes(bytes(message))
            report.add("written")
        return report

    def send(
        self, period: DigestPeriod, sender: Sender, *, retries: int = 2, backoff: float = 2.0,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> RunReport:  # fmt: skip
        report = RunReport(period.key)
        with self._run_lock():
            active = {s.id: s for s in self.store.subscribers.active(period.frequency)}
            self.store.deliveries.queue(
                period.key, list(active), lambda sid: message_id(period, sid, self.secret, self.settings.mail_from)
            )
            open_rows = self.store.deliveries.open(period.key)
            for start in range(0, len(open_rows), CHUNK):
                chunk = open_rows[start : start + CHUNK]
                for outcome in self._deliver_chunk(period, chunk, active, sender, retries, backoff):
                    report.add(outcome)
                if on_progress:
                    on_progress(start + len(chunk), len(open_rows))
        return report

    def _deliver_chunk(
        self, period: DigestPeriod, rows: list[Delivery], active: dict[int, Subscriber],
        sender: Sender, retries: int, backoff: float,
    ) -> Iterator[str]:  # fmt: skip
        """Build a few digests, then claim their rows in one transaction and send them one by one."""
        gone = [row.subscriber_id for row in rows if row.subscriber_id not in active]
        self.store.deliveries.skip(period.key, gone)  # no longer subscribed to this period's digests
        yield from ["skipped"] * len(gone)
        built = {row.subscriber_id: (row, self.build(active[row.subscriber_id], period))
                 for row in rows if row.subscriber_id in active}  # fmt: skip
        claimed = self.store.deliveries.claim(period.key, list(built))  # rechecks: unsubscribed meanwhile?
        yield from ["skipped"] * (len(built) - len(claimed))
        for sid in claimed:
            row, message = built[sid]
            if message is None:
                self.store.deliveries.mark(period.key, sid, "empty")
                yield "empty"
            else:
                yield self._deliver(period, row, active[sid], message, sender, retries, backoff)

    def _deliver(
        self, period: DigestPeriod, row: Delivery, subscriber: Subscriber, message: Message,
        sender: Sender, retries: int, backoff: float,
    ) -> str:  # fmt: skip
        sid = row.subscriber_id
        try:
            _with_retries(lambda: sender.send(message), retries, backoff)
        except TemporaryFailure as exc:
            failed = row.attempts + 1 >= MAX_ATTEMPTS
            self.store.deliveries.mark(period.key, sid, "failed" if failed else "queued", error=str(exc), attempt=True)
            return "failed" if failed else "retry later"
        except PermanentFailure as exc:
            self.store.deliveries.mark(period.key, sid, "failed", error=str(exc), attempt=True)
            self.store.subscribers.delivered(sid, ok=False, pause_after=self.settings.digest_pause_after)
            return "failed"
        self.store.deliveries.mark(period.key, sid, "sent", attempt=True)
        if subscriber.failures:  # a success ends a run of failures
            self.store.subscribers.delivered(sid, ok=True, pause_after=self.settings.digest_pause_after)
        return "sent"

    @contextlib.contextmanager
    def _run_lock(self) -> Iterator[None]:
        """One run at a time in the whole deployment; the lock dies with a killed run."""
        with self.store.locks.exclusive("digest") as held:
            if not held:
                raise DigestError("another digest run is in progress")
            yield


def _with_retries(action: Callable[[], None], retries: int, backoff: float) -> None:
    for attempt in range(retries + 1):
        try:
            action()
            return
        except TemporaryFailure:
            if attempt == retries:
                raise
            time.sleep(backoff * 2**attempt)
