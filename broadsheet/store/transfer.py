"""Copying a whole deployment into another database (`broadsheet migrate-to`), verified by counts and checksums.

    target = Store.open("postgresql://broadsheet@db/broadsheet"); target.migrate()
    copied = copy(source, target)            # every table, one transaction, ids kept; -> [TableSum]
    target.embeddings.fill_vectors()         # PostgreSQL: the pgvector column (migration 0011)
    compare(copied, fingerprints(target))    # -> [Check], one per table

Every table of `schema.metadata` is copied in dependency order, in batches, from one consistent
snapshot of the source into one transaction on the target, so an interrupted copy leaves the target
empty. PostgreSQL sequences are then moved past the copied ids. A table's checksum is a sha256 over
its rows in primary-key order, each row as canonical JSON (aware UTC datetimes, ISO dates, booleans,
JSON with sorted keys, bytes as hex), so the same data gives the same checksum on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Connection, Integer, Select, String, Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from broadsheet.errors import BroadsheetError
from broadsheet.store.schema import metadata

if TYPE_CHECKING:
    from broadsheet.store import Store

BATCH = 1000
Progress = Callable[[str, int], None]  # (table, rows just copied)


class TransferError(BroadsheetError):
    """The target database refused the copy (a row, a constraint); nothing was kept."""


@dataclass(frozen=True, slots=True)
class TableSum:
    table: str
    rows: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Check:
    table: str
    source: TableSum
    target: TableSum

    @property
    def ok(self) -> bool:
        return self.source.rows == self.target.rows and self.source.sha256 == self.target.sha256


def same_database(one: str, other: str) -> bool:
    """Whether two URLs name the same database (passwords and drivers aside)."""
    a, b = make_url(one), make_url(other)
    return (a.get_backend_name(), a.host, a.port, a.database) == (b.get_backend_name(), b.host, b.port, b.database)


def tables() -> list[Table]:
    """Every table of the schema, each after the tables it refers to."""
    return list(metadata.sorted_tables)


def row_counts(store: Store) -> dict[str, int]:
    with store.db.read() as conn:
        return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables()}


def occupied(store: Store) -> dict[str, int]:
    """The tables that hold rows, with their counts (empty for a fresh database)."""
    return {name: n for name, n in row_counts(store).items() if n}


class Fingerprint:
    """Row count and sha256 of one table's rows, fed in primary-key order."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.rows = 0
        self._hash = hashlib.sha256()

    def add(self, row: Sequence[Any]) -> None:
        self.rows += 1
        self._hash.update(canonical_row(row))

    def result(self) -> TableSum:
        return TableSum(self.table, self.rows, self._hash.hexdigest())


def canonical_row(row: Sequence[Any]) -> bytes:
    """One row as a line of canonical JSON: equal on every backend for equal data."""
    line = json.dumps([_plain(v) for v in row], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return line.encode() + b"\n"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()  # UTCDateTime gives aware UTC datetimes on both backends
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    return value  # None, bool, int, str, and JSON values (dicts and lists: keys are sorted by dumps)


def fingerprints(store: Store, *, batch: int = BATCH) -> list[TableSum]:
    """Count and checksum of every table, read from one snapshot."""
    with _snapshot(store) as conn:
        sums = []
        for table in tables():
            found = Fingerprint(table.name)
            for part in conn.execution_options(yield_per=batch).execute(_ordered(table, store.db.dialect)).partitions():
                for row in part:
                    found.add(row)
            sums.append(found.result())
        return sums


def compare(source: Sequence[TableSum], target: Sequence[TableSum]) -> list[Check]:
    theirs = {s.table: s for s in target}
    return [Check(s.table, s, theirs.get(s.table, TableSum(s.table, 0, ""))) for s in source]


def copy(source: Store, target: Store, *, batch: int = BATCH, progress: Progress | None = None) -> list[TableSum]:
    """Copy every row of `source` into `target` (migrated, empty) keeping primary keys; returns the
    source's counts and checksums as copied. One transaction: on any error the target keeps nothing."""
    sums = []
    with _snapshot(source) as src, target.db.write() as dst:
        floors = _floors(src, source.db.dialect)
        for table in tables():
            copied = Fingerprint(table.name)
            query = _ordered(table, source.db.dialect)
            for part in src.execution_options(yield_per=batch).execute(query).partitions():
                for row in part:
                    copied.add(row)
                _insert(dst, table, [row._asdict() for row in part])
                if progress:
                    progress(table.name, len(part))
            sums.append(copied.result())
        if target.db.dialect == "postgresql":
            reset_sequences(dst, floors)
    return sums


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    try:
        conn.execute(insert(table), rows)
    except DBAPIError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise TransferError(f"the target refused a row of table {table.name}: {first}") from exc


def reset_sequences(conn: Connection, floors: dict[str, int] | None = None) -> dict[str, int]:
    """PostgreSQL: move each serial id's sequence past the highest id, or past `floors` (the ids the source
    had handed out, deleted rows' too); returns the next id per table."""
    following = {}
    for table, key in _serial_keys():
        sequence = conn.execute(select(func.pg_get_serial_sequence(table.name, key.name))).scalar()
        if sequence is None:
            continue
        top = max(int(conn.execute(select(func.max(key))).scalar() or 0), (floors or {}).get(table.name, 0))
        conn.execute(select(func.setval(sequence, max(top, 1), top > 0)))
        following[table.name] = top + 1
    return following


def _serial_keys() -> Iterator[tuple[Table, Column[Any]]]:
    for table in tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer):
            yield table, pk[0]


def _floors(conn: Connection, dialect: str) -> dict[str, int]:
    """The highest id each table has handed out: SQLite's AUTOINCREMENT counters, PostgreSQL's sequences."""
    if dialect == "sqlite":
        if conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first() is None:
            return {}
        return {str(name): int(seq) for name, seq in conn.execute(text("SELECT name, seq FROM sqlite_sequence"))}
    if dialect != "postgresql":
        return {}
    last = text("SELECT pg_sequence_last_value(CAST(pg_get_serial_sequence(:t, :c) AS regclass))")
    found = {t.name: conn.execute(last, {"t": t.name, "c": c.name}).scalar() for t, c in _serial_keys()}
    return {name: int(value) for name, value in found.items() if value is not None}


def unindexed_vectors(store: Store) -> int:
    """PostgreSQL: stored vectors of pgvector's dimension that lack their pgvector copy (0 elsewhere)."""
    if store.db.dialect != "postgresql":
        return 0
    from broadsheet.store.embeddings import PG_DIM

    query = text("SELECT count(*) FROM embeddings WHERE embedding IS NULL AND octet_length(vector) = :n")
    with store.db.read() as conn:
        return int(conn.execute(query, {"n": PG_DIM * 4}).scalar_one())


def _ordered(table: Table, dialect: str) -> Select[Any]:
    """All rows in primary-key order; text keys in code-point order on both backends (PostgreSQL: "C")."""
    keys = [c.collate("C") if dialect == "postgresql" and isinstance(c.type, String) else c for c in table.primary_key]
    return select(table).order_by(*keys)


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One read transaction: SQLite's (WAL) is a snapshot; PostgreSQL needs REPEATABLE READ for one."""
    with store.db.read() as conn:
        if store.db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn
