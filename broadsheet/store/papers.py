"""Papers: idempotent upserts (newest version wins), lookups, newest-first paging, the search indexes' change feed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, func, insert, select, tuple_, update

from broadsheet.ingest.metadata import clean_paper
from broadsheet.models import Change, Filters, Paper, PaperView, UpsertResult, merge
from broadsheet.store.authors import write_author_index
from broadsheet.store.engine import Db
from broadsheet.store.rows import filter_clauses, paper_from_row, paper_values, view_from_row, view_select
from broadsheet.store.schema import announcements, daily_entries, embeddings, insights, paper_categories, papers


def embedded_text(paper: Paper) -> tuple[str, str]:
    return paper.title, paper.abstract


class Cursor(NamedTuple):
    """Position in the newest-first paper list: the last (published_at, id) seen."""

    published_at: datetime
    id: int


class Written(NamedTuple):
    result: UpsertResult
    ids: dict[str, int]  # arxiv_id -> row id, for every paper in the batch
    changed: set[str]  # arxiv_ids inserted or updated


class Papers:
    def __init__(self, db: Db) -> None:
        self.db = db

    def upsert(self, batch: Iterable[Paper]) -> UpsertResult:
        """Insert new papers and update changed ones, in one transaction."""
        with self.db.write() as conn:
            return upsert_papers(conn, list(batch)).result

    def upsert_announced(self, items: Sequence[tuple[Paper, date, str]]) -> UpsertResult:
        """Upsert papers from an announcement feed and record each (paper, day, kind) once."""
        with self.db.write() as conn:
            written = upsert_papers(conn, [paper for paper, _, _ in items])
            wanted = {(written.ids[p.arxiv_id], day): kind for p, day, kind in items}
            have = set(
                conn.execute(
                    select(announcements.c.paper_id, announcements.c.day).where(
                        announcements.c.paper_id.in_([pid for pid, _ in wanted])
                    )
                ).all()
            )
            rows = [
                {"paper_id": pid, "day": day, "kind": kind}
                for (pid, day), kind in wanted.items()
                if (pid, day) not in have
            ]
            if rows:
                conn.execute(insert(announcements), rows)
        return written.result

    def get(self, arxiv_id: str) -> PaperView | None:
        with self.db.read() as conn:
            row = conn.execute(view_select().where(papers.c.arxiv_id == arxiv_id)).first()
        return view_from_row(row) if row else None

    def views(self, ids: Sequence[int]) -> list[PaperView]:
        """PaperViews for internal ids, in the order given (unknown ids are skipped)."""
        if not ids:
            return []
        with self.db.read() as conn:
            rows = conn.execute(view_select().where(papers.c.id.in_(ids))).all()
        by_id = {view.row_id: view for view in map(view_from_row, rows)}
        return [by_id[i] for i in ids if i in by_id]

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(papers)).scalar_one())

    def newest(
        self, *, limit: int, after: Cursor | None = None, filters: Filters = Filters()
    ) -> tuple[list[PaperView], Cursor | None]:
        """Papers by publication time, newest first; returns the page and the cursor for the next one."""
        query = view_select().where(*filter_clauses(filters))
        query = query.order_by(papers.c.published_at.desc(), papers.c.id.desc()).limit(limit)
        if after:
            query = query.where(tuple_(papers.c.published_at, papers.c.id) < tuple_(*after))
        with self.db.read() as conn:
            rows = conn.execute(query).all()
        views = [view_from_row(r) for r in rows]
        last = rows[-1]._mapping if len(rows) == limit else None
        return views, (Cursor(last["published_at"], last["id"]) if last else None)

    def changed_since(self, mark: datetime | None, *, after_id: int = -1, limit: int = 5000) -> list[Change]:
        """Papers changed after (mark, after_id) in (modified_at, id) order; all when `mark` is None.

        The lexical index's feed: it pages by the last row seen, and re-reads rows stamped exactly
        `mark` when `after_id` is -1 (re-indexing a paper twice is harmless, missing one is not).
        """
        query = select(papers.c.id, papers.c.title, papers.c.abstract, papers.c.authors, papers.c.modified_at)
        if mark is not None:
            query = query.where(tuple_(papers.c.modified_at, papers.c.id) > tuple_(mark, after_id))
        query = query.order_by(papers.c.modified_at, papers.c.id).limit(limit)
        with self.db.read() as conn:
            return [Change(r.id, r.title, r.abstract, tuple(r.authors), r.modified_at) for r in conn.execute(query)]

    def latest_change(self) -> datetime | None:
        """The newest modification time (an index lookup): tells whether the search indexes are current."""
        with self.db.read() as conn:
            newest: datetime | None = conn.execute(select(func.max(papers.c.modified_at))).scalar()
        return newest

    def new_in(self, first: date, last: date, zone: ZoneInfo) -> list[int]:
        """Papers new to the site on the days first..last: listed on Daily Papers then, or first published then."""
        listed = select(daily_entries.c.paper_id).where(
            daily_entries.c.day.between(first, last), daily_entries.c.hidden.is_(False)
        )
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        published = select(papers.c.id).where(papers.c.published_at >= start, papers.c.published_at < end)
        with self.db.read() as conn:
            return sorted(set(conn.execute(listed).scalars()) | set(conn.execute(published).scalars()))

    def matching(self, ids: Sequence[int], filters: Filters) -> set[int]:
        """The ids among `ids` that pass the filters."""
        query = select(papers.c.id).where(papers.c.id.in_(list(ids)), *filter_clauses(filters))
        with self.db.read() as conn:
            return set(conn.execute(query).scalars())

    def id_of(self, arxiv_id: str) -> int | None:
        with self.db.read() as conn:
            return conn.execute(select(papers.c.id).where(papers.c.arxiv_id == arxiv_id)).scalar()


def upsert_papers(conn: Connection, batch: Sequence[Paper]) -> Written:
    """Upsert within an open transaction. Text is cleaned here, the one place every source passes
    (characters XML forbids, NUL included, which PostgreSQL text cannot hold)."""
    incoming: dict[str, Paper] = {}
    for paper in map(clean_paper, batch):
        seen = incoming.get(paper.arxiv_id)
        incoming[paper.arxiv_id] = merge(seen, paper) if seen else paper
    stored = _stored(conn, list(incoming))
    now = datetime.now(UTC)
    inserts = [p for key, p in incoming.items() if key not in stored]
    updates: list[tuple[int, Paper]] = []
    for key, paper in incoming.items():
        if key in stored:
            row_id, old = stored[key]
            merged = merge(old, paper)
            if merged != old:
                updates.append((row_id, merged))
    ids = {key: row_id for key, (row_id, _) in stored.items()}
    stored_by_id = dict(stored.values())
    if inserts:
        conn.execute(insert(papers), [paper_values(p, now) | {"created_at": now} for p in inserts])
        ids |= {key: row_id for key, (row_id, _) in _stored(conn, [p.arxiv_id for p in inserts]).items()}
    if updates:
        rows = [paper_values(p, now) | {"row_id": row_id} for row_id, p in updates]
        conn.execute(update(papers).where(papers.c.id == bindparam("row_id")), rows)
        reworded = [row_id for row_id, p in updates if embedded_text(p) != embedded_text(stored_by_id[row_id])]
        if reworded:  # a new title or abstract: its vectors are stale and get recomputed by `embed`
            conn.execute(delete(embeddings).where(embeddings.c.paper_id.in_(reworded)))
            conn.execute(delete(insights).where(insights.c.paper_id.in_(reworded)))
    _write_categories(conn, [(ids[p.arxiv_id], p) for p in inserts] + updates)
    reauthored = [(row_id, p) for row_id, p in updates if p.authors != stored_by_id[row_id].authors]
    write_author_index(conn, [(ids[p.arxiv_id], p) for p in inserts], reauthored)
    unchanged = len(incoming) - len(inserts) - len(updates)
    changed = {p.arxiv_id for p in inserts} | {p.arxiv_id for _, p in updates}
    return Written(UpsertResult(len(inserts), len(updates), unchanged), ids, changed)


def _stored(conn: Connection, arxiv_ids: list[str]) -> dict[str, tuple[int, Paper]]:
    found: dict[str, tuple[int, Paper]] = {}
    for start in range(0, len(arxiv_ids), 500):
        chunk = arxiv_ids[start : start + 500]
        for row in conn.execute(select(papers).where(papers.c.arxiv_id.in_(chunk))):
            found[row._mapping["arxiv_id"]] = (row._mapping["id"], paper_from_row(row))
    return found


def _write_categories(conn: Connection, rows: list[tuple[int, Paper]]) -> None:
    if not rows:
        return
    conn.execute(delete(paper_categories).where(paper_categories.c.paper_id.in_([i for i, _ in rows])))
    values: list[dict[str, Any]] = [
        {"paper_id": row_id, "position": pos, "category": cat}
        for row_id, paper in rows
        for pos, cat in enumerate(paper.categories)
    ]
    if values:
        conn.execute(insert(paper_categories), values)
