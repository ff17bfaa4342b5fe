"""Who is asking, and may they: sessions, CSRF tokens bound to the session, origins, body size.

CSRF: the token a form or script must send is derived from the session (HMAC of the session
token with the site key), or, before login, from a random visitor cookie; logging in therefore
rotates it, and a token chosen by a client is worth nothing. Pages put it in their forms
(`csrf_token`) and in `<meta name="csrf-token">`; scripts and API clients send it as
`X-CSRF-Token` (it is also in the `bs_csrf` cookie). A state-changing request without the right
token, or from another site's page (`Origin`/`Referer` not this site), is refused with 403,
whatever route it is for: the routers that hold such routes depend on `csrf_protect`, and a test
enumerates every POST route to keep it so.

Bodies: at most MAX_BODY bytes, enforced while the body streams in, chunked uploads included
(FastAPI's `max_body_size`, set in `create_app`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.errors import Forbidden, Unauthorized
from broadsheet.models import User
from broadsheet.web.deps import SESSION_COOKIE, bearer, current_user, settings

VISITOR_COOKIE = "bs_visitor"
CSRF_COOKIE = "bs_csrf"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 256 * 1024  # bytes; comments are at most 10,000 characters
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
YEAR = 60 * 60 * 24 * 365  # seconds the visitor and CSRF cookies last
# Pages use only our own CSS and scripts; the API docs page runs Swagger UI's inline start-up script.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)


class LoginRequired(Exception):
    """A page that needs a logged-in user: answered with a redirect to the login page."""


def csrf_token(request: Request) -> str:
    token: str = getattr(request.state, "csrf", "")
    return token


def expected_token(secret: bytes, session: str | None, visitor: str) -> str:
    basis = f"session:{session}" if session else f"visitor:{visitor}"
    return hmac.new(secret, basis.encode(), hashlib.sha256).hexdigest()[:43]


class Guard:
    """ASGI middleware around everything: refuse a declared oversized body at once; give every visitor a
    cookie and their session's CSRF token (`scope["state"]["csrf"]`); security headers on every answer."""

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "0")
        if scope["method"] in UNSAFE and (not declared.isdigit() or int(declared) > MAX_BODY):
            refusal = JSONResponse({"error": f"request body too large (at most {MAX_BODY // 1024} KB)"}, 413)
            await refusal(scope, receive, send)
            return
        cookies = cookie_parser(headers.get("cookie", ""))
        visitor = cookies.get(VISITOR_COOKIE, "")
        fresh = not 20 <= len(visitor) <= 100
        if fresh:
            visitor = secrets.token_urlsafe(24)
        token = expected_token(self.secret, cookies.get(SESSION_COOKIE) or None, visitor)
        scope.setdefault("state", {})["csrf"] = token
        secure = scope.get("scheme") == "https"
        policy = DOCS_CSP if scope["path"] in ("/api/docs", "/docs") else CSP

        async def finish(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if fresh:
                    out.append("set-cookie", cookie_header(VISITOR_COOKIE, visitor, YEAR, secure))
                if cookies.get(CSRF_COOKIE) != token:  # for API clients; never read back by the server
                    out.append("set-cookie", cookie_header(CSRF_COOKIE, token, YEAR, secure))
                for name, value in (("x-content-type-options", "nosniff"), ("content-security-policy", policy),
                                    ("referrer-policy", "strict-origin-when-cross-origin")):  # fmt: skip
                    out.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, finish)


def cookie_header(name: str, value: str, max_age: int | None, secure: bool) -> str:
    """A `Set-Cookie` value with the attributes `set_cookie` gives."""
    parts = [f"{name}={value}", "HttpOnly", *([f"Max-Age={max_age}"] if max_age is not None else []), "Path=/",
             "SameSite=lax", *(["Secure"] if secure else [])]  # fmt: skip
    return "; ".join(parts)


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/"
    )


async def csrf_protect(request: Request) -> None:
    """Dependency for routers with state-changing routes: this site's page, and the session's token.

    A request with a valid `Authorization: Bearer` API token needs neither (no browser sends that header
    across sites by itself), but changes need a write token; a bad token is refused (401/429) whatever
    the method."""
    found = await run_in_threadpool(bearer, request) if "authorization" in request.headers else None
    if request.method not in UNSAFE:
        return
    if found is not None:
        if not found.token.can_write:
            raise Forbidden("this API token is read-only: changes need a token with the write scope")
        return
    _same_site(request)
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    if not sent or not hmac.compare_digest(sent.encode(), csrf_token(request).encode()):
        raise Forbidden("missing or invalid CSRF token: reload the page and try again")


def _same_site(request: Request) -> None:
    """A browser says which page sent a request (Origin, else Referer); it must be one of ours."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return  # not a browser (a script with the token), or a browser that hides the referrer
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    ours = {_origin(settings(request).public_url), _origin(f"{request.url.scheme}://{request.headers.get('host', '')}")}
    if origin not in ours:
        raise Forbidden("this request came from another site's page and was refused")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def require_user(request: Request) -> User:
    """Dependency: the logged-in user; 401 JSON for the API, a redirect to /login for pages."""
    user = current_user(request)
    if user is None:
        if request.url.path.startswith("/api/"):
            raise Unauthorized("log in first: this needs an account")
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


__all__ = ["SESSION_COOKIE", "LoginRequired", "csrf_protect", "current_user", "require_user"]
