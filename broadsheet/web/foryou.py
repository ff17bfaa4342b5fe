"""For you on the web: `/for-you` (the page and its cold-start form), `/for-you.json`, and a private feed.

The feed URL, `/for-you/feed/<token>.atom` (or `.xml` for RSS), works without a login, so a feed
reader can fetch it: the token is signed (broadsheet.community.tokens, purpose "for-you-feed") and names the
user and their current feed key (store.foryou). "New URL" replaces the key, so the old URL stops
working at once; "Turn off" deletes it.

A ranking costs a few tenths of a second of CPU, so each reader's last one is reused while nothing of
theirs changed (`foryou.Rankings`, per process), and each account may have RANKINGS_PER_MINUTE new
rankings a minute (page, JSON and private feed together): more is answered 429 with the wait.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from broadsheet import feeds
from broadsheet.community import collections
from broadsheet.community.tokens import Signer, TokenError
from broadsheet.errors import BroadsheetError, Invalid, NotFound, TooMany, Unauthorized
from broadsheet.models import User
from broadsheet.personal import foryou
from broadsheet.throttle import Throttle
from broadsheet.web import shapes
from broadsheet.web.deps import absolute, current_user, engine, render, settings, store, today, voted
from broadsheet.web.feeds import TYPES
from broadsheet.web.security import csrf_protect, require_user

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
tokened = APIRouter(include_in_schema=False)  # the private feed: authorised by the signed token in its URL
UserDep = Annotated[User, Depends(require_user)]
PURPOSE = "for-you-feed"
MAX_UPLOAD = 200 * 1024  # bytes of an uploaded export (the request body limit is a little above)
RANKINGS_PER_MINUTE = 10  # new (not reused) rankings per account and web process


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(tokened)
    app.state.foryou_rankings = foryou.Rankings()
    app.state.foryou_throttle = Throttle(rate=RANKINGS_PER_MINUTE / 60, burst=RANKINGS_PER_MINUTE)


def picks(request: Request, user: User, limit: int = 50) -> list[foryou.Pick]:
    """The reader's picks: the last ranking while nothing changed, else a new one if the throttle allows."""
    return foryou.for_you(store(request), engine(request), user, limit=limit, today=today(request),
                          zone=settings(request).zone, rankings=request.app.state.foryou_rankings,
                          gate=lambda: _ranking_allowed(request, user))  # fmt: skip


def _ranking_allowed(request: Request, user: User) -> None:
    throttle: Throttle = request.app.state.foryou_throttle
    if not throttle.take(str(user.id)):
        wait = max(1, math.ceil(throttle.retry_after(str(user.id))))
        raise TooMany(f"For you was ranked {RANKINGS_PER_MINUTE} times in a minute for your account: "
                      f"try again in {wait} s")  # fmt: skip


def _page(request: Request, user: User, *, notice: str | None = None, error: str | None = None,
          status: int = 200) -> Response:  # fmt: skip
    found = picks(request, user)
    context: dict[str, Any] = {
        "picks": found, "voted": voted(request, [p.view for p in found]), "notice": notice, "error": error,
        "feed": feed_url(request, user), "seeds": _seeds_url(request, user),
        "days": foryou.DAYS,
    }  # fmt: skip
    return render(request, "foryou.html", context, status=status)


def _seeds_url(request: Request, user: User) -> str | None:
    found = store(request).collections.by_title(user.id, foryou.SEEDS)
    return f"/collections/{collections.slug(found)}" if found else None


@router.get("/for-you")
def page(request: Request, user: UserDep) -> Response:
    return _page(request, user)


@router.get("/for-you.json")
def as_json(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        raise Unauthorized("log in first (or send a personal API token): For you is personal")
    items = [shapes.paper(p.view) | {"reasons": list(p.reasons)} for p in picks(request, user)]
    return JSONResponse({"items": items, "feed": feed_url(request, user)})


@router.post("/for-you/seeds")
async def add_seeds(request: Request, user: UserDep) -> Response:
    """Cold start: pasted text and/or an uploaded file (BibTeX, RIS, CSL-JSON, a Zotero export)."""
    form = await request.form()
    text, upload = form.get("text"), form.get("file")
    parts = [text] if isinstance(text, str) else []
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            return _page(request, user, error=f"that file is over {MAX_UPLOAD // 1024} KB: paste its ids instead",
                         status=413)  # fmt: skip
        parts.append(data.decode("utf-8", "replace"))
    try:
        seeded = foryou.seed(store(request), user, "\n".join(parts))
    except BroadsheetError as exc:
        return _page(request, user, error=exc.message, status=exc.status)
    return _page(request, user, notice=_told(seeded))


def _told(seeded: foryou.Seeded) -> str:
    said = [f"Added {len(seeded.added)} seed{'s' if len(seeded.added) != 1 else ''}."]
    if seeded.already:
        said.append(f"{len(seeded.already)} were seeds already.")
    if seeded.unknown:
        shown = ", ".join(seeded.unknown[:10]) + (" …" if len(seeded.unknown) > 10 else "")
        said.append(f"Not on this site yet: {shown} (submit them to add them).")
    return " ".join(said)


@router.post("/for-you/feed")
def change_feed(request: Request, user: UserDep, action: Annotated[str, Form(max_length=20)]) -> Response:
    """`new`: a new private feed URL (the old one stops working); `off`: no private feed."""
    if action == "new":
        store(request).foryou.new_feed_key(user)
    elif action == "off":
        store(request).foryou.drop_feed_key(user)
    else:
        raise Invalid("action is new or off")
    return RedirectResponse("/for-you#feed", status_code=303)


def feed_url(request: Request, user: User) -> str | None:
    key = store(request).foryou.feed_key(user)
    if key is None:
        return None
    token = Signer(request.app.state.secret).sign(PURPOSE, [user.id, key])
    return absolute(request, f"/for-you/feed/{token}.atom")


@tokened.get("/for-you/feed/{name}")
def feed(request: Request, name: str) -> Response:
    token, _, fmt = name.rpartition(".")
    if fmt not in TYPES:
        raise NotFound("feeds end in .xml (RSS 2.0) or .atom (Atom)")
    user = _holder(request, token)
    site = settings(request).public_url
    found = picks(request, user)
    entries = [
        replace(entry, summary=f"Why: {'; '.join(pick.reasons)}.\n\n{entry.summary}")
        for entry, pick in zip(feeds.entries([p.view for p in found], site), found, strict=True)
    ]
    doc = feeds.Feed(f"{settings(request).site_name}: for {user.username}", site + "/for-you",
                     site + request.url.path, "Papers picked for you", entries)  # fmt: skip
    return Response(feeds.atom(doc) if fmt == "atom" else feeds.rss(doc), media_type=TYPES[fmt])


def _holder(request: Request, token: str) -> User:
    gone = NotFound("this feed URL is not valid: it may have been replaced by a new one")
    try:
        payload = Signer(request.app.state.secret).read(PURPOSE, token, max_age=None)
    except TokenError:
        raise gone from None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)):
        raise gone
    user = store(request).users.by_id(payload[0])
    key = store(request).foryou.feed_key(user) if user is not None and not user.banned else None
    if user is None or key is None or not hmac.compare_digest(key, str(payload[1])):
        raise gone
    return user
