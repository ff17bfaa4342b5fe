"""Account pages: sign up, log in and out, verify an email, reset a password, settings, profiles (HTML and .json)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broadsheet.community import accounts
from broadsheet.community.tokens import Signer
from broadsheet.emails import notice
from broadsheet.errors import BroadsheetError, NotFound
from broadsheet.ingest.metadata import xml_safe
from broadsheet.mail.subscriptions import Subscriptions
from broadsheet.markup import render as markdown
from broadsheet.models import User
from broadsheet.web import shapes
from broadsheet.web.deps import current_user, render, settings, split_format, store, voted
from broadsheet.web.security import SESSION_COOKIE, client_address, csrf_protect, require_user, safe_next, set_cookie
from broadsheet.worker import queue_mail

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Text = Annotated[str, Form(max_length=300)]
Secret = Annotated[str, Form(max_length=accounts.MAX_PASSWORD + 1)]
Token = Annotated[str, Query(max_length=400)]
UserDep = Annotated[User, Depends(require_user)]
MAIL_EVERY = timedelta(minutes=10)  # at most one verification or reset mail per account in this time


def _signer(request: Request) -> Signer:
    return Signer(request.app.state.secret)


def _logged_in(request: Request, user: User, target: str) -> Response:
    response = RedirectResponse(safe_next(target), status_code=303)
    token = accounts.new_session(store(request), user)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=60 * 60 * 24 * 30)
    return response


def _mail_link(request: Request, user: User, to: str, subject: str, template: str, path: str, token: str) -> bool:
    """Queue a mail with a signed link (at most one per account every MAIL_EVERY); False when held back."""
    if store(request).counters.hit(f"account-mail:{user.id}", MAIL_EVERY) > 1:
        return False
    cfg = settings(request)
    link = f"{cfg.public_url}{path}?token={token}"
    context = {"email": to, "username": user.username, "site_name": cfg.site_name, "link": link}
    queue_mail(store(request), notice(to, subject, template, mail_from=cfg.mail_from, **context))
    return True


def _send_verification(request: Request, user: User) -> bool:
    assert user.email is not None
    token = accounts.email_token(_signer(request), user)
    return _mail_link(request, user, user.email, "Confirm your email address", "verify.txt", "/verify-email", token)


@router.get("/signup")
def signup_page(request: Request) -> Response:
    return render(request, "account.html", {"mode": "signup", "error": None, "form": {}})


@router.post("/signup")
def signup(request: Request, username: Text, password: Secret, email: Text = "", next: Text = "/") -> Response:
    try:
        user = accounts.sign_up(store(request), username, email or None, password)
    except accounts.AccountError as exc:
        form = {"username": username, "email": email}
        return render(request, "account.html", {"mode": "signup", "error": str(exc), "form": form}, status=400)
    if user.email:
        _send_verification(request, user)
    return _logged_in(request, user, next)


@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=300)] = "/") -> Response:
    return render(request, "account.html", {"mode": "login", "error": None, "form": {"next": safe_next(next)}})


@router.post("/login")
def login(request: Request, username: Text, password: Secret, next: Text = "/") -> Response:
    try:
        user = accounts.log_in(store(request), username, password, client=client_address(request))
    except BroadsheetError as exc:
        context = {"mode": "login", "error": exc.message, "form": {"username": username, "next": next}}
        return render(request, "account.html", context, status=exc.status)
    return _logged_in(request, user, next)


@router.post("/logout")
def logout(request: Request) -> Response:
    accounts.end_session(store(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- verified email and password reset ---------------------------------------------------------------


@router.get("/verify-email")
def verify_email(request: Request, token: Token) -> Response:
    user = accounts.confirm_email(store(request), _signer(request), token)
    message = f"{user.email} is confirmed for the account {user.username}."
    return render(request, "notice.html", {"title": "Email confirmed", "message": message})


@router.post("/settings/verify")
def resend_verification(request: Request, user: UserDep) -> Response:
    if not user.email or user.email_verified:
        return _settings(request, user)
    sent = _send_verification(request, user)
    text = f"We sent a link to {user.email}." if sent else "A link was sent a few minutes ago; please use that one."
    return _settings(request, user, notice=text)


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return render(request, "password.html", {"mode": "forgot", "error": None, "notice": None})


@router.post("/password/forgot")
def forgot(request: Request, who: Text) -> Response:
    """Mail a reset link to the account's verified address; the answer never says whether one exists."""
    db, name = store(request), who.strip().lower()
    if db.counters.hit(f"password-forgot:{client_address(request)}", timedelta(hours=1)) <= 20:
        user = db.users.by_email(name) if "@" in name else db.users.get(name)
        if user is not None and user.verified_email and not user.banned:
            token = accounts.reset_token(db, _signer(request), user)
            _mail_link(request, user, user.verified_email, "Reset your password", "reset.txt", "/password/reset", token)
    text = "If an account with a confirmed email address matches, we sent it a link (valid for an hour)."
    return render(request, "password.html", {"mode": "forgot", "error": None, "notice": text})


@router.get("/password/reset")
def reset_page(request: Request, token: Token) -> Response:
    return render(request, "password.html", {"mode": "reset", "token": token, "error": None, "notice": None})


@router.post("/password/reset")
def reset(request: Request, token: Annotated[str, Form(max_length=400)], password: Secret) -> Response:
    try:
        user = accounts.reset_password(store(request), _signer(request), token, password)
    except accounts.AccountError as exc:
        context = {"mode": "reset", "token": token, "error": str(exc), "notice": None}
        return render(request, "password.html", context, status=400)
    return _logged_in(request, user, "/settings")


# -- settings and profiles -----------------------------------------------------------------------------


def _digest_url(request: Request, user: User) -> str | None:
    """The user's own digest settings, by their *verified* email; None when unverified (it proves nothing)."""
    if not user.verified_email:
        return None
    found = store(request).subscribers.by_email(user.verified_email)
    if found is None:
        return "/subscribe"
    return Subscriptions(store(request), settings(request)).manage_url(found).removeprefix(settings(request).public_url)


def _settings(request: Request, user: User, *, error: str | None = None, notice: str | None = None) -> Response:
    context = {"user": user, "error": error, "notice": notice, "digest_url": _digest_url(request, user)}
    return render(request, "settings.html", context, status=400 if error else 200)


@router.get("/settings")
def settings_page(request: Request, user: UserDep) -> Response:
    return _settings(request, user)


@router.post("/settings/password")
def change_password(request: Request, user: UserDep, current: Secret, new: Secret) -> Response:
    try:
        accounts.change_password(store(request), user, current, new, keep_session=request.cookies.get(SESSION_COOKIE))
    except accounts.AccountError as exc:
        return _settings(request, user, error=str(exc))
    return _settings(request, user, notice="Password changed.")


@router.post("/settings/profile")
def update_profile(
    request: Request, user: UserDep, display_name: Text = "", votes_public: Annotated[bool, Form()] = False
) -> Response:
    name = " ".join(xml_safe(display_name).split())[:80] or None  # no control characters (nor NUL) are stored
    store(request).users.update_profile(user.id, display_name=name, votes_public=votes_public)
    return _settings(request, store(request).users.by_id(user.id) or user, notice="Profile saved.")


@router.get("/u/{username}")
def profile(request: Request, username: str) -> Response:
    name, as_json = split_format(username)
    db = store(request)
    person = db.users.get(name) if len(name) <= 40 else None
    if person is None:
        raise NotFound(f"no user {name[:40]!r}")
    viewer = current_user(request)
    submissions = db.daily.views(None, order="added", limit=100, submitter=person.username)
    upvoted = db.community.upvoted(person.id) if person.votes_public or (viewer and viewer.id == person.id) else None
    comments = db.community.comments_by(person.id)
    if as_json:
        return JSONResponse(_profile_json(person, submissions, upvoted, comments))
    context: dict[str, Any] = {"person": person, "submissions": submissions, "upvoted": upvoted}
    context["comments"] = [(c, arxiv_id, title, markdown(c.body)) for c, arxiv_id, title in comments]
    context["voted"] = voted(request, submissions + (upvoted or []))
    return render(request, "profile.html", context)


def _profile_json(person: User, submissions: list[Any], upvoted: list[Any] | None, comments: list[Any]) -> Any:
    return {
        "user": shapes.user(person.submitter) | {"banned": person.banned},
        "submissions": [shapes.daily_item(v) for v in submissions],
        "upvoted": None if upvoted is None else [shapes.paper(v) for v in upvoted],
        "comments": [shapes.comment(c) | {"paperId": arxiv_id} for c, arxiv_id, _ in comments],
    }
