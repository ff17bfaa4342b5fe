"""Exports on the web: collections and For you as BibTeX, RIS and CSL-JSON; "Download my data"; deleting an account.

    GET /collections/ada/reading-group-<hex>.bib    (.ris, .csl.json)   who may see the collection may export it
    GET /for-you.bib                                 (.ris, .csl.json)   the signed-in reader's (or a token's) list
    GET /settings/data.json                          everything about the signed-in account (a browser session only)
    GET|POST /settings/delete                        delete the account: password again, and the CSRF token

A private collection is exported only for its owner (their session, or one of their API tokens: read
scope is enough); to anyone else it does not exist (404), as on its page. `install(app)` must come
before the collections' routes: `/collections/{owner}/{name}` would take `….bib` for a name.

A collection's export (1,000 items: about 2.3 MB and a second of CPU, over the page cache's size limit)
is kept per collection, format and last change (`Built`, per process, at most MAX_KEPT bytes in all) for
KEPT_SECONDS: a paper's corrected metadata shows within that time, a change to the collection at once.
The For-you exports are ranked through `web.foryou.picks`: its reuse and per-user throttle.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import Response

from broadsheet.community import accounts
from broadsheet.community import collections as rules
from broadsheet.errors import Forbidden, Unauthorized
from broadsheet.models import Paper, User
from broadsheet.personal import exports, references
from broadsheet.web.collections import Name, Username
from broadsheet.web.deps import SESSION_COOKIE, bearer, current_user, render, store, today
from broadsheet.web.security import client_address, csrf_protect, require_user

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]
Secret = Annotated[str, Form(max_length=accounts.MAX_PASSWORD + 1)]
FOR_YOU_LIMIT = 200  # papers in an exported For-you list
MAX_KEPT = 64 * 1024 * 1024  # bytes of collection exports kept in memory (per process)
KEPT_SECONDS = 600.0  # how long a kept export is served (bounds how stale a paper's metadata may be)


@dataclass(frozen=True, slots=True)
class Format:
    suffix: str
    media_type: str
    write: Callable[[Sequence[Paper]], str]


FORMATS = {
    "bib": Format(".bib", "application/x-bibtex", references.bibtex),
    "ris": Format(".ris", "application/x-research-info-systems", references.ris),
    "csl": Format(".csl.json", "application/vnd.citationstyles.csl+json", references.csl_json),
}


class Built:
    """Export bodies by key, the least recently used dropped past `limit` bytes, each kept `ttl` seconds."""

    def __init__(self, limit: int = MAX_KEPT, ttl: float = KEPT_SECONDS) -> None:
        self.limit, self.ttl, self.size = limit, ttl, 0
        self._kept: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], str]) -> str:
        now = time.monotonic()
        with self._lock:
            found = self._kept.get(key)
            if found is not None and now - found[0] <= self.ttl:
                self._kept.move_to_end(key)
                return found[1]
        body = build()  # outside the lock: other exports are not held up
        with self._lock:
            old = self._kept.pop(key, None)
            self.size -= len(old[1]) if old else 0
            if len(body) <= self.limit:
                self._kept[key] = (now, body)
                self.size += len(body)
            while self.size > self.limit:
                self.size -= len(self._kept.popitem(last=False)[1][1])
        return body


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.state.exports_built = Built()


def _download(body: str | bytes, media_type: str, filename: str, *, private: bool) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if private:
        headers["Cache-Control"] = "private, no-store"
    return Response(body, media_type=f"{media_type}; charset=utf-8", headers=headers)


def _collection(request: Request, username: str, name: str, kind: str) -> Response:
    found = rules.find(store(request), username, name, current_user(request))  # who may see it, first
    fmt = FORMATS[kind]

    def build() -> str:
        items = store(request).collections.items(found.id, limit=rules.MAX_ITEMS)
        return fmt.write([item.view.paper for item in items])

    built: Built = request.app.state.exports_built
    body = built.get((found.id, found.object_id, found.updated_at, found.size, kind), build)
    filename = rules.slug(found).split("/", 1)[1] + fmt.suffix
    return _download(body, fmt.media_type, filename, private=found.private)


@router.get("/collections/{username}/{name}.bib")
def collection_bibtex(request: Request, username: Username, name: Name) -> Response:
    return _collection(request, username, name, "bib")


@router.get("/collections/{username}/{name}.ris")
def collection_ris(request: Request, username: Username, name: Name) -> Response:
    return _collection(request, username, name, "ris")


@router.get("/collections/{username}/{name}.csl.json")
def collection_csl(request: Request, username: Username, name: Name) -> Response:
    return _collection(request, username, name, "csl")


def _for_you(request: Request, kind: str) -> Response:
    from broadsheet.web.foryou import picks  # the ranking (and its model) only when asked for

    user = current_user(request)
    if user is None:
        raise Unauthorized("log in first (or send a personal API token): For you is personal")
    fmt = FORMATS[kind]
    papers = [p.view.paper for p in picks(request, user, limit=FOR_YOU_LIMIT)]
    return _download(fmt.write(papers), fmt.media_type, f"for-you{fmt.suffix}", private=True)


@router.get("/for-you.bib")
def for_you_bibtex(request: Request) -> Response:
    return _for_you(request, "bib")


@router.get("/for-you.ris")
def for_you_ris(request: Request) -> Response:
    return _for_you(request, "ris")


@router.get("/for-you.csl.json")
def for_you_csl(request: Request) -> Response:
    return _for_you(request, "csl")


# -- the account's own data ------------------------------------------------------------------------


def _browser_only(request: Request) -> None:
    """API tokens are for the API: a token can neither download the whole account nor delete it."""
    if bearer(request) is not None:
        raise Forbidden("sign in with your password in a browser for this: API tokens cannot do it")


@router.get("/settings/data.json")
def my_data(request: Request, user: UserDep) -> Response:
    _browser_only(request)
    body = exports.to_json(exports.personal_data(store(request), user))
    filename = f"{user.username}-{today(request).isoformat()}.json"
    return _download(body, "application/json", filename, private=True)


@router.get("/settings/delete")
def delete_page(request: Request, user: UserDep) -> Response:
    _browser_only(request)
    return render(request, "account_delete.html", {"user": user, "error": None})


@router.post("/settings/delete")
def delete_account(
    request: Request, user: UserDep, password: Secret, erase_comments: Annotated[bool, Form()] = False
) -> Response:
    _browser_only(request)
    try:
        exports.delete_account(store(request), user, password, client=client_address(request),
                               erase_text=erase_comments)  # fmt: skip
    except accounts.AccountError:
        context = {"user": user, "error": "That is not your password: nothing was deleted."}
        return render(request, "account_delete.html", context, status=400)
    message = f"The account {user.username} and everything linked to it were deleted."
    request.state.user = None  # the page after it is a visitor's
    response = render(request, "notice.html", {"title": "Account deleted", "message": message})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
