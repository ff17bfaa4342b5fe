"""A marker that moves whenever any connection commits a change, in any process on any host.

    marker = store.changes.current()    # equal markers: nothing was committed in between

SQLite: `PRAGMA data_version` on a connection of the marker's own (it moves when any other
connection commits to the file). PostgreSQL: the set of finished transactions, read from the current
snapshot (`pg_current_snapshot()`) on a connection of the marker's own. The raw snapshot also moves
when a transaction merely starts writing (it takes a transaction id); `finished` drops those ids, so
the marker moves once per commit, not twice, and a page rendered after reading a marker shows at least
what that marker stands for. None: the database cannot tell (an in-memory SQLite), and nothing may be
kept on the strength of it.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy.engine import make_url

from broadsheet.store.engine import Db

SNAPSHOT = "SELECT pg_current_snapshot()::text"


def finished(snapshot: str) -> str:
    """The transactions a PostgreSQL snapshot `xmin:xmax:xip,...` counts as finished, in one canonical form.

    Every id below `xmax` that is not in progress (`xip`) is finished, so ids in progress at the top
    of the range say nothing: a writer that has just taken id 100 turns `100:100:` into `100:101:100`,
    the same set. Trimming them gives equal strings exactly for equal sets.
    """
    _, xmax_text, xip_text = snapshot.split(":")
    xmax = int(xmax_text)
    running = {int(x) for x in xip_text.split(",") if x}
    while xmax - 1 in running:
        xmax -= 1
        running.discard(xmax)
    return f"{xmax}:{','.join(map(str, sorted(running)))}"


class Changes:
    def __init__(self, db: Db) -> None:
        self.db = db
        self._sqlite: sqlite3.Connection | None = None
        self._postgresql: Any = None  # a pooled DBAPI connection kept for the marker, in autocommit
        self._lock = threading.Lock()

    def current(self) -> str | None:
        if self.db.dialect == "postgresql":
            return finished(self._snapshot())
        own = self._sqlite_connection()
        if own is None:
            return None
        with self._lock:
            return str(own.execute("PRAGMA data_version").fetchone()[0])

    def _snapshot(self) -> str:
        """One round trip on the marker's own connection (no pool checkout, no transaction); one retry."""
        with self._lock:
            try:
                return self._read_snapshot()
            except Exception:  # the server restarted or dropped the connection: take a new one once
                self._drop()
            try:
                return self._read_snapshot()
            except Exception:
                self._drop()
                raise

    def _read_snapshot(self) -> str:
        if self._postgresql is None:
            self._postgresql = self.db.engine.raw_connection()
            self._postgresql.driver_connection.autocommit = True
        cursor = self._postgresql.cursor()
        cursor.execute(SNAPSHOT)
        value = str(cursor.fetchone()[0])
        cursor.close()
        return value

    def _drop(self) -> None:
        if self._postgresql is not None:
            self._postgresql.invalidate()
            self._postgresql = None

    def close(self) -> None:
        with self._lock:
            if self._postgresql is not None:
                self._postgresql.close()
                self._postgresql = None
            if self._sqlite is not None:
                self._sqlite.close()
                self._sqlite = None

    def _sqlite_connection(self) -> sqlite3.Connection | None:
        url = make_url(self.db.engine.url)
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        with self._lock:
            if self._sqlite is None:
                self._sqlite = sqlite3.connect(url.database, check_same_thread=False, isolation_level=None)
            return self._sqlite
