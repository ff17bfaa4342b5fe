"""A marker that moves whenever any connection commits a change, in any process on any host.

    marker = store.changes.current()    # equal markers: nothing was committed in between

SQLite: `PRAGMA data_version` on a connection of the marker's own (it moves when any other
connection commits to the file). PostgreSQL: the current snapshot (`pg_current_snapshot()`), which
moves exactly when a writing transaction ends and becomes visible, so a page rendered after reading
a marker shows at least what that marker stands for. None: the database cannot tell (an in-memory
SQLite), and nothing may be kept on the strength of it.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy import text
from sqlalchemy.engine import make_url

from broadsheet.store.engine import Db


class Changes:
    def __init__(self, db: Db) -> None:
        self.db = db
        self._sqlite: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def current(self) -> str | None:
        if self.db.dialect == "postgresql":
            with self.db.read() as conn:
                return str(conn.execute(text("SELECT pg_current_snapshot()::text")).scalar_one())
        own = self._sqlite_connection()
        if own is None:
            return None
        with self._lock:
            return str(own.execute("PRAGMA data_version").fetchone()[0])

    def _sqlite_connection(self) -> sqlite3.Connection | None:
        url = make_url(self.db.engine.url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        with self._lock:
            if self._sqlite is None:
                self._sqlite = sqlite3.connect(url.database, check_same_thread=False, isolation_level=None)
            return self._sqlite
