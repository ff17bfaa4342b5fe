"""Signed tokens for links (email confirmation, manage, unsubscribe, account verification, password reset).

    signer = Signer(secret_key(settings, store))
    token = signer.sign("manage", subscriber_id)
    signer.read("manage", token, max_age=timedelta(days=90))   # -> subscriber_id, or raises TokenError

Signing is itsdangerous' `URLSafeTimedSerializer`, salted with the purpose, so a token for one
purpose never works for another and a changed byte anywhere makes it invalid. The key is the
configured one or a random one stored once in the database, so every host of a deployment
signs and checks with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

from broadsheet.config import Settings
from broadsheet.store import Store

MAX_TOKEN = 400


class TokenError(ValueError):
    """A link that is not valid (tampered, for something else) or has expired."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def secret_key(settings: Settings, store: Store) -> bytes:
    """The configured key, else the deployment's key in the database (created once, by whichever host is first).

    A key file left in the data directory by an older version is adopted, so links it signed keep working.
    """
    if settings.secret_key:
        return settings.secret_key.encode()
    legacy = settings.data_dir / "secret_key"

    def make() -> str:
        return legacy.read_text().strip() if legacy.is_file() else secrets.token_urlsafe(48)

    return store.secrets.get_or_create("signing", make).encode()


@dataclass(frozen=True)
class Signer:
    secret: bytes

    def sign(self, purpose: str, payload: Any) -> str:
        return str(URLSafeTimedSerializer(self.secret, salt=purpose).dumps(payload))

    def read(self, purpose: str, token: str, *, max_age: timedelta | None) -> Any:
        """The payload of a valid token for `purpose` that is younger than `max_age` (None: never expires)."""
        if not token or len(token) > MAX_TOKEN:
            raise TokenError("this link is not valid: it may have been cut or changed")
        serializer = URLSafeTimedSerializer(self.secret, salt=purpose)
        try:
            return serializer.loads(token, max_age=int(max_age.total_seconds()) if max_age else None)
        except SignatureExpired:
            raise TokenError("this link has expired", expired=True) from None
        except BadData:
            legacy = _legacy_subject(self.secret, token, purpose)
            if legacy is None:
                raise TokenError("this link is not valid: it may have been cut or changed") from None
            return legacy


def _legacy_subject(secret: bytes, token: str, purpose: str) -> int | None:
    """The subject of a never-expiring token in the format before itsdangerous (unsubscribe links in old mail)."""
    try:
        body, mac = token.encode("ascii").split(b".")
        expected = base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()[:20]).rstrip(b"=")
        kind, subject, expires = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)).decode().split(":")
        valid = hmac.compare_digest(mac, expected) and kind == purpose and expires == "0"
        return int(subject) if valid else None
    except (ValueError, UnicodeError):
        return None
