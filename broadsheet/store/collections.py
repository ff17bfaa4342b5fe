"""Collections and their items: rows in, named types out; the rules are in broadsheet.community.collections.

c = store.collections.create(user.id, "Reading group", description=None, private=False, cap=100)
store.collections.add_item(c.id, paper_row_id, note="read §3", cap=1000)   # -> Item's object id
store.collections.items(c.id)                                            # -> [Item], by position
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from broadsheet.models import PaperView
from broadsheet.store.engine import Db
from broadsheet.store.rows import view_from_row, view_select
from broadsheet.store.schema import collection_items, collections, papers, users


class TitleTaken(ValueError):
    """The owner has a collection with this title already."""


class Full(ValueError):
    """A cap was reached: collections per user, or items per collection."""


class AlreadyIn(ValueError):
    """The paper is in the collection already."""


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    object_id: str
    user_id: int
    owner: str  # username
    owner_name: str | None  # display name
    title: str
    description: str | None
    private: bool
    theme: str
    position: int
    is_default: bool
    updated_at: datetime
    size: int  # number of items


@dataclass(frozen=True, slots=True)
class Item:
    object_id: str
    position: int
    note: str | None
    added_at: datetime
    view: PaperView


def object_id() -> str:
    """24 hex digits, like the ObjectIds that end Hugging Face's slugs."""
    return secrets.token_hex(12)


_size = select(func.count()).where(collection_items.c.collection_id == collections.c.id).scalar_subquery().label("size")
_select = select(collections, users.c.username, users.c.display_name, _size).join(
    users, users.c.id == collections.c.user_id
)


def _collection(row: Any) -> Collection:
    m = row._mapping
    return Collection(
        m["id"], m["object_id"], m["user_id"], m["username"], m["display_name"], m["title"], m["description"],
        bool(m["private"]), m["theme"], m["position"], bool(m["is_default"]), m["updated_at"], m["size"],
    )  # fmt: skip


def _item(row: Any) -> Item:
    m = row._mapping
    return Item(m["item_object_id"], m["item_position"], m["item_note"], m["item_added_at"], view_from_row(row))


_item_select = (
    view_select()
    .add_columns(
        collection_items.c.object_id.label("item_object_id"),
        collection_items.c.position.label("item_position"),
        collection_items.c.note.label("item_note"),
        collection_items.c.added_at.label("item_added_at"),
    )
    .join(collection_items, collection_items.c.paper_id == papers.c.id)
)


class Collections:
    def __init__(self, db: Db) -> None:
        self.db = db

    # -- collections -----------------------------------------------------------------------------

    def create(
        self, user_id: int, title: str, *, description: str | None, private: bool, cap: int, default: bool = False
    ) -> Collection:
        """A new collection, last among the owner's; TitleTaken or Full (at `cap` collections) otherwise."""
        now = datetime.now(UTC)
        mine = collections.c.user_id == user_id
        try:
            return self._create(user_id, title, description, private, cap, default, now, mine)
        except IntegrityError:  # the same title, made at the same moment by another request
            raise TitleTaken(title) from None

    def _create(
        self, user_id: int, title: str, description: str | None, private: bool, cap: int, default: bool,
        now: datetime, mine: ColumnElement[bool],
    ) -> Collection:  # fmt: skip
        with self.db.write() as conn:
            if conn.execute(select(collections.c.id).where(mine, collections.c.title == title)).first():
                raise TitleTaken(title)
            count, last = conn.execute(select(func.count(), func.max(collections.c.position)).where(mine)).one()
            if count >= cap:
                raise Full(f"you have {cap} collections, the most allowed: delete one first")
            values = {
                "object_id": object_id(), "user_id": user_id, "title": title, "description": description,
                "private": private, "theme": "indigo", "position": (last or 0) + 1 if count else 0,
                "is_default": default, "created_at": now, "updated_at": now,
            }  # fmt: skip
            row_id = conn.execute(insert(collections).values(**values).returning(collections.c.id)).scalar_one()
            return _collection(conn.execute(_select.where(collections.c.id == row_id)).one())

    def by_object_id(self, oid: str) -> Collection | None:
        with self.db.read() as conn:
            row = conn.execute(_select.where(collections.c.object_id == oid)).first()
        return _collection(row) if row else None

    def by_title(self, user_id: int, title: str) -> Collection | None:
        with self.db.read() as conn:
            row = conn.execute(_select.where(collections.c.user_id == user_id, collections.c.title == title)).first()
        return _collection(row) if row else None

    def default_of(self, user_id: int) -> Collection | None:
        query = _select.where(collections.c.user_id == user_id, collections.c.is_default.is_(True))
        with self.db.read() as conn:
            row = conn.execute(query.order_by(collections.c.id).limit(1)).first()
        return _collection(row) if row else None

    def listing(
        self,
        *,
        owners: Sequence[str] = (),
        viewer_id: int | None = None,
        paper_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
        by_position: bool = False,
    ) -> list[Collection]:
        """Public collections (and the viewer's own private ones), most recently changed first."""
        visible: ColumnElement[bool] = collections.c.private.is_(False)
        if viewer_id is not None:
            visible = visible | (collections.c.user_id == viewer_id)
        query = _select.where(visible)
        if owners:
            query = query.where(users.c.username.in_(list(owners)))
        if paper_id is not None:
            query = query.where(
                exists().where(collection_items.c.collection_id == collections.c.id,
                               collection_items.c.paper_id == paper_id)
            )  # fmt: skip
        order = (collections.c.position, collections.c.id) if by_position else (collections.c.updated_at.desc(),)
        with self.db.read() as conn:
            rows = conn.execute(query.order_by(*order, collections.c.id.desc()).limit(limit).offset(offset))
            return [_collection(r) for r in rows]

    def update(self, collection: Collection, **values: Any) -> None:
        """Set title, description, private or theme; TitleTaken when the owner has that title elsewhere."""
        with self.db.write() as conn:
            title = values.get("title")
            if title is not None and title != collection.title:
                clash = select(collections.c.id).where(
                    collections.c.user_id == collection.user_id, collections.c.title == title
                )
                if conn.execute(clash).first():
                    raise TitleTaken(title)
            values["updated_at"] = datetime.now(UTC)
            conn.execute(update(collections).where(collections.c.id == collection.id).values(**values))

    def move(self, collection: Collection, position: int) -> None:
        """Put a collection at `position` (from 0) among its owner's."""
        with self.db.write() as conn:
            query = select(collections.c.id).where(collections.c.user_id == collection.user_id)
            order = list(conn.execute(query.order_by(collections.c.position, collections.c.id)).scalars())
            _renumber(conn, collections, order, collection.id, position)

    def delete(self, collection_id: int) -> None:
        with self.db.write() as conn:
            conn.execute(delete(collections).where(collections.c.id == collection_id))

    # -- items -----------------------------------------------------------------------------------

    def items(self, collection_id: int, *, limit: int = 1000) -> list[Item]:
        query = _item_select.where(collection_items.c.collection_id == collection_id)
        query = query.order_by(collection_items.c.position, collection_items.c.id).limit(limit)
        with self.db.read() as conn:
            return [_item(r) for r in conn.execute(query)]

    def add_item(self, collection_id: int, paper_id: int, *, note: str | None, cap: int) -> str:
        """Append a paper; returns the item's object id. AlreadyIn or Full otherwise."""
        try:
            return self._add_item(collection_id, paper_id, note, cap)
        except IntegrityError:  # added at the same moment by another request
            raise AlreadyIn("this paper is already in the collection") from None

    def _add_item(self, collection_id: int, paper_id: int, note: str | None, cap: int) -> str:
        here = collection_items.c.collection_id == collection_id
        with self.db.write() as conn:
            if conn.execute(select(collection_items.c.id).where(here, collection_items.c.paper_id == paper_id)).first():
                raise AlreadyIn("this paper is already in the collection")
            count, last = conn.execute(select(func.count(), func.max(collection_items.c.position)).where(here)).one()
            if count >= cap:
                raise Full(f"a collection holds at most {cap} papers")
            oid = object_id()
            values = {"object_id": oid, "collection_id": collection_id, "paper_id": paper_id, "note": note,
                      "position": (last or 0) + 1 if count else 0, "added_at": datetime.now(UTC)}  # fmt: skip
            conn.execute(insert(collection_items).values(**values))
            _touch(conn, collection_id)
            return oid

    def item_ids(self, collection_id: int) -> list[str]:
        """The items' object ids, in order."""
        query = select(collection_items.c.object_id).where(collection_items.c.collection_id == collection_id)
        with self.db.read() as conn:
            return list(conn.execute(query.order_by(collection_items.c.position, collection_items.c.id)).scalars())

    def set_note(self, collection_id: int, item_oid: str, note: str | None) -> bool:
        with self.db.write() as conn:
            done = conn.execute(update(collection_items).where(*_the_item(collection_id, item_oid)).values(note=note))
            if done.rowcount:
                _touch(conn, collection_id)
            return bool(done.rowcount)

    def move_item(self, collection_id: int, item_oid: str, position: int) -> bool:
        """Put an item at `position` (from 0); False when there is no such item."""
        with self.db.write() as conn:
            query = select(collection_items.c.id, collection_items.c.object_id).where(
                collection_items.c.collection_id == collection_id
            )
            rows = conn.execute(query.order_by(collection_items.c.position, collection_items.c.id)).all()
            moving = next((r.id for r in rows if r.object_id == item_oid), None)
            if moving is None:
                return False
            _renumber(conn, collection_items, [r.id for r in rows], moving, position)
            _touch(conn, collection_id)
            return True

    def remove_item(self, collection_id: int, item_oid: str) -> bool:
        with self.db.write() as conn:
            done = conn.execute(delete(collection_items).where(*_the_item(collection_id, item_oid)))
            if done.rowcount:
                _touch(conn, collection_id)
            return bool(done.rowcount)

    def remove_paper(self, collection_id: int, paper_id: int) -> bool:
        here = and_(collection_items.c.collection_id == collection_id, collection_items.c.paper_id == paper_id)
        with self.db.write() as conn:
            done = conn.execute(delete(collection_items).where(here))
            if done.rowcount:
                _touch(conn, collection_id)
            return bool(done.rowcount)

    def arxiv_ids(self, collection_id: int) -> set[str]:
        """The arXiv ids of the collection's papers, in one query."""
        query = select(papers.c.arxiv_id).join(collection_items, collection_items.c.paper_id == papers.c.id)
        with self.db.read() as conn:
            return set(conn.execute(query.where(collection_items.c.collection_id == collection_id)).scalars())

    def holding(self, user_id: int, paper_id: int) -> set[int]:
        """Ids of the user's collections that hold the paper."""
        query = select(collections.c.id).join(collection_items, collection_items.c.collection_id == collections.c.id)
        query = query.where(collections.c.user_id == user_id, collection_items.c.paper_id == paper_id)
        with self.db.read() as conn:
            return set(conn.execute(query).scalars())


def _the_item(collection_id: int, item_oid: str) -> tuple[Any, Any]:
    return collection_items.c.collection_id == collection_id, collection_items.c.object_id == item_oid


def _touch(conn: Connection, collection_id: int) -> None:
    conn.execute(update(collections).where(collections.c.id == collection_id).values(updated_at=datetime.now(UTC)))


def _renumber(conn: Connection, table: Any, order: list[int], moving: int, position: int) -> None:
    """Positions 0..n-1 in `order`, with `moving` taken out and put back at `position` (clamped)."""
    order = [row_id for row_id in order if row_id != moving]
    order.insert(max(0, min(position, len(order))), moving)
    for index, row_id in enumerate(order):
        conn.execute(update(table).where(table.c.id == row_id, table.c.position != index).values(position=index))
