"""The Daily-Papers feed: which paper was listed on which day, by whom, and with how many votes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import Connection, Select, bindparam, false, func, insert, select, update

from broadsheet.models import DailyRecord, PaperView, UpsertResult
from broadsheet.periods import Period
from broadsheet.store.engine import Db
from broadsheet.store.papers import upsert_papers
from broadsheet.store.rows import upvotes, view_from_row, view_select
from broadsheet.store.schema import daily_entries, papers, users

Order = Literal["upvotes", "added"]
_visible = daily_entries.c.hidden == false()


class Daily:
    def __init__(self, db: Db) -> None:
        self.db = db

    def upsert(self, records: Sequence[DailyRecord], *, source: str) -> UpsertResult:
        """Import listed papers with their day and upvotes, in one transaction.

        A paper is listed once: if it appears on several days, the earliest day is kept.
        Imported upvotes only grow (a later snapshot of the same paper has at least as many).
        """
        keys = {r.paper.arxiv_id for r in records}
        with self.db.write() as conn:
            written = upsert_papers(conn, [r.paper for r in records])
            inserted, moved = _write_entries(conn, records, written.ids, source)
            raised = _raise_upvotes(conn, records, written.ids)
        changed = (written.changed | moved | raised) - inserted
        return UpsertResult(len(inserted), len(changed), len(keys) - len(inserted) - len(changed))

    def views(
        self,
        period: Period | None,
        *,
        order: Order = "upvotes",
        offset: int = 0,
        limit: int = 50,
        submitter: str | None = None,
    ) -> list[PaperView]:
        query = _listed(period, submitter)
        if order == "upvotes":
            query = query.order_by(upvotes.desc(), daily_entries.c.added_at.desc(), papers.c.id.desc())
        else:
            query = query.order_by(daily_entries.c.added_at.desc(), papers.c.id.desc())
        with self.db.read() as conn:
            return [view_from_row(r) for r in conn.execute(query.offset(offset).limit(limit))]

    def count(self, period: Period | None, *, submitter: str | None = None) -> int:
        query = select(func.count()).select_from(_listed(period, submitter).subquery())
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def redate(self, arxiv_ids: Sequence[str], published: datetime) -> int:
        """Set papers' publication time (demo data only: `broadsheet demo --recent`); returns the rows changed."""
        query = update(papers).where(papers.c.arxiv_id.in_(list(arxiv_ids)), papers.c.published_at != published)
        with self.db.write() as conn:
            return int(conn.execute(query.values(published_at=published, submitted_at=published)).rowcount)

    def latest_day(self) -> date | None:
        with self.db.read() as conn:
            return conn.execute(select(func.max(daily_entries.c.day)).where(_visible)).scalar()

    def neighbours(self, period: Period) -> tuple[date | None, date | None]:
        """The nearest days with entries before and after the period."""
        before = select(func.max(daily_entries.c.day)).where(_visible, daily_entries.c.day < period.start)
        after = select(func.min(daily_entries.c.day)).where(_visible, daily_entries.c.day > period.end)
        with self.db.read() as conn:
            return conn.execute(before).scalar(), conn.execute(after).scalar()


def _listed(period: Period | None, submitter: str | None) -> Select[Any]:
    query = view_select().where(daily_entries.c.id.is_not(None))
    if period:
        query = query.where(daily_entries.c.day.between(period.start, period.end))
    if submitter is not None:
        query = query.where(users.c.username == submitter)
    return query


def _write_entries(
    conn: Connection, records: Sequence[DailyRecord], ids: dict[str, int], source: str
) -> tuple[set[str], set[str]]:
    """Insert entries for newly listed papers; move one to an earlier day. Returns (inserted, moved)."""
    earliest: dict[str, DailyRecord] = {}
    for record in records:
        seen = earliest.get(record.paper.arxiv_id)
        if seen is None or record.day < seen.day:
            earliest[record.paper.arxiv_id] = record
    by_paper = {ids[k]: k for k in earliest}
    stored = {
        row.paper_id: row
        for row in conn.execute(
            select(daily_entries.c.paper_id, daily_entries.c.day).where(daily_entries.c.paper_id.in_(list(by_paper)))
        )
    }
    inserts: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for paper_id, key in by_paper.items():
        record = earliest[key]
        values = {"day": record.day, "added_at": _added_at(record)}
        if paper_id not in stored:
            inserts.append(values | {"paper_id": paper_id, "source": source, "comment": record.comment})
        elif record.day < stored[paper_id].day:
            moves.append(values | {"pid": paper_id})
    if inserts:
        conn.execute(insert(daily_entries), inserts)
    if moves:
        conn.execute(update(daily_entries).where(daily_entries.c.paper_id == bindparam("pid")), moves)
    return {by_paper[v["paper_id"]] for v in inserts}, {by_paper[m["pid"]] for m in moves}


def _raise_upvotes(conn: Connection, records: Sequence[DailyRecord], ids: dict[str, int]) -> set[str]:
    best: dict[str, int] = {}
    for record in records:
        best[record.paper.arxiv_id] = max(best.get(record.paper.arxiv_id, 0), record.upvotes)
    current = dict(
        conn.execute(
            select(papers.c.id, papers.c.imported_upvotes).where(papers.c.id.in_([ids[k] for k in best]))
        ).all()
    )
    raised = {k for k, n in best.items() if n > current[ids[k]]}
    for key in raised:
        conn.execute(update(papers).where(papers.c.id == ids[key]).values(imported_upvotes=best[key]))
    return raised


def _added_at(record: DailyRecord) -> datetime:
    return record.added_at or datetime.combine(record.day, time(12), UTC)
