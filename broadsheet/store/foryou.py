"""What the For-you feed reads about a reader, and the keys of their private feed URLs.

store.foryou.signals(user.id)          # -> Signals: liked papers (votes, collection items), hidden ones
store.foryou.feed_key(user)            # -> the current key of the private feed URL, or None
store.foryou.new_feed_key(user)        # -> a fresh key; the old URL stops working

Feed keys live in the `secrets` table, one row per user, named after the user's id and creation
time, so an account made later under a reused id never inherits someone's feed URL.
"""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass

from sqlalchemy import delete, false, null, select, union_all, update

from broadsheet.models import User
from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.schema import collection_items, collections, hidden_papers, papers, secrets, votes

MAX_SIGNALS = 2000  # the most recent liked papers read (a larger library adds little and costs time)


@dataclass(frozen=True, slots=True)
class Like:
    """A paper the reader upvoted or put in a collection (`collection` is None for a vote)."""

    paper_id: int
    arxiv_id: str
    title: str
    categories: tuple[str, ...]
    collection: str | None
    default: bool  # the collection is the reader's bookmarks


@dataclass(frozen=True, slots=True)
class Signals:
    likes: tuple[Like, ...]  # newest first; a paper may appear once per way it was liked
    hidden: tuple[int, ...]  # row ids of papers marked "not interested", newest first


class ForYou:
    def __init__(self, db: Db) -> None:
        self.db = db

    def signals(self, user_id: int, *, limit: int = MAX_SIGNALS) -> Signals:
        voted = (
            select(papers.c.id, papers.c.arxiv_id, papers.c.title, papers.c.categories, null().label("coll"),
                   false().label("dflt"), votes.c.created_at.label("at"))
            .join(papers, papers.c.id == votes.c.paper_id)
            .where(votes.c.user_id == user_id)
        )  # fmt: skip
        kept = (
            select(papers.c.id, papers.c.arxiv_id, papers.c.title, papers.c.categories, collections.c.title,
                   collections.c.is_default, collection_items.c.added_at)
            .select_from(collection_items.join(collections, collections.c.id == collection_items.c.collection_id)
                         .join(papers, papers.c.id == collection_items.c.paper_id))
            .where(collections.c.user_id == user_id)
        )  # fmt: skip
        both = union_all(voted, kept).subquery()
        hidden = select(hidden_papers.c.paper_id).where(hidden_papers.c.user_id == user_id)
        with self.db.read() as conn:
            rows = conn.execute(select(both).order_by(both.c.at.desc()).limit(limit)).all()
            hidden_ids = conn.execute(hidden.order_by(hidden_papers.c.created_at.desc()).limit(limit)).scalars()
            hidden_rows = tuple(int(i) for i in hidden_ids)
        likes = tuple(Like(int(r[0]), r[1], r[2], tuple(r[3] or ()), r[4], bool(r[5])) for r in rows)
        return Signals(likes, hidden_rows)

    def feed_key(self, user: User) -> str | None:
        with self.db.read() as conn:
            found: str | None = conn.execute(select(secrets.c.value).where(secrets.c.name == _name(user))).scalar()
        return found

    def new_feed_key(self, user: User) -> str:
        """A new key for the user's private feed (the URL with the old one stops working)."""
        key = random.token_urlsafe(18)
        with self.db.write() as conn:
            changed = conn.execute(update(secrets).where(secrets.c.name == _name(user)).values(value=key)).rowcount
            if not changed:
                conn.execute(dialect_insert(conn, secrets).values(name=_name(user), value=key).on_conflict_do_nothing())  # type: ignore[attr-defined]
        return key

    def drop_feed_key(self, user: User) -> bool:
        """Turn the private feed off; True if there was one."""
        with self.db.write() as conn:
            return bool(conn.execute(delete(secrets).where(secrets.c.name == _name(user))).rowcount)


def _name(user: User) -> str:
    return f"for-you-feed:{user.id}:{int(user.created_at.timestamp())}"
