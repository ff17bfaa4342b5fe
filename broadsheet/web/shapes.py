"""JSON in Hugging Face's papers-API shapes, so `huggingface_hub` and other HF clients work unchanged.

Field names and nesting follow huggingface.co/api/daily_papers and /api/papers/{id}; fields
HF does not have (categories, version, doi, ...) are added alongside, which clients ignore.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from broadsheet import ids
from broadsheet.highlight import Segment, highlight
from broadsheet.markup import render as render_markdown
from broadsheet.metadata import display_text, display_title
from broadsheet.models import Comment, PaperView, Submitter

Json = dict[str, Any]


def iso(moment: datetime) -> str:
    """`2026-08-21T00:00:00.000Z`, as HF writes timestamps."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def user(submitter: Submitter) -> Json:
    return {
        "_id": submitter.username,
        "name": submitter.username,
        "user": submitter.username,
        "fullname": submitter.display_name or submitter.username,
        "type": "user",
        "isPro": False,
    }


def paper(view: PaperView, *, claimed: dict[str, Submitter] | None = None) -> Json:
    """The flat Paper object (`GET /api/papers/{id}`, and `paper` inside daily items).

    `claimed`: verified authors (name -> account), shown as Hugging Face does (`user`, `status`).
    """
    p = view.paper
    out: Json = {
        "id": p.arxiv_id,
        "authors": [_author(p.arxiv_id, i, n, (claimed or {}).get(n)) for i, n in enumerate(p.authors)],
        "publishedAt": iso(p.published),
        "title": display_title(p.title),
        "summary": display_text(p.abstract),
        "upvotes": view.upvotes,
        "numComments": view.num_comments,
        "discussionId": p.arxiv_id,  # a paper's discussion is addressed by its arXiv id: /api/papers/{id}/comments
    }
    if view.added_at:
        out["submittedOnDailyAt"] = iso(view.added_at)
    if view.submitted_by:
        out["submittedOnDailyBy"] = user(view.submitted_by)
    if p.code_url:
        out["githubRepo"] = p.code_url
    if p.project_url:
        out["projectPage"] = p.project_url
    if p.withdrawn:
        out["withdrawnAt"] = iso(p.updated_at or p.published)
    if view.summary:  # where Hugging Face puts its own (huggingface_hub's PaperInfo.ai_summary / ai_keywords)
        out["ai_summary"] = view.summary
    if view.keywords:
        out["ai_keywords"] = list(view.keywords)
    out |= _extras(view)
    return out


def _author(arxiv_id: str, index: int, name: str, account: Submitter | None) -> Json:
    out: Json = {"_id": f"{arxiv_id}:{index}", "name": name, "hidden": False}
    if account:
        out |= {"user": user(account), "status": "claimed_verified"}
    return out


def _extras(view: PaperView) -> Json:
    p = view.paper
    extras: Json = {
        "categories": list(p.categories),
        "version": p.version,
        "comment": p.comment,
        "journalRef": p.journal_ref,
        "doi": p.doi,
        "license": p.license,
        "updatedAt": iso(p.updated_at) if p.updated_at else None,
        "arxivUrl": ids.abs_url(p.arxiv_id),
        "pdfUrl": ids.pdf_url(p.arxiv_id),
    }
    return {k: v for k, v in extras.items() if v not in (None, [])}


def daily_item(view: PaperView, *, trending_score: float | None = None) -> Json:
    """One element of `GET /api/daily_papers`."""
    out: Json = {
        "paper": paper(view),
        "publishedAt": iso(view.added_at or view.paper.published),
        "title": display_title(view.paper.title),
        "summary": display_text(view.paper.abstract),
        "numComments": view.num_comments,
        "isAuthorParticipating": False,
    }
    if view.submitted_by:
        out["submittedBy"] = user(view.submitted_by)
    if view.submitter_comment:
        out["comment"] = view.submitter_comment
    if trending_score is not None:
        out["trendingScore"] = trending_score
    return out


def search_item(view: PaperView, words: list[str]) -> Json:
    """One element of `GET /api/papers/search`, with HF's highlight arrays."""
    title = display_title(view.paper.title)
    summary = display_text(view.paper.abstract)
    return {
        "paper": paper(view),
        "title": title,
        "summary": summary,
        "publishedAt": iso(view.added_at or view.paper.published),
        "numComments": view.num_comments,
        "upvoted": False,
        "isAuthorParticipating": False,
        "highlightedTitle": segments(highlight(title, words)),
        "highlightedSummary": segments(highlight(summary, words)),
    }


def segments(parts: list[Segment]) -> list[Json]:
    return [{"type": s.type, "text": s.text} for s in parts]


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


# -- typed shapes, so /openapi.json documents the fields ------------------------------------------

STAMP = "UTC, as Hugging Face writes it: 2026-08-21T09:30:00.000Z"


class UserJson(BaseModel):
    """An account, in Hugging Face's user-object shape (`submittedOnDailyBy`, a comment's `author`)."""

    model_config = ConfigDict(populate_by_name=True)
    id: str = Field(alias="_id", description="The username (HF: an opaque id)")
    name: str
    user: str = Field(description="The username")
    fullname: str = Field(description="The display name, else the username")
    type: Literal["user"]
    isPro: bool


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
