"""Named errors: the library says what went wrong, the web layer maps each kind to an HTTP status once.

    raise NotFound("paper 2401.01234 is not indexed yet")
    raise TooMany("too many failed logins: try again in 15 minutes")

Pages show the message on an error page, `/api` answers `{"error": message}` with the status
(`web/__init__.py` registers one handler for all of them); the CLI prints the message.
"""

from __future__ import annotations


class BroadsheetError(Exception):
    """A request that cannot be granted; the message is for people."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(BroadsheetError):
    """The input is malformed or breaks a rule (400)."""

    status = 400


class Unauthorized(BroadsheetError):
    """This needs an account, or a valid token (401)."""

    status = 401


class Forbidden(BroadsheetError):
    """Known, but not allowed to do this (403)."""

    status = 403


class NotFound(BroadsheetError):
    status = 404


class Conflict(BroadsheetError):
    """It clashes with what is already there (409)."""

    status = 409


class Gone(BroadsheetError):
    """It existed (e.g. a link) but has expired (410)."""

    status = 410


class TooLarge(BroadsheetError):
    status = 413


class TooMany(BroadsheetError):
    """A rate limit or a cap (429)."""

    status = 429


class Unavailable(BroadsheetError):
    """An outside service is needed and cannot be reached now (503)."""

    status = 503


STATUSES = {cls.status: cls for cls in (Invalid, Unauthorized, Forbidden, NotFound, Conflict, Gone, TooLarge, TooMany)}
