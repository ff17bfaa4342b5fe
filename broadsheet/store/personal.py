"""One person's data: gathered for their export, and erased when they delete their account.

store.personal.votes(user.id)                      # -> [Vote], newest first
store.personal.erase(user.id, email=user.verified_email, erase_text=False)

Erasing removes every row that points at the account (sessions, tokens, votes, collections, follows,
claims, subscriptions, and any table added later with a foreign key to `users`: found from the schema, so a
new table cannot be forgotten). Their comments stay in their threads, as "[deleted user]" (the shared
DELETED_USERNAME account, which cannot log in), so replies keep their place; with `erase_text` their text
goes too (as when a comment is deleted). Papers they submitted stay listed, without a submitter.
Upvote counts are counted from the votes, so they stay consistent by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, Text, cast, delete, func, or_, select, update

from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.schema import (
    claims,
    comments,
    counters,
    daily_entries,
    deliveries,
    jobs,
    metadata,
    papers,
    subscribers,
    users,
    votes,
)
from broadsheet.store.users import DELETED_USERNAME

DELETED_NAME = "[deleted user]"
PRIVATE_COLUMNS = ("password_hash", "token_hash", "secret", "token")  # never in an export


class CannotErase(ValueError):
    """The shared "[deleted user]" account itself."""


@dataclass(frozen=True, slots=True)
class Vote:
    arxiv_id: str
    title: str
    at: datetime


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: int
    arxiv_id: str
    parent_id: int | None
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class Submission:
    arxiv_id: str
    title: str
    day: date
    added_at: datetime
    comment: str | None
    hidden: bool


@dataclass(frozen=True, slots=True)
class ClaimRecord:
    arxiv_id: str
    author: str
    status: str
    created_at: datetime
    decided_at: datetime | None


def user_columns() -> list[tuple[Table, str, str | None]]:
    """Every (table, column, ON DELETE rule) whose column points at users.id, from the schema."""
    found = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column is users.c.id:
                found.append((table, fk.parent.name, fk.ondelete))
    return found


class Personal:
    def __init__(self, db: Db) -> None:
        self.db = db

    def votes(self, user_id: int, *, limit: int = 100_000) -> list[Vote]:
        query = (
            select(papers.c.arxiv_id, papers.c.title, votes.c.created_at).join(papers, papers.c.id == votes.c.paper_id)
            .where(votes.c.user_id == user_id).order_by(votes.c.created_at.desc()).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [Vote(*row) for row in conn.execute(query)]

    def comments(self, user_id: int, *, limit: int = 100_000) -> list[CommentRecord]:
        """All of them, deleted and hidden ones included (the flags say so), oldest first."""
        c = comments.c
        query = (
            select(c.id, papers.c.arxiv_id, c.parent_id, c.body, c.created_at, c.edited_at, c.deleted_at, c.hidden)
            .join(papers, papers.c.id == c.paper_id).where(c.user_id == user_id).order_by(c.created_at, c.id)
            .limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [
                CommentRecord(r.id, r.arxiv_id, r.parent_id, r.body, r.created_at, r.edited_at,
                              r.deleted_at is not None, bool(r.hidden))
                for r in conn.execute(query)
            ]  # fmt: skip

    def submissions(self, user_id: int, *, limit: int = 100_000) -> list[Submission]:
        d = daily_entries.c
        query = (
            select(papers.c.arxiv_id, papers.c.title, d.day, d.added_at, d.comment, d.hidden)
            .join(papers, papers.c.id == d.paper_id).where(d.user_id == user_id).order_by(d.added_at).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [Submission(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in conn.execute(query)]

    def claims(self, user_id: int) -> list[ClaimRecord]:
        k = claims.c
        query = (
            select(papers.c.arxiv_id, k.author, k.status, k.created_at, k.decided_at)
            .join(papers, papers.c.id == k.paper_id).where(k.user_id == user_id).order_by(k.created_at)
        )  # fmt: skip
        with self.db.read() as conn:
            return [ClaimRecord(*row) for row in conn.execute(query)]

    def subscriber_ids(self, user_id: int, email: str | None) -> list[int]:
        """Digest subscriptions linked to the account, or to its *verified* email (pass None when unverified)."""
        with self.db.read() as conn:
            return list(conn.execute(select(subscribers.c.id).where(_theirs(user_id, email))).scalars())

    def other_rows(self, user_id: int, known: set[str], *, limit: int = 10_000) -> dict[str, list[dict[str, Any]]]:
        """Rows of tables pointing at the user that the export does not describe itself, secrets left out."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self.db.read() as conn:
            for table, column, _ in user_columns():
                if table.name in known:
                    continue
                kept = [c for c in table.c if not any(p in c.name for p in PRIVATE_COLUMNS)]
                rows = [
                    dict(r._mapping) for r in conn.execute(select(*kept).where(table.c[column] == user_id).limit(limit))
                ]
                if rows:
                    out.setdefault(table.name, []).extend(rows)
        return out

    def pointing_at(self, user_id: int) -> dict[str, int]:
        """How many rows of each table still point at the user (for tests and checks: all 0 after `erase`)."""
        counts: dict[str, int] = {}
        with self.db.read() as conn:
            for table, column, _ in user_columns():
                query = select(func.count()).select_from(table).where(table.c[column] == user_id)
                counts[f"{table.name}.{column}"] = int(conn.execute(query).scalar_one())
            query = select(func.count()).select_from(users).where(users.c.id == user_id)
            counts["users.id"] = int(conn.execute(query).scalar_one())
        return counts

    # -- erasure -----------------------------------------------------------------------------------

    def deleted_user_id(self) -> int:
        """The shared account comments of deleted accounts belong to (made on first use; it cannot log in)."""
        with self.db.write() as conn:
            return _tombstone(conn)

    def erase(self, user_id: int, *, username: str, email: str | None, erase_text: bool = False) -> bool:
        """Delete the account and every row pointing at it, in one transaction; False when there was none."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            if not conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update()).first():
                return False
            tombstone = _tombstone(conn)
            if tombstone == user_id:
                raise CannotErase("the shared deleted-user account cannot be deleted")
            mine = comments.c.user_id == user_id
            if erase_text:
                unerased = update(comments).where(mine, comments.c.deleted_at.is_(None))
                conn.execute(unerased.values(body="", deleted_at=now))
                conn.execute(update(daily_entries).where(daily_entries.c.user_id == user_id).values(comment=None))
            conn.execute(update(comments).where(mine).values(user_id=tombstone))
            _forget_mail(conn, user_id, username, email)
            for table, column, ondelete in user_columns():
                where = table.c[column] == user_id
                if (ondelete or "").upper() == "SET NULL":
                    conn.execute(update(table).where(where).values({column: None}))
                else:
                    conn.execute(delete(table).where(where))
            conn.execute(delete(users).where(users.c.id == user_id))
        return True


def _theirs(user_id: int, email: str | None) -> Any:
    linked = subscribers.c.user_id == user_id
    return or_(linked, subscribers.c.email == email) if email else linked


def _forget_mail(conn: Connection, user_id: int, username: str, email: str | None) -> None:
    """Subscriptions (and their delivery ledger), queued mail to the address, login counters named after them."""
    ids = list(conn.execute(select(subscribers.c.id).where(_theirs(user_id, email))).scalars())
    if ids:
        conn.execute(delete(deliveries).where(deliveries.c.subscriber_id.in_(ids)))
        for sid in ids:  # emptied, not deleted: SQLite would give the id to the next subscriber, and the old
            # manage/unsubscribe links (signed over the id) would open that stranger's subscription
            conn.execute(update(subscribers).where(subscribers.c.id == sid).values(
                email=f"deleted-{sid}@deleted.invalid", user_id=None, status="unsubscribed", categories=[],
                exclude_categories=[], topics=[], for_you=False))  # fmt: skip
    if email:
        to_them = cast(jobs.c.payload, Text).contains(email, autoescape=True)
        conn.execute(delete(jobs).where(jobs.c.kind == "mail", jobs.c.status != "running", to_them))
    keys = counters.c.key
    conn.execute(
        delete(counters).where(
            or_(keys.startswith(f"login:{username}|", autoescape=True), keys == f"login-account:{username}",
                keys.endswith(f":user:{user_id}", autoescape=True))
        )
    )  # fmt: skip


def _tombstone(conn: Connection) -> int:
    now = datetime.now(UTC)
    values = {"username": DELETED_USERNAME, "display_name": DELETED_NAME, "email": None, "password_hash": None,
              "votes_public": False, "banned_at": now, "created_at": now}  # fmt: skip
    conn.execute(dialect_insert(conn, users).values(**values).on_conflict_do_nothing())  # type: ignore[attr-defined]
    return int(conn.execute(select(users.c.id).where(users.c.username == DELETED_USERNAME)).scalar_one())
