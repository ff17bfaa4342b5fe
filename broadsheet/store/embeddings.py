"""Paper vectors, one per paper and embedding model, stored as float32 bytes.

On PostgreSQL each vector is also stored as `embedding vector(384)` (migration 0011), written in
the same statement as the bytes, and searched through pgvector's HNSW cosine index (`nearest`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, delete, func, insert, select, text

from broadsheet.models import Paper
from broadsheet.store.engine import Db
from broadsheet.store.rows import paper_from_row
from broadsheet.store.schema import embeddings, papers

Vector = npt.NDArray[np.float32]
PG_DIM = 384  # the pgvector column's dimension (migration 0011): MiniLM's
HNSW_INDEX = "ix_embeddings_hnsw"
HNSW_DDL = f"CREATE INDEX IF NOT EXISTS {HNSW_INDEX} ON embeddings USING hnsw (embedding vector_cosine_ops)"
REBUILD_OVER = 10_000  # rows to fill past which the index is built once instead of row by row
EF_SEARCH = 100  # HNSW candidate list per query (recall@10 against exact search: benchmarks/pg_search.py)
_PG_INSERT = text(
    "INSERT INTO embeddings (paper_id, model, vector, embedding)"
    " VALUES (:paper_id, :model, :vector, CAST(:embedding AS vector))"
)
_PG_NEAREST = text(
    "SELECT paper_id, 1 - (embedding <=> CAST(:q AS vector)) AS score FROM embeddings"
    " WHERE model = :model AND embedding IS NOT NULL ORDER BY embedding <=> CAST(:q AS vector) LIMIT :k"
)


class Page(NamedTuple):
    """Stored vectors in embedding-id order: ids, their papers, one row per vector."""

    ids: npt.NDArray[np.int64]
    paper_ids: npt.NDArray[np.int64]
    matrix: Vector


def _missing_join(model: str) -> Any:
    return papers.outerjoin(embeddings, and_(embeddings.c.paper_id == papers.c.id, embeddings.c.model == model))


class Embeddings:
    def __init__(self, db: Db) -> None:
        self.db = db

    def missing_count(self, model: str) -> int:
        query = select(func.count()).select_from(_missing_join(model)).where(embeddings.c.id.is_(None))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def missing(self, model: str, *, limit: int) -> list[tuple[int, Paper]]:
        """Papers without a vector for `model`, lowest id first."""
        query = (
            select(papers).select_from(_missing_join(model)).where(embeddings.c.id.is_(None))
            .order_by(papers.c.id).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [(row._mapping["id"], paper_from_row(row)) for row in conn.execute(query)]

    def save(self, model: str, rows: Sequence[tuple[int, Vector]]) -> None:
        """Store vectors (replacing any for the same paper and model) in one transaction."""
        if not rows:
            return
        ids = [paper_id for paper_id, _ in rows]
        with self.db.write() as conn:
            conn.execute(delete(embeddings).where(embeddings.c.model == model, embeddings.c.paper_id.in_(ids)))
            values = [{"paper_id": pid, "model": model, "vector": _bytes(vec)} for pid, vec in rows]
            if self._pgvector(rows[0][1]):
                conn.execute(
                    _PG_INSERT, [{**v, "embedding": _literal(vec)} for v, (_, vec) in zip(values, rows, strict=True)]
                )
            else:
                conn.execute(insert(embeddings), values)

    def _pgvector(self, vector: Vector) -> bool:
        """Whether vectors like this one also go to pgvector (PostgreSQL, and the column's dimension)."""
        return self.db.dialect == "postgresql" and len(vector) == PG_DIM

    @property
    def in_database(self) -> bool:
        """Whether nearest-neighbour search runs in the database (pgvector) rather than in memory."""
        return self.db.dialect == "postgresql"

    def nearest(self, model: str, query: Vector, *, limit: int, ef_search: int = EF_SEARCH) -> list[tuple[int, float]]:
        """(paper id, cosine) of the `limit` nearest vectors by pgvector's HNSW index, best first (PostgreSQL)."""
        with self.db.read() as conn, conn.begin():
            _tune(conn, max(ef_search, min(limit, 1000)))
            rows = conn.execute(_PG_NEAREST, {"q": _literal(query), "model": model, "k": limit}).all()
        return sorted(((int(r.paper_id), float(r.score)) for r in rows), key=lambda r: -r[1])

    def vectors_of(self, model: str, paper_ids: Sequence[int]) -> dict[int, Vector]:
        """The stored vectors of these papers (those that have one), in one query."""
        if not paper_ids:
            return {}
        query = select(embeddings.c.paper_id, embeddings.c.vector).where(
            embeddings.c.model == model, embeddings.c.paper_id.in_(list(paper_ids))
        )
        with self.db.read() as conn:
            return {int(r.paper_id): np.frombuffer(r.vector, dtype="<f4") for r in conn.execute(query)}

    def count(self, model: str) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).where(embeddings.c.model == model)).scalar_one())

    def fill_vectors(self, *, batch: int = 2000, rebuild_over: int = REBUILD_OVER) -> int:
        """PostgreSQL: fill the pgvector column of rows copied in without it (`migrate-to`); returns how many.

        Past `rebuild_over` rows the HNSW index is dropped first and built once at the end: inserting
        into it row by row is the slow part (75K vectors: 770 s that way)."""
        if self.db.dialect != "postgresql":
            return 0
        missing = "embedding IS NULL AND octet_length(vector) = :n"
        with self.db.read() as conn:
            count = int(
                conn.execute(text(f"SELECT count(*) FROM embeddings WHERE {missing}"), {"n": PG_DIM * 4}).scalar_one()
            )
        if count == 0:
            return 0
        rebuild = count > rebuild_over
        if rebuild:
            with self.db.write() as conn:
                conn.execute(text(f"DROP INDEX IF EXISTS {HNSW_INDEX}"))
        try:
            return self._fill(missing, batch)
        finally:
            if rebuild:
                with self.db.write() as conn:
                    conn.execute(text(HNSW_DDL))

    def _fill(self, missing: str, batch: int) -> int:
        done = 0
        pick = text(f"SELECT id, vector FROM embeddings WHERE {missing} LIMIT :k")
        update = text("UPDATE embeddings SET embedding = CAST(:v AS vector) WHERE id = :id")
        while True:
            with self.db.write() as conn:
                rows = conn.execute(pick, {"n": PG_DIM * 4, "k": batch}).all()
                if not rows:
                    return done
                conn.execute(update, [{"id": r.id, "v": _literal(np.frombuffer(r.vector, "<f4"))} for r in rows])
            done += len(rows)

    def since(self, model: str, after: int, *, limit: int = 10_000) -> Page | None:
        """Vectors stored after embedding id `after`, oldest first, as arrays (None when there are none)."""
        query = (
            select(embeddings.c.id, embeddings.c.paper_id, embeddings.c.vector)
            .where(embeddings.c.model == model, embeddings.c.id > after)
            .order_by(embeddings.c.id).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        matrix = np.frombuffer(b"".join(r.vector for r in rows), dtype="<f4").reshape(len(rows), -1)
        return Page(
            np.array([r.id for r in rows], dtype=np.int64), np.array([r.paper_id for r in rows], dtype=np.int64), matrix
        )

    def latest_id(self, model: str) -> int:
        query = select(func.max(embeddings.c.id)).where(embeddings.c.model == model)
        with self.db.read() as conn:
            return int(conn.execute(query).scalar() or 0)

    def import_vectors(self, model: str, rows: Sequence[tuple[str, Vector]]) -> int:
        """Store precomputed vectors by arXiv id for papers that lack one (the demo corpus ships them)."""
        wanted = dict(rows)
        with self.db.read() as conn:
            query = select(papers.c.id, papers.c.arxiv_id).select_from(_missing_join(model))
            have = conn.execute(query.where(embeddings.c.id.is_(None), papers.c.arxiv_id.in_(list(wanted)))).all()
        self.save(model, [(pid, wanted[key]) for pid, key in have])
        return len(have)


def _tune(conn: Connection, ef_search: int) -> None:
    """This transaction's HNSW settings: the candidate list, and iterative scans so a filtered or long
    LIMIT still gets `limit` rows (pgvector >= 0.8)."""
    conn.execute(text(f"SET LOCAL hnsw.ef_search = {int(ef_search)}"))
    conn.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))


def _literal(vector: Vector) -> str:
    """pgvector's text form, '[0.1,0.2,...]' (float32 values printed exactly)."""
    return "[" + ",".join(map(repr, np.asarray(vector, dtype=np.float32).tolist())) + "]"


def _bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()
