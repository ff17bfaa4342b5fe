"""Counters, pacers and secrets: small shared state that every process of a deployment agrees on.

    store.counters.hit("login:addr:10.0.0.1", window)   # -> attempts in the current window, this one included
    store.pacer.reserve("arxiv", 3.0)                   # -> when this request may start (slots never overlap)
    with store.locks.exclusive("digest") as held: ...   # one holder at a time; freed if the holder dies
    store.secrets.get_or_create("signing", make)        # -> the same value on every host

Each is one atomic statement or one locked transaction, so they hold with several processes on
several hosts (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: `ON CONFLICT` and row locks).
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import filelock
from sqlalchemy import Connection, Insert, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from broadsheet.store.engine import Db
from broadsheet.store.schema import counters, pacers, secrets


def dialect_insert(conn: Connection, table: object) -> Insert:
    """INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL spell it the same)."""
    make = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    return make(table)  # type: ignore[arg-type]


class Counters:
    """Fixed-window counters: `hit` counts an event and returns the count in the current window."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def hit(self, key: str, window: timedelta, *, amount: int = 1) -> int:
        now = datetime.now(UTC)
        stale = counters.c.window_start < now - window
        with self.db.write() as conn:
            statement = dialect_insert(conn, counters).values(key=key, count=amount, window_start=now)
            statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=["key"],
                set_={
                    "count": case((stale, amount), else_=counters.c.count + amount),
                    "window_start": case((stale, now), else_=counters.c.window_start),
                },
            ).returning(counters.c.count)
            return int(conn.execute(statement).scalar_one())

    def peek(self, key: str, window: timedelta) -> int:
        query = select(counters.c.count).where(
            counters.c.key == key, counters.c.window_start >= datetime.now(UTC) - window
        )
        with self.db.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def undo(self, key: str) -> None:
        """Take one event back (an attempt that turned out to be legitimate)."""
        with self.db.write() as conn:
            conn.execute(update(counters).where(counters.c.key == key, counters.c.count > 0)
                         .values(count=counters.c.count - 1))  # fmt: skip

    def clear(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(counters).where(counters.c.key == key))


class Pacer:
    """Spaces requests to an outside service across every process: each caller reserves its own slot."""

    def __init__(self, db: Db) -> None:
        self.db = db

    def reserve(self, name: str, interval: float) -> datetime:
        """The moment this caller's request may start; the next caller's slot is `interval` seconds later."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(dialect_insert(conn, pacers).values(name=name, next_at=now).on_conflict_do_nothing())  # type: ignore[attr-defined]
            query = select(pacers.c.next_at).where(pacers.c.name == name).with_for_update()
            slot: datetime = max(now, conn.execute(query).scalar_one())
            conn.execute(update(pacers).where(pacers.c.name == name).values(next_at=slot + timedelta(seconds=interval)))
        return slot


class Locks:
    """Named exclusive locks that die with their holder: a killed run never leaves one behind.

    PostgreSQL: a session advisory lock on a connection held for the run (any host).
    SQLite (one host by nature): a lock file next to the database file.
    """

    def __init__(self, db: Db) -> None:
        self.db = db

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """Yields True if this process now holds the lock (until the block ends), False if another does."""
        if self.db.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            with self.db.engine.connect() as conn:
                held = bool(conn.execute(select(func.pg_try_advisory_lock(key))).scalar())
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(select(func.pg_advisory_unlock(key)))
                        conn.commit()
            return
        database = self.db.engine.url.database or ""
        path = Path(database if database not in ("", ":memory:") else tempfile.gettempdir() + "/broadsheet")
        lock = filelock.FileLock(f"{path}.{name}.lock")
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()


class Secrets:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get_or_create(self, name: str, make: Callable[[], str]) -> str:
        """The stored value; the first caller on any host stores `make()` (later callers read it)."""
        with self.db.write() as conn:
            conn.execute(dialect_insert(conn, secrets).values(name=name, value=make()).on_conflict_do_nothing())  # type: ignore[attr-defined]
            return str(conn.execute(select(secrets.c.value).where(secrets.c.name == name)).scalar_one())
