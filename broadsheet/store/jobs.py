"""Background jobs: queued by web requests, claimed by any worker process on any host.

A job is named by (kind, key) — `("fetch", "2401.01234")`, `("mail", "<message-id>")` — so asking
twice for the same work finds the first request instead of doing it again. Claiming takes the
oldest due job in one locked transaction (`BEGIN IMMEDIATE` on SQLite, `FOR UPDATE SKIP LOCKED`
on PostgreSQL) and leases it: a worker that dies leaves a job whose lease runs out, and another
worker takes it over. Jobs are idempotent, so running one twice is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.schema import jobs

ACTIVE = ("queued", "running")


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    key: str
    status: str  # queued | running | done | failed
    payload: dict[str, Any]
    user_id: int | None
    attempts: int
    run_after: datetime
    error: str | None
    created_at: datetime
    updated_at: datetime


class TooManyJobs(Exception):
    """The user already has as many jobs waiting as allowed."""


def _job(row: Any) -> Job:
    m = row._mapping
    return Job(m["id"], m["kind"], m["key"], m["status"], dict(m["payload"]), m["user_id"], m["attempts"],
               m["run_after"], m["error"], m["created_at"], m["updated_at"])  # fmt: skip


class Jobs:
    def __init__(self, db: Db) -> None:
        self.db = db

    def enqueue(
        self, kind: str, key: str, payload: dict[str, Any], *, user_id: int | None = None, user_cap: int | None = None
    ) -> tuple[Job, bool]:
        """Queue a job unless the same (kind, key) is queued, running or done; (job, newly queued).

        A failed job is queued again (the "retry" of a page). `user_cap` limits how many jobs one
        user may have waiting.
        """
        now = datetime.now(UTC)
        with self.db.write() as conn:
            found = conn.execute(select(jobs).where(jobs.c.kind == kind, jobs.c.key == key).with_for_update()).first()
            if found is not None and found.status != "failed":
                return _job(found), False
            if user_id is not None and user_cap is not None:
                waiting = select(func.count()).where(jobs.c.user_id == user_id, jobs.c.status.in_(ACTIVE))
                if conn.execute(waiting).scalar_one() >= user_cap:
                    raise TooManyJobs(f"you have {user_cap} requests waiting already; try again when they are done")
            fresh = {"status": "queued", "payload": payload, "user_id": user_id, "attempts": 0, "run_after": now,
                     "locked_until": None, "error": None, "updated_at": now}  # fmt: skip
            statement = dialect_insert(conn, jobs).values(kind=kind, key=key, created_at=now, **fresh)
            statement = statement.on_conflict_do_update(  # type: ignore[attr-defined]
                index_elements=["kind", "key"], set_=fresh, where=jobs.c.status == "failed"
            )
            conn.execute(statement)
            return _job(conn.execute(select(jobs).where(jobs.c.kind == kind, jobs.c.key == key)).one()), True

    def get(self, kind: str, key: str) -> Job | None:
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.kind == kind, jobs.c.key == key)).first()
        return _job(row) if row else None

    def by_id(self, job_id: int) -> Job | None:
        with self.db.read() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _job(row) if row else None

    def claim(self, kinds: tuple[str, ...], lease: timedelta) -> Job | None:
        """Take the oldest due job of these kinds (or one whose worker died), leased for `lease`."""
        now = datetime.now(UTC)
        due = or_(
            (jobs.c.status == "queued") & (jobs.c.run_after <= now),
            (jobs.c.status == "running") & (jobs.c.locked_until < now),
        )
        query = (
            select(jobs.c.id).where(jobs.c.kind.in_(kinds), due).order_by(jobs.c.run_after, jobs.c.id).limit(1)
            .with_for_update(skip_locked=True)
        )  # fmt: skip
        with self.db.write() as conn:
            job_id = conn.execute(query).scalar()
            if job_id is None:
                return None
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(
                status="running", locked_until=now + lease, attempts=jobs.c.attempts + 1, updated_at=now))  # fmt: skip
            return _job(conn.execute(select(jobs).where(jobs.c.id == job_id)).one())

    def finish(self, job_id: int, *, error: str | None = None) -> None:
        """Done (an `error` here is an outcome to show, e.g. "not on arXiv", not a reason to retry)."""
        self._set(job_id, status="done" if error is None else "failed", error=error, locked_until=None)

    def retry(self, job_id: int, error: str, at: datetime) -> None:
        self._set(job_id, status="queued", error=error, run_after=at, locked_until=None)

    def _set(self, job_id: int, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values, updated_at=datetime.now(UTC)))

    def waiting(self, kinds: tuple[str, ...] | None = None) -> int:
        """Jobs queued or running (of these kinds, or of any)."""
        query = select(func.count()).where(jobs.c.status.in_(ACTIVE))
        if kinds is not None:
            query = query.where(jobs.c.kind.in_(kinds))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())
