"""Account pages: sign up, log in and out, settings, public profiles (HTML and .json)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from broadsheet import accounts
from broadsheet.markup import render as markdown
from broadsheet.models import User
from broadsheet.subscriptions import Subscriptions
from broadsheet.web import shapes
from broadsheet.web.deps import HttpError, settings, split_format, store
from broadsheet.web.pages import render, voted
from broadsheet.web.security import (
    SESSION_COOKIE,
    client_address,
    csrf_protect,
    current_user,
    require_user,
    safe_next,
    set_cookie,
)

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
Text = Annotated[str, Form(max_length=300)]
Secret = Annotated[str, Form(max_length=accounts.MAX_PASSWORD + 1)]
UserDep = Annotated[User, Depends(require_user)]


def _logged_in(request: Request, user: User, target: str) -> Response:
    response = RedirectResponse(safe_next(target), status_code=303)
    token = accounts.new_session(store(request), user)
    set_cookie(request, response, SESSION_COOKIE, token, max_age=60 * 60 * 24 * 30)
    return response


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
    return _logged_in(request, user, next)


@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=300)] = "/") -> Response:
    return render(request, "account.html", {"mode": "login", "error": None, "form": {"next": safe_next(next)}})


@router.post("/login")
def login(request: Request, username: Text, password: Secret, next: Text = "/") -> Response:
    try:
        user = accounts.log_in(store(request), username, password, client=client_address(request))
    except accounts.Throttled as exc:
        context = {"mode": "login", "error": str(exc), "form": {"username": username, "next": next}}
        return render(request, "account.html", context, status=429)
    except accounts.AccountError as exc:
        context = {"mode": "login", "error": str(exc), "form": {"username": username, "next": next}}
        return render(request, "account.html", context, status=400)
    return _logged_in(request, user, next)


@router.post("/logout")
def logout(request: Request) -> Response:
    accounts.end_session(store(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _digest_url(request: Request, user: User) -> str:
    """A logged-in user's own digest settings (by their account email), or the subscribe page."""
    found = store(request).subscribers.by_email(user.email) if user.email else None
    if found is None:
        return "/subscribe"
    return (
        Subscriptions(store(request), settings(request))
        .manage_url(found)
        .removeprefix(settings(request).site_url.rstrip("/"))
    )


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
    name = " ".join(display_name.split())[:80] or None
    store(request).users.update_profile(user.id, display_name=name, votes_public=votes_public)
    return _settings(request, store(request).users.by_id(user.id) or user, notice="Profile saved.")


@router.get("/u/{username}")
def profile(request: Request, username: str) -> Response:
    name, as_json = split_format(username)
    db = store(request)
    person = db.users.get(name) if len(name) <= 40 else None
    if person is None:
        raise HttpError(404, f"no user {name[:40]!r}")
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
