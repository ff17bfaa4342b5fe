"""Authors by normalised name (broadsheet.community.names): their papers, co-authors, and verified claims on them.

store.authors.papers("jane doe", limit=50)      # -> [PaperView], newest first
store.authors.count("jane doe")                 # -> how many papers list that name
store.authors.coauthors("jane doe", limit=20)   # -> [CoAuthor], most shared papers first
store.authors.claims_of(["jane doe"])           # -> [VerifiedClaim] of accounts verified as that name

Every lookup goes through `ix_paper_authors_name` (name_norm, paper_id). `write_author_index` keeps the
table current: store.papers calls it in every upsert's transaction (PostgreSQL: one COPY, as fast as it gets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select

from broadsheet.community.names import normalise_name
from broadsheet.models import Paper, PaperView, Submitter
from broadsheet.store.engine import Db
from broadsheet.store.rows import view_from_row, view_select
from broadsheet.store.schema import claims, paper_authors, papers, users


@dataclass(frozen=True, slots=True)
class CoAuthor:
    name: str  # one spelling the papers use
    key: str  # normalised
    papers: int  # shared with the author


@dataclass(frozen=True, slots=True)
class VerifiedClaim:
    user_id: int
    account: Submitter
    author: str  # the name as the paper lists it
    arxiv_id: str
    paper_id: int


def _by(key: str) -> Select[Any]:
    return select(paper_authors.c.paper_id).where(paper_authors.c.name_norm == key)


def _chosen(key: str, also: Sequence[int]) -> ColumnElement[bool]:
    chosen: ColumnElement[bool] = papers.c.id.in_(_by(key))
    return chosen | papers.c.id.in_(list(also)) if also else chosen


class Authors:
    def __init__(self, db: Db) -> None:
        self.db = db

    def papers(self, key: str, *, limit: int = 50, offset: int = 0, also: Sequence[int] = ()) -> list[PaperView]:
        """Papers listing the name (and the papers `also`, by row id), newest first."""
        query = view_select().where(_chosen(key, also)).order_by(papers.c.published_at.desc(), papers.c.id.desc())
        with self.db.read() as conn:
            return [view_from_row(r) for r in conn.execute(query.limit(limit).offset(offset))]

    def count(self, key: str, *, also: Sequence[int] = ()) -> int:
        query = select(func.count()).select_from(papers).where(_chosen(key, also))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def spellings(self, key: str) -> list[str]:
        """The ways the papers write the name, the most used first."""
        query = select(paper_authors.c.name, func.count().label("n")).where(paper_authors.c.name_norm == key)
        query = query.group_by(paper_authors.c.name).order_by(func.count().desc(), paper_authors.c.name).limit(10)
        with self.db.read() as conn:
            return [r.name for r in conn.execute(query)]

    def coauthors(self, key: str, *, limit: int = 20, pool: int = 2000) -> list[CoAuthor]:
        """Names on the author's (newest `pool`) papers, by how many papers they share, then by name."""
        newest = _by(key).order_by(paper_authors.c.paper_id.desc()).limit(pool)
        theirs = newest.subquery()
        other = paper_authors.alias("other")
        shared = func.count(func.distinct(other.c.paper_id))
        query = (
            select(other.c.name_norm, func.min(other.c.name).label("name"), shared.label("n"))
            .where(other.c.paper_id.in_(select(theirs.c.paper_id)), other.c.name_norm != key)
            .group_by(other.c.name_norm)
            .order_by(shared.desc(), other.c.name_norm)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [CoAuthor(r.name, r.name_norm, int(r.n)) for r in conn.execute(query)]

    def claims_of(self, paper_ids: Sequence[int] = (), user_ids: Sequence[int] = ()) -> list[VerifiedClaim]:
        """Approved claims on these papers, or by these accounts."""
        if not paper_ids and not user_ids:
            return []
        which = claims.c.paper_id.in_(list(paper_ids)) | claims.c.user_id.in_(list(user_ids))
        query = (
            select(claims.c.user_id, claims.c.author, claims.c.paper_id, papers.c.arxiv_id, users.c.username,
                   users.c.display_name)
            .join(users, users.c.id == claims.c.user_id)
            .join(papers, papers.c.id == claims.c.paper_id)
            .where(claims.c.status == "approved", users.c.banned_at.is_(None), which)
            .order_by(claims.c.id)
        )  # fmt: skip
        with self.db.read() as conn:
            return [
                VerifiedClaim(r.user_id, Submitter(r.username, r.display_name), r.author, r.arxiv_id, r.paper_id)
                for r in conn.execute(query.limit(5000))
            ]

    def paper_ids(self, key: str, *, limit: int = 5000) -> list[int]:
        with self.db.read() as conn:
            return [int(i) for i in conn.execute(_by(key).limit(limit)).scalars()]


def write_author_index(conn: Connection, inserts: list[tuple[int, Paper]], updates: list[tuple[int, Paper]]) -> None:
    """Index the authors of new papers (row id, paper) and re-index those of papers whose authors changed."""
    if updates:
        conn.execute(delete(paper_authors).where(paper_authors.c.paper_id.in_([i for i, _ in updates])))
    rows = [
        (row_id, pos, name, normalise_name(name))
        for row_id, paper in inserts + updates
        for pos, name in enumerate(paper.authors)
    ]
    if not rows:
        return
    if conn.dialect.name == "postgresql":  # COPY: several times faster than an INSERT per row
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy("COPY paper_authors (paper_id, position, name, name_norm) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    values = [{"paper_id": i, "position": pos, "name": name, "name_norm": key} for i, pos, name, key in rows]
    conn.execute(insert(paper_authors), values)
