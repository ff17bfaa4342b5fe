"""Digest subscribers and the delivery ledger: (subscriber, period) -> queued / sending / sent / failed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, insert, select, update

from broadsheet.models import Preferences, Subscriber
from broadsheet.store.engine import Db
from broadsheet.store.schema import deliveries, subscribers


def _subscriber(row: Any) -> Subscriber:
    m = row._mapping
    prefs = Preferences(
        m["frequency"], m["max_papers"], bool(m["trending"]), tuple(m["categories"]),
        tuple(m["exclude_categories"]), tuple(m["topics"]), bool(m["for_you"]),
    )  # fmt: skip
    return Subscriber(m["id"], m["email"], m["status"], prefs, m["failures"], m["user_id"], m["confirmed_at"])


def _values(prefs: Preferences) -> dict[str, Any]:
    return {
        "frequency": prefs.frequency, "max_papers": prefs.max_papers, "trending": prefs.trending,
        "categories": list(prefs.categories), "exclude_categories": list(prefs.exclude_categories),
        "topics": list(prefs.topics), "for_you": prefs.for_you,
    }  # fmt: skip


class Subscribers:
    def __init__(self, db: Db) -> None:
        self.db = db

    def subscribe(self, email: str, prefs: Preferences, user_id: int | None = None) -> tuple[Subscriber, bool]:
        """Create (or reset to pending) a subscription; returns it and whether it awaits confirmation.

        An active subscription is left as it is (its owner changes it through a manage link).
        """
        now = datetime.now(UTC)
        with self.db.write() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
            if row is None:
                values = _values(prefs) | {"email": email, "user_id": user_id, "status": "pending"}
                conn.execute(insert(subscribers).values(**values, created_at=now, changed_at=now))
            elif row.status in ("pending", "unsubscribed"):
                values = _values(prefs) | {"status": "pending", "changed_at": now}
                conn.execute(update(subscribers).where(subscribers.c.id == row.id).values(**values))
            found = _subscriber(conn.execute(select(subscribers).where(subscribers.c.email == email)).one())
        return found, found.status == "pending"

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.db.read() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
        return _subscriber(row) if row else None

    def by_email(self, email: str) -> Subscriber | None:
        with self.db.read() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
        return _subscriber(row) if row else None

    def set_status(self, subscriber_id: int, status: str, *, expect: Sequence[str] | None = None) -> bool:
        """Change the status (only from one of `expect`, when given); True if it changed."""
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status, "changed_at": now}
        if status == "active":
            values |= {"confirmed_at": now, "failures": 0}
        query = update(subscribers).where(subscribers.c.id == subscriber_id)
        if expect is not None:
            query = query.where(subscribers.c.status.in_(list(expect)))
        with self.db.write() as conn:
            return bool(conn.execute(query.values(**values)).rowcount)

    def update_preferences(self, subscriber_id: int, prefs: Preferences) -> None:
        with self.db.write() as conn:
            query = update(subscribers).where(subscribers.c.id == subscriber_id)
            conn.execute(query.values(**_values(prefs), changed_at=datetime.now(UTC)))

    def changed_stamp(self, subscriber_id: int) -> int:
        """When the subscription last changed, in microseconds (names one pending request)."""
        with self.db.read() as conn:
            changed = conn.execute(
                select(subscribers.c.changed_at).where(subscribers.c.id == subscriber_id)
            ).scalar_one()
        return int(changed.timestamp() * 1_000_000)

    def active(self, frequency: str) -> list[Subscriber]:
        query = select(subscribers).where(subscribers.c.status == "active", subscribers.c.frequency == frequency)
        with self.db.read() as conn:
            return [_subscriber(r) for r in conn.execute(query.order_by(subscribers.c.id))]

    def delivered(self, subscriber_id: int, *, ok: bool, pause_after: int) -> None:
        """Count permanent failures in a row (one atomic UPDATE); pause the address after `pause_after` of them."""
        query = update(subscribers).where(subscribers.c.id == subscriber_id)
        with self.db.write() as conn:
            if ok:
                conn.execute(query.values(failures=0))
                return
            pause = subscribers.c.failures + 1 >= pause_after
            conn.execute(query.where(subscribers.c.status == "active").values(
                failures=subscribers.c.failures + 1,
                status=case((pause, "paused"), else_=subscribers.c.status),
                changed_at=case((pause, datetime.now(UTC)), else_=subscribers.c.changed_at),
            ))  # fmt: skip


class Delivery(NamedTuple):
    subscriber_id: int
    status: str
    attempts: int
    message_id: str


class Deliveries:
    def __init__(self, db: Db) -> None:
        self.db = db

    def queue(self, period: str, subscriber_ids: Sequence[int], message_id: Callable[[int], str]) -> int:
        """Put (subscriber, period) rows in the ledger unless they are there; returns how many were added."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            have = set(conn.execute(select(deliveries.c.subscriber_id).where(deliveries.c.period == period)).scalars())
            rows = [
                {
                    "subscriber_id": sid,
                    "period": period,
                    "status": "queued",
                    "message_id": message_id(sid),
                    "updated_at": now,
                }
                for sid in subscriber_ids
                if sid not in have
            ]
            if rows:
                conn.execute(insert(deliveries), rows)
        return len(rows)

    def open(self, period: str) -> list[Delivery]:
        """Rows still to send: queued ones, and ones a killed run left half-way ("sending")."""
        query = select(deliveries.c.subscriber_id, deliveries.c.status, deliveries.c.attempts, deliveries.c.message_id)
        query = query.where(deliveries.c.period == period, deliveries.c.status.in_(["queued", "sending"]))
        with self.db.read() as conn:
            return [Delivery(*row) for row in conn.execute(query.order_by(deliveries.c.subscriber_id))]

    def claim(self, period: str, subscriber_ids: Sequence[int]) -> list[int]:
        """Mark rows "sending" whose subscriber is still active, the others "skipped"; returns the ones to send."""
        now = datetime.now(UTC)
        rows = (deliveries.c.period == period) & deliveries.c.subscriber_id.in_(list(subscriber_ids))
        with self.db.write() as conn:
            wanted = subscribers.c.id.in_(list(subscriber_ids))
            active = set(
                conn.execute(select(subscribers.c.id).where(wanted, subscribers.c.status == "active")).scalars()
            )
            still_open = rows & deliveries.c.status.in_(["queued", "sending"])  # never a row another run finished
            sending = update(deliveries).where(still_open, deliveries.c.subscriber_id.in_(active))
            sending = sending.values(status="sending", updated_at=now).returning(deliveries.c.subscriber_id)
            claimed = set(conn.execute(sending).scalars())
            conn.execute(update(deliveries).where(still_open, deliveries.c.subscriber_id.not_in(active))
                         .values(status="skipped", updated_at=now))  # fmt: skip
        return [sid for sid in subscriber_ids if sid in claimed]

    def skip(self, period: str, subscriber_ids: Sequence[int]) -> None:
        if subscriber_ids:
            query = update(deliveries).where(
                deliveries.c.period == period, deliveries.c.subscriber_id.in_(list(subscriber_ids))
            )
            with self.db.write() as conn:
                conn.execute(query.values(status="skipped", updated_at=datetime.now(UTC)))

    def mark(
        self, period: str, subscriber_id: int, status: str, *, error: str | None = None, attempt: bool = False
    ) -> None:
        values: dict[str, Any] = {"status": status, "error": error, "updated_at": datetime.now(UTC)}
        if attempt:
            values["attempts"] = deliveries.c.attempts + 1
        query = update(deliveries).where(deliveries.c.period == period, deliveries.c.subscriber_id == subscriber_id)
        with self.db.write() as conn:
            conn.execute(query.values(**values))

    def summary(self, period: str) -> Counter[str]:
        query = (
            select(deliveries.c.status, func.count()).where(deliveries.c.period == period).group_by(deliveries.c.status)
        )
        with self.db.read() as conn:
            return Counter({status: int(count) for status, count in conn.execute(query)})
