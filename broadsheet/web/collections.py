"""Collections on the web: Hugging Face's `/api/collections` routes, the pages, and the Save buttons.

    HfApi(endpoint=site, token="bs_…").create_collection("Reading group")
    HfApi(endpoint=site, token="bs_…").add_collection_item(slug, "2401.01234", item_type="paper", note="§3")

The routers are behind `csrf_protect` (a write token stands in for the CSRF token), changes need a login.
`install(app)` adds both routers and the `saved(arxiv_id)` template function (is it in my bookmarks?).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import jinja2
from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import escape
from pydantic import BaseModel, Field

from broadsheet.community import actions as community
from broadsheet.community import collections as rules
from broadsheet.errors import Invalid, NotFound
from broadsheet.models import User
from broadsheet.store.collections import Collection, Item
from broadsheet.web import shapes
from broadsheet.web.api import _link_next as link_next
from broadsheet.web.deps import absolute, current_user, render, store
from broadsheet.web.security import csrf_protect, require_user

api = APIRouter(prefix="/api/collections", tags=["collections"], dependencies=[Depends(csrf_protect)])
pages = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
UserDep = Annotated[User, Depends(require_user)]
Username = Annotated[str, Path(max_length=40, description="The owner's username (HF: the namespace)")]
Name = Annotated[str, Path(max_length=200, description="The rest of the slug: title-words-<24 hex digits>")]
ItemId = Annotated[str, Path(max_length=24, description="The item's `_id`")]
Short = Annotated[str, Form(max_length=600)]
LISTED_ITEMS = 4  # items shown per collection in a listing, as Hugging Face


def install(app: FastAPI) -> None:
    """Before the other routers: `/api/{rest}` and `/papers/{id}` would otherwise take these paths."""
    app.include_router(api)
    app.include_router(pages)
    app.state.templates.env.globals["saved"] = saved


@jinja2.pass_context
def saved(context: Any, arxiv_id: str) -> bool:
    """In templates: is this paper in the viewer's bookmarks? (one query per request, none for visitors)"""
    request: Request | None = context.get("request")
    if request is None:
        return False
    if not hasattr(request.state, "bookmarked"):
        viewer, marks = current_user(request), None
        if viewer is not None:
            marks = store(request).collections.default_of(viewer.id)
        request.state.bookmarked = store(request).collections.arxiv_ids(marks.id) if marks else set()
    return arxiv_id in request.state.bookmarked


# -- JSON in Hugging Face's shapes -----------------------------------------------------------------


def _owner(c: Collection) -> dict[str, Any]:
    return {"_id": c.owner, "name": c.owner, "fullname": c.owner_name or c.owner, "type": "user", "isPro": False}


def item_json(item: Item) -> dict[str, Any]:
    out = shapes.paper(item.view) | {"_id": item.object_id, "type": "paper", "position": item.position}
    if item.note:
        out["note"] = {"text": item.note, "html": str(escape(item.note))}
    return out


def collection_json(request: Request, c: Collection, items: list[Item], *, listed: bool = False) -> dict[str, Any]:
    """A Collection as Hugging Face answers it; a listing leaves `position` out (huggingface_hub sets it)."""
    name = rules.slug(c)
    out: dict[str, Any] = {
        "_id": c.object_id, "slug": name, "title": c.title, "description": c.description, "owner": _owner(c),
        "items": [item_json(i) for i in items], "lastUpdated": shapes.iso(c.updated_at), "private": c.private,
        "theme": c.theme, "upvotes": 0, "isUpvotedByUser": False, "gating": False, "numberItems": c.size,
        "shareUrl": absolute(request, f"/collections/{name}"),
    }  # fmt: skip
    if not listed:
        out["position"] = c.position
    return out


def _full(request: Request, c: Collection) -> dict[str, Any]:
    return collection_json(request, c, store(request).collections.items(c.id))


class NewCollection(BaseModel):
    title: str = Field(max_length=1000)
    namespace: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=1000)
    private: bool = False
    resourceGroupId: str | None = Field(None, max_length=100, description="Ignored: there are no organisations")


class CollectionChange(BaseModel):
    title: str | None = Field(None, max_length=1000)
    description: str | None = Field(None, max_length=1000)
    private: bool | None = None
    theme: str | None = Field(None, max_length=20)
    position: int | None = Field(None, ge=0, le=rules.MAX_COLLECTIONS)


class ItemRef(BaseModel):
    id: str = Field(max_length=300, description="For a paper: its arXiv id")
    type: str = Field(max_length=20, description="Only `paper`")


class NewItem(BaseModel):
    item: ItemRef
    note: str | None = Field(None, max_length=2000)


class ItemChange(BaseModel):
    note: str | None = Field(None, max_length=2000)
    position: int | None = Field(None, ge=0, le=rules.MAX_ITEMS)


@api.get("", summary="Collections: public ones, and your own private ones (HF-compatible)")
def list_api(
    request: Request,
    response: Response,
    owner: Annotated[list[str] | None, Query(max_length=20, description="Usernames")] = None,
    item: Annotated[str | None, Query(max_length=300, description="Holding this item: papers/<arXiv id>")] = None,
    sort: Annotated[Literal["lastModified", "trending", "upvotes"], Query()] = "lastModified",
    limit: Annotated[int, Query(ge=1, le=100)] = 100,
    p: Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0")] = 0,
) -> list[dict[str, Any]]:
    db, viewer = store(request), current_user(request)
    if any(len(name) > 40 for name in owner or []):
        raise Invalid("owner: a username has at most 40 characters")
    paper_id = None
    if item is not None:
        kind, _, key = item.partition("/")
        paper_id = db.papers.id_of(community.canonical(key)) if kind == "papers" and key else None
        if paper_id is None:
            return []
    found = db.collections.listing(
        owners=owner or [], viewer_id=viewer.id if viewer else None, paper_id=paper_id,
        limit=limit, offset=p * limit,
    )  # fmt: skip
    if len(found) == limit:
        link_next(request, response, p=p + 1)
    return [collection_json(request, c, db.collections.items(c.id, limit=LISTED_ITEMS), listed=True) for c in found]


@api.post("", summary="Create a collection (HF-compatible); 409 names the one with that title")
def create_api(request: Request, body: NewCollection, user: UserDep) -> Any:
    try:
        made = rules.create(store(request), user, body.title, description=body.description, private=body.private,
                            namespace=body.namespace)  # fmt: skip
    except rules.CollectionExists as exc:
        return JSONResponse({"error": exc.message, "slug": exc.slug}, status_code=409)
    return _full(request, made)


@api.get("/{username}/{name}", summary="One collection with all its items (HF-compatible)")
def get_api(request: Request, username: Username, name: Name) -> dict[str, Any]:
    return _full(request, rules.find(store(request), username, name, current_user(request)))


@api.patch("/{username}/{name}", summary="Rename, describe, make public or private, move (HF-compatible)")
def update_api(
    request: Request, username: Username, name: Name, body: CollectionChange, user: UserDep
) -> dict[str, Any]:
    found = rules.owned(store(request), username, name, user)
    change = rules.Metadata(body.title, body.description, body.private, body.theme, body.position)
    return {"success": True, "data": _full(request, rules.update(store(request), found, change))}


@api.delete("/{username}/{name}", summary="Delete a collection (HF-compatible)")
def delete_api(request: Request, username: Username, name: Name, user: UserDep) -> dict[str, Any]:
    store(request).collections.delete(rules.owned(store(request), username, name, user).id)
    return {"success": True}


@api.post("/{username}/{name}/items", summary="Add a paper (item type `paper`, id = arXiv id) (HF-compatible)")
def add_item_api(request: Request, username: Username, name: Name, body: NewItem, user: UserDep) -> dict[str, Any]:
    found = rules.owned(store(request), username, name, user)
    rules.add_paper(store(request), found, body.item.type, body.item.id, body.note)
    return _full(request, found)


@api.patch("/{username}/{name}/items/{item_id}", summary="Change an item's note or position (HF-compatible)")
def update_item_api(
    request: Request, username: Username, name: Name, item_id: ItemId, body: ItemChange, user: UserDep
) -> dict[str, Any]:
    found = rules.owned(store(request), username, name, user)
    rules.update_item(store(request), found, item_id, note=body.note, position=body.position)
    return {"success": True}


@api.delete("/{username}/{name}/items/{item_id}", summary="Take an item out of a collection (HF-compatible)")
def delete_item_api(request: Request, username: Username, name: Name, item_id: ItemId, user: UserDep) -> Any:
    rules.remove_item(store(request), rules.owned(store(request), username, name, user), item_id)
    return {"success": True}


# -- pages -----------------------------------------------------------------------------------------


def _to(c: Collection, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/collections/{rules.slug(c)}{anchor}", status_code=303)


@pages.get("/collections")
def mine_page(request: Request, user: UserDep) -> Response:
    found = store(request).collections.listing(owners=[user.username], viewer_id=user.id, by_position=True,
                                               limit=rules.MAX_COLLECTIONS + 1)  # fmt: skip
    return render(request, "collections.html", {"collections": found, "slug": rules.slug, "rules": rules})


@pages.post("/collections")
def create_form(
    request: Request, user: UserDep, title: Short, description: Short = "", private: Annotated[bool, Form()] = False
) -> Response:
    return _to(rules.create(store(request), user, title, description=description, private=private))


@pages.get("/collections/{username}/{name}")
def collection_page(request: Request, username: Username, name: Name) -> Response:
    viewer = current_user(request)
    found = rules.find(store(request), username, name, viewer)
    items = store(request).collections.items(found.id)
    context = {"collection": found, "items": items, "slug": rules.slug(found), "rules": rules,
               "mine": viewer is not None and viewer.id == found.user_id}  # fmt: skip
    return render(request, "collection.html", context)


@pages.post("/collections/{username}/{name}/edit")
def edit_form(
    request: Request, username: Username, name: Name, user: UserDep, title: Short, description: Short = "",
    private: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    found = rules.owned(store(request), username, name, user)
    return _to(rules.update(store(request), found, rules.Metadata(title, description, private)))


@pages.post("/collections/{username}/{name}/delete")
def delete_form(request: Request, username: Username, name: Name, user: UserDep) -> Response:
    store(request).collections.delete(rules.owned(store(request), username, name, user).id)
    return RedirectResponse("/collections", status_code=303)


@pages.post("/collections/{username}/{name}/items")
def add_form(request: Request, username: Username, name: Name, user: UserDep, paper_id: Short,
             note: Short = "") -> Response:  # fmt: skip
    found = rules.owned(store(request), username, name, user)
    rules.add_paper(store(request), found, "paper", paper_id, note)
    return _to(found)


@pages.post("/collections/{username}/{name}/item")
def item_form(
    request: Request, username: Username, name: Name, user: UserDep, item: Annotated[str, Form(max_length=24)],
    action: Annotated[Literal["note", "move", "remove"], Form()], note: Short = "",
    position: Annotated[int, Form(ge=0, le=rules.MAX_ITEMS)] = 0,
) -> Response:  # fmt: skip
    """`note` sets the item's note, `move` puts it at `position`, `remove` takes it out."""
    found = rules.owned(store(request), username, name, user)
    if action == "remove":
        rules.remove_item(store(request), found, item)
    else:
        rules.update_item(store(request), found, item, note=note if action == "note" else None,
                          position=position if action == "move" else None)  # fmt: skip
    return _to(found, "#items")


@pages.post("/papers/{paper_id:path}/save")
def save_form(request: Request, paper_id: str, user: UserDep, saved: Annotated[bool, Form()] = True) -> Response:
    """The Save button: into (or out of) the bookmarks, then back to the page it was on."""
    rules.save(store(request), user, paper_id, saved)
    return _back(request, f"/papers/{community.canonical(paper_id)}")


@pages.get("/papers/{paper_id:path}/collect")
def collect_page(request: Request, paper_id: str, user: UserDep) -> Response:
    view = community.paper_of(store(request), paper_id)
    db = store(request)
    mine = db.collections.listing(owners=[user.username], viewer_id=user.id, by_position=True,
                                  limit=rules.MAX_COLLECTIONS + 1)  # fmt: skip
    holding = db.collections.holding(user.id, view.row_id or db.papers.id_of(view.paper.arxiv_id) or 0)
    context = {"view": view, "collections": mine, "holding": holding, "slug": rules.slug, "rules": rules}
    return render(request, "collection_save.html", context)


@pages.post("/papers/{paper_id:path}/collect")
def collect_form(request: Request, paper_id: str, user: UserDep, collection: Short, note: Short = "") -> Response:
    """Add the paper to one of the user's collections (chosen by its `_id`), with a note."""
    found = store(request).collections.by_object_id(collection.strip().lower()[:24])
    if found is None or found.user_id != user.id:
        raise NotFound("no such collection of yours")
    rules.add_paper(store(request), found, "paper", paper_id, note)
    return _to(found)


def _back(request: Request, fallback: str) -> RedirectResponse:
    path = urlsplit(request.headers.get("referer", "")).path
    return RedirectResponse(path if path.startswith("/") and not path.startswith("//") else fallback, status_code=303)
