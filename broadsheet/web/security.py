"""Who is asking, and may they: session cookies, CSRF tokens, login requirements, body size.

CSRF: every response carries a random token in an HttpOnly, SameSite=Lax cookie; pages put the
same token in their forms (`csrf_token`) and in `<meta name="csrf-token">` for scripts, which
send it as `X-CSRF-Token`. A state-changing request whose token does not match its cookie is
refused with 403, whatever route it is for (the routers that hold such routes depend on
`csrf_protect`; a test enumerates every POST route to keep it so).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from broadsheet import accounts
from broadsheet.models import User
from broadsheet.web.deps import HttpError, store

SESSION_COOKIE = "bs_session"
CSRF_COOKIE = "bs_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 256 * 1024  # bytes; comments are at most 10,000 characters
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """A page that needs a logged-in user: answered with a redirect to the login page."""


def csrf_token(request: Request) -> str:
    token: str = getattr(request.state, "csrf", "")
    return token


async def middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Refuse oversized bodies; make sure every visitor has a CSRF token cookie."""
    if request.method in UNSAFE and int(request.headers.get("content-length") or 0) > MAX_BODY:
        return JSONResponse({"error": f"request body too large (at most {MAX_BODY // 1024} KB)"}, status_code=413)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    request.state.csrf = cookie if 20 <= len(cookie) <= 100 else secrets.token_urlsafe(32)
    response = await call_next(request)
    if request.state.csrf != cookie:
        set_cookie(request, response, CSRF_COOKIE, request.state.csrf, max_age=60 * 60 * 24 * 365)
    return response


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


async def csrf_protect(request: Request) -> None:
    """Dependency for routers with state-changing routes: the token must match the cookie."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not sent or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise HttpError(403, "missing or invalid CSRF token: reload the page and try again")


def current_user(request: Request) -> User | None:
    if not hasattr(request.state, "user"):
        request.state.user = accounts.session_user(store(request), request.cookies.get(SESSION_COOKIE))
    user: User | None = request.state.user
    return user


def require_user(request: Request) -> User:
    """Dependency: the logged-in user; 401 JSON for the API, a redirect to /login for pages."""
    user = current_user(request)
    if user is None:
        if request.url.path.startswith("/api/"):
            raise HttpError(401, "log in first: this needs an account")
        raise LoginRequired
    return user


def login_redirect(request: Request) -> str:
    """/login?next=<where the user was>: the page itself, or for a form post the page it came from."""
    target = request.url.path
    if request.method in UNSAFE:
        target = urlsplit(request.headers.get("referer", "")).path or "/"
    return f"/login?next={quote(target)}"


def safe_next(target: str | None) -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
