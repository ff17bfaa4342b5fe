"""Papers' full texts (Markdown from arXiv's HTML rendering), one row per paper, in one of four states:

    pending   asked for; the worker's "fulltext" job will fetch it
    ok        fetched and converted: `markdown` holds it
    missing   arXiv has no usable HTML for this paper (404, or a page without a LaTeXML document)
    failed    fetching failed for good for now; a request after `retry_after` asks again

store.fulltexts.request(paper_id, version=2)        # True: newly pending (queue the job); False: nothing to do
store.fulltexts.save(paper_id, markdown, truncated=False, converter=1, source_url=url)
store.fulltexts.get(paper_id)                       # -> FullText | None
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update

from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.schema import fulltexts

STATES = ("pending", "ok", "missing", "failed")


@dataclass(frozen=True, slots=True)
class FullText:
    paper_id: int
    state: str  # one of STATES
    version: int | None
    markdown: str | None
    truncated: bool
    converter: int | None
    source_url: str | None
    error: str | None
    retry_after: datetime | None
    fetched_at: datetime | None
    updated_at: datetime


def _text(row: Any) -> FullText:
    m = row._mapping
    return FullText(m["paper_id"], m["state"], m["version"], m["markdown"], bool(m["truncated"]), m["converter"],
                    m["source_url"], m["error"], m["retry_after"], m["fetched_at"], m["updated_at"])  # fmt: skip


class FullTexts:
    def __init__(self, db: Db) -> None:
        self.db = db

    def get(self, paper_id: int) -> FullText | None:
        with self.db.read() as conn:
            row = conn.execute(select(fulltexts).where(fulltexts.c.paper_id == paper_id)).first()
        return _text(row) if row else None

    def request(self, paper_id: int, *, version: int | None, now: datetime | None = None) -> bool:
        """Mark the paper's text pending when there is none, a failed one is due again, or it was asked for an
        older version of the paper; True when it was marked (the caller queues the job), in one statement, so
        concurrent requests mark it once."""
        at = now or datetime.now(UTC)
        fresh = {"state": "pending", "version": version, "error": None, "retry_after": None, "updated_at": at}
        due: ColumnElement[bool] = (fulltexts.c.state == "failed") & (fulltexts.c.retry_after <= at)
        if version is not None:
            due = or_(due, (fulltexts.c.state != "pending") & (fulltexts.c.version < version))
        with self.db.write() as conn:
            statement = dialect_insert(conn, fulltexts).values(paper_id=paper_id, **fresh)
            statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=["paper_id"], set_=fresh, where=due
            )
            return conn.execute(statement.returning(fulltexts.c.paper_id)).first() is not None

    def save(
        self,
        paper_id: int,
        markdown: str,
        *,
        truncated: bool,
        converter: int,
        source_url: str,
        now: datetime | None = None,
    ) -> None:
        at = now or datetime.now(UTC)
        self._set(paper_id, state="ok", markdown=markdown, truncated=truncated, converter=converter,
                  source_url=source_url, error=None, retry_after=None, fetched_at=at, updated_at=at)  # fmt: skip

    def missing(self, paper_id: int, reason: str, *, source_url: str, now: datetime | None = None) -> None:
        at = now or datetime.now(UTC)
        self._set(paper_id, state="missing", markdown=None, truncated=False, source_url=source_url, error=reason,
                  retry_after=None, fetched_at=at, updated_at=at)  # fmt: skip

    def failed(self, paper_id: int, error: str, *, retry_after: datetime, now: datetime | None = None) -> None:
        """Failed for now (the stored text, if any, is kept); a request after `retry_after` asks again."""
        self._set(paper_id, state="failed", error=error[:2000], retry_after=retry_after,
                  updated_at=now or datetime.now(UTC))  # fmt: skip

    def _set(self, paper_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(update(fulltexts).where(fulltexts.c.paper_id == paper_id).values(**values))

    def counts(self) -> dict[str, int]:
        """Papers per state (for `broadsheet` status output and tests)."""
        with self.db.read() as conn:
            rows = conn.execute(select(fulltexts.c.state, func.count()).group_by(fulltexts.c.state)).all()
        return {state: int(n) for state, n in rows}
