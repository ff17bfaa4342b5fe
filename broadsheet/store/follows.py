"""Follows, "not interested" and never-show rules: rows in, one `Interests` per user out.

store.follows.follow(user.id, "author", "Jane Doe")     # -> True (new); False the second time
store.follows.hide(user.id, paper_row_id)                # "not interested", idempotent
store.follows.add_rule(user.id, "word", "quantum")       # never show papers that say it
store.follows.interests(user.id)                         # -> Interests, in three queries

Values are stored normalised (authors by broadsheet.community.names, words case-folded the same way, searches
with whitespace collapsed), so every caller agrees on them; the rules on lengths are in broadsheet.community.follows.
Each write is one statement with ON CONFLICT, so a double click or two workers never fail. A `cap`
(rows of that table per user) makes a write raise `Full` instead of adding past it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, delete, func, select

from broadsheet.community.names import normalise_name
from broadsheet.store.engine import Db
from broadsheet.store.limits import dialect_insert
from broadsheet.store.schema import follows, hidden_papers, never_rules, papers

FOLLOW_KINDS = ("author", "category", "search")
RULE_KINDS = ("category", "word", "author")
MAX_VALUE = 300


class Full(ValueError):
    """A cap was reached: follows, hidden papers or rules per user."""


@dataclass(frozen=True)
class Interests:
    """Everything a reader told us, for one user."""

    authors: frozenset[str] = frozenset()  # normalised author names followed
    categories: frozenset[str] = frozenset()  # arXiv categories followed, e.g. "cs.CL"
    searches: tuple[str, ...] = ()  # saved-search query strings followed, oldest first
    hidden: frozenset[str] = frozenset()  # arXiv ids marked "not interested"
    never_categories: frozenset[str] = frozenset()
    never_words: frozenset[str] = frozenset()  # normalised words/phrases (broadsheet.community.names)
    never_authors: frozenset[str] = frozenset()  # normalised names

    @property
    def empty(self) -> bool:
        return self == Interests()


def stored_value(kind: str, value: str) -> str:
    """The form a value is stored and compared in."""
    if kind in ("author", "word"):
        return normalise_name(value)
    return " ".join(value.split())[:MAX_VALUE]


class Follows:
    def __init__(self, db: Db) -> None:
        self.db = db

    def interests(self, user_id: int) -> Interests:
        mine = follows.c.user_id == user_id
        with self.db.read() as conn:
            followed = conn.execute(select(follows.c.kind, follows.c.value).where(mine).order_by(follows.c.id)).all()
            ruled = select(never_rules.c.kind, never_rules.c.value).where(never_rules.c.user_id == user_id)
            rules = conn.execute(ruled).all()
            hidden = select(papers.c.arxiv_id).join(hidden_papers, hidden_papers.c.paper_id == papers.c.id)
            hidden_ids = frozenset(conn.execute(hidden.where(hidden_papers.c.user_id == user_id)).scalars())

        def of(rows: Sequence[Any], kind: str) -> list[str]:
            return [value for k, value in rows if k == kind]

        return Interests(
            authors=frozenset(of(followed, "author")), categories=frozenset(of(followed, "category")),
            searches=tuple(of(followed, "search")), hidden=hidden_ids,
            never_categories=frozenset(of(rules, "category")), never_words=frozenset(of(rules, "word")),
            never_authors=frozenset(of(rules, "author")),
        )  # fmt: skip

    def follow(self, user_id: int, kind: str, value: str, *, cap: int | None = None) -> bool:
        """Follow an author, a category or a search; True if it was new."""
        _check(kind, FOLLOW_KINDS)
        return self._add(follows, user_id, {"kind": kind, "value": stored_value(kind, value)}, cap)

    def unfollow(self, user_id: int, kind: str, value: str) -> bool:
        where = (follows.c.user_id == user_id, follows.c.kind == kind, follows.c.value == stored_value(kind, value))
        return self._remove(follows, where)

    def hide(self, user_id: int, paper_id: int, *, cap: int | None = None) -> bool:
        """Mark a paper (its row id) "not interested"; True if it was new."""
        return self._add(hidden_papers, user_id, {"paper_id": paper_id}, cap)

    def unhide(self, user_id: int, paper_id: int) -> bool:
        return self._remove(hidden_papers, (hidden_papers.c.user_id == user_id, hidden_papers.c.paper_id == paper_id))

    def add_rule(self, user_id: int, kind: str, value: str, *, cap: int | None = None) -> bool:
        """Never show papers in this category / containing this word / by this author; True if new."""
        _check(kind, RULE_KINDS)
        return self._add(never_rules, user_id, {"kind": kind, "value": stored_value(kind, value)}, cap)

    def remove_rule(self, user_id: int, kind: str, value: str) -> bool:
        where = (
            never_rules.c.user_id == user_id, never_rules.c.kind == kind,
            never_rules.c.value == stored_value(kind, value),
        )  # fmt: skip
        return self._remove(never_rules, where)

    def counts(self, user_id: int) -> dict[str, int]:
        """Rows per table for the user: {"follows": n, "hidden": n, "rules": n}."""
        with self.db.read() as conn:
            return {name: _count(conn, table, user_id) for name, table in _TABLES.items()}

    def hidden_papers(self, user_id: int, *, limit: int = 5000) -> list[tuple[str, str, datetime]]:
        """(arXiv id, title, when) of the papers the user hid, most recent first."""
        query = select(papers.c.arxiv_id, papers.c.title, hidden_papers.c.created_at).join(
            hidden_papers, hidden_papers.c.paper_id == papers.c.id
        )
        query = query.where(hidden_papers.c.user_id == user_id).order_by(hidden_papers.c.created_at.desc())
        with self.db.read() as conn:
            return [(r.arxiv_id, r.title, r.created_at) for r in conn.execute(query.limit(limit))]

    def followers(self, kind: str, value: str) -> int:
        """How many users follow this author / category / search."""
        query = select(func.count()).where(follows.c.kind == kind, follows.c.value == stored_value(kind, value))
        with self.db.read() as conn:
            return int(conn.execute(query).scalar_one())

    def _add(self, table: Table, user_id: int, values: dict[str, Any], cap: int | None) -> bool:
        with self.db.write() as conn:
            if cap is not None and _count(conn, table, user_id) >= cap:
                there = select(table.c.user_id).where(
                    table.c.user_id == user_id, *(table.c[k] == v for k, v in values.items())
                )
                if conn.execute(there).first() is None:
                    raise Full(f"at most {cap:,} allowed: remove some first")
                return False
            statement = dialect_insert(conn, table).values(user_id=user_id, created_at=datetime.now(UTC), **values)
            statement = statement.on_conflict_do_nothing().returning(table.c.user_id)  # type: ignore[attr-defined]
            return conn.execute(statement).first() is not None  # no row back: it was there already

    def _remove(self, table: Table, where: tuple[Any, ...]) -> bool:
        with self.db.write() as conn:
            return bool(conn.execute(delete(table).where(*where)).rowcount)


_TABLES = {"follows": follows, "hidden": hidden_papers, "rules": never_rules}


def _count(conn: Any, table: Table, user_id: int) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(table.c.user_id == user_id)).scalar_one())


def _check(kind: str, kinds: tuple[str, ...]) -> None:
    if kind not in kinds:
        raise ValueError(f"kind is one of {', '.join(kinds)}, not {kind[:20]!r}")
