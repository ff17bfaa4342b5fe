"""A person's own data: all of it as one JSON document, and deleting the account.

    data = personal_data(store, user)          # a dict; `to_json(data)` is the file Settings offers
    delete_account(store, user, password, client="203.0.113.5", erase_text=False)

The export holds the account, votes, comments (deleted ones flagged), papers submitted, authorship
claims, collections with their items and notes, digest subscriptions, API tokens' names and dates (never
a secret), follows, "not interested" papers and never-show rules, and rows of any other table that
points at the account (secrets left out). Every list is bounded (at most some 100,000 rows).

Deleting needs the password again (checked and throttled like a login) and removes every row pointing at
the account (broadsheet.store.personal): their comments stay in their threads as "[deleted user]" (as
most forums do, so replies keep their context) unless `erase_text` also blanks them; papers they submitted
stay listed without a submitter; their votes go and every count follows.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

from broadsheet.community import accounts
from broadsheet.community import collections as rules
from broadsheet.errors import Forbidden
from broadsheet.models import User
from broadsheet.store import Store
from broadsheet.store.users import DELETED_USERNAME

FORMAT = "broadsheet-personal-data"
VERSION = 1
# Tables the document describes in its own sections; rows of any other table pointing at the user go in "other".
DESCRIBED = {"users", "votes", "comments", "daily_entries", "claims", "collections", "subscribers", "api_tokens",
             "sessions", "follows", "hidden_papers", "never_rules"}  # fmt: skip


def personal_data(store: Store, user: User) -> dict[str, Any]:
    """Everything the site keeps about `user`, as plain JSON-ready values (dates as ISO 8601 strings)."""
    me = user.id
    sessions = store.personal.pointing_at(me).get("sessions.user_id", 0)
    data: dict[str, Any] = {
        "format": FORMAT, "version": VERSION, "exported_at": datetime.now(UTC),
        "account": _account(user, sessions),
        "votes": [asdict(v) for v in store.personal.votes(me)],
        "comments": [asdict(c) for c in store.personal.comments(me)],
        "submissions": [asdict(s) for s in store.personal.submissions(me)],
        "claims": [asdict(c) for c in store.personal.claims(me)],
        "collections": _collections(store, user),
        "subscriptions": _subscriptions(store, user),
        "api_tokens": [
            {"name": t.name, "scope": t.scope, "created_at": t.created_at, "last_used_at": t.last_used_at,
             "revoked_at": t.revoked_at}
            for t in store.tokens.of_user(me)
        ],
        "follows": _follows(store, me),
        "other": store.personal.other_rows(me, DESCRIBED),
    }  # fmt: skip
    plain = _plain(data)
    assert isinstance(plain, dict)
    return plain


def to_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode() + b"\n"


def _account(user: User, sessions: int) -> dict[str, Any]:
    return {
        "username": user.username, "display_name": user.display_name, "email": user.email,
        "email_verified": user.email_verified, "is_admin": user.is_admin, "votes_public": user.votes_public,
        "banned": user.banned, "created_at": user.created_at, "active_sessions": sessions,
    }  # fmt: skip


def _collections(store: Store, user: User) -> list[dict[str, Any]]:
    found = store.collections.listing(owners=[user.username], viewer_id=user.id, by_position=True,
                                      limit=rules.MAX_COLLECTIONS + 1)  # fmt: skip
    return [
        {
            "title": c.title, "slug": rules.slug(c), "description": c.description, "private": c.private,
            "bookmarks": c.is_default, "theme": c.theme, "updated_at": c.updated_at,
            "items": [
                {"arxiv_id": i.view.paper.arxiv_id, "title": i.view.paper.title, "note": i.note,
                 "position": i.position, "added_at": i.added_at}
                for i in store.collections.items(c.id, limit=rules.MAX_ITEMS)
            ],
        }
        for c in found
    ]  # fmt: skip


def _subscriptions(store: Store, user: User) -> list[dict[str, Any]]:
    out = []
    for sid in store.personal.subscriber_ids(user.id, user.verified_email):
        s = store.subscribers.get(sid)
        if s is not None:
            out.append({"email": s.email, "status": s.status, "confirmed_at": s.confirmed_at}
                       | asdict(s.preferences))  # fmt: skip
    return out


def _follows(store: Store, user_id: int) -> dict[str, Any]:
    i = store.follows.interests(user_id)
    hidden = [{"arxiv_id": a, "title": t, "at": at} for a, t, at in store.follows.hidden_papers(user_id)]
    return {
        "authors": sorted(i.authors), "categories": sorted(i.categories), "searches": list(i.searches),
        "not_interested": hidden, "never_categories": sorted(i.never_categories),
        "never_words": sorted(i.never_words), "never_authors": sorted(i.never_authors),
    }  # fmt: skip


def _plain(value: object) -> object:
    """Dates and times as ISO 8601 strings, tuples and sets as lists: what json.dumps writes as is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


def delete_account(store: Store, user: User, password: str, *, client: str, erase_text: bool = False) -> None:
    """Check the password (throttled like a login: AccountError / Throttled), then erase the account."""
    if user.username == DELETED_USERNAME:
        raise Forbidden("this account cannot be deleted")
    accounts.log_in(store, user.username, password, client=client)
    store.foryou.drop_feed_key(user)  # the private For-you feed URL's key (a site secret named after the user)
    store.personal.erase(user.id, username=user.username, email=user.verified_email, erase_text=erase_text)
