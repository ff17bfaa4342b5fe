"""OAI-PMH harvest checkpoints: each page's papers and the next token are committed together."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, insert, select, update

from broadsheet.models import Paper, UpsertResult
from broadsheet.store.engine import Db
from broadsheet.store.papers import upsert_papers
from broadsheet.store.schema import harvests, papers


class Page(Protocol):
    """What a harvest commits: one OAI-PMH page (broadsheet.arxiv.oai.OaiPage)."""

    @property
    def papers(self) -> Sequence[Paper]: ...
    @property
    def deleted(self) -> Sequence[str]: ...
    @property
    def token(self) -> str | None: ...
    @property
    def last_datestamp(self) -> date | None: ...


class HarvestKey(NamedTuple):
    """What identifies a harvest, so `--resume` finds the right one."""

    url: str
    prefix: str
    from_date: date
    until_date: date | None
    set_spec: str | None


class Checkpoint(NamedTuple):
    id: int
    token: str | None
    restart_from: date | None  # when the token was lost: re-ask from this datestamp
    pages: int
    records: int
    done: bool


class Harvests:
    def __init__(self, db: Db) -> None:
        self.db = db

    def start(self, key: HarvestKey) -> Checkpoint:
        now = datetime.now(UTC)
        with self.db.write() as conn:
            statement = (
                insert(harvests).values(**key._asdict(), started_at=now, updated_at=now).returning(harvests.c.id)
            )
            return _load(conn, conn.execute(statement).scalar_one())

    def unfinished(self, key: HarvestKey) -> Checkpoint | None:
        query = select(harvests.c.id).where(harvests.c.done.is_(False)).order_by(harvests.c.id.desc())
        for column, value in key._asdict().items():
            query = query.where(harvests.c[column].is_(None) if value is None else harvests.c[column] == value)
        with self.db.read() as conn:
            row_id = conn.execute(query.limit(1)).scalar()
            return _load(conn, row_id) if row_id else None

    def commit_page(self, harvest_id: int, page: Page) -> tuple[Checkpoint, UpsertResult]:
        """Store a page's papers and move the checkpoint past it, in one transaction."""
        batch, deleted, token, stamp = page.papers, page.deleted, page.token, page.last_datestamp
        with self.db.write() as conn:
            result = upsert_papers(conn, batch).result
            if deleted:
                conn.execute(update(papers).where(papers.c.arxiv_id.in_(deleted)).values(withdrawn=True))
            current = _load(conn, harvest_id)
            values: dict[str, Any] = {
                "token": token,
                "pages": current.pages + 1,
                "records": current.records + len(batch),
                "done": token is None,
                "updated_at": datetime.now(UTC),
            }
            if stamp is not None:
                values["last_datestamp"] = max(stamp, current.restart_from or stamp)
            conn.execute(update(harvests).where(harvests.c.id == harvest_id).values(**values))
            return _load(conn, harvest_id), result

    def drop_token(self, harvest_id: int) -> Checkpoint:
        """Forget an expired token; the harvest goes on from the last datestamp it stored."""
        with self.db.write() as conn:
            conn.execute(update(harvests).where(harvests.c.id == harvest_id).values(token=None))
            return _load(conn, harvest_id)


def _load(conn: Connection, harvest_id: int) -> Checkpoint:
    row = conn.execute(select(harvests).where(harvests.c.id == harvest_id)).one()._mapping
    return Checkpoint(row["id"], row["token"], row["last_datestamp"], row["pages"], row["records"], bool(row["done"]))
