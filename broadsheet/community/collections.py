"""Collections: a user's named, ordered lists of papers with notes; bookmarks are the default private one.

Slugs are Hugging Face's: `owner/title-words-<24 hex digits>`; the hex digits identify the
collection, so a renamed collection keeps working under its old slug. A private collection is
invisible (404) to everyone but its owner; a visible one that is not yours is 403 to change.
Every function raises a named error (broadsheet.errors) with a message for people.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from broadsheet.community import actions as community
from broadsheet.errors import Conflict, Forbidden, Invalid, NotFound, TooMany
from broadsheet.ingest.metadata import xml_safe
from broadsheet.models import User
from broadsheet.store import Store
from broadsheet.store.collections import AlreadyIn, Collection, Full, TitleTaken

MAX_TITLE = 100
MAX_DESCRIPTION = 150  # as Hugging Face
MAX_NOTE = 500  # as Hugging Face
MAX_ITEMS = 1000  # papers per collection
MAX_COLLECTIONS = 100  # per user
CREATES_PER_WINDOW, CREATE_WINDOW = 30, timedelta(hours=1)  # new collections per user
BOOKMARKS = "Bookmarks"
THEMES = ("orange", "blue", "green", "purple", "pink", "indigo")
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")


class CollectionExists(Conflict):
    """The owner has a collection with that title: the answer names it (HF's `exists_ok` reads `slug`)."""

    def __init__(self, collection: Collection) -> None:
        super().__init__(f"you already have a collection titled {collection.title!r}")
        self.slug = slug(collection)


def slug(collection: Collection) -> str:
    return f"{collection.owner}/{_words(collection.title)}-{collection.object_id}"


def _words(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-") or "collection"


def visible(collection: Collection, viewer: User | None) -> bool:
    return not collection.private or (viewer is not None and viewer.id == collection.user_id)


def find(store: Store, namespace: str, name: str, viewer: User | None) -> Collection:
    """The collection `namespace/name` if the viewer may see it; 404 otherwise (private ones included)."""
    oid = name.rsplit("-", 1)[-1].lower()
    found = store.collections.by_object_id(oid) if _OBJECT_ID.fullmatch(oid) else None
    if found is None or found.owner != namespace or not visible(found, viewer):
        raise NotFound(f"no collection {namespace[:40]}/{name[:100]}")
    return found


def owned(store: Store, namespace: str, name: str, user: User) -> Collection:
    """The collection, for changing it: 404 when the user cannot see it, 403 when it is someone else's."""
    found = find(store, namespace, name, user)
    if found.user_id != user.id:
        raise Forbidden("only its owner can change a collection")
    return found


@dataclass(frozen=True, slots=True)
class Metadata:
    """What a change asks for; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    private: bool | None = None
    theme: str | None = None
    position: int | None = None


def title_of(value: str) -> str:
    text = " ".join(xml_safe(value).split())
    if not 1 <= len(text) <= MAX_TITLE:
        raise Invalid(f"a collection's title has 1 to {MAX_TITLE} characters")
    return text


def description_of(value: str | None) -> str | None:
    text = xml_safe(value or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"a collection's description has at most {MAX_DESCRIPTION} characters")
    return text or None


def note_of(value: str | None) -> str | None:
    text = xml_safe(value or "").strip()
    if len(text) > MAX_NOTE:
        raise Invalid(f"a note has at most {MAX_NOTE} characters")
    return text or None


def create(
    store: Store, user: User, title: str, *, description: str | None = None, private: bool = False,
    namespace: str | None = None, default: bool = False,
) -> Collection:  # fmt: skip
    if namespace is not None and namespace != user.username:
        raise Forbidden(f"you can only create collections in your own namespace ({user.username})")
    name, about = title_of(title), description_of(description)
    if store.counters.hit(f"collections:user:{user.id}", CREATE_WINDOW) > CREATES_PER_WINDOW:
        minutes = int(CREATE_WINDOW.total_seconds() // 60)
        raise TooMany(f"you have created {CREATES_PER_WINDOW} collections in {minutes} minutes: try again later")
    try:
        return store.collections.create(
            user.id, name, description=about, private=private, cap=MAX_COLLECTIONS, default=default
        )
    except TitleTaken:
        existing = store.collections.by_title(user.id, name)
        raise CollectionExists(existing) if existing else Conflict("that title is taken") from None
    except Full as exc:
        raise TooMany(str(exc)) from None


def update(store: Store, collection: Collection, change: Metadata) -> Collection:
    values: dict[str, object] = {}
    if change.title is not None:
        values["title"] = title_of(change.title)
    if change.description is not None:
        values["description"] = description_of(change.description)
    if change.private is not None:
        values["private"] = change.private
    if change.theme is not None:
        if change.theme not in THEMES:
            raise Invalid(f"a theme is one of {', '.join(THEMES)}")
        values["theme"] = change.theme
    try:
        store.collections.update(collection, **values)
    except TitleTaken:
        raise Conflict(f"you already have a collection titled {values['title']!r}") from None
    if change.position is not None:
        store.collections.move(collection, change.position)
    return _reloaded(store, collection)


def add_paper(store: Store, collection: Collection, item_type: str, item_id: str, note: str | None) -> str:
    """Append a paper (HF item type `paper`, id = arXiv id); returns the item's object id."""
    if item_type != "paper":
        raise Invalid(f"this site collects papers only (item type 'paper', not {item_type[:20]!r})")
    row_id = community.row_of(store, item_id)
    try:
        return store.collections.add_item(collection.id, row_id, note=note_of(note), cap=MAX_ITEMS)
    except AlreadyIn as exc:
        raise Conflict(str(exc)) from None
    except Full as exc:
        raise TooMany(str(exc)) from None


def update_item(store: Store, collection: Collection, item_oid: str, *, note: str | None, position: int | None) -> None:
    if note is not None and not store.collections.set_note(collection.id, item_oid, note_of(note)):
        raise NotFound("no such item in this collection")
    if position is not None and not store.collections.move_item(collection.id, item_oid, position):
        raise NotFound("no such item in this collection")
    if note is None and position is None and item_oid not in store.collections.item_ids(collection.id):
        raise NotFound("no such item in this collection")


def remove_item(store: Store, collection: Collection, item_oid: str) -> None:
    if not store.collections.remove_item(collection.id, item_oid):
        raise NotFound("no such item in this collection")


def bookmarks(store: Store, user: User) -> Collection:
    """The user's default (private) collection, made on first use."""
    found = store.collections.default_of(user.id)
    if found is not None:
        return found
    try:
        return store.collections.create(user.id, BOOKMARKS, description=None, private=True, cap=MAX_COLLECTIONS + 1,
                                        default=True)  # fmt: skip
    except TitleTaken:  # a collection of theirs is titled "Bookmarks" already: it becomes the default
        existing = store.collections.by_title(user.id, BOOKMARKS)
        assert existing is not None
        store.collections.update(existing, is_default=True)
        return _reloaded(store, existing)


def save(store: Store, user: User, arxiv_id: str, saved: bool = True) -> None:
    """Put a paper in (or take it out of) the user's bookmarks, idempotently."""
    row_id = community.row_of(store, arxiv_id)
    marks = bookmarks(store, user)
    if not saved:
        store.collections.remove_paper(marks.id, row_id)
        return
    try:
        store.collections.add_item(marks.id, row_id, note=None, cap=MAX_ITEMS)
    except AlreadyIn:
        pass
    except Full as exc:
        raise TooMany(str(exc)) from None


def _reloaded(store: Store, collection: Collection) -> Collection:
    found = store.collections.by_object_id(collection.object_id)
    if found is None:
        raise NotFound("the collection was deleted")
    return found
