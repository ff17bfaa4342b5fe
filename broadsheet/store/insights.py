"""Paper insights (a one-sentence summary and keywords, `broadsheet.insights`), one per paper.

store.insights.missing("extractive-mmr", 1, model=embedder.name, limit=512)  # -> [Pending], lowest id first
store.insights.save([(paper_id, insight)])                                   # replaces the paper's insight
store.insights.get(paper_id)                                                 # -> Insight | None
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import and_, delete, func, insert, or_, select

from broadsheet.models import Paper
from broadsheet.store.engine import Db
from broadsheet.store.rows import paper_from_row
from broadsheet.store.schema import embeddings, insights, papers


class InsightLike(Protocol):
    """What is stored: `broadsheet.insights.Insight` (not imported here: the store runs no model code)."""

    @property
    def summary(self) -> str: ...
    @property
    def keywords(self) -> tuple[str, ...]: ...
    @property
    def method(self) -> str: ...
    @property
    def version(self) -> int: ...


class Stored(NamedTuple):
    summary: str
    keywords: tuple[str, ...]
    method: str
    version: int
    computed_at: datetime


class Pending(NamedTuple):
    """A paper without a current insight, with its stored vector (float32 bytes) for `model` if it has one."""

    paper_id: int
    paper: Paper
    vector: bytes | None


def _missing_join(method: str, version: int) -> Any:
    current = and_(insights.c.paper_id == papers.c.id, insights.c.method == method, insights.c.version == version)
    return papers.outerjoin(insights, current)


class Insights:
    def __init__(self, db: Db) -> None:
        self.db = db

    def missing_count(self, method: str, version: int) -> int:
        query = select(func.count()).select_from(_missing_join(method, version)).where(insights.c.id.is_(None))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def missing(self, method: str, version: int, *, model: str | None, limit: int, after: int = 0) -> list[Pending]:
        """Papers without an insight from this method and version (id > `after`), lowest id first."""
        joined = _missing_join(method, version).outerjoin(
            embeddings, and_(embeddings.c.paper_id == papers.c.id, embeddings.c.model == (model or ""))
        )
        query = (
            select(papers, embeddings.c.vector.label("stored_vector")).select_from(joined)
            .where(insights.c.id.is_(None), papers.c.id > after).order_by(papers.c.id).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        return [Pending(r._mapping["id"], paper_from_row(r), r._mapping["stored_vector"]) for r in rows]

    def save(self, rows: Sequence[tuple[int, InsightLike]], *, now: datetime | None = None) -> None:
        """Store insights (replacing any for the same papers) in one transaction."""
        if not rows:
            return
        at = now or datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(delete(insights).where(insights.c.paper_id.in_([pid for pid, _ in rows])))
            conn.execute(insert(insights), [_values(pid, i, at) for pid, i in rows])

    def get(self, paper_id: int) -> Stored | None:
        query = select(insights).where(insights.c.paper_id == paper_id)
        with self.db.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        return Stored(m["summary"], tuple(m["keywords"]), m["method"], m["version"], m["computed_at"])

    def import_insights(self, rows: Sequence[tuple[str, InsightLike]]) -> int:
        """Store precomputed insights by arXiv id for papers that lack a current one (the demo corpus ships them)."""
        wanted = dict(rows)
        if not wanted:
            return 0
        kinds = {(i.method, i.version) for i in wanted.values()}
        have_current = or_(*(and_(insights.c.method == m, insights.c.version == v) for m, v in kinds))
        current = papers.outerjoin(insights, and_(insights.c.paper_id == papers.c.id, have_current))
        query = select(papers.c.id, papers.c.arxiv_id).select_from(current)
        with self.db.read() as conn:
            todo = conn.execute(query.where(insights.c.id.is_(None), papers.c.arxiv_id.in_(list(wanted)))).all()
        self.save([(pid, wanted[key]) for pid, key in todo])
        return len(todo)


def _values(paper_id: int, insight: InsightLike, at: datetime) -> dict[str, Any]:
    return {"paper_id": paper_id, "summary": insight.summary, "keywords": list(insight.keywords),
            "method": insight.method, "version": insight.version, "computed_at": at}  # fmt: skip
