"""Engines and transactions: SQLite in WAL mode with foreign keys; writes take the lock up front."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalise_url(url: str) -> str:
    """A database URL as SQLAlchemy opens it: `postgresql://` and `postgres://` get the psycopg 3 driver."""
    url = url.strip()
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            url = "postgresql+psycopg://" + url[len(plain) :]
    make_url(url)  # raises ArgumentError for what is not a URL
    return url


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL; a SQLite file's directory is created if missing."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, json_serializer=_dumps, pool_pre_ping=True)
        event.listen(engine, "before_cursor_execute", _no_nul, retval=True)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=_dumps, connect_args={"timeout": 30, "check_same_thread": False})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _no_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> tuple[str, Any]:
    """PostgreSQL text cannot hold NUL, not even in a WHERE: a NUL typed into a lookup (a username in a URL)
    becomes U+FFFD, which matches nothing, instead of an error. Stored text is cleaned earlier, by the rules."""

    def clean(value: Any) -> Any:
        return value.replace("\x00", "\ufffd") if isinstance(value, str) and "\x00" in value else value

    if isinstance(parameters, dict):
        return statement, {k: clean(v) for k, v in parameters.items()}
    if isinstance(parameters, list | tuple) and parameters and isinstance(parameters[0], dict):
        return statement, [{k: clean(v) for k, v in row.items()} for row in parameters]
    if isinstance(parameters, list | tuple):
        return statement, type(parameters)(clean(v) for v in parameters)
    return statement, parameters


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy (not the sqlite3 module) decide where transactions begin; see _sqlite_begin.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the write lock at BEGIN, so concurrent writers queue on the busy
    # timeout instead of failing with "database is locked" when a read lock cannot be upgraded.
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class Db:
    engine: Engine
    # SQLite has one writer at a time; threads of one process queue here (first come, first served)
    # instead of in SQLite's busy handler, which sleeps up to 100 ms per retry under contention.
    _writing: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any exception."""
        if self.dialect != "sqlite":
            with self.engine.begin() as conn:
                yield conn
            return
        with self._writing, self.engine.execution_options(immediate=True).begin() as conn:
            yield conn


def _alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


MIGRATION_LOCK = 0x62726F6164  # "broad": the advisory lock key migrations hold on PostgreSQL


def migrate(db: Db) -> None:
    """Bring the schema to the newest revision (idempotent). Hosts starting at once take turns: on SQLite
    the write transaction serialises them, on PostgreSQL a transaction-level advisory lock; whoever comes
    second finds the schema current and does nothing."""
    with db.write() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        command.upgrade(_alembic_config(conn), "head")


def needs_migration(db: Db) -> bool:
    with db.read() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(_alembic_config(conn)).get_current_head()
    return current != head
