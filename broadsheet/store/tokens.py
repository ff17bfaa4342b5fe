"""Personal API tokens: created (the raw token is returned once), looked up by it, touched, revoked.

Like sessions, the database keeps only a token's sha256, so a leaked database cannot be replayed
as tokens. `last_used_at` is written at most once per `TOUCH_EVERY` per token, not on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, or_, select, update

from broadsheet.models import User
from broadsheet.store.engine import Db
from broadsheet.store.schema import api_tokens, users
from broadsheet.store.users import _user

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
PREFIX = "bs_"  # lets people (and secret scanners) recognise a token
MAX_TOKENS = 20  # live tokens per user
MAX_NAME = 80
TOUCH_EVERY = timedelta(minutes=1)


class TokenRefused(ValueError):
    """A token that cannot be created (the message says why)."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    user_id: int
    name: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"


@dataclass(frozen=True, slots=True)
class Bearer:
    """Who a valid token speaks for, and the token."""

    user: User
    token: ApiToken


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _token(row: Any) -> ApiToken:
    m = row._mapping
    return ApiToken(
        m["id"], m["user_id"], m["name"], m["scope"], m["created_at"], m["last_used_at"], m["revoked_at"]
    )  # fmt: skip


class Tokens:
    def __init__(self, db: Db) -> None:
        self.db = db

    def create(self, user_id: int, name: str, scope: str, *, cap: int = MAX_TOKENS) -> tuple[ApiToken, str]:
        """A new token and its raw value (shown once, never stored); at most `cap` live tokens per user."""
        label = " ".join(name.split())
        if not 1 <= len(label) <= MAX_NAME:
            raise TokenRefused(f"a token needs a name of 1 to {MAX_NAME} characters")
        if scope not in SCOPES:
            raise TokenRefused("a token's scope is 'read' or 'write'")
        raw = PREFIX + secrets.token_urlsafe(32)
        live = select(func.count()).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        with self.db.write() as conn:
            if conn.execute(live).scalar_one() >= cap:
                raise TokenRefused(f"you have {cap} tokens, the most allowed: revoke one first")
            values = {"user_id": user_id, "name": label, "scope": scope, "token_hash": token_hash(raw)}
            statement = insert(api_tokens).values(**values, created_at=datetime.now(UTC)).returning(api_tokens.c.id)
            row_id = conn.execute(statement).scalar_one()
            row = conn.execute(select(api_tokens).where(api_tokens.c.id == row_id)).one()
        return _token(row), raw

    def bearer(self, raw: str) -> Bearer | None:
        """The live token with this raw value and its (unbanned) user; None for anything else."""
        live = select(api_tokens).where(api_tokens.c.token_hash == token_hash(raw), api_tokens.c.revoked_at.is_(None))
        with self.db.read() as conn:
            found = conn.execute(live).first()
            if found is None:
                return None
            token = _token(found)
            owner = select(users).where(users.c.id == token.user_id, users.c.banned_at.is_(None))
            row = conn.execute(owner).first()
        return Bearer(_user(row), token) if row else None

    def touch(self, token: ApiToken, now: datetime | None = None) -> bool:
        """Record a use, unless one was recorded within TOUCH_EVERY (then nothing is written)."""
        now = now or datetime.now(UTC)
        if token.last_used_at is not None and token.last_used_at > now - TOUCH_EVERY:
            return False
        stale = or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at <= now - TOUCH_EVERY)
        with self.db.write() as conn:
            done = conn.execute(update(api_tokens).where(api_tokens.c.id == token.id, stale).values(last_used_at=now))
        return bool(done.rowcount)

    def of_user(self, user_id: int) -> list[ApiToken]:
        """The user's live tokens, newest first."""
        query = (
            select(api_tokens).where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.id.desc())
        )  # fmt: skip
        with self.db.read() as conn:
            return [_token(r) for r in conn.execute(query)]

    def revoke(self, user_id: int, token_id: int) -> bool:
        """Revoke one of the user's tokens; False when it is not theirs or already revoked."""
        query = update(api_tokens).where(
            api_tokens.c.id == token_id, api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None)
        )
        with self.db.write() as conn:
            return bool(conn.execute(query.values(revoked_at=datetime.now(UTC))).rowcount)
