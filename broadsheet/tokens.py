"""Signed tokens for links in emails: confirm, manage and unsubscribe, without a password.

    token = sign(secret, "confirm", subscriber_id, ttl=timedelta(days=3))
    verify(secret, token, "confirm")  # -> subscriber_id, or raises TokenError

A token is `base64url(purpose:id:expiry)` + "." + `base64url(HMAC-SHA256)`; a token for one
purpose never works for another, and a changed byte anywhere makes it invalid.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadsheet.config import Settings


class TokenError(ValueError):
    """A link that is not valid (tampered, for something else) or has expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def secret_key(settings: Settings) -> bytes:
    """The configured key, or a random one created once in the data directory (mode 0600)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest()[:20])


def sign(secret: bytes, purpose: str, subject: int, *, ttl: timedelta | None = None) -> str:
    expires = int((datetime.now(UTC) + ttl).timestamp()) if ttl else 0
    body = _b64(f"{purpose}:{subject}:{expires}".encode())
    return f"{body}.{_mac(secret, body)}"


def read(secret: bytes, token: str) -> tuple[str, int]:
    """(purpose, subject) of a token with a valid signature that has not expired."""
    try:
        body, mac = token.split(".")
        if len(token) > 400 or not hmac.compare_digest(mac, _mac(secret, body)):
            raise ValueError
        purpose, subject, expires = _unb64(body).decode().split(":")
        number, deadline = int(subject), int(expires)
    except (ValueError, UnicodeDecodeError):
        raise TokenError("this link is not valid: it may have been cut or changed") from None
    if deadline and datetime.now(UTC).timestamp() > deadline:
        raise TokenError("this link has expired", expired=True)
    return purpose, number


def verify(secret: bytes, token: str, purpose: str) -> int:
    """The subject (subscriber id) of a valid, unexpired token for `purpose`."""
    kind, subject = read(secret, token)
    if kind != purpose:
        raise TokenError("this link is not valid here")
    return subject
