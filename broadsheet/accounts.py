"""Accounts: sign-up rules, argon2 password hashes, login throttling, server-side sessions.

A session cookie holds a random token; the database keeps only its sha256, so a leaked
database cannot be replayed as cookies. Banning a user ends all their sessions.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from broadsheet.models import User
from broadsheet.store import Store
from broadsheet.store.users import Taken

USERNAME = re.compile(r"[a-z0-9][a-z0-9_-]{2,29}")
EMAIL = re.compile(r"[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
_hasher = PasswordHasher()
_DUMMY = _hasher.hash("a password nobody has")  # verified against when a username is unknown (same timing)


class AccountError(ValueError):
    """A request about an account that cannot be granted; the message says why."""


class Throttled(AccountError):
    def __init__(self, until: datetime) -> None:
        minutes = max(1, round((until - datetime.now(UTC)).total_seconds() / 60))
        super().__init__(f"too many failed logins: try again in {minutes} minute{'s' if minutes > 1 else ''}")


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5  # failed logins per account (and per client address) ...
    window: timedelta = timedelta(minutes=15)  # ... within this window lock it for the window
    session_days: int = 30


def check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME.fullmatch(name):
        raise AccountError(
            "a username is 3 to 30 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


def check_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    if len(email) > 254 or not EMAIL.fullmatch(email.strip()):
        raise AccountError("that does not look like an email address")
    if not email.isascii():  # internationalised addresses need SMTPUTF8 end to end, which few servers offer
        raise AccountError("only email addresses in plain ASCII letters are supported")
    return email.strip().lower()


def sign_up(store: Store, username: str, email: str | None, password: str, *, admin: bool = False) -> User:
    name, address, secret = check_username(username), check_email(email), check_password(password)
    try:
        return store.users.create(name, address, _hasher.hash(secret), admin=admin)
    except Taken as exc:
        raise AccountError(str(exc)) from None


def log_in(store: Store, username: str, password: str, *, client: str, policy: Policy = Policy()) -> User:
    """The user for correct credentials; failures are counted per account and per client address."""
    keys = [f"user:{username.strip().lower()[:60]}", f"client:{client[:100]}"]
    for key in keys:
        until = store.users.locked_until(key)
        if until:
            raise Throttled(until)
    found = store.users.password_hash(username.strip().lower()) if len(password) <= MAX_PASSWORD else None
    if found is None or found[1] is None or not _verify(found[1], password) or found[0].banned:
        if found is None:
            _verify(_DUMMY, password)
        for key in keys:
            store.users.record_failure(key, limit=policy.max_failures, window=policy.window)
        raise AccountError("wrong username or password, or the account is suspended")
    store.users.clear_failures(keys[0])
    return found[0]


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def change_password(store: Store, user: User, old: str, new: str, *, keep_session: str | None = None) -> None:
    found = store.users.password_hash(user.username)
    if found is None or found[1] is None or not _verify(found[1], old):
        raise AccountError("the current password is wrong")
    store.users.set_password_hash(user.id, _hasher.hash(check_password(new)))
    store.users.end_sessions(user.id, keep=token_hash(keep_session) if keep_session else None)


def set_password(store: Store, username: str, password: str) -> None:
    """Administrator's reset (CLI)."""
    user = store.users.get(username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    store.users.set_password_hash(user.id, _hasher.hash(check_password(password)))
    store.users.end_sessions(user.id)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(store: Store, user: User, policy: Policy = Policy()) -> str:
    """A fresh session token for the cookie."""
    token = secrets.token_urlsafe(32)
    store.users.start_session(token_hash(token), user.id, timedelta(days=policy.session_days))
    return token


def session_user(store: Store, token: str | None) -> User | None:
    if not token or len(token) > 100:
        return None
    return store.users.session_user(token_hash(token))


def end_session(store: Store, token: str | None) -> None:
    if token:
        store.users.end_session(token_hash(token))


def set_banned(store: Store, username: str, banned: bool) -> User:
    user = store.users.get(username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    store.users.set_banned(user.id, banned)
    return user
