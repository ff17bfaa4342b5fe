"""Paper vectors, one per paper and embedding model, stored as float32 bytes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, delete, func, insert, select

from broadsheet.models import Paper
from broadsheet.store.engine import Db
from broadsheet.store.rows import paper_from_row
from broadsheet.store.schema import embeddings, papers

Vector = npt.NDArray[np.float32]


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
            conn.execute(insert(embeddings), values)

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


def _bytes(vector: Vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()
