"""Users and login sessions.

The shared DELETED_USERNAME account (a deleted user's comments are kept under it) is never changed
here: reinstating it, setting its password or editing its profile raises `Protected` (403).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from broadsheet.errors import Forbidden
from broadsheet.models import User
from broadsheet.store.engine import Db
from broadsheet.store.schema import sessions, users

DELETED_USERNAME = (
    "[deleted]"  # not a valid username (broadsheet.community.accounts.USERNAME): nobody can sign up as it
)


class Taken(ValueError):
    """A username or email that another account already has."""


class Protected(Forbidden):
    """A change to the shared "[deleted]" account, which holds deleted users' comments."""

    def __init__(self) -> None:
        super().__init__(
            f"{DELETED_USERNAME} is the shared account of deleted users' comments: it cannot be reinstated, "
            "edited or given a password"
        )


def _refuse_tombstone(conn: Any, user_id: int) -> None:
    if conn.execute(select(users.c.username).where(users.c.id == user_id)).scalar() == DELETED_USERNAME:
        raise Protected


def _user(row: Any) -> User:
    m = row._mapping
    return User(
        m["id"], m["username"], m["email"], m["display_name"], bool(m["is_admin"]), bool(m["votes_public"]),
        m["banned_at"] is not None, m["created_at"], m["email_verified_at"] is not None,
    )  # fmt: skip


class Users:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, username: str, email: str | None, password_hash: str, *, admin: bool = False) -> User:
        values = {"username": username, "email": email, "password_hash": password_hash, "is_admin": admin}
        try:
            with self.db.write() as conn:
                statement = insert(users).values(**values, created_at=datetime.now(UTC)).returning(users.c.id)
                row_id = conn.execute(statement).scalar_one()
                return _user(conn.execute(select(users).where(users.c.id == row_id)).one())
        except IntegrityError:
            raise Taken("that username or email is already registered") from None

    def get(self, username: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return _user(row) if row else None

    def by_id(self, user_id: int) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return _user(row) if row else None

    def password_hash(self, username: str) -> tuple[User, str | None] | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).first()
        return (_user(row), row._mapping["password_hash"]) if row else None

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.db.write() as conn:
            _refuse_tombstone(conn, user_id)
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))

    def update_profile(self, user_id: int, *, display_name: str | None, votes_public: bool) -> None:
        with self.db.write() as conn:
            _refuse_tombstone(conn, user_id)
            values = {"display_name": display_name, "votes_public": votes_public}
            conn.execute(update(users).where(users.c.id == user_id).values(**values))

    def all(self) -> list[User]:
        with self.db.read() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.id))]

    def set_banned(self, user_id: int, banned: bool) -> None:
        """Ban (ending every session) or unban an account (never the shared "[deleted]" one: `Protected`)."""
        with self.db.write() as conn:
            _refuse_tombstone(conn, user_id)
            conn.execute(
                update(users).where(users.c.id == user_id).values(banned_at=datetime.now(UTC) if banned else None)
            )
            if banned:
                conn.execute(delete(sessions).where(sessions.c.user_id == user_id))

    # -- sessions --------------------------------------------------------------------------------

    def start_session(self, token_hash: str, user_id: int, lifetime: timedelta) -> None:
        now = datetime.now(UTC)
        with self.db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            conn.execute(
                insert(sessions).values(id=token_hash, user_id=user_id, created_at=now, expires_at=now + lifetime)
            )

    def session_user(self, token_hash: str) -> User | None:
        """The (unbanned) user of a live session."""
        query = (
            select(users).join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.id == token_hash, sessions.c.expires_at > datetime.now(UTC), users.c.banned_at.is_(None))
        )  # fmt: skip
        with self.db.read() as conn:
            row = conn.execute(query).first()
        return _user(row) if row else None

    def end_session(self, token_hash: str) -> None:
        with self.db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.id == token_hash))

    def end_sessions(self, user_id: int, *, keep: str | None = None) -> None:
        with self.db.write() as conn:
            conn.execute(delete(sessions).where(sessions.c.user_id == user_id, sessions.c.id != (keep or "")))

    # -- email ---------------------------------------------------------------------------------------

    def by_email(self, email: str) -> User | None:
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).first()
        return _user(row) if row else None

    def verify_email(self, user_id: int, email: str) -> bool:
        """Mark the account's email verified, if it is still `email`; True when it changed."""
        query = update(users).where(users.c.id == user_id, users.c.email == email, users.c.email_verified_at.is_(None))
        with self.db.write() as conn:
            return bool(conn.execute(query.values(email_verified_at=datetime.now(UTC))).rowcount)

    def count(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())
