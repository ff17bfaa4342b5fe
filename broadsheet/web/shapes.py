"""The HF-shaped JSON as dicts, for callers that merge in fields of their own, and the comment shape.

The shapes themselves (pydantic models and their builders) live in `broadsheet.shapes`; they are
re-exported here for the modules that still import them from `broadsheet.web`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from broadsheet.markup import render as render_markdown
from broadsheet.models import Comment, PaperView, Submitter
from broadsheet.rank import Explained
from broadsheet.shapes import (
    STAMP,
    DailyItemJson,
    Json,
    PaperJson,
    SearchItemJson,
    UserJson,
    as_json,
    daily_json,
    iso,
    paper_json,
    search_json,
    user_json,
)

__all__ = ["DailyItemJson", "Json", "PaperJson", "SearchItemJson", "UserJson", "iso"]


def user(submitter: Submitter) -> Json:
    return as_json(user_json(submitter))


def paper(view: PaperView, *, claimed: dict[str, Submitter] | None = None) -> Json:
    return as_json(paper_json(view, claimed=claimed))


def daily_item(view: PaperView, *, trending_score: float | None = None, trending: Explained | None = None) -> Json:
    return as_json(daily_json(view, trending_score=trending_score, trending=trending))


def search_item(view: PaperView, words: list[str]) -> Json:
    return as_json(search_json(view, words))


def comment(c: Comment, *, reveal: bool = False) -> Json:
    """A comment in the API (Markdown source and its safe HTML rendering); `reveal`: a hidden one's text (admins)."""
    gone = c.deleted or (c.hidden and not reveal)
    return {
        "id": c.id,
        "author": user(c.author),
        "parentId": c.parent_id,
        "body": "" if gone else c.body,
        "html": "" if gone else str(render_markdown(c.body)),
        "createdAt": iso(c.created_at),
        "editedAt": iso(c.edited_at) if c.edited_at else None,
        "deleted": c.deleted,
        "hidden": c.hidden,
    }


class CommentJson(BaseModel):
    """A comment: its Markdown source and the sanitised HTML the page shows (both empty once deleted or hidden)."""

    id: int
    author: UserJson
    parentId: int | None = Field(description="The top-level comment this replies to (replies are one level deep)")
    body: str = Field(description="Markdown source")
    html: str = Field(description="The body rendered and sanitised, as the paper's page shows it")
    createdAt: str = Field(description=STAMP)
    editedAt: str | None = Field(description=STAMP)
    deleted: bool
    hidden: bool = Field(description="Hidden by a moderator (listed only for admins)")
