"""What people do: submit papers to the daily feed, upvote, comment; what moderators do: hide."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from broadsheet.models import Claim, Comment, PaperView, Submitter
from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.rows import upvotes, view_from_row, view_select
from broadsheet.store.schema import claims, comments, daily_entries, papers, users, votes


class AlreadyListed(ValueError):
    """The paper is in the daily feed already (a paper is listed once)."""


class ClaimConflict(ValueError):
    """That author is claimed already, or the user has a claim on the paper."""


class CapReached(ValueError):
    """The user has submitted as many papers today as a day allows."""


def _comment(row: Any) -> Comment:
    m = row._mapping
    return Comment(
        m["id"], m["paper_id"], Submitter(m["username"], m["display_name"]), m["user_id"], m["parent_id"],
        m["body"], m["created_at"], m["edited_at"], m["deleted_at"] is not None, bool(m["hidden"]),
    )  # fmt: skip


_comment_select = select(comments, users.c.username, users.c.display_name).join(users, users.c.id == comments.c.user_id)


class Community:
    def __init__(self, db: Db) -> None:
        self.db = db

    # -- votes -----------------------------------------------------------------------------------

    def vote(self, user_id: int, paper_id: int, up: bool) -> int:
        """Set (up) or clear a user's vote, idempotently; returns the paper's upvote count after it."""
        with self.db.write() as conn:
            if up:
                row = {"user_id": user_id, "paper_id": paper_id, "created_at": datetime.now(UTC)}
                conn.execute(dialect_insert(conn, votes).values(**row).on_conflict_do_nothing())  # type: ignore[attr-defined]
            else:
                conn.execute(delete(votes).where(votes.c.user_id == user_id, votes.c.paper_id == paper_id))
            return int(conn.execute(select(upvotes).where(papers.c.id == paper_id)).scalar_one())

    def voted(self, user_id: int, arxiv_ids: list[str]) -> set[str]:
        """Which of these papers the user has upvoted (by arXiv id), in one query."""
        query = select(papers.c.arxiv_id).join(votes, votes.c.paper_id == papers.c.id)
        query = query.where(votes.c.user_id == user_id, papers.c.arxiv_id.in_(arxiv_ids))
        with self.db.read() as conn:
            return set(conn.execute(query).scalars())

    def upvoted(self, user_id: int, *, limit: int = 100) -> list[PaperView]:
        query = view_select().join(votes, and_(votes.c.paper_id == papers.c.id, votes.c.user_id == user_id))
        with self.db.read() as conn:
            return [view_from_row(r) for r in conn.execute(query.order_by(votes.c.created_at.desc()).limit(limit))]

    # -- the daily feed --------------------------------------------------------------------------

    def submit(self, paper_id: int, user_id: int, day: date, comment: str | None, *, daily_cap: int) -> None:
        """List a paper on `day` for a user, in one transaction with the rules that need the database."""
        now = datetime.now(UTC)
        with self.db.write() as conn:
            # One user's submissions queue on their row (PostgreSQL; SQLite has one writer anyway), so two hosts
            # cannot both see room under the cap; the unique paper_id settles two users racing for one paper.
            conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
            if conn.execute(select(daily_entries.c.id).where(daily_entries.c.paper_id == paper_id)).first():
                raise AlreadyListed("this paper is already in the daily feed")
            today = select(func.count()).where(daily_entries.c.user_id == user_id, daily_entries.c.day == day)
            if conn.execute(today).scalar_one() >= daily_cap:
                raise CapReached(f"you have submitted {daily_cap} papers today, the most a day allows")
            values = {"paper_id": paper_id, "day": day, "added_at": now, "user_id": user_id, "source": "local"}
            entry = dialect_insert(conn, daily_entries).values(**values, comment=comment).on_conflict_do_nothing()  # type: ignore[attr-defined]
            if conn.execute(entry.returning(daily_entries.c.id)).first() is None:
                raise AlreadyListed("this paper is already in the daily feed")

    def entry_submitter(self, paper_id: int) -> int | None:
        with self.db.read() as conn:
            return conn.execute(select(daily_entries.c.user_id).where(daily_entries.c.paper_id == paper_id)).scalar()

    def hide_entry(self, paper_id: int, hidden: bool) -> bool:
        with self.db.write() as conn:
            result = conn.execute(
                update(daily_entries).where(daily_entries.c.paper_id == paper_id).values(hidden=hidden)
            )
            return bool(result.rowcount)

    def set_links(self, paper_id: int, *, code_url: str | None, project_url: str | None) -> None:
        values = {k: v for k, v in (("code_url", code_url), ("project_url", project_url)) if v is not None}
        if values:
            with self.db.write() as conn:
                conn.execute(
                    update(papers).where(papers.c.id == paper_id).values(**values, modified_at=datetime.now(UTC))
                )

    # -- comments --------------------------------------------------------------------------------

    def add_comment(self, paper_id: int, user_id: int, body: str, parent_id: int | None) -> Comment:
        with self.db.write() as conn:
            values = {"paper_id": paper_id, "user_id": user_id, "body": body, "parent_id": parent_id}
            statement = insert(comments).values(**values, created_at=datetime.now(UTC)).returning(comments.c.id)
            row_id = conn.execute(statement).scalar_one()
            return _comment(conn.execute(_comment_select.where(comments.c.id == row_id)).one())

    def comment(self, comment_id: int) -> Comment | None:
        with self.db.read() as conn:
            row = conn.execute(_comment_select.where(comments.c.id == comment_id)).first()
        return _comment(row) if row else None

    def edit_comment(self, comment_id: int, body: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                update(comments).where(comments.c.id == comment_id).values(body=body, edited_at=datetime.now(UTC))
            )

    def delete_comment(self, comment_id: int) -> None:
        """Soft delete: the text goes, the place in the thread stays (replies keep their parent)."""
        with self.db.write() as conn:
            conn.execute(
                update(comments).where(comments.c.id == comment_id).values(body="", deleted_at=datetime.now(UTC))
            )

    def hide_comment(self, comment_id: int, hidden: bool) -> None:
        with self.db.write() as conn:
            conn.execute(update(comments).where(comments.c.id == comment_id).values(hidden=hidden))

    def thread(self, paper_id: int) -> list[Comment]:
        query = _comment_select.where(comments.c.paper_id == paper_id).order_by(comments.c.created_at, comments.c.id)
        with self.db.read() as conn:
            return [_comment(r) for r in conn.execute(query)]

    def comments_by(self, user_id: int, *, limit: int = 50) -> list[tuple[Comment, str, str]]:
        """A user's visible comments with the paper's arXiv id and title, newest first."""
        query = (
            _comment_select.add_columns(papers.c.arxiv_id, papers.c.title)
            .join(papers, papers.c.id == comments.c.paper_id)
            .where(comments.c.user_id == user_id, comments.c.deleted_at.is_(None), comments.c.hidden.is_(False))
            .order_by(comments.c.created_at.desc()).limit(limit)
        )  # fmt: skip
        with self.db.read() as conn:
            return [(_comment(r), r._mapping["arxiv_id"], r._mapping["title"]) for r in conn.execute(query)]


class Claims:
    """Authorship claims: pending until an admin approves (or rejects) them."""

    def __init__(self, db: Db) -> None:
        self.db = db

    _select = (
        select(claims, papers.c.arxiv_id, papers.c.title, users.c.username, users.c.display_name)
        .join(papers, papers.c.id == claims.c.paper_id)
        .join(users, users.c.id == claims.c.user_id)
    )

    def add(self, paper_id: int, user_id: int, author: str) -> None:
        values = {"paper_id": paper_id, "user_id": user_id, "author": author, "status": "pending"}
        with self.db.write() as conn:
            taken = select(claims.c.id).where(claims.c.paper_id == paper_id, claims.c.author == author,
                                              claims.c.status == "approved")  # fmt: skip
            if conn.execute(taken).first():
                raise ClaimConflict(f"{author} is already claimed on this paper")
            if conn.execute(
                select(claims.c.id).where(claims.c.paper_id == paper_id, claims.c.user_id == user_id)
            ).first():
                raise ClaimConflict("you have already claimed an author of this paper")
            conn.execute(insert(claims).values(**values, created_at=datetime.now(UTC)))

    def decide(self, claim_id: int, approve: bool) -> bool:
        query = update(claims).where(claims.c.id == claim_id, claims.c.status == "pending")
        with self.db.write() as conn:
            status = "approved" if approve else "rejected"
            return bool(conn.execute(query.values(status=status, decided_at=datetime.now(UTC))).rowcount)

    def of_paper(self, paper_id: int) -> list[Claim]:
        with self.db.read() as conn:
            return [_claim(r) for r in conn.execute(self._select.where(claims.c.paper_id == paper_id))]

    def pending(self, *, limit: int = 200) -> list[Claim]:
        query = self._select.where(claims.c.status == "pending").order_by(claims.c.created_at).limit(limit)
        with self.db.read() as conn:
            return [_claim(r) for r in conn.execute(query)]

    def is_author(self, paper_id: int, user_id: int) -> bool:
        query = select(claims.c.id).where(claims.c.paper_id == paper_id, claims.c.user_id == user_id,
                                          claims.c.status == "approved")  # fmt: skip
        with self.db.read() as conn:
            return conn.execute(query).first() is not None


def _claim(row: Any) -> Claim:
    m = row._mapping
    return Claim(m["id"], m["arxiv_id"], m["title"], m["author"], Submitter(m["username"], m["display_name"]),
                 m["user_id"], m["status"])  # fmt: skip
