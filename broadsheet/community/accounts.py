"""Accounts: sign-up rules, argon2 password hashes, login throttling, sessions, verified emails, resets.

A session cookie holds a random token; the database keeps only its sha256, so a leaked
database cannot be replayed as cookies. Banning a user ends all their sessions.

Login throttling counts every attempt *before* the password is checked (one atomic counter
update), so parallel guesses cannot slip past the limit: per (account, client address) and per
address strictly. The per-account limit cannot be used to lock someone out: once an account has
had many failures from anywhere, only addresses that have not failed on it may still try — its
owner, from a clean address, with the right password, still gets in.

An account's email means nothing until its owner follows a signed link mailed to it; password
resets use the same kind of link (it stops working once the password has changed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from broadsheet.community.tokens import Signer, TokenError
from broadsheet.errors import Invalid, TooMany
from broadsheet.models import User
from broadsheet.store import Store
from broadsheet.store.users import Taken

USERNAME = re.compile(r"[a-z0-9][a-z0-9_-]{2,29}")
EMAIL = re.compile(r"[^@\s<>\"'\x00-\x1f\x7f]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}")
MIN_PASSWORD, MAX_PASSWORD = 8, 256
VERIFY_TTL = timedelta(days=3)
RESET_TTL = timedelta(hours=1)
PASSWORD_PROFILE: Parameters = profiles.RFC_9106_LOW_MEMORY  # argon2id, 3 passes over 64 MiB, 4 lanes
_hasher = PasswordHasher.from_parameters(PASSWORD_PROFILE)  # a hash records its parameters: old hashes still verify
_DUMMY = _hasher.hash("a password nobody has")  # verified against when a username is unknown (same timing)


class AccountError(Invalid):
    """A request about an account that cannot be granted; the message says why."""


class Throttled(TooMany):
    def __init__(self, window: timedelta) -> None:
        minutes = max(1, round(window.total_seconds() / 60))
        super().__init__(f"too many failed logins: try again in {minutes} minute{'s' if minutes > 1 else ''}")


@dataclass(frozen=True)
class Policy:
    max_failures: int = 5  # attempts per (account, address) within the window
    per_address: int = 10  # attempts per client address (any accounts) within the window
    per_account: int = 10  # attempts per account from anywhere; then only addresses that have not failed on it
    window: timedelta = timedelta(minutes=15)
    session_days: int = 30


def check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME.fullmatch(name):
        raise AccountError(
            "a username is 3 to 30 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def check_password(password: str, *, username: str = "") -> str:
    """At least MIN_PASSWORD characters and not a common or easily guessed password (zxcvbn score >= 2)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    strength = zxcvbn(password[:100], user_inputs=[username] if username else [])
    if strength["score"] < 2:
        warning = strength["feedback"].get("warning") or "This password is too easy to guess."
        raise AccountError(f"choose a stronger password: {warning.rstrip('.')}. A few unusual words work well.")
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
    name, address = check_username(username), check_email(email)
    secret = check_password(password, username=name)
    try:
        return store.users.create(name, address, _hasher.hash(secret), admin=admin)
    except Taken as exc:
        raise AccountError(str(exc)) from None


def log_in(store: Store, username: str, password: str, *, client: str, policy: Policy = Policy()) -> User:
    """The user for correct credentials. Every attempt is counted before the password is checked."""
    name, address = username.strip().lower()[:60], client[:100]
    pair_key, address_key, account_key = f"login:{name}|{address}", f"login-address:{address}", f"login-account:{name}"
    pair = store.counters.hit(pair_key, policy.window)
    from_address = store.counters.hit(address_key, policy.window)
    on_account = store.counters.hit(account_key, policy.window)
    besieged = on_account > policy.per_account and pair > 1  # only addresses that have not failed on it may try
    if pair > policy.max_failures or from_address > policy.per_address or besieged:
        raise Throttled(policy.window)
    found = store.users.password_hash(name) if len(password) <= MAX_PASSWORD else None
    if found is None or found[1] is None or not _verify(found[1], password) or found[0].banned:
        if found is None:
            _verify(_DUMMY, password)
        raise AccountError("wrong username or password, or the account is suspended")
    store.counters.clear(pair_key)  # a success: this attempt was no guess
    store.counters.undo(address_key)
    store.counters.undo(account_key)
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
    store.users.set_password_hash(user.id, _hasher.hash(check_password(new, username=user.username)))
    store.users.end_sessions(user.id, keep=token_hash(keep_session) if keep_session else None)


def set_password(store: Store, username: str, password: str) -> None:
    """Administrator's reset (CLI)."""
    user = store.users.get(username)
    if user is None:
        raise AccountError(f"no user {username!r}")
    store.users.set_password_hash(user.id, _hasher.hash(check_password(password, username=username)))
    store.users.end_sessions(user.id)


# -- verified email and password reset --------------------------------------------------------------


def email_token(signer: Signer, user: User) -> str:
    """The payload names the address, so a link for an old address verifies nothing."""
    return signer.sign("verify-email", {"u": user.id, "e": user.email})


def confirm_email(store: Store, signer: Signer, token: str) -> User:
    payload = _payload(signer, "verify-email", token, VERIFY_TTL)
    user = store.users.by_id(_user_id(payload))
    if user is None or user.email is None or user.email != payload.get("e"):
        raise AccountError("this link is for an address the account no longer has")
    store.users.verify_email(user.id, user.email)
    return store.users.by_id(user.id) or user


def reset_token(store: Store, signer: Signer, user: User) -> str:
    """Works until the password changes (the payload carries a fingerprint of the current hash)."""
    return signer.sign("reset-password", {"u": user.id, "h": _fingerprint(store, user)})


def reset_password(store: Store, signer: Signer, token: str, new: str) -> User:
    payload = _payload(signer, "reset-password", token, RESET_TTL)
    user = store.users.by_id(_user_id(payload))
    if user is None or user.banned or payload.get("h") != _fingerprint(store, user):
        raise AccountError("this reset link was already used or is no longer valid; ask for a new one")
    store.users.set_password_hash(user.id, _hasher.hash(check_password(new, username=user.username)))
    store.users.end_sessions(user.id)
    return user


def _user_id(payload: dict[str, object]) -> int:
    value = payload.get("u")
    return value if isinstance(value, int) else 0


def _fingerprint(store: Store, user: User) -> str:
    found = store.users.password_hash(user.username)
    return hashlib.sha256((found[1] if found and found[1] else "").encode()).hexdigest()[:16]


def _payload(signer: Signer, purpose: str, token: str, max_age: timedelta) -> dict[str, object]:
    try:
        payload = signer.read(purpose, token, max_age=max_age)
    except TokenError as exc:
        raise AccountError(str(exc)) from None
    if not isinstance(payload, dict):
        raise AccountError("this link is not valid")
    return payload


# -- sessions -----------------------------------------------------------------------------------------


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
