"""Follows, "not interested", never-show rules and author pages on the web; every form works without JavaScript.

    POST /follows                             kind=author|category|search, value, followed=true|false
    POST /papers/{id}/not-interested          hidden=true|false: off (or back on) this reader's lists
    GET  /following                           what the reader follows, hid and ruled out; remove buttons
    POST /following/rules                     kind=category|word|author, value (add); /following/rules/remove
    GET  /authors/{name}[.json]               papers newest first, co-authors, verified accounts, Follow
    GET/POST /api/follows                     the same for API clients (a write token for changes)

The routers are behind `csrf_protect` (a write token stands in for the CSRF token); changes need a login.
`unblocked(request, views)` drops what a signed-in reader hid or ruled out; visitors' lists (and the
anonymous page cache, which never sees a session cookie) are unchanged. `install(app)` adds the routers
and the template functions `following(kind, value)`, `not_interested(arxiv_id)` and the `author_url` filter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from broadsheet.community import actions as community
from broadsheet.community import authors as people
from broadsheet.community import follows as rules
from broadsheet.community.names import normalise_name
from broadsheet.models import PaperView, User
from broadsheet.store.follows import Interests
from broadsheet.web import shapes
from broadsheet.web.deps import current_user, render, split_format, store, voted
from broadsheet.web.security import csrf_protect, require_user

api = APIRouter(prefix="/api/follows", tags=["follows"], dependencies=[Depends(csrf_protect)])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]
Value = Annotated[str, Form(max_length=600)]
Page = Annotated[int, Query(ge=0, le=10_000)]
FollowKind = Literal["author", "category", "search"]
RuleKind = Literal["category", "word", "author"]
T = TypeVar("T")


def install(app: FastAPI) -> None:
    """Before the other routers: `/papers/{id}` and `/api/{rest}` would otherwise take these paths."""
    app.include_router(api)
    app.include_router(pages)
    env = app.state.templates.env
    env.globals.update(following=following, not_interested=not_interested)
    env.filters["author_url"] = people.url


def interests(request: Request) -> Interests | None:
    """The signed-in reader's interests, read once per request; None for visitors."""
    if not hasattr(request.state, "interests"):
        viewer = current_user(request)
        request.state.interests = store(request).follows.interests(viewer.id) if viewer else None
    found: Interests | None = request.state.interests
    return found


def unblocked(request: Request, views: list[PaperView]) -> list[PaperView]:
    """The views this reader did not hide nor rule out (all of them for visitors: no query)."""
    return unblocked_by(request, views, lambda view: view)


def unblocked_by(
    request: Request, items: list[T], view_of: Callable[[T], PaperView], *, limit: int | None = None
) -> list[T]:
    """The same for anything that holds a view (search hits, ranked pairs); at most `limit`, checking no more."""
    if not items or current_user(request) is None:
        return items[:limit]
    found = interests(request)
    if found is None or found.empty:
        return items[:limit]
    kept = (item for item in items if not rules.blocked(view_of(item).paper, found))
    return list(itertools.islice(kept, limit))


@jinja2.pass_context
def following(context: Any, kind: str, value: str) -> bool:
    """In templates: does the viewer follow this author / category / search?"""
    request: Request | None = context.get("request")
    found = interests(request) if request is not None else None
    if found is None:
        return False
    if kind == "author":
        return normalise_name(value) in found.authors
    if kind == "category":
        return value in found.categories
    return " ".join(value.split()) in found.searches


@jinja2.pass_context
def not_interested(context: Any, arxiv_id: str) -> bool:
    request: Request | None = context.get("request")
    found = interests(request) if request is not None else None
    return found is not None and arxiv_id in found.hidden


# -- forms -----------------------------------------------------------------------------------------


@pages.post("/follows")
def follow_form(
    request: Request, user: UserDep, kind: Annotated[FollowKind, Form()], value: Value,
    followed: Annotated[bool, Form()] = True,
) -> Response:  # fmt: skip
    """A Follow / Unfollow button, then back to the page it was on."""
    rules.follow(store(request), user, kind, value, followed)
    return _back(request, "/following")


@pages.post("/papers/{paper_id:path}/not-interested")
def hide_form(request: Request, paper_id: str, user: UserDep, hidden: Annotated[bool, Form()] = True) -> Response:
    rules.hide(store(request), user, paper_id, hidden)
    return _back(request, f"/papers/{community.canonical(paper_id)}")


@pages.get("/following")
def following_page(request: Request, user: UserDep) -> Response:
    db = store(request)
    context = {
        "mine": db.follows.interests(user.id), "hidden_papers": db.follows.hidden_papers(user.id),
        "counts": db.follows.counts(user.id), "rules": rules,
    }  # fmt: skip
    return render(request, "following.html", context)


@pages.post("/following/rules")
def add_rule_form(request: Request, user: UserDep, kind: Annotated[RuleKind, Form()], value: Value) -> Response:
    rules.add_rule(store(request), user, kind, value)
    return RedirectResponse("/following#rules", status_code=303)


@pages.post("/following/rules/remove")
def remove_rule_form(request: Request, user: UserDep, kind: Annotated[RuleKind, Form()], value: Value) -> Response:
    rules.remove_rule(store(request), user, kind, value)
    return RedirectResponse("/following#rules", status_code=303)


# -- author pages ----------------------------------------------------------------------------------


@pages.get("/authors/{name:path}")
def author_page(request: Request, name: str, p: Page = 0) -> Response:
    text, as_json = split_format(name)
    found = people.page(store(request), text, offset=p * people.PAGE_SIZE)
    if as_json:
        return JSONResponse(author_json(found, p))
    views = list(found.views)
    context = {"author": found, "views": views, "page": p, "voted": voted(request, views),
               "pages": (found.total + people.PAGE_SIZE - 1) // people.PAGE_SIZE}  # fmt: skip
    return render(request, "author.html", context)


def author_json(found: people.AuthorPage, p: int) -> dict[str, Any]:
    return {
        "name": found.name, "key": found.key, "spellings": list(found.spellings), "total": found.total, "page": p,
        "papers": [shapes.paper(v) for v in found.views],
        "coauthors": [{"name": c.name, "papers": c.papers, "url": people.url(c.name)} for c in found.coauthors],
        "verified": [shapes.user(a) for a in found.accounts],
        "variants": [{"name": v.name, "user": shapes.user(v.account), "papers": list(v.arxiv_ids),
                      "url": people.url(v.name)} for v in found.variants],
    }  # fmt: skip


# -- API -------------------------------------------------------------------------------------------


class Change(BaseModel):
    kind: Literal["author", "category", "search", "hidden", "never-category", "never-word", "never-author"] = Field(
        description="What to follow, hide (value: an arXiv id) or never show"
    )
    value: str = Field(max_length=600)
    on: bool = Field(True, description="false takes it back (unfollow, show again, remove the rule)")


def interests_json(found: Interests) -> dict[str, Any]:
    return {
        "authors": sorted(found.authors), "categories": sorted(found.categories), "searches": list(found.searches),
        "hidden": sorted(found.hidden), "never": {"categories": sorted(found.never_categories),
        "words": sorted(found.never_words), "authors": sorted(found.never_authors)},
    }  # fmt: skip


@api.get("", summary="What you follow, hid and never want to see")
def interests_api(request: Request, user: UserDep) -> dict[str, Any]:
    return interests_json(store(request).follows.interests(user.id))


@api.post("", summary="Follow or unfollow, hide or show again, add or remove a never-show rule")
def change_api(request: Request, body: Change, user: UserDep) -> dict[str, Any]:
    db = store(request)
    if body.kind == "hidden":
        changed = rules.hide(db, user, body.value, body.on)
    elif body.kind.startswith("never-"):
        kind = body.kind.removeprefix("never-")
        changed = (
            rules.add_rule(db, user, kind, body.value) if body.on else rules.remove_rule(db, user, kind, body.value)
        )
    else:
        changed = rules.follow(db, user, body.kind, body.value, body.on)
    return {"changed": changed} | interests_json(db.follows.interests(user.id))


def _back(request: Request, fallback: str) -> RedirectResponse:
    path = urlsplit(request.headers.get("referer", "")).path
    query = urlsplit(request.headers.get("referer", "")).query
    ok = path.startswith("/") and not path.startswith("//") and "\\" not in path
    return RedirectResponse((path + (f"?{query}" if query else "")) if ok else fallback, status_code=303)
